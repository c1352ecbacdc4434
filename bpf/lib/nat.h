/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h - the rewrite a decision asks for, and the two ways to apply
 * it.  A rewrite swaps one MAC address and, for the NAT fallback, one
 * IPv4 address (the host's real one for a virtual one on egress, back
 * on ingress) with every checksum the swap touches.  A socket bound to
 * its identity's address needs the MAC alone: no L3/L4 change at all.  For ICMP errors it also swaps
 * the same address inside the quoted packet.  Nothing is ever recomputed
 * from scratch: every checksum is updated incrementally.
 */
#ifndef PSV_BPF_NAT_H
#define PSV_BPF_NAT_H

struct psv_rewrite {
	__be32 old_addr;
	__be32 new_addr;
	__u8 mac[ETH_ALEN];
	__u8 mac_off;		/* 0: Ethernet destination, ETH_ALEN: source */
	__u8 l4_flags;		/* BPF_F_PSEUDO_HDR, BPF_F_MARK_MANGLED_0 */
	__u8 arp;		/* an ARP packet: no checksum covers it */
	__u8 ipv6;		/* IPv6: the fields at the end apply */
	/* Frame offsets, __u32 so clang never masks them (see pkt_ptr). */
	__u32 mac2_off;		/* the same MAC again (ARP sender); 0: none */
	__u32 addr_off;		/* the IPv4 address field; 0: MAC only */
	__u32 l4_csum_off;	/* TCP/UDP checksum; 0: none */
	/* ICMP error: the same swap inside the quoted packet. */
	__u32 icmp_csum_off;	/* 0: no quote to rewrite */
	__u32 in_addr_off;
	__u32 in_ip_csum_off;
	__u32 in_l4_csum_off;	/* 0: not in the quote, or UDP without */
	__u16 in_ip_csum_old;
	__u16 in_ip_csum_new;
	__u16 in_l4_csum_old;
	__u16 in_l4_csum_new;
	/*
	 * IPv6: the address at addr_off is new_addr6 (16 bytes), and the
	 * L4 checksum at l4_csum_off moves by two sum changes (csum.h): of
	 * the pseudo-header (the address; IPv6 has no header checksum) and
	 * of bytes inside the L4 data (a neighbour discovery option's MAC
	 * at mac2_off).  Either may be 0.
	 */
	struct psv_addr6 new_addr6;
	__u32 pseudo_diff;
	__u32 data_diff;
};

/* Only the MAC at mac_off changes. */
static __always_inline void nat_prepare_mac(struct psv_rewrite *rw,
					    __u32 mac_off, const __u8 *mac)
{
	__builtin_memset(rw, 0, sizeof(*rw));
	__builtin_memcpy(rw->mac, mac, ETH_ALEN);
	rw->mac_off = mac_off;
}

/*
 * Swap the address at addr_off from old to new and the MAC at mac_off.
 * A later fragment has no L4 header; ICMP has no pseudo-header, so an
 * address change does not touch its checksum.
 */
static __always_inline void nat_prepare(struct psv_rewrite *rw,
					const struct psv_pkt *p,
					__u32 mac_off, const __u8 *mac,
					__u32 addr_off, __be32 old_addr,
					__be32 new_addr)
{
	nat_prepare_mac(rw, mac_off, mac);
	rw->old_addr = old_addr;
	rw->new_addr = new_addr;
	rw->addr_off = addr_off;
	if (p->frag == PSV_FRAG_LATER)
		return;
	rw->l4_csum_off = p->l4_csum_off;
	if (p->proto == IPPROTO_TCP)
		rw->l4_flags = BPF_F_PSEUDO_HDR;
	else if (p->proto == IPPROTO_UDP)
		rw->l4_flags = BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0;
}

/*
 * IPv6: swap the address at addr_off from *old to *new and the MAC at
 * mac_off.  ICMPv6's checksum covers the pseudo-header as TCP's does.
 */
