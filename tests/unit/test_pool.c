// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pool.c - the identity pool and both address sources without BPF:
 * the pool's io (maps, local routes, sockets) is a recorder here, the
 * link socket has no fd (sends fail and are counted), and DHCP replies
 * are handed to the link socket's dispatch as frames.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "check.h"
#include "dhcp_canned.h"
#include "psvd/dhcp/dhcp_msg.h"
#include "psvd/link/link_socket.h"
#include "psvd/pool/dhcp_source.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/pool/static_source.h"
#include "common/log.h"

/* What the pool did to the world, as the maps and routes would show it. */
#define MAX_IPS 16
static struct world {
	uint32_t identities[MAX_IPS];	/* psv_identities keys, 0: free */
	struct psv_identity values[MAX_IPS];
	uint32_t ready[MAX_IPS];	/* psv_ready, in order */
	unsigned int n_ready;
	uint32_t routes[MAX_IPS];	/* local routes */
	unsigned int groups_dropped, sockets_ended;
	int fail_put;			/* next identity_put returns this */
	int fail_each;			/* ready_each returns this */
	char log[512];			/* the order of the io calls */
} w;

static void note(const char *what, uint32_t ip)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(w.log + strlen(w.log), sizeof(w.log) - strlen(w.log),
		 "%s%s %s", w.log[0] ? ", " : "", what, a);
}

static int slot(uint32_t *set, uint32_t ip)
{
	for (int i = 0; i < MAX_IPS; i++)
		if (set[i] == ip)
			return i;
	return -1;
}

static int identity_put(void *ctx, uint32_t ip, const struct psv_identity *v)
{
	int i = slot(w.identities, ip);

	(void)ctx;
	note("put", ip);
	if (w.fail_put) {
		int err = w.fail_put;

		w.fail_put = 0;
		return err;
	}
	if (i < 0)
		i = slot(w.identities, 0);
	w.identities[i] = ip;
	w.values[i] = *v;
	return 0;
}

static void identity_del(void *ctx, uint32_t ip)
{
	int i = slot(w.identities, ip);

	(void)ctx;
	note("del", ip);
	if (i >= 0)
		w.identities[i] = 0;
}

static int identity_each(void *ctx,
			 void (*cb)(void *arg, uint32_t ip,
				    const struct psv_identity *v),
			 void *arg)
{
	(void)ctx;
	for (int i = 0; i < MAX_IPS; i++)
		if (w.identities[i])
			cb(arg, w.identities[i], &w.values[i]);
	return 0;
}

static int ready_push(void *ctx, uint32_t ip)
{
	(void)ctx;
	note("push", ip);
	w.ready[w.n_ready++] = ip;
	return 0;
}

static void ready_remove(void *ctx, uint32_t ip)
{
	unsigned int n = 0;

	(void)ctx;
	note("unqueue", ip);
	for (unsigned int i = 0; i < w.n_ready; i++)
		if (w.ready[i] != ip)
			w.ready[n++] = w.ready[i];
	w.n_ready = n;
}

static int ready_each(void *ctx, void (*cb)(void *arg, uint32_t ip), void *arg)
{
	(void)ctx;
	for (unsigned int i = 0; i < w.n_ready; i++)
		cb(arg, w.ready[i]);
	return w.fail_each;
}

static void groups_drop(void *ctx, uint32_t ip)
{
	(void)ctx;
	note("groups", ip);
	w.groups_dropped++;
}

static int route_add(void *ctx, uint32_t ip)
{
	(void)ctx;
	note("route", ip);
	if (slot(w.routes, ip) < 0)
		w.routes[slot(w.routes, 0)] = ip;
	return 0;
}

static void route_del(void *ctx, uint32_t ip)
{
	int i = slot(w.routes, ip);

	(void)ctx;
	note("unroute", ip);
	if (i >= 0)
		w.routes[i] = 0;
}

static void sockets_end(void *ctx, uint32_t ip)
{
	(void)ctx;
	note("end", ip);
	w.sockets_ended++;
}

/* The fake clock: what the pool reads between its timers. */
static uint64_t fake_now_ms;

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return fake_now_ms;
}

static int identity_get(void *ctx, uint32_t ip, struct psv_identity *v)
{
	int i = slot(w.identities, ip);

	(void)ctx;
	if (i < 0)
		return -ENOENT;
	*v = w.values[i];
	return 0;
}

