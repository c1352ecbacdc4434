// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ingress.bpf.c - the reverse path, at XDP or at TC ingress (psvd picks
 * per device: native XDP on a veth costs its peer GSO, and XDP_TX does
 * not reach the wire of a plain veth).  Both programs run the same
 * decision (lib/ingress.h) and differ only in how they apply it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "psv.h"
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/nat.h"
#include "lib/flow.h"
#include "lib/arp.h"
#include "lib/ipv6.h"
#include "lib/ndp.h"
#include "lib/ingress.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define VLAN_VID_MASK 0x0fff
#define VLAN_HLEN 4

/*
 * A priority tag (802.1p, VLAN id 0) is no other network: the kernel
 * takes the frame as untagged.  Passed on unjudged, a tagged SYN or
 * ping to the host's MAC and an identity's address would be answered
 * from the identity, which links the two; so the tag goes and the frame
 * is judged like any other.  Other VLAN ids belong to VLAN devices,
 * out of scope (the kernel drops them without one).
 */
static __always_inline int xdp_strip_priority_tag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = pkt_ptr(data, data_end, 0, ETH_HLEN + VLAN_HLEN);
	__be16 *tci;

	if (!eth || (eth->h_proto != bpf_htons(ETH_P_8021Q) &&
		     eth->h_proto != bpf_htons(ETH_P_8021AD)))
		return 0;
	tci = (void *)(eth + 1);
	if (*tci & bpf_htons(VLAN_VID_MASK))
		return 0;
	/* The addresses move up over the tag; the inner type stays. */
	__builtin_memmove(data + VLAN_HLEN, data, 2 * ETH_ALEN);
	return bpf_xdp_adjust_head(ctx, VLAN_HLEN);
}

/*
 * The neighbour advertisement is longer than a solicitation without
 * options and shorter than one with more: the frame is resized to it
 * first (which moves the packet pointers).
 */
static __always_inline int ndp_reply_xdp(struct xdp_md *ctx,
					 const struct psv_rewrite *rw)
{
	int delta = NDP_NA_LEN - (int)bpf_xdp_get_buff_len(ctx);

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	return ndp_reply((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			 rw);
}

static __always_inline int ndp_reply_tc(struct __sk_buff *skb,
					const struct psv_rewrite *rw)
{
	if (skb->len != NDP_NA_LEN && bpf_skb_change_tail(skb, NDP_NA_LEN, 0))
		return -1;
	if (bpf_skb_pull_data(skb, NDP_NA_LEN))
		return -1;
	return ndp_reply((void *)(long)skb->data, (void *)(long)skb->data_end,
			 rw);
}

/* Multi-buffer aware: only the headers in the linear part are touched. */
SEC("xdp.frags")
int psv_ingress_xdp(struct xdp_md *ctx)
{
	const struct psv_config *cfg = config_get();
	struct psv_rewrite rw;
	int action = XDP_PASS;
	__u32 stat;
	int r;

	if (!cfg) {
		stat_inc(PSV_STAT_IN_PASS);
		return XDP_PASS;
	}
	if (xdp_strip_priority_tag(ctx)) {
		stat_inc(PSV_STAT_IN_DROP_PARSE);
		return XDP_DROP;
	}
	r = ingress_decide(ctx, cfg, (void *)(long)ctx->data,
			   (void *)(long)ctx->data_end,
			   bpf_xdp_get_buff_len(ctx), &rw);
	stat = reason_stat(r);
	switch (reason_what(r)) {
	case PSV_DROP:
		action = XDP_DROP;
		break;
	case PSV_REWRITE:
		if (nat_apply_xdp(ctx, &rw)) {
			stat = PSV_STAT_IN_DROP_CSUM;
			action = XDP_DROP;
		}
		break;
	case PSV_REPLY:
		/* ARP or neighbour discovery: the decision's counter says. */
		if (stat == PSV_STAT_IN_NDP_REPLIED ?
		    ndp_reply_xdp(ctx, &rw) :
		    arp_reply((void *)(long)ctx->data,
			      (void *)(long)ctx->data_end, &rw))
			stat = PSV_STAT_IN_DROP_PARSE;
		else
			action = XDP_TX;
		break;
	}
	stat_inc(stat);
	return action;
}

SEC("tc")
int psv_ingress_tc(struct __sk_buff *skb)
{
	const struct psv_config *cfg = config_get();
	struct psv_rewrite rw;
	int action;
	__u32 stat;
	int r;

	if (!cfg) {
		stat_inc(PSV_STAT_IN_PASS);
		return TC_ACT_OK;
	}
	if (skb->vlan_present) {
		/* Another VLAN's frame: another L2 network, out of scope. */
		if (skb->vlan_tci & VLAN_VID_MASK) {
			stat_inc(PSV_STAT_IN_PASS);
			return TC_ACT_OK;
		}
		/* An offloaded priority tag: see xdp_strip_priority_tag. */
		if (bpf_skb_vlan_pop(skb)) {
			stat_inc(PSV_STAT_IN_DROP_PARSE);
			return TC_ACT_SHOT;
		}
	}
	barrier_var(skb);
	tc_pull_headers(skb);
	barrier_var(skb);
	r = ingress_decide(skb, cfg, (void *)(long)skb->data,
			   (void *)(long)skb->data_end, skb->len, &rw);
	action = nat_verdict_tc(skb, r, &rw, PSV_STAT_IN_DROP_CSUM, &stat);
	if (reason_what(r) == PSV_REPLY) {
		if (stat == PSV_STAT_IN_NDP_REPLIED ?
		    ndp_reply_tc(skb, &rw) :
		    arp_reply((void *)(long)skb->data,
			      (void *)(long)skb->data_end, &rw))
			stat = PSV_STAT_IN_DROP_PARSE;
		else	/* out of the device it came in on */
			action = bpf_redirect(cfg->ifindex ?: skb->ifindex, 0);
	}
	stat_inc(stat);
	return action;
}
