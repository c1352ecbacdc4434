/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - bounds-checked parsing of Ethernet, IPv4 and the L4 headers
 * psv reads, into a struct psv_pkt of plain values and frame offsets.
 * Works on the linear part of an XDP buffer or an skb (data, data_end);
 * nothing here writes to the packet.  Contract: parse_ipv4() and
 * parse_quote() return 0, -PSV_E_SHORT (no IPv4 header to read: nothing
 * filled) or -PSV_E_BAD (malformed: addresses and protocol are filled).
 */
#ifndef PSV_BPF_PARSE_H
#define PSV_BPF_PARSE_H

/* UAPI defines that vmlinux.h cannot carry. */
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define IPV6_HLEN 40
#define IPPROTO_ICMPV6 58	/* a UAPI define, not in vmlinux.h's enum */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define PACKET_HOST 0

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define TCP_FLAGS_OFF 13	/* byte of the TCP header holding the flags */

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

#define IPV4_SADDR_OFF (ETH_HLEN + 12)
#define IPV4_DADDR_OFF (ETH_HLEN + 16)
#define IPV4_CSUM_OFF (ETH_HLEN + 10)

/*
 * Farthest byte any parser reads: Ethernet, IPv4 with options, ICMP
 * header, quoted IPv4 with options, the quoted TCP header up to its
 * checksum.  Also the bound that keeps the verifier's offsets finite.
 * IPv6 fits in it with 40 bytes of extension headers before an ICMPv6
 * error quoting a bare IPv6 header; headers ending later are refused.
 */
#define PSV_HDR_MAX (ETH_HLEN + 60 + 8 + 60 + 18)

#define PSV_E_SHORT 1
#define PSV_E_BAD 2

enum psv_frag_kind {
	PSV_FRAG_NONE = 0,	/* a whole datagram */
	PSV_FRAG_FIRST = 1,	/* MF set, offset 0: has the L4 header */
	PSV_FRAG_LATER = 2,	/* offset > 0: no L4 header */
};

/* An IPv4 packet as psv sees it; addresses and ports in network order. */
struct psv_pkt {
	__u32 l3_off;		/* IPv4 header */
	__u32 l4_off;		/* L4 header */
	__u32 l3_end;		/* end of the datagram (tot_len) */
	__u32 l4_csum_off;	/* TCP/UDP checksum; 0: none to update */
	__be32 saddr;
	__be32 daddr;
	__be16 ip_id;
	__be16 sport;		/* TCP/UDP */
	__be16 dport;
	__be16 icmp_id;		/* ICMP echo request/reply */
	__u16 ip_csum;		/* quotes only: as on the wire */
	__u16 l4_csum;		/* quotes only: as on the wire, at l4_csum_off */
	__u8 proto;
	__u8 frag;		/* enum psv_frag_kind */
	__u8 tcp_flags;
	__u8 icmp_type;
};

/*
 * A pointer to len bytes at off, or NULL if they are not all in the
 * linear data.  Bounding off first keeps the verifier's range finite;
 * the empty asm pins off to one register, or clang may bound one copy
 * (say, after masking a u16) and add another the verifier knows nothing
 * about.
 */
static __always_inline void *pkt_ptr(void *data, void *data_end, __u64 off,
				     __u64 len)
{
	void *ptr;

	asm volatile("" : "+r"(off));
	if (off > PSV_HDR_MAX)
		return NULL;
	ptr = data + off;
	if (ptr + len > data_end)
		return NULL;
	return ptr;
}

/* Byte by byte: clang emits a memcmp call BPF cannot link. */
static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline bool is_icmp_echo(__u8 type)
{
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
}

/* The ICMP errors that quote the packet they are about (RFC 792). */
static __always_inline bool is_icmp_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH;
}