static const struct pool_io io = {
	.identity_put = identity_put, .identity_del = identity_del,
	.identity_each = identity_each, .identity_get = identity_get,
	.ready_push = ready_push, .ready_remove = ready_remove,
	.ready_each = ready_each, .groups_drop = groups_drop, .route_add = route_add,
	.route_del = route_del, .sockets_end = sockets_end, .now_ms = now_ms,
};

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void reset_world(void)
{
	memset(&w, 0, sizeof(w));
	fake_now_ms = 0;
}

static const struct pool_params params = {
	.ready = 2, .max = 3, .idle_retire_s = 10, .pace_ms = 0,
};

static void test_static(void)
{
	struct link_socket link = { .fd = -1 };
	struct static_source src;
	struct identity_pool pool;
	struct identity *id;
	int64_t expires;
	uint32_t server;

	reset_world();
	static_source_init(&src, ip("192.0.2.200"), ip("192.0.2.202"), &link);
	CHECK_EQ(pool_init(&pool, &params, &static_source_ops, &src, &io), 0,
		 "static: pool_init");
	pool_refill(&pool, 1000);
	pool_refill(&pool, 2000);
	CHECK_EQ(pool_size(&pool), 2, "static: two identities, the target");
	CHECK_EQ(pool_count_state(&pool, PSV_ID_READY), 2, "both ready");
	CHECK(!strcmp(w.log, "route 192.0.2.200, put 192.0.2.200, push "
		      "192.0.2.200, route 192.0.2.201, put 192.0.2.201, push "
		      "192.0.2.201"),
	      "route before identity before the ready queue: %s", w.log);
	id = pool_find_ip(&pool, ip("192.0.2.200"));
	CHECK(id && (id->mac[0] & 3) == 2, "a locally administered unicast MAC");
	CHECK_EQ(link.stats.tx_errors, 2,
		 "each announced once (no gateway to ask for)");
	CHECK_EQ(pool_refill(&pool, 3000), UINT64_MAX, "target met: no timer");
	pool_lease(&pool, id, &expires, &server);
	CHECK(expires == 0 && server == 0, "a static identity has no lease");

	/* egress takes one: active; a scan without flows: idle, then gone. */
	pool_identity_taken(&pool, ip("192.0.2.200"));
	CHECK(id->state == PSV_ID_ACTIVE, "taken: active");
	pool_flows_reset(&pool);
	pool_flow_seen(&pool, ip("192.0.2.200"), 77);
	CHECK(pool_in_use(&pool, ip("192.0.2.200")) &&
	      !pool_in_use(&pool, ip("192.0.2.201")), "in use by its flow");
	pool_retire_idle(&pool, 4000);
	CHECK_EQ(pool_least_recent(&pool), ip("192.0.2.200"),
		 "the one active identity is the one reused");
	pool_flows_reset(&pool);
	pool_retire_idle(&pool, 5000);
	CHECK(id->state == PSV_ID_IDLE, "no flow: idle");
	w.log[0] = '\0';
	pool_flows_reset(&pool);
	pool_retire_idle(&pool, 5000 + 10 * 1000);
	CHECK_EQ(pool_size(&pool), 1, "idle for idle_retire: retired");
	CHECK(!strcmp(w.log, "groups 192.0.2.200, end 192.0.2.200, unroute "
		      "192.0.2.200, del 192.0.2.200"),
	      "groups, sockets, route, then identity: %s", w.log);
	CHECK_EQ(pool.retired, 1, "counted");

	/* The range has one fresh address left, then none; with a gateway,
	 * an announcement also asks for it. */
	link.gateway = ip("192.0.2.1");
	/* ... while a scan runs: it spans turns of psvd's loop. */
	pool_flows_reset(&pool);
	pool_refill(&pool, 20000);
	CHECK_EQ(link.stats.tx_errors, 4, "announced, and the gateway asked for");
	CHECK(pool_find_ip(&pool, ip("192.0.2.202")), "the next fresh address");
	w.log[0] = '\0';
	pool_retire(&pool, pool_find_ip(&pool, ip("192.0.2.201")), "test");
	CHECK(!strncmp(w.log, "unqueue 192.0.2.201", 19),
	      "a ready identity leaves the queue first: %s", w.log);
	pool_flow_seen(&pool, ip("192.0.2.201"), 1);
	pool_flow_seen(&pool, ip("192.0.2.202"), 1);
	CHECK(pool_in_use(&pool, ip("192.0.2.202")) &&
	      !pool_in_use(&pool, ip("192.0.2.201")),
	      "the scan finds the identity bound since it began, not the one "
	      "retired");
	CHECK_EQ(pool_refill(&pool, 30000), 31000,
		 "range exhausted: try again in a second");
	CHECK_EQ(pool_size(&pool), 1, "no identity without an address");
	pool_release_all(&pool, 0);
	CHECK(pool_size(&pool) == 0 && !w.identities[0] && !w.identities[1] &&
	      !w.identities[2], "release_all empties the map");
	pool_free(&pool);
}

