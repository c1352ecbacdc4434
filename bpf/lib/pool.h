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

/* Who a new group belongs to: what on_exhausted = link looks at. */
struct psv_owner {
	__u32 app;		/* psv_app.id; 0: not attributed */
	__u32 uid;
};

static __always_inline void link_key(struct psv_group_key *k, __u8 kind,
				     __u32 owner)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->owner = owner;
}

/* vip is the identity o's application and o's user took last. */
static __always_inline void pool_note_owner(const struct psv_owner *o,
					    __be32 vip)
{
	struct psv_group_key k;

	if (o->app) {
		link_key(&k, PSV_GRAN_APP, o->app);
		bpf_map_update_elem(&psv_links, &k, &vip, BPF_ANY);
	}
	link_key(&k, PSV_GRAN_UID, o->uid);
	bpf_map_update_elem(&psv_links, &k, &vip, BPF_ANY);
}

/* Whether vip is an identity in use (not ready, not being retired). */
static __always_inline bool link_alive(__be32 vip)
{
	struct psv_identity *id;

	if (!vip)
		return false;
	id = bpf_map_lookup_elem(&psv_identities, &vip);
	return id && id->state == PSV_ID_ACTIVE;
}

static __always_inline bool link_lookup(__u8 kind, __u32 owner, __be32 *vip)
{
	struct psv_group_key k;
	__be32 *v;

	link_key(&k, kind, owner);
	v = bpf_map_lookup_elem(&psv_links, &k);
	if (!v || !link_alive(*v))
		return false;
	*vip = *v;
	return true;
}

/*
 * The identity a new group joins when none is ready, chosen to link as
 * little as possible: the one its application took last (flows of one
 * application are the likeliest to be linked by timing anyway), else its
 * user's, else psvd's least recently used one.  Never the host's.
 */
static __always_inline bool pool_link_choice(const struct psv_config *cfg,
					     const struct psv_owner *o,
					     __be32 *vip)
{
	if (o->app && link_lookup(PSV_GRAN_APP, o->app, vip))
		return true;
	if (link_lookup(PSV_GRAN_UID, o->uid, vip))
		return true;
	if (!link_alive(cfg->reuse_vip))
		return false;
	*vip = cfg->reuse_vip;
	return true;
}

/*
 * Group gk joins vip, an identity in use: later flows of the group find
 * it in psv_groups like any other.  If another CPU bound the group
 * first, its choice stands.
 */
static __always_inline void pool_link(const struct psv_group_key *gk,
				      __be32 *vip)
{
	struct psv_group g = { .vip = *vip, .created_ns = bpf_ktime_get_ns() };
	struct psv_group *theirs;

	if (bpf_map_update_elem(&psv_groups, gk, &g, BPF_NOEXIST) != -EEXIST)
		return;
	theirs = bpf_map_lookup_elem(&psv_groups, gk);
	if (theirs)
		*vip = theirs->vip;
}

/*
 * id, the identity vip (READY: popped from the queue for group gk, or
 * held by a connected UDP socket of it), is used now that a flow of
 * owner o sends: it becomes active, psvd hears it was taken, and it
 * counts as a new group.  Two CPUs may both see it ready and count it
 * twice (no compare-and-swap on a byte): harmless, psvd's demand grows
 * by one.
 */
static __always_inline void pool_use(struct psv_identity *id, __be32 vip,
				     const struct psv_group_key *gk,
				     const struct psv_owner *o)
{
	id->state = PSV_ID_ACTIVE;
	pool_event(PSV_EV_IDENTITY_TAKEN, vip, gk);
	pool_note_owner(o, vip);
	stat_inc(PSV_STAT_EG_NEW_GROUP);
}

/*
 * Group gk's identity vip, still READY, goes to a connected UDP socket
 * that has sent nothing: it stays READY (not counted, not a link
 * choice) until a frame leaves from it (pool_use), and psvd gives it
 * back to the queue if none does.  A route probe (getaddrinfo's and
 * browsers' address sorting, a reachability check) connects such a
 * socket to learn its source address and never sends.
 */
static __always_inline void pool_hold(__be32 vip, const struct psv_group_key *gk)
{
	pool_event(PSV_EV_IDENTITY_HELD, vip, gk);
	stat_inc(PSV_STAT_SK_HELD);
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
	if (!err)
		return 0;	/* pool_use or pool_hold follows */
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

/* The identity for a new flow of group gk, owned by o, in *vip. */
static __always_inline int pool_take(const struct psv_config *cfg,
				     const struct psv_group_key *gk,
				     const struct psv_owner *o, __be32 *vip)
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
	case PSV_EXHAUSTED_LINK:
		if (!pool_link_choice(cfg, o, vip))
			break;
		pool_link(gk, vip);
		stat_inc(PSV_STAT_EG_POOL_EMPTY);
		stat_inc(PSV_STAT_LINKED_BY_EXHAUSTION);
		return 0;
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
	/* PSV_EXHAUSTED_DROP, and REUSE or LINK with no identity in use:
	 * fail closed. */
	return PSV_REASON(PSV_DROP, EG_POOL_EMPTY);
}

#endif /* PSV_BPF_POOL_H */
