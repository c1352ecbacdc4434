// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* identity_pool.c - see identity_pool.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include "dataplane.h"
#include "identity_pool.h"
#include "local_routes.h"
#include "log.h"
#include "sockets.h"

static const char *const state_names[] = {
	[PSV_ID_ACQUIRING] = "acquiring", [PSV_ID_READY] = "ready",
	[PSV_ID_ACTIVE] = "active", [PSV_ID_IDLE] = "idle",
	[PSV_ID_RETIRED] = "retired",
};

const char *pool_state_name(enum psv_id_state state)
{
	if (state >= sizeof(state_names) / sizeof(state_names[0]) ||
	    !state_names[state])
		return "unknown";
	return state_names[state];
}

int pool_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		log_err("getrandom for a MAC address: %s", strerror(errno));
		return -EIO;
	}
	mac[0] = (mac[0] & ~0x01) | 0x02;
	return 0;
}

static uint64_t random_below(uint64_t n)
{
	uint64_t r = 0;

	if (!n || getrandom(&r, sizeof(r), 0) != sizeof(r))
		return 0;
	return r % n;
}

int pool_init(struct identity_pool *pool, const struct pool_params *params,
	      const struct pool_source_ops *ops, void *source,
	      struct dataplane *dp)
{
	memset(pool, 0, sizeof(*pool));
	pool->params = *params;
	pool->ops = ops;
	pool->source = source;
	pool->dp = dp;
	pool->next_id = 1;
	pool->cap = params->max ? params->max : 1;
	pool->ids = calloc(pool->cap, sizeof(*pool->ids));
	pool->by_ip = calloc(pool->cap, sizeof(*pool->by_ip));
	if (!pool->ids || !pool->by_ip) {
		log_err("cannot allocate the identity table (%u entries)", pool->cap);
		return -ENOMEM;
	}
	return 0;
}

void pool_free(struct identity_pool *pool)
{
	for (unsigned int i = 0; i < pool->count; i++)
		free(pool->ids[i]);
	free(pool->ids);
	free(pool->by_ip);
	pool->ids = NULL;
	pool->by_ip = NULL;
	pool->count = 0;
}

struct identity *pool_find_ip(struct identity_pool *pool, uint32_t ip)
{
	for (unsigned int i = 0; i < pool->count; i++)
		if (pool->ids[i]->ip == ip)
			return pool->ids[i];
	return NULL;
}

struct identity *pool_find_mac(struct identity_pool *pool, const uint8_t mac[6])
{
	for (unsigned int i = 0; i < pool->count; i++)
		if (!memcmp(pool->ids[i]->mac, mac, 6))
			return pool->ids[i];
	return NULL;
}

unsigned int pool_count_state(const struct identity_pool *pool,
			      enum psv_id_state state)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < pool->count; i++)
		n += pool->ids[i]->state == state;
	return n;
}

