/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * link_frame.h - the frames psvd sends and receives on the link in an
 * identity's name, built whole (Ethernet, IPv4, UDP with checksums; ARP;
 * IPv6 neighbour discovery) because identities own no address the host's
 * stack would send from, and received frames re-validated in full
 * (lengths, IHL, IPv4, UDP and ICMPv6 checksums, no fragments, no IPv6
 * extension headers).  Pure functions, usable without a socket (tests,
 * fuzzer).  Addresses are network byte order.
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
#define LINK_IP6_HLEN 40
/* ICMPv6 neighbour discovery (RFC 4861) message types. */
#define LINK_ND_RS 133
#define LINK_ND_RA 134
#define LINK_ND_NS 135
#define LINK_ND_NA 136
/* A DAD neighbour solicitation (no option) and a router solicitation
 * (no option): Ethernet, IPv6, the ICMPv6 message. */
#define LINK_DAD_NS_LEN (LINK_ETH_HLEN + LINK_IP6_HLEN + 24)
#define LINK_RS_LEN (LINK_ETH_HLEN + LINK_IP6_HLEN + 8)
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

enum link_frame_kind {
	LINK_FRAME_DHCP = 1,	/* IPv4 UDP 67 -> 68 */
	LINK_FRAME_ARP = 2,	/* Ethernet/IPv4 ARP */
	LINK_FRAME_ND = 3,	/* IPv6 ICMPv6 RA, NS or NA */
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
	/* LINK_FRAME_ND: payload and len are the ICMPv6 message (from its
	 * type byte), nd_type its type; the hop limit is the receiver's
	 * to check (RFC 4861: 255, never forwarded). */
	uint8_t ip6_src[16], ip6_dst[16];
	uint8_t hop_limit;
	uint8_t nd_type;
};

/* link_frame_parse() flag: the kernel says the UDP checksum is not
 * filled in yet (TP_STATUS_CSUMNOTREADY: from this host or a veth peer
 * with checksum offload), so it cannot be verified. */
#define LINK_FRAME_CSUM_PARTIAL 0x1

/*
 * Validates a whole Ethernet frame.  Returns its kind, -EBADMSG if it is
 * malformed (truncated headers, IPv4 version/IHL/total length, header
 * checksum, a fragment, UDP length not matching the IPv4 payload, a bad
 * non-zero UDP checksum, an ARP frame not for Ethernet/IPv4, an IPv6
 * payload length beyond the frame, a bad ICMPv6 checksum or code, an
 * ND message shorter than its fixed part), or -ENOMSG if it is
 * well-formed but neither DHCP to port 68 from port 67, nor ARP, nor an
 * RA, NS or NA directly after the IPv6 header.  Trailing bytes after
 * the IP length (Ethernet padding) are ignored.
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

/*
 * Writes the neighbour solicitation of duplicate address detection
 * (RFC 4862 5.4.2) from mac for target: source ::, destination the
 * target's solicited-node multicast address and its 33:33:ff MAC, no
 * source link-layer option (LINK_DAD_NS_LEN bytes).
 */
int link_frame_build_dad_ns(void *buf, size_t size, const uint8_t mac[6],
			    const uint8_t target[16]);

/*
 * Writes a router solicitation from mac that names nothing: source ::,
 * so no source link-layer option (RFC 4861 4.1), to ff02::2
 * (LINK_RS_LEN bytes).
 */
int link_frame_build_rs(void *buf, size_t size, const uint8_t mac[6]);

#endif