static void test_adopt(void)
{
	struct link_socket link = { .fd = -1 };
	struct static_source src;
	struct identity_pool pool;
	struct psv_identity v = { .state = PSV_ID_ACTIVE, .id = 41,
				  .mac = { 2, 1, 2, 3, 4, 5 } };
	struct psv_identity dying = { .state = PSV_ID_RETIRED, .id = 40 };

	reset_world();
	identity_put(NULL, ip("192.0.2.201"), &v);
	identity_put(NULL, ip("192.0.2.205"), &dying);
	w.log[0] = '\0';
	static_source_init(&src, ip("192.0.2.200"), ip("192.0.2.210"), &link);
	pool_init(&pool, &params, &static_source_ops, &src, &io);
	CHECK_EQ(pool_adopt(&pool), 0, "adopt");
	static_source_adopted(&src, &pool);
	CHECK(pool_size(&pool) == 1 && pool_get(&pool, 0)->id == 41 &&
	      pool_get(&pool, 0)->state == PSV_ID_ACTIVE &&
	      !memcmp(pool_get(&pool, 0)->mac, v.mac, 6),
	      "the pinned identity, as it was");
	CHECK(!strcmp(w.log, "route 192.0.2.201, del 192.0.2.205"),
	      "its route made sure of; one left retiring is deleted: %s", w.log);
	CHECK_EQ(pool_next_id(&pool), 42, "ids go on after the adopted one");
	pool_refill(&pool, 1000);
	CHECK(pool_find_ip(&pool, ip("192.0.2.202")),
	      "the static range goes on past the adopted address");
	/* A failed map write: the identity does not stay. */
	w.fail_put = -ENOSPC;
	pool_retire(&pool, pool_find_ip(&pool, ip("192.0.2.202")), "test");
	pool_refill(&pool, 5000);
	CHECK(!pool_find_ip(&pool, ip("192.0.2.203")),
	      "an identity the map refused is given up");
	pool_release_all(&pool, 0);
	pool_free(&pool);
}

/* A canned reply of type for the client of id, as the server's frame. */
static int reply_frame(uint8_t *frame, size_t size, uint8_t type,
		       const struct identity *id)
{
	const struct dhcp_client *c = id->source_state;
	static const uint8_t srv_mac[6] = { 0x0a, 9, 9, 9, 9, 9 };
	uint8_t dhcp[CANNED_LEN];
	int len;

	canned_for(dhcp, type, c->xid, id->mac);
	len = link_frame_build_udp(frame, size, srv_mac, NULL,
				   ip("192.0.2.1"), htonl(INADDR_BROADCAST),
				   dhcp, sizeof(dhcp));
	/* Ports swapped (68 -> 67 becomes 67 -> 68): the sum stays valid. */
	frame[35] = DHCP_SERVER_PORT;
	frame[37] = DHCP_CLIENT_PORT;
	return len;
}

/* The server's reply of type to id's client, through the link socket. */
static int server_reply(struct link_socket *link, uint64_t now_ms,
			uint8_t type, const struct identity *id)
{
	uint8_t frame[LINK_FRAME_MAX];
	int len = reply_frame(frame, sizeof(frame), type, id);

	return link_socket_dispatch(link, now_ms, frame, len, 0);
}

/* A pool of DHCP identities on link (no ARP probe), in a fresh world. */
static void dhcp_pool(struct identity_pool *pool, struct dhcp_source *src,
		      struct link_socket *link, const struct pool_params *p)
{
	struct dhcp_params dp;

	reset_world();
	dhcp_params_default(&dp);
	dp.skip_probe = true;
	dhcp_source_init(src, link, "test0", &dp, NULL);
	pool_init(pool, p, &dhcp_source_ops, src, &io);
	dhcp_source_bind(src, pool);
}