static __always_inline void nat_prepare6(struct psv_rewrite *rw,
					 const struct psv_pkt *p,
					 __u32 mac_off, const __u8 *mac,
					 __u32 addr_off,
					 const struct psv_addr6 *old,
					 const struct psv_addr6 *new)
{
	nat_prepare_mac(rw, mac_off, mac);
	rw->ipv6 = 1;
	rw->addr_off = addr_off;
	rw->new_addr6 = *new;
	rw->pseudo_diff = csum_diff_words(old->a, new->a, 4);
	if (p->frag == PSV_FRAG_LATER)
		return;
	rw->l4_csum_off = p->l4_csum_off;
	if (p->proto == IPPROTO_UDP)
		rw->l4_flags = BPF_F_MARK_MANGLED_0;
}

/*
 * IPv6: the quoted packet q of an ICMPv6 error (prepared by
 * nat_prepare6 for the outer address) carries the same address at
 * in_addr_off, and its L4 checksum covers it.  Both are data of the
 * ICMPv6 message: the quoted checksum is computed here, and their sum
 * change goes into data_diff for the ICMPv6 checksum.
 */
static __always_inline void nat_prepare_quote6(struct psv_rewrite *rw,
					       const struct psv_pkt *p,
					       const struct psv_pkt *q,
					       __u32 in_addr_off,
					       const struct psv_addr6 *old,
					       const struct psv_addr6 *new)
{
	__u32 diff = csum_diff_words(old->a, new->a, 4);
	__u16 sum;

	rw->icmp_csum_off = p->l4_csum_off;
	rw->in_addr_off = in_addr_off;
	rw->data_diff = diff;
	if (!q->l4_csum_off)
		return;
	sum = csum_add_diff(q->l4_csum, diff);
	if (!sum && q->proto == IPPROTO_UDP)
		sum = PSV_CSUM_MANGLED_0;
	rw->in_l4_csum_off = q->l4_csum_off;
	rw->in_l4_csum_new = sum;
	rw->data_diff = csum_fold32(diff + (__u16)~q->l4_csum + sum);
}

/*
 * The quoted packet q of an ICMP error carries the same address, at
 * in_addr_off.  Its IP and L4 checksums are data inside the ICMP
 * message: their new values are computed here, and the ICMP checksum
 * follows all three changes.
 */
static __always_inline void nat_prepare_quote(struct psv_rewrite *rw,
					      const struct psv_pkt *p,
					      const struct psv_pkt *q,
					      __u32 in_addr_off)
{
	rw->icmp_csum_off = p->l4_off + offsetof(struct icmphdr, checksum);
	rw->in_addr_off = in_addr_off;
	rw->in_ip_csum_off = q->l3_off + offsetof(struct iphdr, check);
	rw->in_ip_csum_old = q->ip_csum;
	rw->in_ip_csum_new = csum_replace4(q->ip_csum, rw->old_addr,
					   rw->new_addr);
	if (!q->l4_csum_off)
		return;
	rw->in_l4_csum_off = q->l4_csum_off;
	rw->in_l4_csum_old = q->l4_csum;
	/* parse_quote() leaves a zero UDP checksum out, so this is safe. */
	rw->in_l4_csum_new = q->proto == IPPROTO_UDP ?
		csum_replace4_udp(q->l4_csum, rw->old_addr, rw->new_addr) :
		csum_replace4(q->l4_csum, rw->old_addr, rw->new_addr);
}

/* Writes the IPv6 address a at off: 0, or -1 past the frame's end. */
static __always_inline int nat_write_addr6(void *data, void *data_end,
					   __u32 off,
					   const struct psv_addr6 *a)
{
	__be32 *addr = pkt_ptr(data, data_end, off, 16);

	if (!addr)
		return -1;
	addr[0] = a->a[0];
	addr[1] = a->a[1];
	addr[2] = a->a[2];
	addr[3] = a->a[3];
	return 0;
}

/*
 * The data the rewrite changes, by direct writes: the MAC, the address
 * and, in a quote, the address and its checksums (plain data there).
 * Every checksum field of the frame is left to the caller.
 */
