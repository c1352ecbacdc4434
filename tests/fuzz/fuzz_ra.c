// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_ra.c - libFuzzer target for the IPv6 neighbour discovery psvd
 * reads: the input as an ICMPv6 message for ra_parse() from a router's
 * address, as a whole Ethernet frame for link_frame_parse(), and, when
 * it validates, handed to slaac_nd() as the link socket would (a pool
 * with one identity in DAD, io stubbed), so the prefix table, the
 * lifetimes and the DAD conflict paths see it too.
 */
#include <string.h>

#include "psvd/ipv6/ra.h"
#include "psvd/link/link_frame.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/pool/slaac.h"

static int stub_send_dad(void *c, const uint8_t m[6], const uint8_t a[16])
{
	(void)c, (void)m, (void)a;
	return 0;
}

static int stub_send_rs(void *c, const uint8_t m[6])
{
	(void)c, (void)m;
	return 0;
}

static int stub_owner_put(void *c, const uint8_t a[16], uint32_t vip, bool d)
{
	(void)c, (void)a, (void)vip, (void)d;
	return 0;
}

static void stub_addr(void *c, const uint8_t a[16])
{
	(void)c, (void)a;
}

static int stub_owner_each(void *c,
			   bool (*cb)(void *arg, const uint8_t a[16],
				      const struct psv_addr6_owner *o),
			   void *arg)
{
	(void)c, (void)cb, (void)arg;
	return 0;
}

static int stub_local_add(void *c, const uint8_t a[16], bool preferred)
{
	(void)c, (void)a, (void)preferred;
	return 0;
}

static int stub_local_each(void *c, void (*cb)(void *arg, const uint8_t a[16]),
			   void *arg)
{
	(void)c, (void)cb, (void)arg;
	return 0;
}

static const struct slaac_io io = {
	stub_send_dad, stub_send_rs, stub_owner_put, stub_addr,
	stub_owner_each, stub_local_add, stub_addr, stub_local_each,
	stub_addr, NULL,
};

static int put(void *c, uint32_t ip, const struct psv_identity *v)
{
	(void)c, (void)ip, (void)v;
	return 0;
}

static void nop(void *c, uint32_t ip)
{
	(void)c, (void)ip;
}

static int ok(void *c, uint32_t ip)
{
	(void)c, (void)ip;
	return 0;
}

/* The pool's clock stands still: the input decides what happens. */
static uint64_t still(void *c)
{
	(void)c;
	return 1000;
}

static const struct pool_io pool_io = {
	.identity_put = put, .identity_del = nop, .ready_push = ok,
	.ready_remove = nop, .groups_drop = nop, .route_add = ok,
	.route_del = nop, .sockets_end = nop, .now_ms = still,
};

static int acquire(struct identity_pool *pool, struct identity *id)
{
	return pool_identity_bound(pool, id, 0x0a000001);
}

static void none(struct identity_pool *pool, struct identity *id)
{
	(void)pool, (void)id;
}

static const struct pool_source_ops ops = {
	.acquire = acquire, .release = none, .announce = none,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t router[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t prefix_ra[] = {
		134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
		3, 4, 64, 0xc0, 0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0,
		0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	struct pool_params params = { .ready = 1, .max = 2 };
	struct link_frame f = { .kind = LINK_FRAME_ND,
				.nd_type = LINK_ND_RA, .hop_limit = 255,
				.payload = prefix_ra, .len = sizeof(prefix_ra) };
	struct identity_pool pool;
	struct pool_hooks hooks;
	struct slaac s;
	struct ra ra;

	ra_parse(router, 255, data, size, &ra);
	if (pool_init(&pool, &params, &ops, NULL, &pool_io))
		return 0;
	if (slaac_init(&s, &pool, &io)) {
		pool_free(&pool);
		return 0;
	}
	slaac_pool_hooks(&s, &hooks);
	pool_set_hooks(&pool, &hooks);
	/* A known prefix and an identity whose DAD runs in it. */
	memcpy(f.ip6_src, router, 16);
	slaac_nd(&s, 1000, &f);
	pool_refill(&pool, 1000);
	if (link_frame_parse(data, size, 0, &f) == LINK_FRAME_ND)
		slaac_nd(&s, 1500, &f);
	/* The RA as a message too, whatever its frame. */
	f = (struct link_frame){ .kind = LINK_FRAME_ND, .nd_type = LINK_ND_RA,
				 .hop_limit = 255, .payload = data, .len = size };
	memcpy(f.ip6_src, router, 16);
	if (size >= 24)
		slaac_nd(&s, 2000, &f);
	slaac_run(&s, 1ull << 40);
	pool_release_all(&pool, 0);
	slaac_free(&s);
	pool_free(&pool);
	return 0;
}
