/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * link_socket.h - the one AF_PACKET socket psvd has on the interface: every
 * identity's DHCP and ARP frames (link_frame.h) leave and arrive here.
 * Received frames pass a classic BPF filter (ARP, unfragmented IPv4
 * UDP to port 68, ICMPv6 RA/NS/NA), are re-validated in full, and go to
 * the rx callbacks: a DHCP reply to whoever has the message's chaddr, an
 * ARP frame to whoever holds or probes the address it names, neighbour
 * discovery to the identities' IPv6 addresses (ipv6 pool code).  The
 * identities of both sources are announced on it.
 */
#ifndef PSV_LINK_SOCKET_H
#define PSV_LINK_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "psvd/link/link_frame.h"

/* Who takes received frames (the DHCP source). */
struct link_rx {
	/* A DHCP reply for the client whose MAC is chaddr: the client's
	 * verdict, or -ENOENT if there is none. */
	int (*dhcp)(void *ctx, const uint8_t chaddr[6], uint64_t now_ms,
		    const struct link_frame *f);
	/* An ARP frame about ip (its sender's address, or a probe's
	 * target): the verdict of whoever holds or probes ip, or -ENOENT. */
	int (*arp)(void *ctx, uint32_t ip, uint64_t now_ms,
		   const struct link_frame *f);
};

/* Who takes neighbour discovery frames (RA, NS, NA): its verdict. */
typedef int (*link_nd_rx)(void *ctx, uint64_t now_ms,
			  const struct link_frame *f);

/* Counters for psvctl stats. */
struct link_socket_stats {
	uint64_t rx_frames;		/* read from the socket */
	uint64_t rx_dhcp;		/* valid DHCP frames handed to a client */
	uint64_t rx_arp;		/* valid ARP frames */
	uint64_t rx_nd;			/* valid RA, NS and NA frames */
	uint64_t rx_malformed;		/* link_frame_parse() -EBADMSG, or
					 * longer than LINK_FRAME_MAX */
	uint64_t rx_not_ours;		/* -ENOMSG, or VLAN-tagged */
	uint64_t rx_no_client;		/* no client has that chaddr */
	uint64_t rx_errors;		/* recvmsg failures */
	uint64_t tx_frames;
	uint64_t tx_errors;
};

struct link_socket {
	int fd;
	int ifindex;
	uint32_t gateway;	/* the host's default gateway; 0 if none */
	const struct link_rx *rx;	/* NULL: frames are nobody's */
	void *ctx;
	link_nd_rx nd;		/* NULL: ND frames are nobody's */
	void *nd_ctx;
	struct link_socket_stats stats;
};

/*
 * Opens the socket on ifindex: non-blocking, close-on-exec, the filter
 * attached before it is bound (so no unfiltered frame is ever queued),
 * our own transmissions not looped back.  Returns 0 or -errno (logged).
 */
int link_socket_open(struct link_socket *s, int ifindex);
/* Who takes the frames read from now on. */
void link_socket_set_rx(struct link_socket *s, const struct link_rx *rx,
			void *ctx);
void link_socket_close(struct link_socket *s);
/* For the daemon's epoll set (EPOLLIN). */
int link_socket_fd(const struct link_socket *s);
/*
 * Reads up to 64 queued frames and dispatches each: call when the fd is
 * readable (level-triggered epoll calls again if more are queued).
 * Returns the number read, or -errno if recvmsg failed.
 */
int link_socket_read(struct link_socket *s, uint64_t now_ms);
/*
 * What link_socket_read() does with one frame: validate, hand it to the
 * rx callback.  Returns the callback's result, the parse error, or
 * -ENOENT if nobody took it.
 */
int link_socket_dispatch(struct link_socket *s, uint64_t now_ms,
			 const void *frame, size_t len, unsigned int flags);

/*
 * Asks the interface to deliver unicast frames for an identity's MAC
 * (PACKET_MR_UNICAST): the ARP replies to its probes and the unicast
 * renewal ACKs are addressed to it.  A NIC with a unicast filter would
 * drop them otherwise; a device without one (veth) turns promiscuous.
 * Call when the identity's client starts, del when it is retired; the
 * kernel drops what is left when the socket closes.  0 or -errno (logged).
 */
int link_socket_add_mac(struct link_socket *s, const uint8_t mac[6]);
int link_socket_del_mac(struct link_socket *s, const uint8_t mac[6]);

/*
 * Senders (the DHCP clients' transmissions, RFC 5227 probes).  Return 0
 * or -errno; failures are counted, not logged (the client retransmits).
 */
int link_socket_send_udp(struct link_socket *s, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len);
int link_socket_send_arp(struct link_socket *s, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa);

/* Duplicate address detection for target from mac, and a router
 * solicitation from mac (link_frame.h: both name nothing of the host). */
int link_socket_send_dad_ns(struct link_socket *s, const uint8_t mac[6],
			    const uint8_t target[16]);
int link_socket_send_rs(struct link_socket *s, const uint8_t mac[6]);
/* Who takes the ND frames read from now on. */
void link_socket_set_nd_rx(struct link_socket *s, link_nd_rx nd, void *ctx);

/*
 * Announces an identity that became ready (RFC 5227 2.3: a gratuitous
 * ARP request), then asks for the gateway in its name so the router
 * learns it before its first flow.
 */
void link_socket_announce(struct link_socket *s, const uint8_t mac[6],
			  uint32_t ip);

#endif