static __always_inline int nat_write(void *data, void *data_end,
				     const struct psv_rewrite *rw)
{
	__u8 *mac = pkt_ptr(data, data_end, rw->mac_off, ETH_ALEN);
	__u16 *in_ip_csum, *in_l4_csum;
	__be32 *addr;

	if (!mac)
		return -1;
	__builtin_memcpy(mac, rw->mac, ETH_ALEN);
	if (rw->mac2_off) {
		mac = pkt_ptr(data, data_end, rw->mac2_off, ETH_ALEN);
		if (!mac)
			return -1;
		__builtin_memcpy(mac, rw->mac, ETH_ALEN);
	}
	if (!rw->addr_off)
		return 0;
	if (rw->ipv6) {
		if (nat_write_addr6(data, data_end, rw->addr_off,
				    &rw->new_addr6))
			return -1;
		if (!rw->icmp_csum_off)
			return 0;
		if (nat_write_addr6(data, data_end, rw->in_addr_off,
				    &rw->new_addr6))
			return -1;
		if (!rw->in_l4_csum_off)
			return 0;
		in_l4_csum = pkt_ptr(data, data_end, rw->in_l4_csum_off, 2);
		if (!in_l4_csum)
			return -1;
		*in_l4_csum = rw->in_l4_csum_new;
		return 0;
	}
	addr = pkt_ptr(data, data_end, rw->addr_off, 4);
	if (!addr)
		return -1;
	*addr = rw->new_addr;
	if (!rw->icmp_csum_off)
		return 0;
	addr = pkt_ptr(data, data_end, rw->in_addr_off, 4);
	in_ip_csum = pkt_ptr(data, data_end, rw->in_ip_csum_off, 2);
	if (!addr || !in_ip_csum)
		return -1;
	*addr = rw->new_addr;
	*in_ip_csum = rw->in_ip_csum_new;
	if (!rw->in_l4_csum_off)
		return 0;
	in_l4_csum = pkt_ptr(data, data_end, rw->in_l4_csum_off, 2);
	if (!in_l4_csum)
		return -1;
	*in_l4_csum = rw->in_l4_csum_new;
	return 0;
}

/*
 * IPv6 at TC: the L4 checksum by the two sum changes.  BPF_F_IPV6: an
 * IPv6 address change is balanced by the L4 checksum inside skb->csum
 * (CHECKSUM_COMPLETE), no header checksum to account for.  The data
 * change moves nothing for CHECKSUM_PARTIAL (the device sums the data).
 */
static __always_inline int nat_csum_tc6(struct __sk_buff *skb,
					const struct psv_rewrite *rw)
{
	if (!rw->l4_csum_off)
		return 0;
	if (rw->pseudo_diff &&
	    bpf_l4_csum_replace(skb, rw->l4_csum_off, 0, rw->pseudo_diff,
				rw->l4_flags | BPF_F_PSEUDO_HDR | BPF_F_IPV6))
		return -1;
	if (rw->data_diff &&
	    bpf_l4_csum_replace(skb, rw->l4_csum_off, 0, rw->data_diff, 0))
		return -1;
	return 0;
}

/*
 * TC: data by direct writes (the verifier's prologue unclones the skb
 * head of a program that writes directly), checksum fields by the skb
 * helpers, which keep skb->csum (CHECKSUM_COMPLETE) and offloaded
 * checksums (CHECKSUM_PARTIAL, the usual case on egress) right: never
 * compute them here.  The data writes leave skb->csum alone, as
 * bpf_skb_store_bytes without BPF_F_RECOMPUTE_CSUM did, because each
 * change is balanced by its checksum field in the same covered range;
 * only the pseudo-header part is not, and BPF_F_PSEUDO_HDR handles that.
 * The helpers invalidate packet pointers: all direct writes come first.
 */
