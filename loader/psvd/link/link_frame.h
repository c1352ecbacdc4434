/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * link_frame.h - the frames psvd sends and receives on the link in an
 * identity's name, built whole (Ethernet, IPv4, UDP with checksums; ARP)
 * because identities own no address the host's stack would send from,
 * and received frames re-validated in full (lengths, IHL, IPv4 and UDP
 * checksums, no fragments).  Pure functions, usable without a socket
 * (tests, fuzzer).  Addresses are network byte order.
 */
#ifndef PSV_LINK_FRAME_H
#define PSV_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_ETH_HLEN 14
#define LINK_UDP_HLEN 8
/* The largest UDP payload sent (DHCP_MSG_MAX_LEN), and the largest
 * frame sent or accepted: a full Ethernet frame. */
#define LINK_UDP_PAYLOAD_MAX 1472
#define LINK_FRAME_MAX (LINK_ETH_HLEN + 20 + LINK_UDP_HLEN + LINK_UDP_PAYLOAD_MAX)
#define LINK_ARP_FRAME_LEN (LINK_ETH_HLEN + 28)
#define LINK_IP_FRAG_MASK 0x3fff	/* MF and the fragment offset */
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

enum link_frame_kind {
	LINK_FRAME_DHCP = 1,	/* IPv4 UDP 67 -> 68 */
	LINK_FRAME_ARP = 2,	/* Ethernet/IPv4 ARP */
};

/* A validated frame; pointers point into the caller's buffer. */
struct link_frame {
	enum link_frame_kind kind;
	uint8_t src_mac[6];		/* Ethernet source */
	/* LINK_FRAME_DHCP */
	uint32_t ip_src, ip_dst;
	const uint8_t *payload;		/* the DHCP message */
	size_t len;
	/* LINK_FRAME_ARP */
	uint16_t arp_op;		/* 1 request, 2 reply */
	uint8_t arp_sha[6];
	uint32_t arp_spa, arp_tpa;
};

/* link_frame_parse() flag: the kernel says the UDP checksum is not
 * filled in yet (TP_STATUS_CSUMNOTREADY: from this host or a veth peer
 * with checksum offload), so it cannot be verified. */
#define LINK_FRAME_CSUM_PARTIAL 0x1

/*
 * Validates a whole Ethernet frame.  Returns its kind, -EBADMSG if it is
 * malformed (truncated headers, IPv4 version/IHL/total length, header
 * checksum, a fragment, UDP length not matching the IPv4 payload, a bad
 * non-zero UDP checksum, an ARP frame not for Ethernet/IPv4), or -ENOMSG
 * if it is well-formed but neither DHCP to port 68 from port 67 nor ARP.
 * Trailing bytes after the IPv4 total length (Ethernet padding) are
 * ignored.
 */
int link_frame_parse(const void *frame, size_t len, unsigned int flags,
		     struct link_frame *f);

/*
 * Writes an Ethernet/IPv4/UDP 68 -> 67 frame carrying payload from
 * src_mac to dst_mac (NULL: broadcast).  IPv4: TTL 64, DF, ID 0, TOS 0,
 * the same for every identity.  Returns the frame length, or -EMSGSIZE.
 */
int link_frame_build_udp(void *buf, size_t size, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len);

/*
 * Writes a broadcast ARP request from mac for tpa, with sender address spa
 * (LINK_ARP_FRAME_LEN bytes).  RFC 5227: a probe has spa 0 (2.1.1), an
 * announcement spa == tpa (2.3).
 */
int link_frame_build_arp(void *buf, size_t size, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa);

#endif
