/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pool.h - which identity a new flow gets: its group's, or a fresh one
 * from the ready queue, or what cfg->on_exhausted says when the queue is
 * empty.  Tells psvd through the ring buffer; never waits for it.
 */
#ifndef PSV_BPF_POOL_H
#define PSV_BPF_POOL_H

#ifndef EEXIST
#define EEXIST 17	/* errno; vmlinux.h has no UAPI defines */
#endif

/* Best effort: if the ring is full psvd still sees the maps. */
static __always_inline void pool_event(__u32 type, __be32 vip,
				       const struct psv_group_key *gk)
{
	struct psv_event *ev;

	ev = bpf_ringbuf_reserve(&psv_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = type;
	ev->vip = vip;
	ev->group = *gk;
	ev->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Bind the identity vip, just popped from the ready queue, to group gk.
 * If another CPU bound the group first, use its identity and give ours
 * back to the queue.
 */
static __always_inline int pool_bind(const struct psv_group_key *gk,
				     __be32 *vip)
{
	struct psv_group g = { .vip = *vip, .created_ns = bpf_ktime_get_ns() };
	struct psv_group *theirs = NULL;
	int err;

	err = bpf_map_update_elem(&psv_groups, gk, &g, BPF_NOEXIST);
	if (!err) {
		pool_event(PSV_EV_IDENTITY_TAKEN, *vip, gk);
		stat_inc(PSV_STAT_EG_NEW_GROUP);
		return 0;
	}
	if (err == -EEXIST)
		theirs = bpf_map_lookup_elem(&psv_groups, gk);
	/*
	 * The queue cannot be full right after our pop unless psvd refilled
	 * it meanwhile; then report the identity as taken: psvd sees it
	 * without flows and retires it, so it is never lost nor reused.
	 */
	if (bpf_map_push_elem(&psv_ready, vip, 0))
		pool_event(PSV_EV_IDENTITY_TAKEN, *vip, gk);
	if (!theirs)
		return PSV_REASON(PSV_DROP, EG_DROP_TABLE_FULL);
	*vip = theirs->vip;
	return 0;
}

/* The identity for a new flow of group gk, in *vip. */
static __always_inline int pool_take(const struct psv_config *cfg,
				     const struct psv_group_key *gk,
				     __be32 *vip)
{
	struct psv_group *g = bpf_map_lookup_elem(&psv_groups, gk);

	if (g) {
		*vip = g->vip;
		return 0;
	}
	if (!bpf_map_pop_elem(&psv_ready, vip))
		return pool_bind(gk, vip);
	pool_event(PSV_EV_POOL_EMPTY, 0, gk);
	switch (cfg->on_exhausted) {
	case PSV_EXHAUSTED_REUSE:
		if (!cfg->reuse_vip)
			break;
		stat_inc(PSV_STAT_EG_POOL_EMPTY);
		stat_inc(PSV_STAT_EG_EXHAUSTED_REUSE);
		*vip = cfg->reuse_vip;
		return 0;
	case PSV_EXHAUSTED_HOST:
		stat_inc(PSV_STAT_EG_POOL_EMPTY);
		return PSV_REASON(PSV_PASS, EG_EXHAUSTED_HOST);
	}
	/* PSV_EXHAUSTED_DROP, and REUSE with nothing to reuse: fail closed. */
	return PSV_REASON(PSV_DROP, EG_POOL_EMPTY);
}

#endif /* PSV_BPF_POOL_H */
