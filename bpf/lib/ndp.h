/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ndp.h - neighbour discovery (RFC 4861) for identity addresses, the
 * IPv6 twin of arp.h: a neighbour solicitation for an identity address
 * is answered with a neighbour advertisement from the identity's MAC,
 * turned from the solicitation in place; and the link-layer address
 * option of a solicitation or advertisement the host sends in an
 * identity's name is given the identity's MAC.  Every identity address
 * answers the same way, whoever asks.
 */
#ifndef PSV_BPF_NDP_H
#define PSV_BPF_NDP_H

#define NDP_OPT_SOURCE_LLADDR 1
#define NDP_OPT_TARGET_LLADDR 2
#define NDP_OPTS_MAX 4		/* options walked, at most */
#define NDP_MSG_LEN 24		/* ICMPv6 header, flags, target address */
#define NDP_TARGET_OFF 8	/* of the target address in the message */
#define NDP_NA_ROUTER 0x80
#define NDP_NA_SOLICITED 0x40
#define NDP_NA_OVERRIDE 0x20
#define NDP_HOP_LIMIT 255	/* anything else came through a router */
/* The advertisement psv sends: Ethernet, IPv6, message, one option. */
#define NDP_NA_LEN (ETH_HLEN + IPV6_HLEN + NDP_MSG_LEN + 8)

/*
 * The link-layer address option of type want (Ethernet: 8 bytes) in the
 * solicitation or advertisement p: its frame offset in *at, 0 if there
 * is none.  Returns false for a message shorter than NDP_MSG_LEN, an
 * option of length 0 or past the end, more than NDP_OPTS_MAX options,
 * or options past the linear data.
 */
static __always_inline bool ndp_lladdr_opt(void *data, void *data_end,
					   const struct psv_pkt *p, __u8 want,
					   __u32 *at)
{
	__u32 off = p->l4_off + NDP_MSG_LEN;
	__u8 *opt;

	*at = 0;
	if (off > p->l3_end)
		return false;
	for (int i = 0; i < NDP_OPTS_MAX; i++) {
		if (off == p->l3_end)
			return true;
		opt = pkt_ptr(data, data_end, off, 8);
		if (!opt || !opt[1] || off + opt[1] * 8 > p->l3_end)
			return false;
		if (opt[0] == want && opt[1] == 1 && !*at)
			*at = off;
		off += opt[1] * 8;
	}
	return off == p->l3_end;
}

/*
 * The kernel's solicitation or advertisement p going out with MAC mac:
 * its source (NS) or target (NA) link-layer address option says mac
 * too, the ICMPv6 checksum following (rw->data_diff).  rw is prepared
 * with the Ethernet rewrite already.  -1 if the options are malformed.
 */
static __always_inline int ndp_prepare_lladdr(void *data, void *data_end,
					      const struct psv_pkt *p,
					      const __u8 *mac,
					      struct psv_rewrite *rw)
{
	__u8 want = p->icmp_type == ICMPV6_NEIGH_SOLICIT ?
		    NDP_OPT_SOURCE_LLADDR : NDP_OPT_TARGET_LLADDR;
	__u32 old[2], new[2], at;
	__u8 *opt;

	if (!ndp_lladdr_opt(data, data_end, p, want, &at))
		return -1;
	rw->ipv6 = 1;
	if (!at)
		return 0;
	opt = pkt_ptr(data, data_end, at, 8);
	if (!opt)
		return -1;
	__builtin_memcpy(old, opt, sizeof(old));
	__builtin_memcpy(new, opt, 2);
	__builtin_memcpy((__u8 *)new + 2, mac, ETH_ALEN);
	rw->mac2_off = at + 2;
	rw->l4_csum_off = p->l4_csum_off;
	rw->data_diff = csum_diff_words(old, new, 2);
	return 0;
}

/*
 * Decide, for a neighbour solicitation p6 arriving at the host.  Its
 * target an identity address whose DAD is done and whose identity is
 * READY or ACTIVE: answered (PSV_REPLY, rw->mac the identity's).  Its
 * target an address still in DAD: passed, psvd's DAD sees it on its
 * AF_PACKET socket (someone else wants the address).  Never left to the
 * kernel otherwise (identity addresses are on lo, the kernel answers
 * none, and an answer would carry the real MAC): malformed (RFC 4861
 * 7.1.1: hop limit 255, code 0, a unicast target, sound options, no
 * extension header) or for an identity that does not answer, dropped.
 */
