/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - packet crafting for the BPF program tests (the "pktgen" step of
 * cilium's pktgen -> setup -> check).  A frame is described by a struct
 * pkt_frame (Ethernet, optional 802.1Q tag, ARP or IPv4 with options and
 * fragment fields, TCP/UDP/ICMP, ICMP errors quoting an inner packet) and
 * pkt_build() turns it into bytes with every length and checksum computed
 * from scratch (RFC 1071 full sum).  That from-scratch computation is the
 * independent reference the programs' incremental updates (RFC 1624) are
 * compared against: a test describes the expected output frame, builds
 * it, and compares bytes.
 *
 * Addresses and ports in the descriptions are in host byte order; the
 * builder writes network order.  Nothing here depends on the programs.
 * The bodies are in pkt.c, compiled once; only the byte accessors stay
 * inline here.
 */
#ifndef PSV_TEST_PKT_H
#define PSV_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/types.h>

#define PKT_MAX 16384		/* room for a 9000-byte jumbo frame */

#define PKT_ETH_P_IP 0x0800
#define PKT_ETH_P_ARP 0x0806
#define PKT_ETH_P_8021Q 0x8100
#define PKT_ETH_P_IPV6 0x86dd

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

#define PKT_ICMP_ECHOREPLY 0
#define PKT_ICMP_UNREACH 3
#define PKT_ICMP_ECHO 8
#define PKT_ICMP_TIME_EXCEEDED 11

#define PKT_IP_PROTO_ICMP 1
#define PKT_IP_PROTO_TCP 6
#define PKT_IP_PROTO_UDP 17
#define PKT_IP_PROTO_GRE 47

/* Host-order IPv4 address from its dotted quad. */
#define PKT_IP4(a, b, c, d)						\
	((__u32)(a) << 24 | (__u32)(b) << 16 | (__u32)(c) << 8 | (__u32)(d))

/* An IPv4 packet: header, L4 header and payload, or an ICMP error. */
struct pkt_ipv4 {
	__u32 saddr, daddr;
	__u8 proto;
	__u8 ttl;		/* 0: 64 */
	__u8 tos;
	__u8 optlen;		/* option bytes, a multiple of 4, <= 40 */
	__u16 id;
	bool df, mf;
	__u16 frag_off;		/* this fragment's offset, bytes (8n) */
	__u16 frag_len;		/* L4 bytes carried; 0: all the rest */
	/* TCP and UDP */
	__u16 sport, dport;
	__u8 tcp_flags;
	__u32 seq, ack_seq;
	bool udp_csum_zero;	/* send UDP without checksum (RFC 768) */
	/* ICMP: echo (id, seq) or an error quoting *inner */
	__u8 icmp_type, icmp_code;
	__u16 icmp_id, icmp_seq;
	const struct pkt_ipv4 *inner;
	__u16 quote_len;	/* inner L4 bytes quoted; 0: 8 (RFC 792) */
	__u16 payload_len;	/* L4 payload bytes */
	const __u8 *payload;	/* NULL: a byte pattern */
	/* Mangling, applied after the checksums are computed */
	__u8 ihl;		/* 0: from optlen */
	__u16 tot_len;		/* 0: the real length */
};

#define PKT_IP_PROTO_ICMPV6 58
#define PKT_IPV6_HOP 0
#define PKT_IPV6_ROUTING 43
#define PKT_IPV6_FRAGMENT 44
#define PKT_IPV6_DEST 60

#define PKT_ICMPV6_UNREACH 1
#define PKT_ICMPV6_TOO_BIG 2
#define PKT_ICMPV6_TIME_EXCEEDED 3
#define PKT_ICMPV6_ECHO 128
#define PKT_ICMPV6_ECHOREPLY 129
#define PKT_ICMPV6_RS 133
#define PKT_ICMPV6_NS 135
#define PKT_ICMPV6_NA 136
#define PKT_ICMPV6_MLD2_REPORT 143
#define PKT_ND_OPT_SLLA 1
#define PKT_ND_OPT_TLLA 2
#define PKT_NA_SOLICITED 0x40
#define PKT_NA_OVERRIDE 0x20

#define PKT_IPV6_EXT_MAX 8

/*
 * An IPv6 packet: header, extension headers (each 8 bytes, a fragment
 * header with the fragment fields), and TCP, UDP, ICMPv6 echo, an
 * ICMPv6 error quoting *inner, or a neighbour solicitation or
 * advertisement with one link-layer address option and raw options.
 */
struct pkt_ipv6 {
	__u8 saddr[16], daddr[16];
	__u8 proto;		/* the L4 protocol */
	__u8 hop_limit;		/* 0: 64 */
	__u8 n_ext;		/* extension headers, of types ext[] */
	__u8 ext[PKT_IPV6_EXT_MAX];
	bool mf;		/* fragment header: more fragments */
	__u16 frag_off;		/* its offset, bytes (8n) */
	__u16 frag_len;		/* L4 bytes carried; 0: all the rest */
	/* TCP and UDP */
	__u16 sport, dport;
	__u8 tcp_flags;
	__u32 seq, ack_seq;
	/* ICMPv6 */
	__u8 icmp_type, icmp_code;
	__u16 icmp_id, icmp_seq;	/* echo */
	const struct pkt_ipv6 *inner;	/* an error's quote */
	__u16 quote_len;	/* inner L4 bytes quoted; 0: all */
	/* neighbour solicitation (135) and advertisement (136) */
	__u8 target[16];
	__u8 nd_flags;		/* NA: R, S, O */
	__u8 lla_type;		/* option type; 0: none */
	__u8 lla[6];
	const __u8 *opts;	/* more options, raw, after it */
	__u8 opts_len;
	__u16 payload_len;	/* L4 payload bytes (TCP, UDP, echo) */
	const __u8 *payload;	/* NULL: a byte pattern */
	/* Mangling, applied after the checksums are computed */
	__u16 plen;		/* payload length field; 0: the real one */
};

struct pkt_arp {
	__u16 op;		/* 1 request, 2 reply */
	__u8 sha[6];
	__u32 spa;
	__u8 tha[6];
	__u32 tpa;
};

/* A whole Ethernet frame. */
struct pkt_frame {
	__u8 dst[6], src[6];
	__u16 vlan;		/* nonzero: an 802.1Q tag, this TCI (PCP, VID) */
	__u16 proto;		/* EtherType; 0: IPv4 */
	struct pkt_arp arp;	/* when proto is ARP */
	struct pkt_ipv4 ip;	/* when proto is IPv4 */
	struct pkt_ipv6 ip6;	/* when proto is IPv6 and raw is NULL */
	const __u8 *raw;	/* any other EtherType: this payload */
	__u16 raw_len;
	__u16 min_len;		/* zero-pad the frame to this (e.g. 60) */
	__u16 trunc;		/* then cut it to this length; 0: no cut */
};

static inline void pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void pkt_put32(__u8 *p, __u32 v)
{
	pkt_put16(p, v >> 16);
	pkt_put16(p + 2, v & 0xffff);
}

static inline __u16 pkt_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static inline __u32 pkt_get32(const __u8 *p)
{
	return (__u32)pkt_get16(p) << 16 | pkt_get16(p + 2);
}

/* RFC 1071: 32-bit accumulation of 16-bit big-endian words, odd byte padded. */
__u32 pkt_sum(__u32 sum, const __u8 *p, size_t len);
/* The end-around carry of a 32-bit sum. */
__u16 pkt_fold(__u32 sum);
/* The Internet checksum of a buffer, as it goes into the header. */
__u16 pkt_csum(__u32 sum, const __u8 *p, size_t len);
/* TCP/UDP pseudo header sum (RFC 793 section 3.1, RFC 768). */
__u32 pkt_pseudo_sum(__u32 saddr, __u32 daddr, __u8 proto, __u32 l4_len);
/* The payload bytes a description without payload gets. */
void pkt_pattern(__u8 *p, size_t len, __u8 seed);

/* The full L4 datagram (before fragmentation), checksum included. */
size_t pkt_l4_build(const struct pkt_ipv4 *ip, __u8 *l4, size_t cap);
/* An IPv4 packet (header + this fragment's L4 bytes); 0 if it won't fit. */
size_t pkt_ipv4_build(const struct pkt_ipv4 *ip, __u8 *out, size_t cap);
/* IPv6: the sum of the pseudo-header (RFC 8200 8.1). */
__u32 pkt_pseudo_sum6(const __u8 *saddr, const __u8 *daddr, __u8 proto,
		      __u32 l4_len);
/* An IPv6 packet (header, extensions, this fragment's L4 bytes); 0 if
 * it won't fit. */
size_t pkt_ipv6_build(const struct pkt_ipv6 *ip, __u8 *out, size_t cap);
/* The frame's bytes; returns its length, 0 if it does not fit in cap. */
size_t pkt_build(const struct pkt_frame *f, __u8 *buf, size_t cap);

/*
 * Copies of frame f with one thing changed, to write fixture tables with:
 * the destination (MAC, if not NULL, and IPv4 address), the source, an
 * 802.1Q tag, the IHL, and the IPv4 tot_len (0: the real one) with the
 * frame cut to trunc bytes (0: not cut).
 */
struct pkt_frame pkt_to(struct pkt_frame f, const __u8 *mac, __u32 daddr);
struct pkt_frame pkt_from(struct pkt_frame f, const __u8 *mac, __u32 saddr);
struct pkt_frame pkt_vlan(struct pkt_frame f, __u16 vid);
struct pkt_frame pkt_ihl(struct pkt_frame f, __u8 ihl);
struct pkt_frame pkt_cut(struct pkt_frame f, __u16 tot_len, __u16 trunc);

/*
 * For the checksum edge of RFC 1624 section 3: sets the first payload
 * word of ip (ip->payload, writable) so that the RFC 1071 sum of its
 * TCP/UDP data is 0xffff: the checksum computes to zero (which UDP sends
 * as 0xffff, RFC 768).
 */
void pkt_zero_csum(const struct pkt_ipv4 *ip, __u8 *payload);

/*
 * Checksum validation of a received frame, independent of how it was
 * made: the IPv4 header sum, the TCP/UDP sum with its pseudo header and
 * the ICMP sum (for unfragmented packets, the only ones whose whole L4
 * data is here), and the quoted IPv4 header of an ICMP error; for IPv6
 * (behind up to 8 extension headers) the TCP, UDP or ICMPv6 sum with
 * the IPv6 pseudo-header.  Returns the number of bad checksums and
 * describes the first in why.
 */
int pkt_verify_csums(const __u8 *f, size_t len, char *why, size_t why_len);

/*
 * The name of the field holding byte off of frame f (parsed as the
 * expected frame), the narrowest match winning; "payload" otherwise.
 */
const char *pkt_field_name(const __u8 *f, size_t len, size_t off);
/* Bytes as hex, no separator, to stdout. */
void pkt_hex(const __u8 *p, size_t len);
/*
 * Prints, as TAP comments, every run of differing bytes between got and
 * want with the name of the field it lies in; returns the number of
 * differing bytes (a length difference counts as one).
 */
int pkt_diff(const __u8 *got, size_t got_len, const __u8 *want,
	     size_t want_len);

#endif /* PSV_TEST_PKT_H */
