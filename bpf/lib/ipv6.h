/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ipv6.h - IPv6 as psv reads it: the fixed header, up to IPV6_EXT_MAX
 * extension headers, and the L4 header behind them (parse.h's
 * parse_l4), into a struct psv_pkt6; which destinations never leave
 * with an identity; addresses as four words.
 */
#ifndef PSV_BPF_IPV6_H
#define PSV_BPF_IPV6_H

#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60
#define IPV6_EXT_MAX 4		/* extension headers walked, at most */
#define IPV6_SADDR_OFF (ETH_HLEN + 8)
#define IPV6_DADDR_OFF (ETH_HLEN + 24)
#define IPV6_FRAG_OFFSET 0xfff8	/* fragment header: offset, M flag */
#define IPV6_FRAG_MORE 0x0001
#define DHCPV6_CLIENT_PORT 546
#define DHCPV6_SERVER_PORT 547

#define ICMPV6_DEST_UNREACH 1	/* 1-4: the errors that quote a packet */
#define ICMPV6_PARAMPROB 4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ICMPV6_MLD_QUERY 130	/* 130-132: MLDv1 (RFC 2710) */
#define ICMPV6_ROUTER_SOLICIT 133
#define ICMPV6_NEIGH_SOLICIT 135
#define ICMPV6_NEIGH_ADVERT 136
#define ICMPV6_REDIRECT 137	/* 133-137: RS, RA, NS, NA, redirect */
#define ICMPV6_MLD2_REPORT 143	/* RFC 3810 */

/* parse_ipv6(): more than IPV6_EXT_MAX extension headers (see parse.h). */
#define PSV_E_EXT 3

/* An IPv6 packet: the L4 part in p (parse.h), its addresses here. */
struct psv_pkt6 {
	struct psv_pkt p;	/* p.saddr, p.daddr, p.ip_id unused */
	struct psv_addr6 saddr;
	struct psv_addr6 daddr;
	__u8 hop_limit;
};

static __always_inline bool addr6_eq(const struct psv_addr6 *a,
				     const struct psv_addr6 *b)
{
	return a->a[0] == b->a[0] && a->a[1] == b->a[1] &&
	       a->a[2] == b->a[2] && a->a[3] == b->a[3];
}

static __always_inline bool addr6_is_zero(const struct psv_addr6 *a)
{
	return !(a->a[0] | a->a[1] | a->a[2] | a->a[3]);
}

/* Word by word: the frame's addresses are 2-byte aligned only. */
static __always_inline void addr6_load(struct psv_addr6 *to, const void *from)
{
	const __be32 *w = from;

	to->a[0] = w[0];
	to->a[1] = w[1];
	to->a[2] = w[2];
	to->a[3] = w[3];
}