static void test_dhcp(void)
{
	struct link_socket link = { .fd = -1 };
	struct dhcp_source src;
	struct identity_pool pool;
	struct dhcp_client_stats cs;
	const struct pool_params one = { .ready = 1, .max = 2,
					 .idle_retire_s = 10 };
	uint8_t frame[LINK_FRAME_MAX];
	struct identity *id;
	int64_t expires;
	uint32_t server;
	int len;

	dhcp_pool(&pool, &src, &link, &one);
	CHECK(link.rx != NULL, "the DHCP source takes the link's frames");
	pool_refill(&pool, 1000);
	id = pool_get(&pool, 0);
	CHECK(id && id->state == PSV_ID_ACQUIRING && id->source_state,
	      "acquiring, with a DHCP client");
	CHECK(link.stats.tx_errors >= 1, "its DISCOVER went to the link");
	pool_lease(&pool, id, &expires, &server);
	CHECK(!expires && !server, "no lease yet");

	CHECK_EQ(server_reply(&link, 1001, DHCP_OFFER, id), 0,
		 "the OFFER reaches its client by chaddr");
	CHECK_EQ(server_reply(&link, 1002, DHCP_ACK, id), 0, "the ACK too");
	CHECK(id->state == PSV_ID_READY && id->ip == ip("192.0.2.134"),
	      "bound: ready with the leased address");
	CHECK(w.n_ready == 1 && w.ready[0] == id->ip, "queued");
	pool_lease(&pool, id, &expires, &server);
	CHECK(expires > 0 && server == ip("192.0.2.1"),
	      "its lease, from the client: expiry and server");
	CHECK_EQ(link.stats.rx_dhcp, 2, "two replies counted at the link");

	/* A frame about an address nobody holds is nobody's. */
	len = link_frame_build_arp(frame, sizeof(frame), id->mac, 0,
				   ip("192.0.2.99"));
	frame[21] = 2;	/* a reply, so it is not our own request */
	CHECK_EQ(link_socket_dispatch(&link, 1003, frame, len, 0), -ENOENT,
		 "ARP for an unknown address: nobody's");

	dhcp_source_client_stats(&src, &cs);
	CHECK_EQ(cs.rx_accepted, 2, "the client counted both replies");
	pool_retire(&pool, id, "test");
	CHECK(pool_size(&pool) == 0 && w.n_ready == 0 && !w.identities[0],
	      "retired: out of the queue and the map");
	dhcp_source_client_stats(&src, &cs);
	CHECK_EQ(cs.rx_accepted, 2, "a freed client's counters are kept");
	CHECK_EQ(dhcp_source_run(&src, 2000), UINT64_MAX, "nothing due");
	pool_free(&pool);
}

/* The demand model alone (demand.h), on a fake clock. */
static void test_demand(void)
{
	struct demand d = { 0 };
	uint64_t t = 1000000;

	CHECK_EQ(demand_target(&d, t, 600, 8), 8, "no demand: the floor");
	for (int i = 0; i < 14; i++)
		demand_note(&d, t + i * 50, 600);	/* 14 groups in 0.7 s */
	t += 700;
	CHECK_EQ(demand_target(&d, t, 600, 8), 14,
		 "a burst of 14 new groups: target 14");
	CHECK(demand_rate(&d, t) > 1.3 && demand_rate(&d, t) < 1.45,
	      "recent rate about 14 / DEMAND_BURST_S per second (%.2f)",
	      demand_rate(&d, t));
	CHECK_EQ(demand_target(&d, t + 60 * 1000, 600, 8), 13,
		 "a minute later: 13 (peak %.2f, decays by e in 600 s)",
		 d.peak);
	CHECK_EQ(demand_target(&d, t + 336 * 1000, 600, 8), 8,
		 "600 s * ln(14 / 8) later: back at the floor");
	CHECK_EQ(demand_target(&d, t + 3600 * 1000, 600, 4), 4,
		 "an hour later: the floor");

	/* A second page a minute later: the peak is the larger burst, the
	 * bursts do not add up (the pool refills between pages). */
	t += 60 * 1000;
	for (int i = 0; i < 10; i++)
		demand_note(&d, t + i * 50, 600);
	CHECK_EQ(demand_target(&d, t + 500, 600, 8), 13,
		 "a smaller burst does not lower the target");
	for (int i = 0; i < 20; i++)
		demand_note(&d, t + 1000 + i * 20, 600);
	CHECK(demand_target(&d, t + 1400, 600, 8) >= 20,
	      "a larger burst raises it");

	/* A slow drizzle of one group every 10 s: no burst. */
	d = (struct demand){ 0 };
	for (int i = 0; i < 60; i++)
		demand_note(&d, t + i * 10000ULL, 600);
	CHECK_EQ(demand_target(&d, t + 600000, 600, 8), 8,
		 "one group every 10 s keeps the floor");
	d = (struct demand){ 0 };
	demand_note(&d, t, 0);
	demand_note(&d, t + 1, 0);
	CHECK_EQ(demand_target(&d, t + 1, 0, 3), 3,
		 "demand_window 0: the floor only");
}

