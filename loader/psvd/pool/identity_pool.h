/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * identity_pool.h - psvd's identities and their lifecycle:
 * acquiring -> ready (in psv_ready, announced) -> active (has flows) ->
 * idle -> retired (never handed out again).  The pool keeps its ready
 * identities at a target that follows demand (demand.h; never below
 * `ready`), paces acquisitions and releases of surplus with random delays
 * (a burst of new MACs is itself linkable) and never holds more than
 * `max` (the lease budget).
 * Addresses come from a static range or from one DHCP client per
 * identity; the pool only asks its source to acquire and release.
 */
#ifndef PSV_IDENTITY_POOL_H
#define PSV_IDENTITY_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "psv.h"
#include "psvd/pool/demand.h"
#include "psvd/pool/lease_count.h"

struct identity {
	uint32_t id;		/* sequence number, never reused */
	uint8_t mac[6];
	uint32_t ip;		/* network order; 0 while acquiring */
	enum psv_id_state state;
	unsigned int flows;	/* connections seen at the last scan */
	uint64_t last_seen_ns;	/* newest use among them (bpf clock) */
	uint64_t idle_since_ms;	/* monotonic; when flows fell to 0, or
				 * when it became ready */
	void *source_state;	/* the source's per-identity state */
	bool lost_source;	/* the source gave it up: retire it */
	/* Bound, but held back from the ready queue (still ACQUIRING)
	 * until pool_identity_ready(): its IPv6 address is on the way. */
	bool awaiting_ip6;
	/* READY but out of the queue: a connected UDP socket holds it and
	 * has sent nothing yet (pool_identity_held); when it was held last,
	 * 0 if not held.  reclaiming: its groups are dropped, it goes back
	 * to the queue at the next scan if still unused. */
	uint64_t held_ms;
	bool reclaiming;
	/* psv_identity.ip6: the IPv6 address its sockets get; all zero:
	 * none.  Kept here so every write of its entry carries it. */
	struct psv_addr6 ip6;
};

struct identity_pool;

/* Where addresses come from. */
struct pool_source_ops {
	/* Starts acquiring an address for id (MAC already set).  Static
	 * sources call pool_identity_bound() before returning. */
	int (*acquire)(struct identity_pool *pool, struct identity *id);
	/* Gives the address back (DHCPRELEASE); id is being retired. */
	void (*release)(struct identity_pool *pool, struct identity *id);
	/* Drops the address without a frame (the host left the network it
	 * belongs to); id is being retired. */
	void (*forget)(struct identity_pool *pool, struct identity *id);
	/* Sends a gratuitous ARP for a ready identity (RFC 5227 announce). */
	void (*announce)(struct identity_pool *pool, struct identity *id);
	/* The lease id holds, for psvctl: unix seconds it expires (0:
	 * none) and its server (0: none).  NULL: no lease ever. */
	void (*lease)(struct identity_pool *pool, const struct identity *id,
		      int64_t *expires, uint32_t *server);
};

/*
 * What the pool changes outside itself: the dataplane's maps, the local
 * routes, the sockets.  pool_maps.c does it for psvd; a test records it.
 * Functions return 0 or -errno and log nothing (the pool says what
 * failed) unless noted.
 */