static __always_inline int ndp_decide(void *data, void *data_end,
				      const struct psv_pkt6 *p6,
				      struct psv_rewrite *rw)
{
	const struct psv_pkt *p = &p6->p;
	struct psv_addr6_owner *o;
	struct psv_identity *id;
	struct psv_addr6 target;
	__u8 *msg = l4_hdr(data, data_end, p, NDP_MSG_LEN);
	__u32 at;

	if (!msg)
		return PSV_REASON(PSV_PASS, IN_DROP_PARSE);
	addr6_load(&target, msg + NDP_TARGET_OFF);
	o = bpf_map_lookup_elem(&psv_addrs6, &target);
	if (!o)
		return PSV_REASON(PSV_PASS, IN_PASS);
	if (!o->dad_done)
		return PSV_REASON(PSV_PASS, IN_NDP_DAD);
	if (p6->hop_limit != NDP_HOP_LIMIT || msg[1] ||
	    p->l4_off != ETH_HLEN + IPV6_HLEN ||
	    !ndp_lladdr_opt(data, data_end, p, NDP_OPT_SOURCE_LLADDR, &at))
		return PSV_REASON(PSV_DROP, IN_DROP_NDP);
	id = bpf_map_lookup_elem(&psv_identities, &o->vip);
	if (!id || (id->state != PSV_ID_READY && id->state != PSV_ID_ACTIVE))
		return PSV_REASON(PSV_DROP, IN_DROP_NDP);
	__builtin_memset(rw, 0, sizeof(*rw));
	__builtin_memcpy(rw->mac, id->mac, ETH_ALEN);
	rw->ipv6 = 1;
	return PSV_REASON(PSV_REPLY, IN_NDP_REPLIED);
}

/*
 * Apply: the solicitation, already resized to NDP_NA_LEN bytes, becomes
 * the advertisement (solicited, override; the target option the
 * identity's MAC), from the target address to the solicitor, or to all
 * nodes for a DAD probe (unspecified source: the address is defended).
 * Its checksum is summed here: every byte of it is new.
 */
static __always_inline int ndp_reply(void *data, void *data_end,
				     const struct psv_rewrite *rw)
{
	__u8 *f = pkt_ptr(data, data_end, 0, NDP_NA_LEN);
	struct ethhdr *eth = (void *)f;
	struct ipv6hdr *ip6;
	struct psv_addr6 src;
	__u16 *w;
	__u8 *msg;
	__u32 sum;
	bool dad;

	if (!f)
		return -1;
	ip6 = (void *)(f + ETH_HLEN);
	msg = f + ETH_HLEN + IPV6_HLEN;
	addr6_load(&src, &ip6->saddr);
	dad = addr6_is_zero(&src);
	if (dad) {
		/* 33:33:00:00:00:01 (RFC 2464 7) */
		__builtin_memset(eth->h_dest, 0, ETH_ALEN);
		eth->h_dest[0] = 0x33;
		eth->h_dest[1] = 0x33;
		eth->h_dest[5] = 1;
		src.a[0] = bpf_htonl(0xff020000);
		src.a[3] = bpf_htonl(1);
	} else {
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	}
	__builtin_memcpy(eth->h_source, rw->mac, ETH_ALEN);
	/* Version 6, no traffic class, no flow label. */
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(NDP_MSG_LEN + 8);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = NDP_HOP_LIMIT;
	__builtin_memcpy(&ip6->saddr, msg + NDP_TARGET_OFF, 16);
	__builtin_memcpy(&ip6->daddr, &src, 16);
	msg[0] = ICMPV6_NEIGH_ADVERT;
	msg[1] = 0;
	msg[2] = 0;
	msg[3] = 0;
	msg[4] = (dad ? 0 : NDP_NA_SOLICITED) | NDP_NA_OVERRIDE;
	msg[5] = 0;
	msg[6] = 0;
	msg[7] = 0;
	msg[NDP_MSG_LEN] = NDP_OPT_TARGET_LLADDR;
	msg[NDP_MSG_LEN + 1] = 1;
	__builtin_memcpy(msg + NDP_MSG_LEN + 2, rw->mac, ETH_ALEN);
	/* RFC 4443 2.3: pseudo-header (addresses, length, next header). */
	sum = bpf_htons(NDP_MSG_LEN + 8) + bpf_htons(IPPROTO_ICMPV6);
	w = (__u16 *)&ip6->saddr;
	for (int i = 0; i < 16; i++)
		sum += w[i];
	w = (__u16 *)msg;
	for (int i = 0; i < (NDP_MSG_LEN + 8) / 2; i++)
		sum += w[i];
	*(__u16 *)(msg + 2) = (__u16)~csum_fold32(sum);
	return 0;
}

#endif /* PSV_BPF_NDP_H */
