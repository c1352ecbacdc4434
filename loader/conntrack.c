// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conntrack.c - see conntrack.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "conntrack.h"
#include "dataplane.h"

#define NSEC_PER_SEC 1000000000ULL

unsigned int ct_timeout(const struct psv_conn_key *key, const struct psv_conn *c)
{
	switch (key->proto) {
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

/* Walks a hash map deleting as it goes; get_next_key from a deleted key
 * restarts at the beginning, so remember the last key that stays. */
#define MAP_WALK(fd, key, next, prev) \
	for (prev = NULL; !bpf_map_get_next_key(fd, prev, &next); )

struct group_set {
	struct psv_group_key *keys;
	size_t n, cap;
};

static int group_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct psv_group_key));
}

static void group_set_add(struct group_set *set, const struct psv_group_key *k)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		void *p = realloc(set->keys, cap * sizeof(*set->keys));

		if (!p)
			return;	/* its group may go; the next flow recreates it */
		set->keys = p;
		set->cap = cap;
	}
	set->keys[set->n++] = *k;
}

static unsigned int expire_conns(struct dataplane *dp, uint64_t now_ns,
				 void (*live)(void *, const struct psv_conn *),
				 void *ctx, unsigned int *alive,
				 struct group_set *used)
{
	struct psv_conn_key key, next, *prev;
	struct psv_conn c;
	unsigned int n = 0;

	MAP_WALK(dp->conns_fd, key, next, prev) {
		if (bpf_map_lookup_elem(dp->conns_fd, &next, &c))
			break;
		if (expired(c.last_seen_ns, now_ns, ct_timeout(&next, &c))) {
			bpf_map_delete_elem(dp->conns_fd, &next);
			n++;
			continue;
		}
		key = next;
		prev = &key;
		(*alive)++;
		group_set_add(used, &c.group);
		if (live)
			live(ctx, &c);
	}
	return n;
}

/* A group lives while one of its connections does. */
static unsigned int expire_groups(struct dataplane *dp, uint64_t now_ns,
				  unsigned int *alive, struct group_set *used)
{
	struct psv_group_key key, next, *prev;
	struct psv_group g;
	unsigned int n = 0;

	qsort(used->keys, used->n, sizeof(*used->keys), group_cmp);
	MAP_WALK(dp->groups_fd, key, next, prev) {
		if (bpf_map_lookup_elem(dp->groups_fd, &next, &g))
			break;
		/* A group younger than a second may not have its
		 * connection yet (egress inserts the group first). */
		if (!bsearch(&next, used->keys, used->n, sizeof(*used->keys),
			     group_cmp) && expired(g.created_ns, now_ns, 1)) {
			bpf_map_delete_elem(dp->groups_fd, &next);
			n++;
			continue;
		}
		key = next;
		prev = &key;
		(*alive)++;
	}
	return n;
}

static unsigned int expire_host_conns(struct dataplane *dp, uint64_t now_ns,
				      unsigned int *alive)
{
	struct psv_conn_key key, next, *prev;
	struct psv_conn probe = { 0 };
	uint64_t last;
	unsigned int n = 0;

	MAP_WALK(dp->host_conns_fd, key, next, prev) {
		if (bpf_map_lookup_elem(dp->host_conns_fd, &next, &last))
			break;
		if (expired(last, now_ns, ct_timeout(&next, &probe))) {
			bpf_map_delete_elem(dp->host_conns_fd, &next);
			n++;
			continue;
		}
		key = next;
		prev = &key;
		(*alive)++;
	}
	return n;
}

void ct_expire(struct dataplane *dp, uint64_t now_ns,
	       void (*live)(void *ctx, const struct psv_conn *c), void *ctx,
	       struct ct_stats *st)
{
	struct group_set used = { 0 };

	memset(st, 0, sizeof(*st));
	st->expired = expire_conns(dp, now_ns, live, ctx, &st->conns, &used);
	st->expired += expire_groups(dp, now_ns, &st->groups, &used);
	free(used.keys);
	st->expired += expire_host_conns(dp, now_ns, &st->host_conns);
}
