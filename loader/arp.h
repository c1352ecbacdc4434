/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * arp.h - ARP frames sent from a virtual identity's MAC: RFC 5227 probes
 * (sender IP 0) and announcements (sender = target = own IP), over an
 * AF_PACKET socket so the host stack, which does not own these
 * addresses, is not involved.
 */
#ifndef PSV_ARP_H
#define PSV_ARP_H

#include <stdint.h>

/* An AF_PACKET SOCK_DGRAM socket for ARP on ifindex; -errno on failure. */
int arp_socket_open(int ifindex);

/* Broadcasts an ARP request from mac: sender spa, target tpa (network
 * order).  Probe: spa = 0; announcement: spa = tpa = own address. */
int arp_send_request(int fd, int ifindex, const uint8_t mac[6], uint32_t spa,
		     uint32_t tpa);

#endif
