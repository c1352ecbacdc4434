// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conntrack.c - see conntrack.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "psvd/conntrack.h"
#include "psvd/dataplane.h"
#include "common/array.h"
#include "common/log.h"
#include "common/map_walk.h"

#define NSEC_PER_SEC 1000000000ULL

unsigned int ct_timeout(__u8 proto, const struct psv_conn *c)
{
	switch (proto) {
	case IPPROTO_TCP:
		if (c->tcp_state == PSV_TCP_CLOSED)
			return CT_TIMEOUT_TCP_CLOSED;
		if (c->tcp_state == PSV_TCP_FIN_WAIT)
			return CT_TIMEOUT_TCP_FIN;
		/* SYN_SENT too: egress does not see the SYN-ACK, and an
		 * established connection deleted early would leak. */
		return CT_TIMEOUT_TCP_EST;
	case IPPROTO_UDP:
		return CT_TIMEOUT_UDP;
	default:
		return CT_TIMEOUT_ICMP;
	}
}

static bool expired(uint64_t last_ns, uint64_t now_ns, unsigned int timeout_s)
{
	return now_ns > last_ns && now_ns - last_ns > timeout_s * NSEC_PER_SEC;
}

/* A sorted set of fixed-size keys: the groups and apps in use. */
struct key_set {
	unsigned char *keys;
	size_t size, n, cap;
};

static int group_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct psv_group_key));
}

static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static void set_add(struct key_set *set, const void *k)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		void *p = realloc(set->keys, cap * set->size);

		/* Its group or app may go; the next flow recreates it. */
		if (!p)
			return;
		set->keys = p;
		set->cap = cap;
	}
	memcpy(set->keys + set->n++ * set->size, k, set->size);
}

static bool set_has(const struct key_set *set, const void *k,
		    int (*cmp)(const void *, const void *))
{
	return array_find(k, set->keys, set->n, set->size, cmp);
}

struct walk {
	uint64_t now_ns;
	const struct ct_observer *obs;
	struct key_set groups, apps;	/* of the live connections */
};

/* Whether an entry stays (a pass deletes those that do not). */
typedef bool (*keep_fn)(struct walk *w, const void *key, const void *val);

struct pass {
	struct walk *w;
	keep_fn keep;
	unsigned int *alive, *expired;
};

static int pass_entry(void *ctx, const void *key, const void *val)
{
	struct pass *p = ctx;

	if (!p->keep(p->w, key, val)) {
		(*p->expired)++;
		return MAP_WALK_DELETE;
	}
	(*p->alive)++;
	return 0;
}

/* A connection of either map (a psv_conn6 starts with its psv_conn). */
static bool keep_conn_of(struct walk *w, __u8 proto, const struct psv_conn *c)
{
	if (expired(c->last_seen_ns, w->now_ns, ct_timeout(proto, c)))
		return false;
	set_add(&w->groups, &c->group);
	if (c->app)
		set_add(&w->apps, &c->app);
	if (w->obs && w->obs->live)
		w->obs->live(w->obs->ctx, c);
	return true;
}

static bool keep_conn(struct walk *w, const void *key, const void *val)
{
	return keep_conn_of(w, ((const struct psv_conn_key *)key)->proto, val);
}

static bool keep_conn6(struct walk *w, const void *key, const void *val)
{
	return keep_conn_of(w, ((const struct psv_conn6_key *)key)->proto,
			    &((const struct psv_conn6 *)val)->conn);
}

/*
 * A group lives while one of its connections does, or a socket bound to
 * its identity.  One younger than a second may not have either yet
 * (the group is inserted first).
 */
static bool keep_group(struct walk *w, const void *key, const void *val)
{
	const struct psv_group *g = val;

	return set_has(&w->groups, key, group_cmp) ||
	       !expired(g->created_ns, w->now_ns, 1) ||
	       (w->obs && w->obs->in_use && w->obs->in_use(w->obs->ctx, g->vip));
}

static bool keep_host_conn(struct walk *w, const void *key, const void *val)
{
	const struct psv_conn probe = { 0 };

	return !expired(*(const uint64_t *)val, w->now_ns,
			ct_timeout(((const struct psv_conn_key *)key)->proto,
				   &probe));
}

/*
 * An application stays while it has a socket open or a connection, and
 * for CT_TIMEOUT_APP after its last socket; then a new id (and so a new
 * identity) awaits its next socket.
 */