static __always_inline int nat_apply_tc(struct __sk_buff *skb,
					const struct psv_rewrite *rw)
{
	__u32 icmp = rw->icmp_csum_off;

	/*
	 * At TC ingress eth_type_trans() has already judged the virtual
	 * destination MAC: PACKET_OTHERHOST, which ip_rcv() drops.  The
	 * frame now goes to the host's own MAC, so say so.
	 */
	if (rw->mac_off == 0 && bpf_skb_change_type(skb, PACKET_HOST))
		return -1;
	if (nat_write((void *)(long)skb->data, (void *)(long)skb->data_end,
		      rw))
		return -1;
	if (rw->ipv6)
		return nat_csum_tc6(skb, rw);
	if (!rw->addr_off || rw->arp)
		return 0;
	if (bpf_l3_csum_replace(skb, IPV4_CSUM_OFF, rw->old_addr,
				rw->new_addr, 4))
		return -1;
	if (rw->l4_csum_off &&
	    bpf_l4_csum_replace(skb, rw->l4_csum_off, rw->old_addr,
				rw->new_addr, rw->l4_flags | 4))
		return -1;
	if (!icmp)
		return 0;
	if (bpf_l4_csum_replace(skb, icmp, rw->old_addr, rw->new_addr, 4) ||
	    bpf_l4_csum_replace(skb, icmp, rw->in_ip_csum_old,
				rw->in_ip_csum_new, 2))
		return -1;
	if (rw->in_l4_csum_off &&
	    bpf_l4_csum_replace(skb, icmp, rw->in_l4_csum_old,
				rw->in_l4_csum_new, 2))
		return -1;
	return 0;
}

/*
 * A TC program's verdict for reason r: drop, or apply rw (a failure
 * drops, counted as csum_stat), or pass.  *stat: the counter the frame
 * ends in.  PSV_REPLY is the caller's (only ingress answers ARP).
 */
static __always_inline int nat_verdict_tc(struct __sk_buff *skb, int r,
					  const struct psv_rewrite *rw,
					  __u32 csum_stat, __u32 *stat)
{
	*stat = reason_stat(r);
	switch (reason_what(r)) {
	case PSV_DROP:
		return TC_ACT_SHOT;
	case PSV_REWRITE:
		if (nat_apply_tc(skb, rw)) {
			*stat = csum_stat;
			return TC_ACT_SHOT;
		}
		break;
	}
	return TC_ACT_OK;
}

/* XDP: direct writes, checksums by csum.h. */
static __always_inline int nat_apply_xdp(struct xdp_md *ctx,
					 const struct psv_rewrite *rw)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *ip_csum, *csum;
	__u16 sum;

	if (nat_write(data, data_end, rw))
		return -1;
	if (rw->ipv6) {
		if (!rw->l4_csum_off)
			return 0;
		csum = pkt_ptr(data, data_end, rw->l4_csum_off, 2);
		if (!csum)
			return -1;
		sum = csum_add_diff(*csum, csum_fold32(rw->pseudo_diff +
						       rw->data_diff));
		if (!sum && (rw->l4_flags & BPF_F_MARK_MANGLED_0))
			sum = PSV_CSUM_MANGLED_0;
		*csum = sum;
		return 0;
	}
	if (!rw->addr_off || rw->arp)
		return 0;
	ip_csum = pkt_ptr(data, data_end, IPV4_CSUM_OFF, 2);
	if (!ip_csum)
		return -1;
	*ip_csum = csum_replace4(*ip_csum, rw->old_addr, rw->new_addr);
	if (rw->l4_csum_off) {
		csum = pkt_ptr(data, data_end, rw->l4_csum_off, 2);
		if (!csum)
			return -1;
		*csum = rw->l4_flags & BPF_F_MARK_MANGLED_0 ?
			csum_replace4_udp(*csum, rw->old_addr, rw->new_addr) :
			csum_replace4(*csum, rw->old_addr, rw->new_addr);
	}
	if (!rw->icmp_csum_off)
		return 0;
	csum = pkt_ptr(data, data_end, rw->icmp_csum_off, 2);
	if (!csum)
		return -1;
	sum = csum_replace4(*csum, rw->old_addr, rw->new_addr);
	sum = csum_replace2(sum, rw->in_ip_csum_old, rw->in_ip_csum_new);
	if (rw->in_l4_csum_off)
		sum = csum_replace2(sum, rw->in_l4_csum_old,
				    rw->in_l4_csum_new);
	*csum = sum;
	return 0;
}

#endif /* PSV_BPF_NAT_H */