struct pool_io {
	/* psv_identities: ip's entry. */
	int (*identity_put)(void *ctx, uint32_t ip, const struct psv_identity *v);
	void (*identity_del)(void *ctx, uint32_t ip);
	/* Every entry of psv_identities (adoption after a crash). */
	int (*identity_each)(void *ctx,
			     void (*cb)(void *arg, uint32_t ip,
					const struct psv_identity *v),
			     void *arg);
	/* ip's entry as the dataplane has it now. */
	int (*identity_get)(void *ctx, uint32_t ip, struct psv_identity *v);
	/* psv_ready: append ip; take ip out (the others keep their order). */
	int (*ready_push)(void *ctx, uint32_t ip);
	void (*ready_remove)(void *ctx, uint32_t ip);
	/* Every address in psv_ready (adoption after a crash); an error
	 * if it may hold more than cb heard of. */
	int (*ready_each)(void *ctx, void (*cb)(void *arg, uint32_t ip),
			  void *arg);
	/* psv_groups and psv_links: delete the entries leading to ip. */
	void (*groups_drop)(void *ctx, uint32_t ip);
	/* ip as a local route (logged); its removal. */
	int (*route_add)(void *ctx, uint32_t ip);
	void (*route_del)(void *ctx, uint32_t ip);
	/* Destroys the sockets bound to ip. */
	void (*sockets_end)(void *ctx, uint32_t ip);
	/* Monotonic ms, for what happens between the pool's timers. */
	uint64_t (*now_ms)(void *ctx);
	void *ctx;
};

/*
 * What the pool tells the identities' IPv6 addresses (pool/slaac.h);
 * any may be NULL.
 */
struct pool_hooks {
	/* id got its IPv4 address and entered the maps: true if it must
	 * wait for pool_identity_ready() before joining the ready queue. */
	bool (*bound)(void *ctx, struct identity *id);
	/* id is being retired: its groups and IPv4 sockets are gone, its
	 * map entry still there (and its route, unless pool_forget_all
	 * retires it). */
	void (*retiring)(void *ctx, struct identity *id);
	void *ctx;
};

struct pool_params {
	unsigned int ready;		/* least ready identities (the floor) */
	unsigned int max;		/* most identities (leases) at once */
	unsigned int idle_retire_s;	/* seconds without flows */
	unsigned int pace_ms;		/* max random delay between acquisitions */
	unsigned int demand_window_s;	/* how long a burst raises the target */
};

struct identity_pool {
	struct pool_params params;
	const struct pool_source_ops *ops;
	void *source;			/* the source's own state */
	const struct pool_io *io;
	struct pool_hooks hooks;
	struct identity **ids;		/* live identities (not retired) */
	struct identity **by_ip;	/* ids sorted by ip, for scans */
	unsigned int count, cap;
	uint32_t next_id;
	uint64_t next_acquire_ms;	/* pacing */
	uint64_t retired;		/* lifetime count */
	uint64_t reclaimed;		/* held identities queued again, ever */
	struct demand demand;		/* new groups asking for identities */
	struct lease_count leases;	/* acquired and released, last hour */
};

int pool_init(struct identity_pool *pool, const struct pool_params *params,
	      const struct pool_source_ops *ops, void *source,
	      const struct pool_io *io);
void pool_free(struct identity_pool *pool);
/* New parameters (SIGHUP); max stays within what pool_init allocated. */
void pool_set_params(struct identity_pool *pool,
		     const struct pool_params *params);

/* Who hears of bound and retiring identities (none by default). */
void pool_set_hooks(struct identity_pool *pool, const struct pool_hooks *hooks);

/* The live identities, for the sources: pool_get(pool, 0 .. size - 1). */
unsigned int pool_size(const struct identity_pool *pool);
struct identity *pool_get(const struct identity_pool *pool, unsigned int i);
/* The next identity number; ids below next_id are never handed out. */
uint32_t pool_next_id(const struct identity_pool *pool);
void pool_reserve_ids(struct identity_pool *pool, uint32_t next_id);
/* The lease of id as its source knows it (0, 0 without one). */
void pool_lease(struct identity_pool *pool, const struct identity *id,
		int64_t *expires, uint32_t *server);

/* Rebuilds the pool from the pinned maps a previous psvd left: a ready
 * identity out of psv_ready is held from now on (its socket may be
 * gone: pool_retire_idle queues it again then). */
int pool_adopt(struct identity_pool *pool);
/* Starts acquisitions the ready target asks for, or retires one ready
 * identity above it that waited idle_retire unused, paced; returns the
 * next time (monotonic ms) it wants to run, or UINT64_MAX. */
