// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pkt.c - the frame builder, checksum reference and frame diff of pkt.h,
 * compiled once and linked into every test that crafts frames.
 */
#include "pkt.h"

/* RFC 1071: 32-bit accumulation of 16-bit big-endian words, odd byte padded. */
__u32 pkt_sum(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += pkt_get16(p + i);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

__u16 pkt_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The Internet checksum of a buffer, as it goes into the header. */
__u16 pkt_csum(__u32 sum, const __u8 *p, size_t len)
{
	return (__u16)~pkt_fold(pkt_sum(sum, p, len));
}

/* TCP/UDP pseudo header sum (RFC 793 section 3.1, RFC 768). */
__u32 pkt_pseudo_sum(__u32 saddr, __u32 daddr, __u8 proto, __u32 l4_len)
{
	return (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) +
	       (daddr & 0xffff) + proto + l4_len;
}

void pkt_pattern(__u8 *p, size_t len, __u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (__u8)(seed + i * 7);
}

/* The full L4 datagram (before fragmentation), checksum included. */
size_t pkt_l4_build(const struct pkt_ipv4 *ip, __u8 *l4, size_t cap)
{
	size_t hlen, len, qlen;
	__u16 sum;

	switch (ip->proto) {
	case PKT_IP_PROTO_TCP:
		hlen = 20;
		break;
	case PKT_IP_PROTO_UDP:
	case PKT_IP_PROTO_ICMP:
		hlen = 8;
		break;
	default:
		hlen = 0;
		break;
	}
	if (hlen + ip->payload_len > cap)
		return 0;
	memset(l4, 0, hlen);
	len = hlen + ip->payload_len;
	if (ip->payload)
		memcpy(l4 + hlen, ip->payload, ip->payload_len);
	else
		pkt_pattern(l4 + hlen, ip->payload_len, (__u8)ip->proto);

	switch (ip->proto) {
	case PKT_IP_PROTO_TCP:
		pkt_put16(l4, ip->sport);
		pkt_put16(l4 + 2, ip->dport);
		pkt_put32(l4 + 4, ip->seq);
		pkt_put32(l4 + 8, ip->ack_seq);
		l4[12] = 5 << 4;
		l4[13] = ip->tcp_flags;
		pkt_put16(l4 + 14, 64240);
		sum = pkt_csum(pkt_pseudo_sum(ip->saddr, ip->daddr, ip->proto,
					      (__u32)len), l4, len);
		pkt_put16(l4 + 16, sum);
		break;
	case PKT_IP_PROTO_UDP:
		pkt_put16(l4, ip->sport);
		pkt_put16(l4 + 2, ip->dport);
		pkt_put16(l4 + 4, (__u16)len);
		if (ip->udp_csum_zero)
			break;
		sum = pkt_csum(pkt_pseudo_sum(ip->saddr, ip->daddr, ip->proto,
					      (__u32)len), l4, len);
		/* RFC 768: a computed zero is sent as all ones. */
		pkt_put16(l4 + 6, sum ? sum : 0xffff);
		break;
	case PKT_IP_PROTO_ICMP:
		l4[0] = ip->icmp_type;
		l4[1] = ip->icmp_code;
		if (ip->inner) {
			/* RFC 792: the inner header plus 8 bytes, or more. */
			qlen = pkt_ipv4_build(ip->inner, l4 + 8, cap - 8);
			if (!qlen)
				return 0;
			hlen = (ip->inner->ihl ? ip->inner->ihl :
				5 + ip->inner->optlen / 4) * 4u;
			hlen += ip->quote_len ? ip->quote_len : 8;
			if (hlen < qlen)
				qlen = hlen;
			len = 8 + qlen;
		} else {
			pkt_put16(l4 + 4, ip->icmp_id);
			pkt_put16(l4 + 6, ip->icmp_seq);
		}
		pkt_put16(l4 + 2, pkt_csum(0, l4, len));
		break;
	}
	return len;
}

/*
 * For the checksum edge of RFC 1624 section 3: sets the first payload
 * word of ip (ip->payload, writable) so that the RFC 1071 sum of its
 * TCP/UDP data is 0xffff: the checksum computes to zero (which UDP sends
 * as 0xffff, RFC 768).
 */
void pkt_zero_csum(const struct pkt_ipv4 *ip, __u8 *payload)
{
	__u8 l4[PKT_MAX];
	size_t off = ip->proto == PKT_IP_PROTO_TCP ? 16 : 6, len;

	payload[0] = 0;
	payload[1] = 0;
	len = pkt_l4_build(ip, l4, sizeof(l4));
	if (len < off + 2)
		return;
	l4[off] = 0;
	l4[off + 1] = 0;
	pkt_put16(payload, (__u16)~pkt_fold(pkt_sum(pkt_pseudo_sum(ip->saddr,
			ip->daddr, ip->proto, (__u32)len), l4, len)));
}

/* An IPv4 packet (header + this fragment's L4 bytes); 0 if it won't fit. */
size_t pkt_ipv4_build(const struct pkt_ipv4 *ip, __u8 *out, size_t cap)
{
	__u8 l4[PKT_MAX];
	size_t hlen = 20 + ip->optlen, l4len, len, csum_len;
	__u16 frag;
	__u8 ihl;

	if (ip->optlen > 40 || ip->optlen % 4)
		return 0;
	l4len = pkt_l4_build(ip, l4, sizeof(l4));
	if (ip->frag_off > l4len)
		return 0;
	l4len -= ip->frag_off;
	if (ip->frag_len && ip->frag_len < l4len)
		l4len = ip->frag_len;
	len = hlen + l4len;
	if (len > cap)
		return 0;

	ihl = ip->ihl ? ip->ihl : (__u8)(hlen / 4);
	memset(out, 0, hlen);
	out[0] = 0x40 | (ihl & 0xf);
	out[1] = ip->tos;
	pkt_put16(out + 2, ip->tot_len ? ip->tot_len : (__u16)len);
	pkt_put16(out + 4, ip->id);
	frag = (ip->df ? 0x4000 : 0) | (ip->mf ? 0x2000 : 0) |
	       (ip->frag_off / 8);
	pkt_put16(out + 6, frag);
	out[8] = ip->ttl ? ip->ttl : 64;
	out[9] = ip->proto;
	pkt_put32(out + 12, ip->saddr);
	pkt_put32(out + 16, ip->daddr);
	/* Options: no-ops, closed by end-of-list (RFC 791). */
	if (ip->optlen) {
		memset(out + 20, 1, ip->optlen);
		out[hlen - 1] = 0;
	}
	memcpy(out + hlen, l4 + ip->frag_off, l4len);
	csum_len = (ihl & 0xf) * 4u;
	if (csum_len > len)
		csum_len = len;
	pkt_put16(out + 10, pkt_csum(0, out, csum_len));
	return len;
}

__u32 pkt_pseudo_sum6(const __u8 *saddr, const __u8 *daddr, __u8 proto,
		      __u32 l4_len)
{
	return pkt_sum(pkt_sum(0, saddr, 16), daddr, 16) + (l4_len >> 16) +
	       (l4_len & 0xffff) + proto;
}

/* The IPv6 L4 datagram (before fragmentation), checksum included. */
static size_t pkt_l4_build6(const struct pkt_ipv6 *ip, __u8 *l4, size_t cap)
{
	size_t len, hlen, qlen, csum_off;
	bool nd = ip->proto == PKT_IP_PROTO_ICMPV6 &&
		  (ip->icmp_type == PKT_ICMPV6_NS ||
		   ip->icmp_type == PKT_ICMPV6_NA);

	switch (ip->proto) {
	case PKT_IP_PROTO_TCP:
		hlen = 20;
		csum_off = 16;
		break;
	case PKT_IP_PROTO_UDP:
		hlen = 8;
		csum_off = 6;
		break;
	case PKT_IP_PROTO_ICMPV6:
		hlen = nd ? 24 : 8;
		csum_off = 2;
		break;
	default:
		hlen = 0;
		csum_off = 0;
		break;
	}
	if (hlen + 8 + ip->opts_len + ip->payload_len > cap)
		return 0;
	memset(l4, 0, hlen);
	len = hlen;
	if (nd) {
		l4[4] = ip->nd_flags;
		memcpy(l4 + 8, ip->target, 16);
		if (ip->lla_type) {
			l4[len] = ip->lla_type;
			l4[len + 1] = 1;
			memcpy(l4 + len + 2, ip->lla, 6);
			len += 8;
		}
		if (ip->opts_len)
			memcpy(l4 + len, ip->opts, ip->opts_len);
		len += ip->opts_len;
	} else if (ip->proto == PKT_IP_PROTO_ICMPV6 && ip->inner) {
		qlen = pkt_ipv6_build(ip->inner, l4 + 8, cap - 8);
		if (!qlen)
			return 0;
		if (ip->quote_len && 40u + ip->quote_len < qlen)
			qlen = 40u + ip->quote_len;
		len += qlen;
	} else {
		if (ip->payload)
			memcpy(l4 + hlen, ip->payload, ip->payload_len);
		else
			pkt_pattern(l4 + hlen, ip->payload_len,
				    (__u8)ip->proto);
		len += ip->payload_len;
	}
	switch (ip->proto) {
	case PKT_IP_PROTO_TCP:
		pkt_put16(l4, ip->sport);
		pkt_put16(l4 + 2, ip->dport);
		pkt_put32(l4 + 4, ip->seq);
		pkt_put32(l4 + 8, ip->ack_seq);
		l4[12] = 5 << 4;
		l4[13] = ip->tcp_flags;
		pkt_put16(l4 + 14, 64240);
		break;
	case PKT_IP_PROTO_UDP:
		pkt_put16(l4, ip->sport);
		pkt_put16(l4 + 2, ip->dport);
		pkt_put16(l4 + 4, (__u16)len);
		break;
	case PKT_IP_PROTO_ICMPV6:
		l4[0] = ip->icmp_type;
		l4[1] = ip->icmp_code;
		if (!nd && !ip->inner) {
			pkt_put16(l4 + 4, ip->icmp_id);
			pkt_put16(l4 + 6, ip->icmp_seq);
		}
		break;
	}
	if (csum_off) {
		__u16 sum = pkt_csum(pkt_pseudo_sum6(ip->saddr, ip->daddr,
						     ip->proto, (__u32)len),
				     l4, len);

		/* UDP over IPv6: a computed zero is sent as all ones. */
		if (!sum && ip->proto == PKT_IP_PROTO_UDP)
			sum = 0xffff;
		pkt_put16(l4 + csum_off, sum);
	}
	return len;
}

size_t pkt_ipv6_build(const struct pkt_ipv6 *ip, __u8 *out, size_t cap)
{
	__u8 l4[PKT_MAX];
	size_t l4len, len, off = 40;
	__u8 next;
	int i;

	if (ip->n_ext > PKT_IPV6_EXT_MAX)
		return 0;
	l4len = pkt_l4_build6(ip, l4, sizeof(l4));
	if (ip->frag_off > l4len)
		return 0;
	l4len -= ip->frag_off;
	if (ip->frag_len && ip->frag_len < l4len)
		l4len = ip->frag_len;
	len = 40 + 8u * ip->n_ext + l4len;
	if (len > cap)
		return 0;
	memset(out, 0, 40 + 8u * ip->n_ext);
	out[0] = 0x60;
	pkt_put16(out + 4, ip->plen ? ip->plen : (__u16)(len - 40));
	out[7] = ip->hop_limit ? ip->hop_limit : 64;
	memcpy(out + 8, ip->saddr, 16);
	memcpy(out + 24, ip->daddr, 16);
	/* Each extension header names the next; padding is PadN (RFC 8200). */
	next = ip->n_ext ? ip->ext[0] : ip->proto;
	out[6] = next;
	for (i = 0; i < ip->n_ext; i++, off += 8) {
		out[off] = i + 1 < ip->n_ext ? ip->ext[i + 1] : ip->proto;
		if (ip->ext[i] == PKT_IPV6_FRAGMENT) {
			pkt_put16(out + off + 2,
				  (__u16)(ip->frag_off | (ip->mf ? 1 : 0)));
			pkt_put32(out + off + 4, 0x12345678);
		} else {
			out[off + 2] = 1;	/* PadN of 4 bytes */
			out[off + 3] = 4;
		}
	}
	memcpy(out + off, l4 + ip->frag_off, l4len);
	return len;
}

/* The frame's bytes; returns its length, 0 if it does not fit in cap. */
size_t pkt_build(const struct pkt_frame *f, __u8 *buf, size_t cap)
{
	__u16 proto = f->proto ? f->proto : PKT_ETH_P_IP;
	size_t off = 12, n;

	if (cap < 18 + 28)
		return 0;
	memcpy(buf, f->dst, 6);
	memcpy(buf + 6, f->src, 6);
	if (f->vlan) {
		pkt_put16(buf + off, PKT_ETH_P_8021Q);
		pkt_put16(buf + off + 2, f->vlan);
		off += 4;
	}
	pkt_put16(buf + off, proto);
	off += 2;

	switch (proto) {
	case PKT_ETH_P_IP:
		n = pkt_ipv4_build(&f->ip, buf + off, cap - off);
		if (!n)
			return 0;
		break;
	case PKT_ETH_P_ARP:
		pkt_put16(buf + off, 1);		/* Ethernet */
		pkt_put16(buf + off + 2, PKT_ETH_P_IP);
		buf[off + 4] = 6;
		buf[off + 5] = 4;
		pkt_put16(buf + off + 6, f->arp.op);
		memcpy(buf + off + 8, f->arp.sha, 6);
		pkt_put32(buf + off + 14, f->arp.spa);
		memcpy(buf + off + 18, f->arp.tha, 6);
		pkt_put32(buf + off + 24, f->arp.tpa);
		n = 28;
		break;
	case PKT_ETH_P_IPV6:
		if (!f->raw) {
			n = pkt_ipv6_build(&f->ip6, buf + off, cap - off);
			if (!n)
				return 0;
			break;
		}
		/* fall through */
	default:
		if (f->raw_len > cap - off)
			return 0;
		memcpy(buf + off, f->raw, f->raw_len);
		n = f->raw_len;
		break;
	}
	off += n;
	if (f->min_len > off) {
		if (f->min_len > cap)
			return 0;
		memset(buf + off, 0, f->min_len - off);
		off = f->min_len;
	}
	if (f->trunc && f->trunc < off)
		off = f->trunc;
	return off;
}

struct pkt_frame pkt_to(struct pkt_frame f, const __u8 *mac, __u32 daddr)
{
	if (mac)
		memcpy(f.dst, mac, 6);
	f.ip.daddr = daddr;
	return f;
}

struct pkt_frame pkt_from(struct pkt_frame f, const __u8 *mac, __u32 saddr)
{
	if (mac)
		memcpy(f.src, mac, 6);
	f.ip.saddr = saddr;
	return f;
}

struct pkt_frame pkt_vlan(struct pkt_frame f, __u16 vid)
{
	f.vlan = vid;
	return f;
}

struct pkt_frame pkt_ihl(struct pkt_frame f, __u8 ihl)
{
	f.ip.ihl = ihl;
	return f;
}

struct pkt_frame pkt_cut(struct pkt_frame f, __u16 tot_len, __u16 trunc)
{
	f.ip.tot_len = tot_len;
	f.trunc = trunc;
	return f;
}

/* The L4 sum of an IPv6 packet ip of len bytes (see pkt_verify_csums). */
static int pkt_verify_csums6(const __u8 *ip, size_t len, char *why,
			     size_t why_len)
{
	size_t off = 40, plen, hlen;
	__u8 next;

	if (len < 40)
		return 0;
	plen = pkt_get16(ip + 4);
	if (40 + plen > len)
		return 0;
	next = ip[6];
	for (int i = 0; i < PKT_IPV6_EXT_MAX; i++) {
		if (next != PKT_IPV6_HOP && next != PKT_IPV6_ROUTING &&
		    next != PKT_IPV6_DEST && next != PKT_IPV6_FRAGMENT)
			break;
		if (off + 8 > 40 + plen)
			return 0;
		/* A fragment: its L4 sum spans others. */
		if (next == PKT_IPV6_FRAGMENT &&
		    pkt_get16(ip + off + 2) & 0xfff9)
			return 0;
		hlen = next == PKT_IPV6_FRAGMENT ? 8 : (ip[off + 1] + 1) * 8u;
		next = ip[off];
		off += hlen;
	}
	if (off > 40 + plen || (next != PKT_IP_PROTO_TCP &&
				next != PKT_IP_PROTO_UDP &&
				next != PKT_IP_PROTO_ICMPV6))
		return 0;
	if (pkt_fold(pkt_sum(pkt_pseudo_sum6(ip + 8, ip + 24, next,
					     (__u32)(40 + plen - off)),
			     ip + off, 40 + plen - off)) != 0xffff) {
		snprintf(why, why_len, "IPv6 L4 (protocol %u) checksum invalid",
			 next);
		return 1;
	}
	return 0;
}

/*
 * Checksum validation of a received frame, independent of how it was
 * made: the IPv4 header sum, the TCP/UDP sum with its pseudo header and
 * the ICMP sum (for unfragmented packets, the only ones whose whole L4
 * data is here), and the quoted IPv4 header of an ICMP error.  Returns
 * the number of bad checksums and describes the first in why.
 */
int pkt_verify_csums(const __u8 *f, size_t len, char *why, size_t why_len)
{
	size_t off = 12, ihl, tot, l4len;
	__u32 saddr, daddr;
	const __u8 *ip, *l4;
	__u16 proto;
	int bad = 0;

	snprintf(why, why_len, "all checksums valid");
	if (len < 14)
		return 0;
	proto = pkt_get16(f + off);
	if (proto == PKT_ETH_P_8021Q && len >= 18) {
		off += 4;
		proto = pkt_get16(f + off);
	}
	off += 2;
	if (proto == PKT_ETH_P_IPV6)
		return pkt_verify_csums6(f + off, len - off, why, why_len);
	if (proto != PKT_ETH_P_IP || len < off + 20)
		return 0;
	ip = f + off;
	ihl = (ip[0] & 0xf) * 4u;
	tot = pkt_get16(ip + 2);
	if (ihl < 20 || tot < ihl || off + tot > len)
		return 0;
	if (pkt_fold(pkt_sum(0, ip, ihl)) != 0xffff) {
		snprintf(why, why_len, "IPv4 header checksum 0x%04x invalid",
			 pkt_get16(ip + 10));
		bad++;
	}
	if (pkt_get16(ip + 6) & 0x3fff)
		return bad;	/* a fragment: its L4 sum spans others */
	saddr = pkt_get32(ip + 12);
	daddr = pkt_get32(ip + 16);
	l4 = ip + ihl;
	l4len = tot - ihl;
	switch (ip[9]) {
	case PKT_IP_PROTO_TCP:
		if (l4len < 20)
			break;
		if (pkt_fold(pkt_sum(pkt_pseudo_sum(saddr, daddr, 6,
						    (__u32)l4len),
				     l4, l4len)) != 0xffff) {
			snprintf(why, why_len, "TCP checksum 0x%04x invalid",
				 pkt_get16(l4 + 16));
			bad++;
		}
		break;
	case PKT_IP_PROTO_UDP:
		if (l4len < 8 || !pkt_get16(l4 + 6))
			break;
		if (pkt_fold(pkt_sum(pkt_pseudo_sum(saddr, daddr, 17,
						    (__u32)l4len),
				     l4, l4len)) != 0xffff) {
			snprintf(why, why_len, "UDP checksum 0x%04x invalid",
				 pkt_get16(l4 + 6));
			bad++;
		}
		break;
	case PKT_IP_PROTO_ICMP:
		if (l4len < 8)
			break;
		if (pkt_fold(pkt_sum(0, l4, l4len)) != 0xffff) {
			snprintf(why, why_len, "ICMP checksum 0x%04x invalid",
				 pkt_get16(l4 + 2));
			bad++;
		}
		if ((l4[0] == PKT_ICMP_UNREACH ||
		     l4[0] == PKT_ICMP_TIME_EXCEEDED) && l4len >= 28) {
			ihl = (l4[8] & 0xf) * 4u;
			if (ihl >= 20 && 8 + ihl <= l4len &&
			    pkt_fold(pkt_sum(0, l4 + 8, ihl)) != 0xffff) {
				snprintf(why, why_len, "inner IPv4 header "
					 "checksum 0x%04x invalid",
					 pkt_get16(l4 + 18));
				bad++;
			}
		}
		break;
	}
	return bad;
}

/* Names of the bytes of a frame, for printing what differs. */
struct pkt_field {
	unsigned int off, len;
	const char *name;
};

static void pkt_field_add(struct pkt_field *t, int *n, int max,
			  unsigned int off, unsigned int len,
			  const char *name)
{
	if (*n < max)
		t[(*n)++] = (struct pkt_field){ off, len, name };
}

#define PKT_FIELDS_MAX 64

/* Field tables, outer [0] and quoted inner [1] variants. */
static const struct pkt_field pkt_ip_fields[2][10] = {
	{ { 0, 1, "ip.ver_ihl" }, { 1, 1, "ip.tos" }, { 2, 2, "ip.tot_len" },
	  { 4, 2, "ip.id" }, { 6, 2, "ip.frag_off" }, { 8, 1, "ip.ttl" },
	  { 9, 1, "ip.proto" }, { 10, 2, "ip.check" }, { 12, 4, "ip.saddr" },
	  { 16, 4, "ip.daddr" } },
	{ { 0, 1, "inner.ip.ver_ihl" }, { 1, 1, "inner.ip.tos" },
	  { 2, 2, "inner.ip.tot_len" }, { 4, 2, "inner.ip.id" },
	  { 6, 2, "inner.ip.frag_off" }, { 8, 1, "inner.ip.ttl" },
	  { 9, 1, "inner.ip.proto" }, { 10, 2, "inner.ip.check" },
	  { 12, 4, "inner.ip.saddr" }, { 16, 4, "inner.ip.daddr" } },
};

static const struct pkt_field pkt_tcp_fields[2][8] = {
	{ { 0, 2, "tcp.sport" }, { 2, 2, "tcp.dport" }, { 4, 4, "tcp.seq" },
	  { 8, 4, "tcp.ack_seq" }, { 12, 2, "tcp.doff,flags" },
	  { 14, 2, "tcp.window" }, { 16, 2, "tcp.check" },
	  { 18, 2, "tcp.urg_ptr" } },
	{ { 0, 2, "inner.tcp.sport" }, { 2, 2, "inner.tcp.dport" },
	  { 4, 4, "inner.tcp.seq" }, { 8, 4, "inner.tcp.ack_seq" },
	  { 12, 2, "inner.tcp.doff,flags" }, { 14, 2, "inner.tcp.window" },
	  { 16, 2, "inner.tcp.check" }, { 18, 2, "inner.tcp.urg_ptr" } },
};

static const struct pkt_field pkt_udp_fields[2][4] = {
	{ { 0, 2, "udp.sport" }, { 2, 2, "udp.dport" }, { 4, 2, "udp.len" },
	  { 6, 2, "udp.check" } },
	{ { 0, 2, "inner.udp.sport" }, { 2, 2, "inner.udp.dport" },
	  { 4, 2, "inner.udp.len" }, { 6, 2, "inner.udp.check" } },
};

static const struct pkt_field pkt_icmp_fields[2][5] = {
	{ { 0, 1, "icmp.type" }, { 1, 1, "icmp.code" }, { 2, 2, "icmp.check" },
	  { 4, 2, "icmp.id" }, { 6, 2, "icmp.seq" } },
	{ { 0, 1, "inner.icmp.type" }, { 1, 1, "inner.icmp.code" },
	  { 2, 2, "inner.icmp.check" }, { 4, 2, "inner.icmp.id" },
	  { 6, 2, "inner.icmp.seq" } },
};

static void pkt_fields_add(struct pkt_field *t, int *n, size_t base,
			   const struct pkt_field *tmpl, int count)
{
	int i;

	for (i = 0; i < count; i++)
		pkt_field_add(t, n, PKT_FIELDS_MAX, base + tmpl[i].off,
			      tmpl[i].len, tmpl[i].name);
}

static void pkt_ipv4_fields(const __u8 *f, size_t len, size_t off,
			    int inner, struct pkt_field *t, int *n)
{
	size_t ihl, l4;

	if (off + 20 > len)
		return;
	pkt_fields_add(t, n, off, pkt_ip_fields[inner], 10);
	ihl = (f[off] & 0xf) * 4u;
	if (ihl < 20)
		return;
	if (ihl > 20)
		pkt_field_add(t, n, PKT_FIELDS_MAX, off + 20, ihl - 20,
			      inner ? "inner.ip.options" : "ip.options");
	l4 = off + ihl;
	switch (f[off + 9]) {
	case PKT_IP_PROTO_TCP:
		pkt_fields_add(t, n, l4, pkt_tcp_fields[inner], 8);
		break;
	case PKT_IP_PROTO_UDP:
		pkt_fields_add(t, n, l4, pkt_udp_fields[inner], 4);
		break;
	case PKT_IP_PROTO_ICMP:
		pkt_fields_add(t, n, l4, pkt_icmp_fields[inner], 5);
		if (!inner && l4 + 8 <= len &&
		    (f[l4] == PKT_ICMP_UNREACH ||
		     f[l4] == PKT_ICMP_TIME_EXCEEDED))
			pkt_ipv4_fields(f, len, l4 + 8, 1, t, n);
		break;
	}
}

/*
 * The name of the field holding byte off of frame f (parsed as the
 * expected frame), the narrowest match winning; "payload" otherwise.
 */
const char *pkt_field_name(const __u8 *f, size_t len, size_t off)
{
	static const char *const arp_names[] = {
		"arp.htype", "arp.ptype", "arp.hlen,plen", "arp.op"
	};
	struct pkt_field t[PKT_FIELDS_MAX];
	const char *best = "payload";
	unsigned int best_len = ~0u;
	size_t l3 = 14;
	int n = 0, i;

	pkt_field_add(t, &n, PKT_FIELDS_MAX, 0, 6, "eth.dst");
	pkt_field_add(t, &n, PKT_FIELDS_MAX, 6, 6, "eth.src");
	pkt_field_add(t, &n, PKT_FIELDS_MAX, 12, 2, "eth.proto");
	if (len >= 18 && pkt_get16(f + 12) == PKT_ETH_P_8021Q) {
		pkt_field_add(t, &n, PKT_FIELDS_MAX, 14, 2, "vlan.tci");
		pkt_field_add(t, &n, PKT_FIELDS_MAX, 16, 2, "vlan.proto");
		l3 = 18;
	}
	if (len >= l3 && pkt_get16(f + l3 - 2) == PKT_ETH_P_IP) {
		pkt_ipv4_fields(f, len, l3, 0, t, &n);
	} else if (len >= l3 && pkt_get16(f + l3 - 2) == PKT_ETH_P_ARP) {
		for (i = 0; i < 4; i++)
			pkt_field_add(t, &n, PKT_FIELDS_MAX, l3 + 2 * i, 2,
				      arp_names[i]);
		pkt_field_add(t, &n, PKT_FIELDS_MAX, l3 + 8, 6, "arp.sha");
		pkt_field_add(t, &n, PKT_FIELDS_MAX, l3 + 14, 4, "arp.spa");
		pkt_field_add(t, &n, PKT_FIELDS_MAX, l3 + 18, 6, "arp.tha");
		pkt_field_add(t, &n, PKT_FIELDS_MAX, l3 + 24, 4, "arp.tpa");
	}
	for (i = 0; i < n; i++) {
		if (off >= t[i].off && off < t[i].off + t[i].len &&
		    t[i].len < best_len) {
			best = t[i].name;
			best_len = t[i].len;
		}
	}
	return best;
}

void pkt_hex(const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
}

/*
 * Prints, as TAP comments, every run of differing bytes between got and
 * want with the name of the field it lies in; returns the number of
 * differing bytes (a length difference counts as one).
 */
int pkt_diff(const __u8 *got, size_t got_len, const __u8 *want,
	     size_t want_len)
{
	size_t n = got_len < want_len ? got_len : want_len, i = 0, j;
	const char *name;
	int diffs = 0;

	if (got_len != want_len) {
		printf("#   length: got %zu, want %zu\n", got_len, want_len);
		diffs++;
	}
	while (i < n) {
		if (got[i] == want[i]) {
			i++;
			continue;
		}
		name = pkt_field_name(want, want_len, i);
		for (j = i; j < n && got[j] != want[j] &&
		     pkt_field_name(want, want_len, j) == name; j++)
			;
		printf("#   %s (bytes %zu-%zu): got ", name, i, j - 1);
		pkt_hex(got + i, j - i);
		printf(", want ");
		pkt_hex(want + i, j - i);
		printf("\n");
		diffs += (int)(j - i);
		i = j;
	}
	return diffs;
}