static bool keep_app(struct walk *w, const void *key, const void *val)
{
	const struct psv_app *a = val;

	(void)key;
	return a->open > 0 || set_has(&w->apps, &a->id, u32_cmp) ||
	       !expired(a->last_ns, w->now_ns, CT_TIMEOUT_APP);
}

/* The maps of a pass, in order: the connections collect the groups
 * and applications that live, which the later maps need. */
static const struct phase {
	const char *map;
	size_t fd, key_size, value_size;	/* fd: in struct dataplane */
	keep_fn keep;
	size_t alive;				/* in struct ct_stats */
	bool after_conns;	/* first: sort what the connections left */
} phases[] = {
#define PHASE(map_, fd_, key_, val_, keep_, alive_, after_conns_) \
	{ map_, offsetof(struct dataplane, fd_), sizeof(key_), sizeof(val_), \
	  keep_, offsetof(struct ct_stats, alive_), after_conns_ }
	PHASE(PSV_MAP_CONNS, conns_fd, struct psv_conn_key, struct psv_conn,
	      keep_conn, conns, false),
	PHASE(PSV_MAP_CONNS6, conns6_fd, struct psv_conn6_key,
	      struct psv_conn6, keep_conn6, conns6, false),
	PHASE(PSV_MAP_GROUPS, groups_fd, struct psv_group_key,
	      struct psv_group, keep_group, groups, true),
	PHASE(PSV_MAP_HOST_CONNS, host_conns_fd, struct psv_conn_key, __u64,
	      keep_host_conn, host_conns, false),
	PHASE(PSV_MAP_APPS, apps_fd, struct psv_app_key, struct psv_app,
	      keep_app, apps, false),
#undef PHASE
};

#define N_PHASES (sizeof(phases) / sizeof(phases[0]))

struct ct_expiry {
	struct dataplane *dp;
	struct walk w;
	unsigned int phase;
	bool open;			/* cur walks phases[phase] */
	struct map_cursor cur;
	struct ct_stats st;
};

struct ct_expiry *ct_expiry_start(struct dataplane *dp, uint64_t now_ns,
				  const struct ct_observer *obs)
{
	struct ct_expiry *e = calloc(1, sizeof(*e));

	if (!e) {
		log_err("connection expiry: cannot allocate its state");
		return NULL;
	}
	e->dp = dp;
	e->w = (struct walk){
		.now_ns = now_ns, .obs = obs,
		.groups = { .size = sizeof(struct psv_group_key) },
		.apps = { .size = sizeof(__u32) },
	};
	return e;
}

static void ct_expiry_free(struct ct_expiry *e)
{
	if (e->open)
		map_cursor_close(&e->cur);
	free(e->w.groups.keys);
	free(e->w.apps.keys);
	free(e);
}

void ct_expiry_abort(struct ct_expiry *e)
{
	if (e)
		ct_expiry_free(e);
}

/* Reads one chunk of the phase's map: 1 more to come, 0 done, -errno. */
static int phase_step(struct ct_expiry *e)
{
	const struct phase *ph = &phases[e->phase];
	struct pass p = { .w = &e->w, .keep = ph->keep,
			  .alive = (unsigned int *)((char *)&e->st + ph->alive),
			  .expired = &e->st.expired };
	int err;

	if (!e->open) {
		if (ph->after_conns) {
			array_sort(e->w.groups.keys, e->w.groups.n,
				   e->w.groups.size, group_cmp);
			array_sort(e->w.apps.keys, e->w.apps.n, e->w.apps.size,
				   u32_cmp);
		}
		err = map_cursor_open(&e->cur, *(int *)((char *)e->dp + ph->fd),
				      ph->key_size, ph->value_size,
				      CT_EXPIRY_CHUNK);
		if (err)
			return err;
		e->open = true;
	}
	return map_cursor_step(&e->cur, pass_entry, &p);
}

bool ct_expiry_step(struct ct_expiry *e, struct ct_stats *st)
{
	int rc = phase_step(e);

	if (rc > 0)
		return true;
	if (rc < 0) {
		/* The later maps would be judged on what was not read. */
		log_err("connection expiry: cannot read %s: %s; the pass "
			"stops, the next one tries again",
			phases[e->phase].map, strerror(-rc));
		e->phase = N_PHASES;
	} else {
		map_cursor_close(&e->cur);
		e->open = false;
		e->phase++;
	}
	if (e->phase < N_PHASES)
		return true;
	*st = e->st;
	ct_expiry_free(e);
	return false;
}