uint64_t pool_refill(struct identity_pool *pool, uint64_t now_ms);
/* How many identities the pool wants ready at now_ms: recent demand,
 * at least params.ready, at most params.max. */
unsigned int pool_ready_target(const struct identity_pool *pool,
			       uint64_t now_ms);
/* An acquisition finished: the identity gets its address, enters the
 * maps and the ready queue, and is announced. */
int pool_identity_bound(struct identity_pool *pool, struct identity *id,
			uint32_t ip);
/* An identity the bound hook held back may join the ready queue now
 * (no-op for one that is not waiting). */
int pool_identity_ready(struct identity_pool *pool, struct identity *id);
/* id's lease was renewed: its psv_identities entry gets the new end. */
int pool_lease_renewed(struct identity_pool *pool, struct identity *id);
/* Sets the IPv6 address id's sockets get (all zero: none) and writes
 * its psv_identities entry. */
int pool_set_ip6(struct identity_pool *pool, struct identity *id,
		 const struct psv_addr6 *ip6);
/* An identity must go (NAK, lost lease, conflict, idle). */
void pool_retire(struct identity_pool *pool, struct identity *id,
		 const char *why);
/*
 * The network the identities were made for is gone (the host moved to
 * another one): every identity goes at once, and nothing more leaves in
 * its name.  Its psv_identities entry says RETIRED and its route goes
 * before its sockets end (their RSTs find no route; egress drops what
 * leaves all the same, the kernel's ARP in its name included), then it
 * goes as in pool_retire, and its source forgets the address without
 * releasing it (a DHCPRELEASE on the new network would show the old
 * identity there).  Returns how many went.
 */
unsigned int pool_forget_all(struct identity_pool *pool);
/* egress took a ready identity (ringbuf event): demand. */
void pool_identity_taken(struct identity_pool *pool, uint32_t vip);
/* A connected UDP socket holds a ready identity it has not used yet
 * (ringbuf event): no demand until it sends (then taken); back to the
 * queue if it never does (pool_retire_idle). */
void pool_identity_held(struct identity_pool *pool, uint32_t vip);
/* egress found the ready queue empty for a new group: demand. */
void pool_exhausted(struct identity_pool *pool);
/* A scan counts each identity's flows: reset, then one pool_flow_seen
 * per socket bound to it and per live connection, then
 * pool_retire_idle.  An identity is retired only when none is left; a
 * held one without flows goes back to the ready queue. */
void pool_flows_reset(struct identity_pool *pool);
void pool_flow_seen(struct identity_pool *pool, uint32_t vip,
		    uint64_t last_seen_ns);
/* Whether the scan so far saw a flow of vip. */
bool pool_in_use(struct identity_pool *pool, uint32_t vip);
void pool_retire_idle(struct identity_pool *pool, uint64_t now_ms);
/*
 * Drops every identity: releases leases, empties the maps.  The releases
 * leave gap_us (below a second) apart: a DHCP server reads them from one
 * socket, and a burst of a few dozen overflows its buffer (a release is
 * never answered, so a lost one holds its address until the lease ends).
 */
void pool_release_all(struct identity_pool *pool, unsigned int gap_us);

struct identity *pool_find_ip(struct identity_pool *pool, uint32_t ip);
struct identity *pool_find_mac(struct identity_pool *pool, const uint8_t mac[6]);
unsigned int pool_count_state(const struct identity_pool *pool,
			      enum psv_id_state state);
/* Identities holding an address (a lease, for the DHCP source). */
unsigned int pool_leases_held(const struct identity_pool *pool);
/* The identity egress falls back on under on_exhausted = reuse: the least
 * recently used active or idle one (after a scan); 0 if none. */
uint32_t pool_least_recent(const struct identity_pool *pool);

/* A random number below n (0 if n is 0, or getrandom failed): pacing. */
uint64_t pool_random_below(uint64_t n);

/* 46 random bits: locally administered, unicast (RFC 7042 2.1). */
int pool_random_mac(uint8_t mac[6]);

#endif
