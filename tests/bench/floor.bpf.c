// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.bpf.c - the bare programs prog_bench measures psv's against: one
 * per hook, of the same program type and section as psv's (TC for
 * egress and TC ingress, xdp.frags for XDP), doing nothing but return
 * the verdict that lets a packet on.  What they cost through
 * BPF_PROG_TEST_RUN is the hook's floor on this machine, in this run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int floor_tc_egress(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int floor_tc_ingress(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("xdp.frags")
int floor_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