/* The pool following demand: refill after a burst, pacing, surplus. */
static void test_supply(void)
{
	struct link_socket link = { .fd = -1 };
	const struct pool_params p = { .ready = 2, .max = 12,
				       .idle_retire_s = 10, .pace_ms = 300,
				       .demand_window_s = 600 };
	struct static_source src;
	struct identity_pool pool;
	uint64_t t = 100000, first = 0, last = 0, next;
	unsigned int n;

	reset_world();
	fake_now_ms = t;
	static_source_init(&src, ip("192.0.2.100"), ip("192.0.2.140"), &link);
	pool_init(&pool, &p, &static_source_ops, &src, &io);
	for (int i = 0; i < 50 && pool_count_state(&pool, PSV_ID_READY) < 2; i++)
		t = pool_refill(&pool, t) == UINT64_MAX ? t : pool.next_acquire_ms;
	CHECK_EQ(pool_count_state(&pool, PSV_ID_READY), 2,
		 "supply: the floor, ready");
	CHECK_EQ(pool_ready_target(&pool, t), 2, "supply: target = floor");

	/* A page: 8 new groups within 0.4 s.  Two take the ready ones,
	 * six find the queue empty (link); all are demand. */
	for (int i = 0; i < 8; i++) {
		fake_now_ms = t + i * 50;
		if (i < 2)
			pool_identity_taken(&pool, w.ready[i]);
		else
			pool_exhausted(&pool);
	}
	t += 400;
	CHECK_EQ(pool_ready_target(&pool, t), 8,
		 "supply: after a burst of 8 the target is 8");

	/* Refill: paced, random, each delay at most pace_ms. */
	n = pool_count_state(&pool, PSV_ID_READY);
	for (int i = 0; i < 100 && pool_count_state(&pool, PSV_ID_READY) < 8;
	     i++) {
		next = pool_refill(&pool, t);
		if (pool_count_state(&pool, PSV_ID_READY) > n) {
			n = pool_count_state(&pool, PSV_ID_READY);
			if (!first)
				first = t;
			last = t;
			CHECK(next == UINT64_MAX || next - t <= 300,
			      "supply: next acquisition within pace_ms");
		}
		if (next == UINT64_MAX)
			break;
		t = next;
	}
	CHECK_EQ(pool_count_state(&pool, PSV_ID_READY), 8,
		 "supply: refilled to 8 ready");
	CHECK(last - first <= 7 * 300,
	      "supply: 8 acquisitions within 7 paces (%llu ms)",
	      (unsigned long long)(last - first));
	CHECK_EQ(pool_size(&pool), 10, "supply: 2 active + 8 ready");
	CHECK_EQ(pool_refill(&pool, t), UINT64_MAX, "supply: target met");

	/* The budget: max 12 holds, whatever the demand. */
	fake_now_ms = t;
	for (int i = 0; i < 30; i++)
		pool_exhausted(&pool);
	CHECK_EQ(pool_ready_target(&pool, t), 12, "supply: target capped at max");
	for (int i = 0; i < 100; i++) {
		next = pool_refill(&pool, t);
		if (next == UINT64_MAX)
			break;
		t = next;
	}
	CHECK_EQ(pool_size(&pool), 12, "supply: never more than max (12)");
	CHECK_EQ(pool_leases_held(&pool), 12, "supply: 12 leases held");

	{
		uint32_t acq, rel;

		lease_count_hour(&pool.leases, t, &acq, &rel);
		CHECK(acq == 12 && rel == 0,
		      "supply: last hour 12 acquired, none released (%u, %u)",
		      acq, rel);
	}

	/* Demand gone (a window of 0: the target is the floor at once), but
	 * the surplus became ready moments ago: kept until idle_retire. */
	{
		struct pool_params p0 = p;

		p0.demand_window_s = 0;
		pool_set_params(&pool, &p0);
		CHECK_EQ(pool_refill(&pool, t), UINT64_MAX,
			 "supply: surplus ready for less than idle_retire: kept");
		CHECK_EQ(pool_count_state(&pool, PSV_ID_READY), 10,
			 "supply: all 10 still ready");
		pool_set_params(&pool, &p);
	}

	/* An hour later: surplus ready identities are released, paced,
	 * down to the floor. */
	t += 3600 * 1000;
	fake_now_ms = t;
	for (int i = 0; i < 100; i++) {
		next = pool_refill(&pool, t);
		if (next == UINT64_MAX)
			break;
		t = next;
		fake_now_ms = t;
	}
	CHECK_EQ(pool_count_state(&pool, PSV_ID_READY), 2,
		 "supply: an hour later, back to the floor");
	CHECK_EQ(pool_size(&pool), 4, "supply: the surplus released");
	{
		uint32_t acq, rel;

		lease_count_hour(&pool.leases, t, &acq, &rel);
		CHECK(acq == 0 && rel == 8,
		      "supply: last hour 0 acquired (an hour ago), 8 released "
		      "(%u, %u)", acq, rel);
	}
	/* At shutdown the releases leave a gap apart: 4 leases, 3 gaps. */
	{
		struct timespec a, b;
		long us;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pool_release_all(&pool, 2000);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us = (b.tv_sec - a.tv_sec) * 1000000 +
		     (b.tv_nsec - a.tv_nsec) / 1000;
		CHECK(pool_size(&pool) == 0 && us >= 3 * 2000,
		      "release_all: every lease released, 2 ms apart "
		      "(%ld us for 4)", us);
	}
	pool_free(&pool);
}

