// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* identity_pool.c - see identity_pool.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include "psvd/pool/identity_pool.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/log.h"

/* How long a held identity waits before psvd may take it back. */
#define HOLD_GRACE_MS 1000

int pool_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		log_err("getrandom for a MAC address: %s", strerror(errno));
		return -EIO;
	}
	mac[0] = (mac[0] & ~0x01) | 0x02;
	return 0;
}

uint64_t pool_random_below(uint64_t n)
{
	uint64_t r = 0;

	if (!n || getrandom(&r, sizeof(r), 0) != sizeof(r))
		return 0;
	return r % n;
}

int pool_init(struct identity_pool *pool, const struct pool_params *params,
	      const struct pool_source_ops *ops, void *source,
	      const struct pool_io *io)
{
	memset(pool, 0, sizeof(*pool));
	pool->params = *params;
	pool->ops = ops;
	pool->source = source;
	pool->io = io;
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

void pool_set_params(struct identity_pool *pool,
		     const struct pool_params *params)
{
	pool->params = *params;
	if (pool->params.max > pool->cap)
		pool->params.max = pool->cap;
}

unsigned int pool_size(const struct identity_pool *pool)
{
	return pool->count;
}

struct identity *pool_get(const struct identity_pool *pool, unsigned int i)
{
	return i < pool->count ? pool->ids[i] : NULL;
}

uint32_t pool_next_id(const struct identity_pool *pool)
{
	return pool->next_id;
}

void pool_reserve_ids(struct identity_pool *pool, uint32_t next_id)
{
	if (next_id > pool->next_id)
		pool->next_id = next_id;
}

void pool_lease(struct identity_pool *pool, const struct identity *id,
		int64_t *expires, uint32_t *server)
{
	*expires = 0;
	*server = 0;
	if (pool->ops->lease)
		pool->ops->lease(pool, id, expires, server);
}

uint32_t pool_least_recent(const struct identity_pool *pool)
{
	const struct identity *best = NULL;

	for (unsigned int i = 0; i < pool->count; i++) {
		const struct identity *id = pool->ids[i];

		if (id->state != PSV_ID_ACTIVE && id->state != PSV_ID_IDLE)
			continue;
		if (!best || id->last_seen_ns < best->last_seen_ns)
			best = id;
	}
	return best ? best->ip : 0;
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

unsigned int pool_leases_held(const struct identity_pool *pool)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < pool->count; i++)
		n += pool->ids[i]->ip != 0;
	return n;
}

static char *fmt_ip(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	return (char *)inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

static int map_put_identity(struct identity_pool *pool, const struct identity *id)
{
	struct psv_identity v = { .state = id->state, .id = id->id,
				  .ip6 = id->ip6 };
	uint32_t server;
	int64_t expires;
	int err;

	memcpy(v.mac, id->mac, 6);
	pool_lease(pool, id, &expires, &server);
	v.lease_end_s = clock_mono_s(expires);
	err = pool->io->identity_put(pool->io->ctx, id->ip, &v);
	if (err) {
		char ip[INET_ADDRSTRLEN];

		log_err("cannot write identity %u (%s) to %s: %s", id->id,
			fmt_ip(id->ip, ip), PSV_MAP_IDENTITIES, strerror(-err));
		return err;
	}
	return 0;
}

static int by_ip_cmp(const void *a, const void *b)
{
	uint32_t x = (*(struct identity *const *)a)->ip;
	uint32_t y = (*(struct identity *const *)b)->ip;

	return x < y ? -1 : x > y;
}

/*
 * by_ip: the identities sorted by address, for a scan's one lookup per
 * connection.  Kept so whenever an identity comes, goes or gets its
 * address: a scan spans many turns of psvd's loop.
 */
static void index_by_ip(struct identity_pool *pool)
{
	memcpy(pool->by_ip, pool->ids, pool->count * sizeof(*pool->by_ip));
	array_sort(pool->by_ip, pool->count, sizeof(*pool->by_ip), by_ip_cmp);
}

static void set_ip(struct identity_pool *pool, struct identity *id,
		   uint32_t ip)
{
	id->ip = ip;
	index_by_ip(pool);
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
	index_by_ip(pool);
	return id;
}

static void pool_remove(struct identity_pool *pool, struct identity *id)
{
	for (unsigned int i = 0; i < pool->count; i++) {
		if (pool->ids[i] != id)
			continue;
		pool->ids[i] = pool->ids[--pool->count];
		index_by_ip(pool);
		free(id);
		return;
	}
}

/*
 * Identities that count toward the ready target: on the way, or in the
 * queue (a held one is out of it until it comes back).
 */
static unsigned int pool_pending(const struct identity_pool *pool)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < pool->count; i++)
		n += pool->ids[i]->state == PSV_ID_ACQUIRING ||
		     (pool->ids[i]->state == PSV_ID_READY &&
		      !pool->ids[i]->held_ms);
	return n;
}