static char *fmt_ip(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	return (char *)inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

static int map_put_identity(struct identity_pool *pool, const struct identity *id)
{
	struct psv_identity v = { .state = id->state, .id = id->id };

	memcpy(v.mac, id->mac, 6);
	if (bpf_map_update_elem(pool->dp->identities_fd, &id->ip, &v, BPF_ANY)) {
		int err = -errno;
		char ip[INET_ADDRSTRLEN];

		log_err("cannot write identity %u (%s) to %s: %s", id->id,
			fmt_ip(id->ip, ip), PSV_MAP_IDENTITIES, strerror(-err));
		return err;
	}
	return 0;
}

static struct identity *pool_new(struct identity_pool *pool)
{
	struct identity *id;

	if (pool->count >= pool->cap)
		return NULL;
	id = calloc(1, sizeof(*id));
	if (!id) {
		log_err("cannot allocate an identity");
		return NULL;
	}
	if (pool_random_mac(id->mac)) {
		free(id);
		return NULL;
	}
	id->id = pool->next_id++;
	id->state = PSV_ID_ACQUIRING;
	pool->ids[pool->count++] = id;
	return id;
}

static void pool_remove(struct identity_pool *pool, struct identity *id)
{
	for (unsigned int i = 0; i < pool->count; i++) {
		if (pool->ids[i] != id)
			continue;
		pool->ids[i] = pool->ids[--pool->count];
		free(id);
		return;
	}
}

/* Identities that count toward the ready target. */
static unsigned int pool_pending(const struct identity_pool *pool)
{
	return pool_count_state(pool, PSV_ID_ACQUIRING) +
	       pool_count_state(pool, PSV_ID_READY);
}

uint64_t pool_refill(struct identity_pool *pool, uint64_t now_ms)
{
	struct identity *id;

	if (pool_pending(pool) >= pool->params.ready)
		return UINT64_MAX;
	if (pool->count >= pool->params.max) {
		log_debug("pool at max (%u identities): not acquiring",
			  pool->params.max);
		return UINT64_MAX;
	}
	if (now_ms < pool->next_acquire_ms)
		return pool->next_acquire_ms;

	id = pool_new(pool);
	if (!id)
		return now_ms + 1000;
	log_debug("identity %u: acquiring an address", id->id);
	if (pool->ops->acquire(pool, id)) {
		pool_remove(pool, id);
		pool->next_acquire_ms = now_ms + 1000;
		return pool->next_acquire_ms;
	}
	pool->next_acquire_ms = now_ms + 1 + random_below(pool->params.pace_ms);
	return pool_pending(pool) < pool->params.ready ? pool->next_acquire_ms :
							  UINT64_MAX;
}

int pool_identity_bound(struct identity_pool *pool, struct identity *id,
			uint32_t ip)
{
	char ipbuf[INET_ADDRSTRLEN];
	int err;

	id->ip = ip;
	id->state = PSV_ID_READY;
	/* Local before any socket is bound to it: its route first. */
	err = local_route_add(ip) ?: map_put_identity(pool, id);
	if (err)
		return err;
	if (bpf_map_update_elem(pool->dp->ready_fd, NULL, &id->ip, BPF_ANY)) {
		err = -errno;
		log_err("identity %u: cannot push to %s: %s", id->id,
			PSV_MAP_READY, strerror(-err));
		bpf_map_delete_elem(pool->dp->identities_fd, &id->ip);
		return err;
	}
	pool->ops->announce(pool, id);
	log_info("identity %u: ready as %s %02x:%02x:%02x:%02x:%02x:%02x", id->id,
		 fmt_ip(ip, ipbuf), id->mac[0], id->mac[1], id->mac[2],
		 id->mac[3], id->mac[4], id->mac[5]);
	return 0;
}

/* Deletes the groups that lead to vip so no new flow joins it.  Its
 * connections stay: egress drops them (no identity) instead of letting
 * them continue on the real address. */
static void delete_groups_of(struct identity_pool *pool, uint32_t vip)
{
	struct psv_group_key key, next, *prev = NULL;
	struct psv_group g;

	while (!bpf_map_get_next_key(pool->dp->groups_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(pool->dp->groups_fd, &key, &g) &&
		    g.vip == vip)
			bpf_map_delete_elem(pool->dp->groups_fd, &key);
	}
}

/* Takes vip out of the ready queue (order of the others is kept). */
static void unqueue(struct identity_pool *pool, uint32_t vip)
{
	uint32_t q[PSV_MAX_IDENTITIES], v;
	unsigned int n = 0;

	while (n < PSV_MAX_IDENTITIES &&
	       !bpf_map_lookup_and_delete_elem(pool->dp->ready_fd, NULL, &v))
		if (v != vip)
			q[n++] = v;
	for (unsigned int i = 0; i < n; i++)
		bpf_map_update_elem(pool->dp->ready_fd, NULL, &q[i], BPF_ANY);
}

static int destroy_if_on(void *ctx, const struct inet4_sock *s)
{
	if (s->laddr == *(const uint32_t *)ctx)
		sockets_destroy(s);
	return 0;
}

/*
 * Ends the sockets bound to ip (after a NAK or a conflict the address is
 * someone else's; idle identities have none), then removes its route, so
 * nothing can send from it any more, and only then its identity: a
 * frame from an address egress does not know leaves untouched, with the
 * real MAC.
 */
static void unlocal(struct identity_pool *pool, uint32_t ip)
{
	sockets_walk(destroy_if_on, &ip);
	local_route_del(ip);
	bpf_map_delete_elem(pool->dp->identities_fd, &ip);
}

void pool_retire(struct identity_pool *pool, struct identity *id,
		 const char *why)
{
	char ip[INET_ADDRSTRLEN];

	log_info("identity %u (%s): retired: %s", id->id,
		 id->ip ? fmt_ip(id->ip, ip) : "no address", why);
	if (id->ip) {
		if (id->state == PSV_ID_READY)
			unqueue(pool, id->ip);
		delete_groups_of(pool, id->ip);
		unlocal(pool, id->ip);
	}
	id->state = PSV_ID_RETIRED;
	pool->ops->release(pool, id);
	pool->retired++;
	pool_remove(pool, id);
}

void pool_identity_taken(struct identity_pool *pool, uint32_t vip)
{
	struct identity *id = pool_find_ip(pool, vip);

	if (!id || id->state != PSV_ID_READY)
		return;
	id->state = PSV_ID_ACTIVE;
	id->idle_since_ms = 0;
	log_debug("identity %u: active", id->id);
}

static int by_ip_cmp(const void *a, const void *b)
{
	uint32_t x = (*(struct identity *const *)a)->ip;
	uint32_t y = (*(struct identity *const *)b)->ip;

	return x < y ? -1 : x > y;
}

void pool_flows_reset(struct identity_pool *pool)
{
	for (unsigned int i = 0; i < pool->count; i++) {
		pool->ids[i]->flows = 0;
		pool->ids[i]->last_seen_ns = 0;
		pool->by_ip[i] = pool->ids[i];
	}
	/* One lookup per connection follows: make it a binary search. */
	qsort(pool->by_ip, pool->count, sizeof(*pool->by_ip), by_ip_cmp);
}

/* An identity by address, during a scan (after pool_flows_reset). */
static struct identity *scan_find(struct identity_pool *pool, uint32_t vip)
{
	struct identity key = { .ip = vip }, *kp = &key, **found;

	found = bsearch(&kp, pool->by_ip, pool->count, sizeof(*pool->by_ip),
			by_ip_cmp);
	return found ? *found : NULL;
}

bool pool_in_use(struct identity_pool *pool, uint32_t vip)
{
	struct identity *id = scan_find(pool, vip);

	return id && id->flows;
}

void pool_flow_seen(struct identity_pool *pool, uint32_t vip,
		    uint64_t last_seen_ns)
{
	struct identity *id = scan_find(pool, vip);

	if (!id)
		return;
	id->flows++;
	if (last_seen_ns > id->last_seen_ns)
		id->last_seen_ns = last_seen_ns;
}

void pool_retire_idle(struct identity_pool *pool, uint64_t now_ms)
{
	struct identity *id;

	for (unsigned int i = 0; i < pool->count; i++) {
		id = pool->ids[i];
		/* Taken, though its ring buffer event was lost (full ring). */
		if (id->state == PSV_ID_READY && id->flows)
			pool_identity_taken(pool, id->ip);
		if (id->state != PSV_ID_ACTIVE && id->state != PSV_ID_IDLE)
			continue;
		if (id->flows) {
			id->state = PSV_ID_ACTIVE;
			id->idle_since_ms = 0;
			continue;
		}
		/* IDLE stays ACTIVE in the map: it still answers ARP for the
		 * groups that lead to it until it is retired. */
		if (id->state == PSV_ID_ACTIVE) {
			id->state = PSV_ID_IDLE;
			id->idle_since_ms = now_ms;
			continue;
		}
		if (now_ms - id->idle_since_ms >=
		    (uint64_t)pool->params.idle_retire_s * 1000) {
			pool_retire(pool, id, "idle");
			i--;	/* pool_remove moved the last entry here */
		}
	}
}

void pool_release_all(struct identity_pool *pool)
{
	while (pool->count)
		pool_retire(pool, pool->ids[0], "psvd stopping");
}

int pool_adopt(struct identity_pool *pool)
{
	uint32_t key, next, *prev = NULL;
	struct psv_identity v;
	struct identity *id;

	while (!bpf_map_get_next_key(pool->dp->identities_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(pool->dp->identities_fd, &key, &v))
			continue;
		id = pool_new(pool);
		if (!id) {
			log_err("adopting: more identities pinned than max=%u",
				pool->params.max);
			return -E2BIG;
		}
		/* The crashed psvd's route stays; made sure of all the same. */
		local_route_add(key);
		memcpy(id->mac, v.mac, 6);
		id->id = v.id;
		id->ip = key;
		id->state = v.state;
		if (v.id >= pool->next_id)
			pool->next_id = v.id + 1;
	}
	log_info("adopted %u identities from the pinned maps", pool->count);
	return 0;
}