static __always_inline bool ipv6_is_multicast(const __be32 a[4])
{
	return (a[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000);
}

/*
 * Destinations that never leave with an identity: loopback, the
 * unspecified address (local), IPv4-mapped (the IPv4 path decides),
 * multicast (not virtualized, as IPv4 broadcast and multicast are not)
 * and link-local unicast (fe80::/10: identities have no link-local
 * address; the peer is on the link and sees the host's).
 */
static __always_inline bool ipv6_not_virtualized(const __be32 a[4])
{
	if (ipv6_is_multicast(a) ||
	    (a[0] & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000))
		return true;
	if (a[0] || a[1])
		return false;
	return (!a[2] && (!a[3] || a[3] == bpf_htonl(1))) ||
	       a[2] == bpf_htonl(0xffff);
}

/* The ICMPv6 errors that quote the packet they are about (RFC 4443). */
static __always_inline bool is_icmp6_error(__u8 type)
{
	return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
}

/* Neighbour discovery (RFC 4861) and MLD (RFC 2710, RFC 3810). */
static __always_inline bool is_ndp_or_mld(__u8 type)
{
	return (type >= ICMPV6_MLD_QUERY && type <= ICMPV6_REDIRECT) ||
	       type == ICMPV6_MLD2_REPORT;
}

/*
 * One extension header at *off: its next header into *next, *off past
 * it; a fragment header sets p->frag.  Returns false if it is not all
 * in the datagram (its length byte may claim more than is left), or
 * its first 8 bytes are not in the linear data.
 */
static __always_inline bool ipv6_ext_skip(void *data, void *data_end,
					  struct psv_pkt *p, __u32 *off,
					  __u8 *next)
{
	__u8 *h = pkt_ptr(data, data_end, *off, 8);
	__u32 len = 8;
	__u16 frag;

	if (!h)
		return false;
	if (*next != NEXTHDR_FRAGMENT)
		len = (h[1] + 1) * 8;
	if (*off + len > p->l3_end)
		return false;
	if (*next == NEXTHDR_FRAGMENT) {
		frag = bpf_ntohs(*(__be16 *)(h + 2));
		if (frag & IPV6_FRAG_OFFSET)
			p->frag = PSV_FRAG_LATER;
		else if (frag & IPV6_FRAG_MORE)
			p->frag = PSV_FRAG_FIRST;
	}
	*off += len;
	*next = h[0];
	return true;
}

static __always_inline bool ipv6_is_ext(__u8 next)
{
	return next == NEXTHDR_HOP || next == NEXTHDR_ROUTING ||
	       next == NEXTHDR_DEST || next == NEXTHDR_FRAGMENT;
}

/*
 * The IPv6 header right after Ethernet, its extension headers and the
 * L4 header.  Contract as parse_ipv4() (parse.h), plus -PSV_E_EXT: more
 * extension headers than IPV6_EXT_MAX, or headers ending past
 * PSV_HDR_MAX (addresses filled, proto is the last next header seen).
 * The L4 header of a later fragment is not read.
 */
static __always_inline int parse_ipv6(void *data, void *data_end,
				      __u32 frame_len, struct psv_pkt6 *p6)
{
	struct ipv6hdr *ip6 = pkt_ptr(data, data_end, ETH_HLEN, IPV6_HLEN);
	struct psv_pkt *p = &p6->p;
	__u32 off = ETH_HLEN + IPV6_HLEN;
	__u8 next;

	if (!ip6)
		return -PSV_E_SHORT;
	addr6_load(&p6->saddr, &ip6->saddr);
	addr6_load(&p6->daddr, &ip6->daddr);
	p6->hop_limit = ip6->hop_limit;
	next = ip6->nexthdr;
	p->proto = next;
	p->l3_off = ETH_HLEN;
	p->l3_end = off + bpf_ntohs(ip6->payload_len);
	/* BIG TCP: a GSO/GRO packet over 64 KiB has payload_len 0. */
	if (p->l3_end == off && frame_len > off + 0xffff)
		p->l3_end = frame_len;
	if (ip6->version != 6 || p->l3_end > frame_len)
		return -PSV_E_BAD;
	for (int i = 0; i < IPV6_EXT_MAX && ipv6_is_ext(next); i++) {
		if (!ipv6_ext_skip(data, data_end, p, &off, &next))
			return off > PSV_HDR_MAX ? -PSV_E_EXT : -PSV_E_BAD;
		p->proto = next;
	}
	if (ipv6_is_ext(next) || off > PSV_HDR_MAX)
		return -PSV_E_EXT;
	p->l4_off = off;
	if (p->frag == PSV_FRAG_LATER)
		return 0;
	return parse_l4(data, data_end, p);
}

/* The quoted L4 checksum, noted only if it lies inside the quote. */
static __always_inline void parse_quote6_csum(void *data, void *data_end,
					      struct psv_pkt6 *q)
{
	__u32 off = q->p.l4_off;
	__u16 *csum;

	if (q->p.proto == IPPROTO_TCP)
		off += offsetof(struct tcphdr, check);
	else if (q->p.proto == IPPROTO_UDP)
		off += offsetof(struct udphdr, check);
	else
		off += offsetof(struct icmphdr, checksum);
	csum = pkt_ptr(data, data_end, off, sizeof(*csum));
	if (csum && off + sizeof(*csum) <= q->p.l3_end) {
		q->p.l4_csum_off = off;
		q->p.l4_csum = *csum;
	}
}

/*
 * The packet an ICMPv6 error quotes (RFC 4443: as much of it as fits):
 * a bare IPv6 header (no extension header) and 8 bytes of TCP, UDP or
 * an echo request, into q.  Its L4 fields in q->p, its addresses in
 * q->saddr and q->daddr, its L4 checksum (which covers its addresses)
 * in q->p.l4_csum if the quote holds it.
 */
static __always_inline int parse_quote6(void *data, void *data_end,
					const struct psv_pkt *p,
					struct psv_pkt6 *q)
{
	__u32 off = p->l4_off + sizeof(struct icmphdr);
	struct ipv6hdr *ip6 = pkt_ptr(data, data_end, off, IPV6_HLEN);
	__u8 *l4;

	if (!ip6 || off + IPV6_HLEN > p->l3_end)
		return -PSV_E_SHORT;
	addr6_load(&q->saddr, &ip6->saddr);
	addr6_load(&q->daddr, &ip6->daddr);
	q->p.proto = ip6->nexthdr;
	q->p.l3_off = off;
	q->p.l4_off = off + IPV6_HLEN;
	q->p.l3_end = p->l3_end;
	l4 = l4_hdr(data, data_end, &q->p, 8);
	if (ip6->version != 6 || !l4)
		return -PSV_E_BAD;
	switch (q->p.proto) {
	case IPPROTO_ICMPV6:
		q->p.icmp_type = l4[0];
		q->p.icmp_id = ((struct icmphdr *)l4)->un.echo.id;
		if (q->p.icmp_type != ICMPV6_ECHO_REQUEST)
			return -PSV_E_BAD;
		break;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		q->p.sport = ((struct udphdr *)l4)->source;
		q->p.dport = ((struct udphdr *)l4)->dest;
		break;
	default:
		return -PSV_E_BAD;
	}
	parse_quote6_csum(data, data_end, q);
	return 0;
}

/* A TCP segment that is not a first SYN. */
static __always_inline bool ipv6_tcp_not_syn(const struct psv_pkt *p)
{
	return p->proto == IPPROTO_TCP && p->frag != PSV_FRAG_LATER &&
	       (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN;
}

#endif /* PSV_BPF_IPV6_H */