unsigned int pool_ready_target(const struct identity_pool *pool,
			       uint64_t now_ms)
{
	unsigned int t = demand_target(&pool->demand, now_ms,
				       pool->params.demand_window_s,
				       pool->params.ready);

	return t < pool->params.max ? t : pool->params.max;
}

/*
 * A ready identity the target no longer asks for: one that has waited
 * unused for idle_retire, as an identity without flows would before it
 * is retired (a target that dips for a moment releases nothing).  Not a
 * held one: a socket has its address.
 */
static struct identity *pool_surplus(struct identity_pool *pool,
				     uint64_t now_ms)
{
	uint64_t wait_ms = (uint64_t)pool->params.idle_retire_s * 1000;

	for (unsigned int i = 0; i < pool->count; i++) {
		struct identity *id = pool->ids[i];

		if (id->state == PSV_ID_READY && !id->held_ms &&
		    now_ms - id->idle_since_ms >= wait_ms)
			return id;
	}
	return NULL;
}

static uint64_t pace(struct identity_pool *pool, uint64_t now_ms)
{
	pool->next_acquire_ms = now_ms + 1 +
				pool_random_below(pool->params.pace_ms);
	return pool->next_acquire_ms;
}

uint64_t pool_refill(struct identity_pool *pool, uint64_t now_ms)
{
	unsigned int target = pool_ready_target(pool, now_ms);
	unsigned int pending = pool_pending(pool);
	struct identity *id;

	if (pending == target)
		return UINT64_MAX;
	if (now_ms < pool->next_acquire_ms)
		return pool->next_acquire_ms;
	if (pending > target) {
		/* Demand fell: give back what waits unused, one at a time. */
		id = pool_surplus(pool, now_ms);
		if (!id)	/* acquisitions, or ready ones not idle long */
			return UINT64_MAX;
		pool_retire(pool, id, "demand fell");
		return pace(pool, now_ms);
	}
	if (pool->count >= pool->params.max) {
		log_debug("pool at max (%u identities): not acquiring",
			  pool->params.max);
		return UINT64_MAX;
	}
	id = pool_new(pool);
	if (!id)
		return now_ms + 1000;
	log_debug("identity %u: acquiring an address", id->id);
	if (pool->ops->acquire(pool, id)) {
		pool_remove(pool, id);
		pool->next_acquire_ms = now_ms + 1000;
		return pool->next_acquire_ms;
	}
	pace(pool, now_ms);
	return pool_pending(pool) != target ? pool->next_acquire_ms :
					      UINT64_MAX;
}

void pool_set_hooks(struct identity_pool *pool, const struct pool_hooks *hooks)
{
	pool->hooks = *hooks;
}