static __always_inline bool is_pure_syn(const struct psv_pkt *p)
{
	return p->proto == IPPROTO_TCP &&
	       (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

static __always_inline bool is_udp_ports(const struct psv_pkt *p,
					 __u16 sport, __u16 dport)
{
	return p->proto == IPPROTO_UDP && p->frag != PSV_FRAG_LATER &&
	       p->sport == bpf_htons(sport) && p->dport == bpf_htons(dport);
}

/*
 * The L4 header's first len bytes, if they lie both inside the datagram
 * and in the linear data.  len must be a constant at every call: the
 * verifier derives no packet range from a variable length.
 */
static __always_inline void *l4_hdr(void *data, void *data_end,
				    const struct psv_pkt *p, __u32 len)
{
	if (p->l4_off + len > p->l3_end)
		return NULL;
	return pkt_ptr(data, data_end, p->l4_off, len);
}

/* L4 header of a datagram that is not a later fragment, if psv reads it. */
static __always_inline int parse_l4(void *data, void *data_end,
				    struct psv_pkt *p)
{
	struct icmphdr *icmp;
	struct tcphdr *tcp;
	struct udphdr *udp;

	switch (p->proto) {
	case IPPROTO_TCP:
		tcp = l4_hdr(data, data_end, p, sizeof(*tcp));
		if (!tcp)
			return -PSV_E_BAD;
		p->sport = tcp->source;
		p->dport = tcp->dest;
		p->tcp_flags = ((__u8 *)tcp)[TCP_FLAGS_OFF];
		p->l4_csum_off = p->l4_off + offsetof(struct tcphdr, check);
		break;
	case IPPROTO_UDP:
		udp = l4_hdr(data, data_end, p, sizeof(*udp));
		if (!udp)
			return -PSV_E_BAD;
		p->sport = udp->source;
		p->dport = udp->dest;
		p->l4_csum_off = p->l4_off + offsetof(struct udphdr, check);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:	/* the same header, its sum with a pseudo-header */
		icmp = l4_hdr(data, data_end, p, sizeof(*icmp));
		if (!icmp)
			return -PSV_E_BAD;
		p->icmp_type = icmp->type;
		p->icmp_id = icmp->un.echo.id;
		if (p->proto == IPPROTO_ICMPV6)
			p->l4_csum_off = p->l4_off +
					 offsetof(struct icmphdr, checksum);
		break;
	}
	return 0;
}

/*
 * The IPv4 header right after Ethernet and the L4 header behind it.
 * frame_len is the whole frame (skb->len, or the XDP buffer with its
 * fragments), so tot_len is judged against what really arrived.
 */
static __always_inline int parse_ipv4(void *data, void *data_end,
				      __u32 frame_len, struct psv_pkt *p)
{
	struct iphdr *ip = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*ip));
	__u32 hlen, tot;
	__u16 frag;

	if (!ip)
		return -PSV_E_SHORT;
	p->l3_off = ETH_HLEN;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->proto = ip->protocol;
	p->ip_id = ip->id;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/* BIG TCP: a GSO/GRO datagram over 64 KiB has tot_len 0. */
	if (!tot && frame_len > ETH_HLEN + 0xffff)
		tot = frame_len - ETH_HLEN;
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen ||
	    ETH_HLEN + tot > frame_len || !pkt_ptr(data, data_end, ETH_HLEN, hlen))
		return -PSV_E_BAD;
	p->l4_off = ETH_HLEN + hlen;
	p->l3_end = ETH_HLEN + tot;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & IP_OFFSET)
		p->frag = PSV_FRAG_LATER;
	else if (frag & IP_MF)
		p->frag = PSV_FRAG_FIRST;
	if (p->frag == PSV_FRAG_LATER)
		return 0;
	return parse_l4(data, data_end, p);
}

/*
 * The packet an ICMP error quotes (RFC 792: its IP header and at least
 * 8 bytes of its L4 header), into q.  Only what names a connection is
 * accepted: TCP/UDP ports or an ICMP echo id, of a first or whole
 * datagram.  The quoted L4 checksum is noted only if it lies inside the
 * quote (and, for UDP, if it is not zero).
 */
static __always_inline int parse_quote(void *data, void *data_end,
				       const struct psv_pkt *p,
				       struct psv_pkt *q)
{
	__u32 off = p->l4_off + sizeof(struct icmphdr);
	struct iphdr *ip = pkt_ptr(data, data_end, off, sizeof(*ip));
	__u32 csum_off;
	__u16 *csum;
	__u8 *l4;