/* What the dataplane does when a new group pops the queue's head. */
static uint32_t pop_ready(void)
{
	uint32_t head = w.ready[0];

	memmove(w.ready, w.ready + 1, --w.n_ready * sizeof(w.ready[0]));
	return head;
}

/* One scan at t with the given identity's flows (0: none). */
static void scan_at(struct identity_pool *pool, uint64_t t, uint32_t with_flow)
{
	fake_now_ms = t;
	pool_flows_reset(pool);
	if (with_flow)
		pool_flow_seen(pool, with_flow, 1);
	pool_retire_idle(pool, t);
}

/*
 * A connected UDP socket holds a ready identity without sending (a route
 * probe): no demand; once its socket is gone, its groups are dropped,
 * and a scan later it is queued again, unless a frame left from it
 * meanwhile (the dataplane made it ACTIVE).
 */
static void test_hold(void)
{
	struct link_socket link = { .fd = -1 };
	struct static_source src;
	struct identity_pool pool;
	const struct pool_params p = { .ready = 2, .max = 4,
				       .idle_retire_s = 10,
				       .demand_window_s = 600 };
	uint64_t t = 100000;
	struct identity *a, *b;
	uint32_t va, vb;

	reset_world();
	fake_now_ms = t;
	static_source_init(&src, ip("192.0.2.100"), ip("192.0.2.140"), &link);
	pool_init(&pool, &p, &static_source_ops, &src, &io);
	pool_refill(&pool, t);
	pool_refill(&pool, t + 1);
	CHECK_EQ(w.n_ready, 2, "hold: two queued");

	va = pop_ready();
	a = pool_find_ip(&pool, va);
	pool_identity_held(&pool, va);
	CHECK(a->state == PSV_ID_READY && a->held_ms == t,
	      "hold: a held identity stays ready in psvd");
	pool_identity_held(&pool, va);
	CHECK(pool.demand.burst > 0.99 && pool.demand.burst < 1.01,
	      "hold: demand on the queue (%.2f), as a taken one is, once for "
	      "two sockets", pool.demand.burst);
	pool_refill(&pool, t + 10);
	CHECK(w.n_ready == 2 && pool_size(&pool) == 3,
	      "hold: the queue refilled (a held one is out of it)");
	scan_at(&pool, t + 500, va);
	scan_at(&pool, t + 2500, va);
	CHECK(w.groups_dropped == 0 && a->held_ms && !a->reclaiming,
	      "hold: its socket still open: kept held, groups kept");
	scan_at(&pool, t + 4500, 0);
	CHECK(w.groups_dropped == 1 && w.n_ready == 2 && a->reclaiming,
	      "hold: socket gone: its groups dropped first, not queued yet");
	scan_at(&pool, t + 6500, 0);
	CHECK(w.n_ready == 3 && w.ready[2] == va && !a->held_ms &&
	      a->state == PSV_ID_READY && pool.reclaimed == 1,
	      "hold: a scan later: queued again, ready, counted");

	/* A socket bound between the two scans keeps it held. */
	vb = pop_ready();
	b = pool_find_ip(&pool, vb);
	pool_identity_held(&pool, vb);
	scan_at(&pool, t + 8000, 0);
	CHECK(b->reclaiming, "hold: the first scan drops its groups");
	scan_at(&pool, t + 10000, vb);
	CHECK(!b->reclaiming && w.n_ready == 2,
	      "hold: a socket on it at the next: not queued");

	/* Its frame left (the dataplane made it ACTIVE) before the event
	 * came: never queued again, whatever the scans say. */
	w.values[slot(w.identities, vb)].state = PSV_ID_ACTIVE;
	scan_at(&pool, t + 12000, 0);
	scan_at(&pool, t + 14000, 0);
	CHECK(w.n_ready == 2, "hold: used meanwhile: not queued again");
	pool_identity_taken(&pool, vb);
	CHECK(b->state == PSV_ID_ACTIVE && !b->held_ms,
	      "hold: then taken: active, held no more");
	CHECK(pool.demand.burst > 1.0 && pool.demand.burst < 2.0,
	      "hold: held then taken is demand once (%.2f for two holds)",
	      pool.demand.burst);
	pool_release_all(&pool, 0);
	pool_free(&pool);
}