/* Into the ready queue, announced. */
static int make_ready(struct identity_pool *pool, struct identity *id)
{
	char ipbuf[INET_ADDRSTRLEN];
	int err;

	id->state = PSV_ID_READY;
	err = map_put_identity(pool, id);
	if (err)
		return err;
	err = pool->io->ready_push(pool->io->ctx, id->ip);
	if (err) {
		log_err("identity %u: cannot push to %s: %s", id->id,
			PSV_MAP_READY, strerror(-err));
		pool->io->identity_del(pool->io->ctx, id->ip);
		return err;
	}
	id->idle_since_ms = pool->io->now_ms(pool->io->ctx);
	lease_count_acquired(&pool->leases, id->idle_since_ms);
	pool->ops->announce(pool, id);
	log_info("identity %u: ready as %s %02x:%02x:%02x:%02x:%02x:%02x", id->id,
		 fmt_ip(id->ip, ipbuf), id->mac[0], id->mac[1], id->mac[2],
		 id->mac[3], id->mac[4], id->mac[5]);
	return 0;
}

int pool_identity_bound(struct identity_pool *pool, struct identity *id,
			uint32_t ip)
{
	int err;

	set_ip(pool, id, ip);
	/* Local before any socket is bound to it: its route first. */
	err = pool->io->route_add(pool->io->ctx, ip);
	if (err)
		return err;
	if (pool->hooks.bound && pool->hooks.bound(pool->hooks.ctx, id)) {
		id->awaiting_ip6 = true;
		log_debug("identity %u: bound, waiting for its IPv6 address",
			  id->id);
		return map_put_identity(pool, id);
	}
	return make_ready(pool, id);
}

int pool_identity_ready(struct identity_pool *pool, struct identity *id)
{
	if (!id->awaiting_ip6)
		return 0;
	id->awaiting_ip6 = false;
	return make_ready(pool, id);
}

int pool_lease_renewed(struct identity_pool *pool, struct identity *id)
{
	return map_put_identity(pool, id);
}

int pool_set_ip6(struct identity_pool *pool, struct identity *id,
		 const struct psv_addr6 *ip6)
{
	id->ip6 = *ip6;
	return map_put_identity(pool, id);
}

/*
 * Ends the sockets bound to ip (after a NAK or a conflict the address is
 * someone else's; idle identities have none), then removes its route, so
 * nothing can send from it any more, and only then its identity: a
 * frame from an address egress does not know leaves untouched, with the
 * real MAC.  Its groups go first, so no new flow joins it; its
 * connections stay: egress drops them (no identity) instead of letting
 * them continue on the real address.
 * Quiet, nothing may leave in its name: its entry says RETIRED and its
 * route goes before its sockets end.  Their RSTs then find no route (the
 * address is not local any more), and whatever leaves all the same
 * while the entry is there, the kernel's ARP in its name included, is
 * dropped by egress.
 */
static void unlocal(struct identity_pool *pool, struct identity *id,
		    bool quiet)
{
	const struct pool_io *io = pool->io;

	if (id->state == PSV_ID_READY)
		io->ready_remove(io->ctx, id->ip);
	io->groups_drop(io->ctx, id->ip);
	if (quiet) {
		id->state = PSV_ID_RETIRED;
		map_put_identity(pool, id);	/* logged if it fails */
		io->route_del(io->ctx, id->ip);
	}
	io->sockets_end(io->ctx, id->ip);
	if (pool->hooks.retiring)
		pool->hooks.retiring(pool->hooks.ctx, id);
	if (!quiet)
		io->route_del(io->ctx, id->ip);
	io->identity_del(io->ctx, id->ip);
}

/* Retires id, quiet: without a frame in its name (pool_forget_all). */
static void retire(struct identity_pool *pool, struct identity *id,
		   bool quiet)
{
	if (id->ip) {
		unlocal(pool, id, quiet);
		lease_count_released(&pool->leases,
				     pool->io->now_ms(pool->io->ctx));
	}
	id->state = PSV_ID_RETIRED;
	if (quiet)
		pool->ops->forget(pool, id);
	else
		pool->ops->release(pool, id);
	pool->retired++;
	pool_remove(pool, id);
}

void pool_retire(struct identity_pool *pool, struct identity *id,
		 const char *why)
{
	char ip[INET_ADDRSTRLEN];

	log_info("identity %u (%s): retired: %s", id->id,
		 id->ip ? fmt_ip(id->ip, ip) : "no address", why);
	retire(pool, id, false);
}