	if (!ip || off + sizeof(*ip) > p->l3_end)
		return -PSV_E_SHORT;
	q->l3_off = off;
	q->saddr = ip->saddr;
	q->daddr = ip->daddr;
	q->proto = ip->protocol;
	q->ip_csum = ip->check;
	q->l4_off = off + ip->ihl * 4;
	q->l3_end = p->l3_end;
	if (ip->version != 4 || ip->ihl < 5 ||
	    (bpf_ntohs(ip->frag_off) & IP_OFFSET))
		return -PSV_E_BAD;
	l4 = l4_hdr(data, data_end, q, 8);
	if (!l4)
		return -PSV_E_BAD;
	switch (q->proto) {
	case IPPROTO_ICMP:
		q->icmp_type = l4[0];
		q->icmp_id = ((struct icmphdr *)l4)->un.echo.id;
		/* No pseudo-header: an address change leaves it alone. */
		return is_icmp_echo(q->icmp_type) ? 0 : -PSV_E_BAD;
	case IPPROTO_TCP:
		csum_off = q->l4_off + offsetof(struct tcphdr, check);
		break;
	case IPPROTO_UDP:
		csum_off = q->l4_off + offsetof(struct udphdr, check);
		break;
	default:
		return -PSV_E_BAD;
	}
	q->sport = ((struct udphdr *)l4)->source;
	q->dport = ((struct udphdr *)l4)->dest;
	csum = pkt_ptr(data, data_end, csum_off, sizeof(*csum));
	if (csum && csum_off + sizeof(*csum) <= q->l3_end && *csum) {
		q->l4_csum_off = csum_off;
		q->l4_csum = *csum;
	}
	return 0;
}

/*
 * TC sees skbs whose headers may sit partly in paged fragments (GSO,
 * GRO).  Pull into the linear area what the parsers read, no more:
 * pulling payload of every GSO skb would cost a copy per packet.  The
 * IPv4 header is peeked in place, or with bpf_skb_load_bytes (which
 * reads fragments too) if it is not linear.  If a pull fails the
 * parsers find the headers short and fail closed.  Callers put
 * barrier_var(skb) after it: without, clang keeps &skb->data from
 * before the call in a register and later loads through that "modified
 * ctx pointer", which the verifier rejects.
 */
static __always_inline void tc_pull_headers(struct __sk_buff *skb)
{
	__u32 need = ETH_HLEN + 28;	/* an ARP packet, a bare IPv4 header */
	__u8 buf[12];	/* EtherType, IPv4 header to protocol, IPv6 to nexthdr */
	__u8 *hdr = (void *)(long)skb->data + 2 * ETH_ALEN;

	/* Read in place when linear (the usual case): a helper call less. */
	if ((void *)hdr + sizeof(buf) > (void *)(long)skb->data_end) {
		hdr = bpf_skb_load_bytes(skb, 2 * ETH_ALEN, buf, sizeof(buf)) ?
		      NULL : buf;
	}
	/*
	 * IPv6: the fixed header and the L4 header right behind it; with
	 * extension headers or ICMPv6 (errors quote, neighbour discovery
	 * carries options) as far as the parsers read.  hdr[8] is nexthdr.
	 */
	if (hdr && hdr[0] == ETH_P_IPV6 >> 8 && hdr[1] == (ETH_P_IPV6 & 0xff)) {
		need = ETH_HLEN + IPV6_HLEN;
		if (hdr[8] == IPPROTO_TCP)
			need += sizeof(struct tcphdr);
		else if (hdr[8] == IPPROTO_UDP)
			need += sizeof(struct udphdr);
		else
			need = PSV_HDR_MAX;
	}
	if (hdr && hdr[0] == ETH_P_IP >> 8 && hdr[1] == (ETH_P_IP & 0xff)) {
		need = ETH_HLEN + (hdr[2] & 0xf) * 4;
		if (hdr[11] == IPPROTO_TCP)
			need += sizeof(struct tcphdr);
		else if (hdr[11] == IPPROTO_UDP)
			need += sizeof(struct udphdr);
		else if (hdr[11] == IPPROTO_ICMP)
			need = PSV_HDR_MAX; /* errors quote; ICMP is small */
		if (need < ETH_HLEN + 28)
			need = ETH_HLEN + 28;
	}
	if (need > skb->len)
		need = skb->len;
	if ((void *)(long)skb->data + need > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, need);
}

#endif /* PSV_BPF_PARSE_H */