/*
 * The host moved to another network: every identity goes at once, its
 * entry RETIRED before its sockets end (egress drops their RSTs), and
 * not one frame leaves for it (no DHCPRELEASE); the pool then acquires
 * fresh ones.  A static range off the new subnet gives none.
 */
static void test_network_move(void)
{
	struct link_socket link = { .fd = -1 };
	const struct pool_params p = { .ready = 2, .max = 3,
				       .idle_retire_s = 10 };
	struct dhcp_client_stats before, after;
	struct dhcp_source dsrc;
	struct static_source ssrc;
	struct identity_pool pool;
	struct identity *a;
	uint8_t old_mac[6];
	uint64_t sent;

	dhcp_pool(&pool, &dsrc, &link, &p);
	pool_refill(&pool, 1000);
	a = pool_get(&pool, 0);
	server_reply(&link, 1001, DHCP_OFFER, a);
	server_reply(&link, 1002, DHCP_ACK, a);
	pool_identity_taken(&pool, a->ip);
	pool_refill(&pool, 1003);
	CHECK(pool_size(&pool) == 2 && a->state == PSV_ID_ACTIVE &&
	      pool_get(&pool, 1)->state == PSV_ID_ACQUIRING,
	      "move: one identity active, one acquiring");
	memcpy(old_mac, a->mac, 6);
	dhcp_source_client_stats(&dsrc, &before);
	sent = link.stats.tx_frames + link.stats.tx_errors;
	w.log[0] = '\0';
	CHECK_EQ(pool_forget_all(&pool), 2, "move: both go");
	CHECK(pool_size(&pool) == 0 && !w.identities[0] && !w.routes[0],
	      "move: no identity, entry or route left");
	CHECK(!strcmp(w.log, "groups 192.0.2.134, put 192.0.2.134, unroute "
		      "192.0.2.134, end 192.0.2.134, del 192.0.2.134"),
	      "move: marked retired and unrouted before its sockets end: %s",
	      w.log);
	CHECK(w.values[0].state == PSV_ID_RETIRED,
	      "move: the entry said RETIRED while its sockets ended");
	dhcp_source_client_stats(&dsrc, &after);
	CHECK(after.tx == before.tx &&
	      link.stats.tx_frames + link.stats.tx_errors == sent,
	      "move: no DHCPRELEASE, not a frame sent");
	CHECK_EQ(pool.retired, 2, "move: counted as retired");
	pool_refill(&pool, 2000);
	CHECK(pool_size(&pool) == 1 && memcmp(pool_get(&pool, 0)->mac, old_mac, 6),
	      "move: a fresh identity is acquired, with a new MAC");
	pool_release_all(&pool, 0);
	pool_free(&pool);

	reset_world();
	static_source_init(&ssrc, ip("192.0.2.200"), ip("192.0.2.202"), &link);
	pool_init(&pool, &p, &static_source_ops, &ssrc, &io);
	pool_refill(&pool, 1000);
	pool_refill(&pool, 2000);
	static_source_set_subnet(&ssrc, ip("203.0.113.150"),
				 ip("255.255.255.128"));
	CHECK_EQ(pool_forget_all(&pool), 2, "move, static: both go");
	CHECK_EQ(pool_refill(&pool, 3000), 4000,
		 "move, static: the range is off the new subnet: none, try "
		 "again in a second");
	CHECK_EQ(pool_size(&pool), 0, "move, static: no identity");
	static_source_set_subnet(&ssrc, ip("192.0.2.9"), ip("255.255.255.0"));
	pool_refill(&pool, 5000);
	CHECK(pool_size(&pool) == 1 && pool_find_ip(&pool, ip("192.0.2.202")),
	      "move, static: back in the range's subnet: its next fresh "
	      "address");
	pool_release_all(&pool, 0);
	pool_free(&pool);
}