unsigned int pool_forget_all(struct identity_pool *pool)
{
	unsigned int n = pool->count;
	char ip[INET_ADDRSTRLEN];

	while (pool->count) {
		struct identity *id = pool->ids[0];

		log_debug("identity %u (%s): retired with its network", id->id,
			  id->ip ? fmt_ip(id->ip, ip) : "no address");
		retire(pool, id, true);
	}
	return n;
}

static void pool_demand(struct identity_pool *pool)
{
	demand_note(&pool->demand, pool->io->now_ms(pool->io->ctx),
		    pool->params.demand_window_s);
}

void pool_exhausted(struct identity_pool *pool)
{
	pool_demand(pool);
}

void pool_identity_taken(struct identity_pool *pool, uint32_t vip)
{
	struct identity *id = pool_find_ip(pool, vip);

	/* A held one was demand when it left the queue. */
	if (!id || !id->held_ms)
		pool_demand(pool);
	if (!id || id->state != PSV_ID_READY)
		return;
	id->state = PSV_ID_ACTIVE;
	id->idle_since_ms = 0;
	id->held_ms = 0;
	id->reclaiming = false;
	log_debug("identity %u: active", id->id);
}

void pool_identity_held(struct identity_pool *pool, uint32_t vip)
{
	struct identity *id = pool_find_ip(pool, vip);

	if (!id || id->state != PSV_ID_READY)
		return;
	/* Demand on the queue all the same (the burst needed it there),
	 * once: another socket of its group holds it again. */
	if (!id->held_ms)
		pool_demand(pool);
	id->held_ms = pool->io->now_ms(pool->io->ctx);
	id->reclaiming = false;
	log_debug("identity %u: held by a connected UDP socket", id->id);
}

/*
 * A held identity whose sockets are gone without sending goes back to
 * the ready queue: nothing ever left in its name.  In two scans: the
 * first (a second after it was held: the connect() that held it has
 * bound its socket by then) drops the groups leading to it, so no other
 * socket can hold it any more; the next one queues it if still no
 * socket has its address and the dataplane still has it READY (a frame
 * that left meanwhile made it ACTIVE: its TAKEN event follows).
 */
static void reclaim_held(struct identity_pool *pool, struct identity *id,
			 uint64_t now_ms)
{
	const struct pool_io *io = pool->io;
	struct psv_identity v;
	int err;

	if (id->flows || now_ms - id->held_ms < HOLD_GRACE_MS) {
		id->reclaiming = false;
		return;
	}
	if (!id->reclaiming) {
		io->groups_drop(io->ctx, id->ip);
		id->reclaiming = true;
		return;
	}
	if (io->identity_get(io->ctx, id->ip, &v) || v.state != PSV_ID_READY)
		return;
	err = io->ready_push(io->ctx, id->ip);
	if (err) {
		log_err("identity %u: cannot push to %s: %s", id->id,
			PSV_MAP_READY, strerror(-err));
		return;
	}
	id->held_ms = 0;
	id->reclaiming = false;
	pool->reclaimed++;
	log_debug("identity %u: ready again (its UDP socket never sent)",
		  id->id);
}

void pool_flows_reset(struct identity_pool *pool)
{
	for (unsigned int i = 0; i < pool->count; i++) {
		pool->ids[i]->flows = 0;
		pool->ids[i]->last_seen_ns = 0;
	}
}

/* An identity by address, during a scan. */
static struct identity *scan_find(struct identity_pool *pool, uint32_t vip)
{
	struct identity key = { .ip = vip }, *kp = &key, **found;

