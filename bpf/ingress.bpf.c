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

	/* An offloaded VLAN tag: another L2 network, out of scope. */
	if (!cfg || skb->vlan_present) {
		stat_inc(PSV_STAT_IN_PASS);
		return TC_ACT_OK;
	}
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