/* How many times ip is in psv_ready. */
static unsigned int queued_times(uint32_t ip)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < w.n_ready; i++)
		n += w.ready[i] == ip;
	return n;
}

/*
 * psvd killed while sockets held two ready identities: the next one
 * finds them READY in the map but out of the queue.  Held from the
 * adoption: one whose socket is gone goes back to the queue after the
 * grace period, one whose socket sends becomes active; a ready one in
 * the queue stays as it is.
 */
static void test_adopt_held(void)
{
	struct link_socket link = { .fd = -1 };
	struct static_source src;
	struct identity_pool pool;
	const struct pool_params p = { .ready = 2, .max = 6,
				       .idle_retire_s = 10 };
	struct psv_identity v = { .state = PSV_ID_READY };
	uint32_t gone = ip("192.0.2.201"), queued = ip("192.0.2.202"),
		 sending = ip("192.0.2.203");
	struct identity *g, *q, *s;
	uint64_t t = 100000;

	reset_world();
	fake_now_ms = t;
	for (uint32_t i = 1; i <= 3; i++) {
		v.id = i;
		v.mac[5] = i;
		identity_put(NULL, ip("192.0.2.200") + htonl(i), &v);
	}
	ready_push(NULL, queued);
	static_source_init(&src, ip("192.0.2.200"), ip("192.0.2.210"), &link);
	pool_init(&pool, &p, &static_source_ops, &src, &io);
	CHECK_EQ(pool_adopt(&pool), 0, "adopt held: adopted");
	static_source_adopted(&src, &pool);
	g = pool_find_ip(&pool, gone);
	q = pool_find_ip(&pool, queued);
	s = pool_find_ip(&pool, sending);
	CHECK(g->state == PSV_ID_READY && g->held_ms == t &&
	      s->state == PSV_ID_READY && s->held_ms == t,
	      "adopt held: ready ones out of the queue are held");
	CHECK(q->state == PSV_ID_READY && !q->held_ms,
	      "adopt held: the one in the queue is not");
	CHECK(w.n_ready == 1 && w.ready[0] == queued,
	      "adopt held: the queue as it was");
	pool_refill(&pool, t);
	CHECK_EQ(pool_size(&pool), 4,
		 "adopt held: the pool refills (held ones are out of the queue)");

	/* The sending one's socket is open until its frame leaves. */
	scan_at(&pool, t + 500, sending);
	scan_at(&pool, t + 2500, sending);
	CHECK(w.groups_dropped == 1 && g->reclaiming && !s->reclaiming,
	      "adopt held: after the grace, the unused one's groups dropped");
	CHECK(!queued_times(gone), "adopt held: ... not queued yet");
	scan_at(&pool, t + 4500, sending);
	CHECK(queued_times(gone) == 1 && !g->held_ms &&
	      g->state == PSV_ID_READY && pool.reclaimed == 1,
	      "adopt held: a scan later, queued again, counted");
	CHECK(!queued_times(sending) && s->held_ms,
	      "adopt held: the one with a socket stays held, out of the queue");
	pool_identity_taken(&pool, sending);
	CHECK(s->state == PSV_ID_ACTIVE && !s->held_ms,
	      "adopt held: its frame left: active");
	scan_at(&pool, t + 6500, sending);
	CHECK(!queued_times(sending) && s->state == PSV_ID_ACTIVE,
	      "adopt held: active, never queued");
	CHECK(queued_times(queued) == 1 && !q->held_ms && !q->reclaiming &&
	      w.groups_dropped == 1,
	      "adopt held: the queued one untouched, in the queue once");
	pool_release_all(&pool, 0);
	pool_free(&pool);

	/* The queue unreadable: none held, none ever queued twice. */
	reset_world();
	fake_now_ms = t;
	identity_put(NULL, gone, &v);
	w.fail_each = -EIO;
	pool_init(&pool, &p, &static_source_ops, &src, &io);
	CHECK_EQ(pool_adopt(&pool), 0, "adopt held: the queue unreadable");
	CHECK(!pool_find_ip(&pool, gone)->held_ms,
	      "adopt held: ... then a ready one counts as queued");
	pool_release_all(&pool, 0);
	pool_free(&pool);
}

int main(void)
{
	log_init("test_pool", false, LOG_LVL_ERROR);
	test_demand();
	test_supply();
	test_hold();
	test_static();
	test_adopt();
	test_adopt_held();
	test_dhcp();
	test_network_move();
	return check_exit();
}
