/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats.h - counters and reasons.  Every helper returns 0 ("go on") or a
 * negative reason; a reason names the counter its path ends in and what
 * happens to the frame, so each frame ends in exactly one counter bump at
 * the entry point.  Events on the way (a new group, a new connection)
 * bump their own counters where they happen.
 */
#ifndef PSV_BPF_STATS_H
#define PSV_BPF_STATS_H

#define PSV_STAT_MASK 0xff
#define PSV_PASS 0x100		/* hand the frame on unchanged */
#define PSV_DROP 0x200		/* drop it */
#define PSV_REWRITE 0x400	/* apply the prepared rewrite, then pass */
#define PSV_REPLY 0x800		/* ARP reply prepared: send it back out */

_Static_assert(PSV_STAT_MAX <= PSV_STAT_MASK, "stat index fits a reason");

#define PSV_REASON(what, stat) (-(int)((what) | PSV_STAT_##stat))

static __always_inline __u32 reason_stat(int reason)
{
	return (__u32)-reason & PSV_STAT_MASK;
}

static __always_inline __u32 reason_what(int reason)
{
	return (__u32)-reason & ~PSV_STAT_MASK;
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *cnt = bpf_map_lookup_elem(&psv_stats, &idx);

	/* Per-CPU slot: no other writer, no atomic needed. */
	if (cnt)
		(*cnt)++;
}

#endif /* PSV_BPF_STATS_H */