	found = array_find(&kp, pool->by_ip, pool->count, sizeof(*pool->by_ip),
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
		if (id->held_ms) {
			reclaim_held(pool, id, now_ms);
			continue;
		}
		/*
		 * Taken, though its ring buffer event was lost (full ring).
		 * Or held, its HELD event lost: taken all the same, retired
		 * once idle, never queued again (it might be in the queue
		 * still: twice there, it would go to two groups).  One whose
		 * socket closed before a scan saw it counts as queued until
		 * released as surplus: finding it means reading the queue,
		 * which egress would find empty meanwhile (ready_each).
		 */
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

void pool_release_all(struct identity_pool *pool, unsigned int gap_us)
{
	struct timespec gap = { .tv_nsec = (long)gap_us * 1000 };

	while (pool->count) {
		pool_retire(pool, pool->ids[0], "psvd stopping");
		if (gap_us && pool->count)
			nanosleep(&gap, NULL);
	}
}

struct adoption {
	struct identity_pool *pool;
	int err;
};

static void adopt_one(void *arg, uint32_t ip, const struct psv_identity *v)
{
	struct adoption *a = arg;
	struct identity_pool *pool = a->pool;
	struct identity *id;

	if (a->err)
		return;
	if (v->state == PSV_ID_RETIRED) {
		/* psvd died retiring it (pool_forget_all): it goes (its
		 * route, if left, as a stray). */
		pool->io->identity_del(pool->io->ctx, ip);
		return;
	}
	id = pool_new(pool);
	if (!id) {
		log_err("adopting: more identities pinned than max=%u",
			pool->params.max);
		a->err = -E2BIG;
		return;
	}
	/* The crashed psvd's route stays; made sure of all the same. */
	pool->io->route_add(pool->io->ctx, ip);
	memcpy(id->mac, v->mac, 6);
	id->id = v->id;
	set_ip(pool, id, ip);
	id->state = v->state;
	/* Idle from now on, as far as this psvd knows: a ready identity is
	 * not surplus (nor an idle one retired) before idle_retire. */
	id->idle_since_ms = pool->io->now_ms(pool->io->ctx);
	id->ip6 = v->ip6;
	/* In the map but never ready: its IPv6 address was on the way
	 * (pool/slaac.c takes it from here). */
	id->awaiting_ip6 = v->state == PSV_ID_ACQUIRING;
	if (v->id >= pool->next_id)
		pool->next_id = v->id + 1;
}

static void queued(void *arg, uint32_t ip)
{
	struct identity *id = pool_find_ip(arg, ip);

	if (id)
		id->held_ms = 0;
}

/*
 * Ready identities out of the queue: the crashed psvd heard a socket
 * hold them (or the event was lost), and that socket may be gone by
 * now.  Held from now on, they go back to the queue if no socket has
 * them after the grace period (reclaim_held), or become active when a
 * frame leaves.  If the queue cannot be read, they count as queued, as
 * before: a held one is released as surplus later, never queued twice.
 * Egress may pop meanwhile: that identity is held indeed (its event
 * follows).  One it gives back at once (pool_bind: another CPU bound
 * the group first) may be back only after the listing, and be queued
 * twice once reclaimed: that takes two CPUs racing for one new group
 * within the listing's microseconds.
 */
static void adopt_held(struct identity_pool *pool)
{
	const struct pool_io *io = pool->io;
	uint64_t now_ms = io->now_ms(io->ctx);
	unsigned int ready = 0;
	int err;

	for (unsigned int i = 0; i < pool->count; i++) {
		if (pool->ids[i]->state != PSV_ID_READY)
			continue;
		pool->ids[i]->held_ms = now_ms;
		ready++;
	}
	if (!ready)
		return;
	err = io->ready_each(io->ctx, queued, pool);
	if (err)
		log_err("adopting: cannot read %s: %s", PSV_MAP_READY,
			strerror(-err));
	for (unsigned int i = 0; i < pool->count; i++) {
		struct identity *id = pool->ids[i];

		if (!id->held_ms)
			continue;
		if (err)
			id->held_ms = 0;
		else
			log_info("identity %u: ready but not queued: held",
				 id->id);
	}
}

int pool_adopt(struct identity_pool *pool)
{
	struct adoption a = { .pool = pool };

	pool->io->identity_each(pool->io->ctx, adopt_one, &a);
	if (a.err)
		return a.err;
	adopt_held(pool);
	log_info("adopted %u identities from the pinned maps", pool->count);
	return 0;
}
