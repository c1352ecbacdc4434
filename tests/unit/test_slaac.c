// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_slaac.c - the identities' IPv6 addresses (pool/slaac.c) driven
 * directly: a pool with static addresses whose io is a recorder, slaac's
 * io a recorder too, router advertisements and DAD answers handed in as
 * validated frames, time passed in by hand.  Covers readiness held for
 * DAD, conflicts and retries, lifetimes, retirement, DHCPv6-only
 * networks and adoption after a restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "psvd/link/link_socket.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/pool/slaac.h"
#include "psvd/pool/static_source.h"
#include "common/clock.h"

/* The pool's world: the psv_identities entries and the ready queue. */
#define MAX 16
static struct {
	uint32_t ids[MAX];
	struct psv_identity vals[MAX];
	uint32_t ready[MAX];
	unsigned int n_ready;
} pw;

static int slot_of(uint32_t ip)
{
	for (int i = 0; i < MAX; i++)
		if (pw.ids[i] == ip)
			return i;
	return -1;
}

static int identity_put(void *ctx, uint32_t ip, const struct psv_identity *v)
{
	int i = slot_of(ip);

	(void)ctx;
	if (i < 0)
		i = slot_of(0);
	pw.ids[i] = ip;
	pw.vals[i] = *v;
	return 0;
}

static void identity_del(void *ctx, uint32_t ip)
{
	int i = slot_of(ip);

	(void)ctx;
	if (i >= 0)
		pw.ids[i] = 0;
}

static int identity_each(void *ctx,
			 void (*cb)(void *arg, uint32_t ip,
				    const struct psv_identity *v),
			 void *arg)
{
	(void)ctx;
	for (int i = 0; i < MAX; i++)
		if (pw.ids[i])
			cb(arg, pw.ids[i], &pw.vals[i]);
	return 0;
}

static int ready_push(void *ctx, uint32_t ip)
{
	(void)ctx;
	pw.ready[pw.n_ready++] = ip;
	return 0;
}

static void ready_remove(void *ctx, uint32_t ip)
{
	unsigned int n = 0;

	(void)ctx;
	for (unsigned int i = 0; i < pw.n_ready; i++)
		if (pw.ready[i] != ip)
			pw.ready[n++] = pw.ready[i];
	pw.n_ready = n;
}

static int ready_each(void *ctx, void (*cb)(void *arg, uint32_t ip), void *arg)
{
	(void)ctx;
	for (unsigned int i = 0; i < pw.n_ready; i++)
		cb(arg, pw.ready[i]);
	return 0;
}

static void nop_ip(void *ctx, uint32_t ip)
{
	(void)ctx, (void)ip;
}

static int ok_ip(void *ctx, uint32_t ip)
{
	(void)ctx, (void)ip;
	return 0;
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return clock_now_ms();
}

static const struct pool_io pool_io = {
	.identity_put = identity_put, .identity_del = identity_del,
	.identity_each = identity_each, .ready_push = ready_push,
	.ready_remove = ready_remove, .ready_each = ready_each,
	.groups_drop = nop_ip,
	.route_add = ok_ip, .route_del = nop_ip, .sockets_end = nop_ip,
	.now_ms = now_ms,
};

/* slaac's world: psv_addrs6, lo, what was sent, in order. */
static struct {
	uint8_t owners[MAX][16];
	struct psv_addr6_owner ovals[MAX];
	uint8_t locals[MAX][16];
	unsigned int dad_sent, rs_sent;
	uint8_t last_dad_mac[6], last_dad_target[16], last_rs_mac[6];
	char log[1024];
} sw;

static const uint8_t zero16[16];

static int slot16(uint8_t set[][16], const uint8_t a[16])
{
	for (int i = 0; i < MAX; i++)
		if (!memcmp(set[i], a, 16))
			return i;
	return -1;
}

static void note(const char *what, const uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];

	snprintf(sw.log + strlen(sw.log), sizeof(sw.log) - strlen(sw.log),
		 "%s%s %s", sw.log[0] ? ", " : "", what,
		 inet_ntop(AF_INET6, a, buf, sizeof(buf)));
}

static int send_dad(void *ctx, const uint8_t mac[6], const uint8_t a[16])
{
	(void)ctx;
	sw.dad_sent++;
	memcpy(sw.last_dad_mac, mac, 6);
	memcpy(sw.last_dad_target, a, 16);
	return 0;
}

static int send_rs(void *ctx, const uint8_t mac[6])
{
	(void)ctx;
	sw.rs_sent++;
	memcpy(sw.last_rs_mac, mac, 6);
	return 0;
}

static int owner_put(void *ctx, const uint8_t a[16], uint32_t vip,
		     bool dad_done)
{
	int i = slot16(sw.owners, a);

	(void)ctx;
	note(dad_done ? "done" : "dad", a);
	if (i < 0)
		i = slot16(sw.owners, zero16);
	memcpy(sw.owners[i], a, 16);
	sw.ovals[i] = (struct psv_addr6_owner){ .vip = vip,
						.dad_done = dad_done };
	return 0;
}

static void owner_del(void *ctx, const uint8_t a[16])
{
	int i = slot16(sw.owners, a);

	(void)ctx;
	note("undad", a);
	if (i >= 0)
		memset(sw.owners[i], 0, 16);
}

static int owner_each(void *ctx,
		      bool (*cb)(void *arg, const uint8_t a[16],
				 const struct psv_addr6_owner *o),
		      void *arg)
{
	(void)ctx;
	for (int i = 0; i < MAX; i++)
		if (memcmp(sw.owners[i], zero16, 16) &&
		    cb(arg, sw.owners[i], &sw.ovals[i]))
			memset(sw.owners[i], 0, 16);
	return 0;
}

static int local_add(void *ctx, const uint8_t a[16], bool preferred)
{
	(void)ctx;
	note(preferred ? "lo" : "lo-deprecated", a);
	if (slot16(sw.locals, a) < 0)
		memcpy(sw.locals[slot16(sw.locals, zero16)], a, 16);
	return 0;
}

static void local_del(void *ctx, const uint8_t a[16])
{
	int i = slot16(sw.locals, a);

	(void)ctx;
	note("unlo", a);
	if (i >= 0)
		memset(sw.locals[i], 0, 16);
}

static int local_each(void *ctx, void (*cb)(void *arg, const uint8_t a[16]),
		      void *arg)
{
	uint8_t copy[MAX][16];

	(void)ctx;
	memcpy(copy, sw.locals, sizeof(copy));
	for (int i = 0; i < MAX; i++)
		if (memcmp(copy[i], zero16, 16))
			cb(arg, copy[i]);
	return 0;
}

static void sockets_end(void *ctx, const uint8_t a[16])
{
	(void)ctx;
	note("end", a);
}

static const struct slaac_io slaac_io = {
	send_dad, send_rs, owner_put, owner_del, owner_each,
	local_add, local_del, local_each, sockets_end, NULL,
};

static const struct pool_params params = {
	.ready = 1, .max = 8, .idle_retire_s = 10, .pace_ms = 0,
};

static struct link_socket link_sock = { .fd = -1 };
static struct static_source src;
static struct identity_pool pool;
static struct slaac s;
static uint64_t t0;

static uint32_t ip(const char *a)
{
	struct in_addr in;

	inet_pton(AF_INET, a, &in);
	return in.s_addr;
}

static void setup(bool hooks)
{
	struct pool_hooks h;

	memset(&pw, 0, sizeof(pw));
	memset(&sw, 0, sizeof(sw));
	static_source_init(&src, ip("192.0.2.200"), ip("192.0.2.209"), &link_sock);
	pool_init(&pool, &params, &static_source_ops, &src, &pool_io);
	slaac_init(&s, &pool, &slaac_io);
	if (hooks) {
		slaac_pool_hooks(&s, &h);
		pool_set_hooks(&pool, &h);
	}
}

static void teardown(void)
{
	pool_release_all(&pool, 0);
	slaac_free(&s);
	pool_free(&pool);
}

/* A router advertisement from fe80::1 with one prefix option. */
static int ra(bool managed, const char *prefix, uint8_t len, uint32_t valid,
	      uint32_t preferred, uint8_t hop_limit)
{
	static uint8_t m[48];
	struct link_frame f = { .kind = LINK_FRAME_ND, .nd_type = LINK_ND_RA,
				.hop_limit = hop_limit, .payload = m };

	memset(m, 0, sizeof(m));
	m[0] = 134;
	m[5] = managed ? 0x80 : 0;
	f.len = 16;
	if (prefix) {
		m[16] = 3;
		m[17] = 4;
		m[18] = len;
		m[19] = 0xc0;
		for (int i = 0; i < 4; i++) {
			m[20 + i] = valid >> (24 - 8 * i);
			m[24 + i] = preferred >> (24 - 8 * i);
		}
		inet_pton(AF_INET6, prefix, m + 32);
		f.len = 48;
	}
	inet_pton(AF_INET6, "fe80::1", f.ip6_src);
	return slaac_nd(&s, t0, &f);
}

/* An NS or NA about target, from src (an address), from mac. */
static int nd(uint8_t type, const char *src_ip, const uint8_t *src_mac,
	      const uint8_t target[16], uint8_t hop_limit)
{
	static uint8_t m[24];
	struct link_frame f = { .kind = LINK_FRAME_ND, .nd_type = type,
				.hop_limit = hop_limit, .payload = m,
				.len = 24 };

	memset(m, 0, sizeof(m));
	m[0] = type;
	memcpy(m + 8, target, 16);
	inet_pton(AF_INET6, src_ip, f.ip6_src);
	memcpy(f.src_mac, src_mac, 6);
	return slaac_nd(&s, t0, &f);
}

static bool in_prefix(const uint8_t a[16], const char *prefix)
{
	uint8_t p[16];

	inet_pton(AF_INET6, prefix, p);
	return !memcmp(a, p, 8);
}

static const struct psv_identity *entry(uint32_t vip)
{
	int i = slot_of(vip);

	return i < 0 ? NULL : &pw.vals[i];
}

static void test_no_prefix(void)
{
	static const uint8_t other_mac[6] = { 2, 9, 9, 9, 9, 9 };
	struct identity *id;

	setup(true);
	slaac_start(&s, t0);
	CHECK_EQ(slaac_run(&s, t0), t0 + SLAAC_RS_INTERVAL_MS,
		 "a router solicitation, the next in 4 s");
	CHECK(sw.rs_sent == 1 && (sw.last_rs_mac[0] & 3) == 2,
	      "sent from a locally administered MAC");
	pool_refill(&pool, t0);
	id = pool_find_ip(&pool, ip("192.0.2.200"));
	CHECK(id && id->state == PSV_ID_READY && pw.n_ready == 1,
	      "no prefix known: an identity is ready at once, as for IPv4");
	CHECK(memcmp(sw.last_rs_mac, id->mac, 6) != 0,
	      "the solicitation's MAC is no identity's");
	slaac_run(&s, t0 + 4000);
	slaac_run(&s, t0 + 8000);
	CHECK_EQ(slaac_run(&s, t0 + 12000), UINT64_MAX,
		 "three solicitations, then none");
	CHECK_EQ(sw.rs_sent, 3, "three sent");

	CHECK_EQ(ra(false, "2001:db8:1::", 64, 3600, 1800, 64), -EPERM,
		 "an RA at hop limit 64 is refused");
	CHECK_EQ(s.stats.ra_not_router, 1, "and counted");
	CHECK_EQ(ra(false, "2001:db8:1::", 64, 3600, 1800, 255), 0,
		 "a prefix appears");
	CHECK(s.ra_seen && s.n_prefixes == 1, "remembered");
	CHECK(sw.dad_sent == 1 && !memcmp(sw.last_dad_mac, id->mac, 6) &&
		      in_prefix(sw.last_dad_target, "2001:db8:1::"),
	      "the ready identity starts DAD in it, from its own MAC");
	CHECK(slaac_owner(&s, sw.last_dad_target) == id->ip &&
		      sw.ovals[0].dad_done == 0,
	      "in psv_addrs6 with dad_done 0 meanwhile");
	CHECK(nd(LINK_ND_NS, "2001:db8:1::99", other_mac, sw.last_dad_target,
		 255) == 0 && s.stats.dad_conflicts == 0,
	      "an NS from a used address (address resolution) is no conflict");
	CHECK(nd(LINK_ND_NS, "::", id->mac, sw.last_dad_target, 255) == 0 &&
		      s.stats.dad_conflicts == 0,
	      "our own NS echoed back is no conflict");
	CHECK(nd(LINK_ND_NA, "fe80::2", other_mac, sw.last_dad_target, 64) ==
			      -EPERM && s.stats.dad_conflicts == 0,
	      "an NA at hop limit 64 is ignored");
	sw.log[0] = '\0';
	CHECK_EQ(slaac_run(&s, t0 + 999), t0 + 1000, "DAD waits a second");
	slaac_run(&s, t0 + 1000);
	CHECK(!strncmp(sw.log, "lo ", 3) && strstr(sw.log, ", done "),
	      "then the lo address, then dad_done: %s", sw.log);
	CHECK(!memcmp(&id->ip6, sw.last_dad_target, 16) &&
		      !memcmp(&entry(id->ip)->ip6, sw.last_dad_target, 16),
	      "identity.ip6 set, in psv_identities too");
	teardown();
}

static void test_held_and_conflicts(void)
{
	static const uint8_t other_mac[6] = { 2, 9, 9, 9, 9, 9 };
	uint8_t first[16], second[16];
	struct identity *id;

	setup(true);
	ra(false, "2001:db8:1::", 64, 3600, 1800, 255);
	pool_refill(&pool, t0);
	id = pool_find_ip(&pool, ip("192.0.2.200"));
	CHECK(id && id->state == PSV_ID_ACQUIRING && id->awaiting_ip6 &&
		      pw.n_ready == 0 && entry(id->ip),
	      "a prefix known: bound, in the map, not yet in the ready queue");
	memcpy(first, sw.last_dad_target, 16);
	CHECK_EQ(nd(LINK_ND_NA, "2001:db8:1::5", other_mac, first, 255), 0,
		 "an NA for the tentative address");
	CHECK(s.stats.dad_conflicts == 1 && sw.dad_sent == 2 &&
		      memcmp(first, sw.last_dad_target, 16) &&
		      in_prefix(sw.last_dad_target, "2001:db8:1::") &&
		      !slaac_owner(&s, first),
	      "a conflict: given up, another identifier tried");
	memcpy(second, sw.last_dad_target, 16);
	CHECK_EQ(nd(LINK_ND_NS, "::", other_mac, second, 255), 0,
		 "another node's DAD for the same address");
	CHECK(s.stats.dad_conflicts == 2 && sw.dad_sent == 3,
	      "a conflict too: a third identifier");
	CHECK(pw.n_ready == 0, "still held back");
	nd(LINK_ND_NA, "fe80::5", other_mac, sw.last_dad_target, 255);
	CHECK(s.stats.dad_given_up == 1 && sw.dad_sent == 3 &&
		      slaac_count(&s, SLAAC_FAILED) == 1,
	      "three conflicts: no address in that prefix, counted");
	CHECK(id->state == PSV_ID_READY && pw.n_ready == 1 &&
		      !memcmp(&id->ip6, zero16, 16),
	      "the identity is ready without IPv6 (its v6 flows blocked)");
	ra(false, "2001:db8:1::", 64, 3600, 1800, 255);
	CHECK_EQ(sw.dad_sent, 3, "the same prefix again: no new attempt");
	teardown();
}

static void test_lifetimes(void)
{
	uint8_t a1[16], a2[16];
	struct identity *id;

	setup(true);
	ra(false, "2001:db8:1::", 64, 100, 50, 255);
	pool_refill(&pool, t0);
	id = pool_find_ip(&pool, ip("192.0.2.200"));
	memcpy(a1, sw.last_dad_target, 16);
	/* The pool's hook starts DAD on the real clock, a little after t0. */
	slaac_run(&s, t0 + 1900);
	CHECK(id->state == PSV_ID_READY && !memcmp(&id->ip6, a1, 16),
	      "DAD passed: ready, with its address");
	ra(false, "2001:db8:2::", 64, 1000, 1000, 255);
	memcpy(a2, sw.last_dad_target, 16);
	CHECK(in_prefix(a2, "2001:db8:2::"), "a second prefix: a second address");
	slaac_run(&s, t0 + 2000);
	CHECK(!memcmp(&id->ip6, a1, 16), "the first stays in use while preferred");
	CHECK_EQ(slaac_run(&s, t0 + 2000), t0 + 50 * 1000,
		 "next: the first prefix's preferred lifetime");
	sw.log[0] = '\0';
	slaac_run(&s, t0 + 50 * 1000);
	CHECK(!memcmp(&id->ip6, a2, 16) && !memcmp(&entry(id->ip)->ip6, a2, 16),
	      "preferred over: identity.ip6 moves to the other address");
	CHECK(!strncmp(sw.log, "lo-deprecated 2001:db8:1:", 25),
	      "and its lo address is deprecated too: %s", sw.log);
	CHECK(slaac_owner(&s, a1) == id->ip, "the deprecated one stays valid");
	sw.log[0] = '\0';
	slaac_run(&s, t0 + 100 * 1000);
	CHECK(!slaac_owner(&s, a1) && s.n_prefixes == 1 &&
		      s.stats.addrs_expired == 1,
	      "valid over: the address and its prefix are gone");
	CHECK(!strncmp(sw.log, "end ", 4) && strstr(sw.log, ", unlo ") &&
		      strstr(sw.log, ", undad "),
	      "its sockets, then lo, then psv_addrs6: %s", sw.log);
	/* RFC 4862 5.5.3 e: an RA cannot cut a valid lifetime short. */
	ra(false, "2001:db8:2::", 64, 10, 0, 255);
	CHECK(s.prefixes[0].deprecated && memcmp(&id->ip6, zero16, 16) == 0,
	      "preferred 0: deprecated, no preferred address left, ip6 zero");
	CHECK(s.prefixes[0].valid_until_ms >= t0 + 100 * 1000 + 2 * 3600 * 1000ull -
		      1000 || s.prefixes[0].valid_until_ms == t0 + 1000 * 1000,
	      "valid 10 s is not taken: the two-hour rule");
	ra(false, "2001:db8:2::", 64, 1000, 500, 255);
	CHECK(!memcmp(&id->ip6, a2, 16), "preferred again: ip6 back");
	sw.log[0] = '\0';
	pool_retire(&pool, id, "test");
	CHECK(!strncmp(sw.log, "end ", 4) && strstr(sw.log, "unlo") &&
		      strstr(sw.log, "undad") && !slaac_owner(&s, a2),
	      "retired: its addresses go, sockets first: %s", sw.log);
	teardown();
}

/* Identities already there when a prefix appears: their DADs spread. */
static void test_spread(void)
{
	struct pool_params paced = params;

	setup(true);
	paced.ready = 3;
	paced.pace_ms = 1000;
	pool_set_params(&pool, &paced);
	for (int i = 0; i < 3; i++)
		pool_refill(&pool, t0 + 2000 * i);
	CHECK_EQ(pw.n_ready, 3, "three identities ready before any RA");
	ra(false, "2001:db8:1::", 64, 3600, 1800, 255);
	CHECK(s.stats.dad_started == 3 && sw.dad_sent < 3,
	      "a prefix appears: three DADs started, their NS not all at once "
	      "(%u sent)", sw.dad_sent);
	CHECK(slaac_run(&s, t0) <= t0 + 3000, "the next due within the spread");
	slaac_run(&s, t0 + 3000);
	CHECK_EQ(sw.dad_sent, 3, "all sent within 3 s (pace_ms per identity)");
	slaac_run(&s, t0 + 4000);
	CHECK_EQ(slaac_count(&s, SLAAC_DONE), 3, "a second after the last, done");
	teardown();
}

static void test_dhcpv6_only(void)
{
	setup(true);
	CHECK_EQ(ra(true, NULL, 0, 0, 0, 255), 0, "an RA with M, no prefix");
	CHECK(s.managed_only, "DHCPv6 only: IPv6 flows blocked");
	pool_refill(&pool, t0);
	CHECK_EQ(pw.n_ready, 1, "identities are ready (for IPv4) all the same");
	ra(true, "2001:db8:1::", 48, 100, 100, 255);
	CHECK(s.managed_only && sw.dad_sent == 0,
	      "a /48 with A is no SLAAC prefix: still DHCPv6 only");
	ra(true, "2001:db8:1::", 64, 100, 100, 255);
	CHECK(!s.managed_only && sw.dad_sent == 1,
	      "a SLAAC /64 beside M: addresses");
	teardown();
}

static void test_adopt(void)
{
	struct psv_identity v = { .state = PSV_ID_ACTIVE, .id = 7 };
	struct psv_identity held = { .state = PSV_ID_ACQUIRING, .id = 8 };
	uint8_t kept[16], tentative[16], orphan[16], stray[16];
	struct identity *id;

	setup(true);
	inet_pton(AF_INET6, "2001:db8:1::1234:5678:9abc:def0", kept);
	inet_pton(AF_INET6, "2001:db8:1::1111:2222:3333:4444", tentative);
	inet_pton(AF_INET6, "2001:db8:1::5555:6666:7777:8888", orphan);
	inet_pton(AF_INET6, "2001:db8:9::1", stray);
	memcpy(&v.ip6, kept, 16);
	identity_put(NULL, ip("192.0.2.201"), &v);
	identity_put(NULL, ip("192.0.2.202"), &held);
	owner_put(NULL, kept, ip("192.0.2.201"), true);
	owner_put(NULL, tentative, ip("192.0.2.201"), false);
	owner_put(NULL, orphan, ip("192.0.2.250"), true);
	local_add(NULL, kept, true);
	local_add(NULL, stray, true);
	sw.log[0] = '\0';
	CHECK_EQ(pool_adopt(&pool), 0, "the pool adopts two identities");
	CHECK_EQ(slaac_adopt(&s, true, t0), 0, "slaac adopts");
	CHECK(slaac_owner(&s, kept) == ip("192.0.2.201") &&
		      !slaac_owner(&s, tentative) && !slaac_owner(&s, orphan),
	      "the done address of an adopted identity is kept, no other");
	CHECK(slot16(sw.owners, tentative) < 0 && slot16(sw.owners, orphan) < 0,
	      "a DAD cut short and an identity's that is gone: deleted");
	CHECK(slot16(sw.locals, stray) < 0 && slot16(sw.locals, kept) >= 0,
	      "the stray lo address removed, the adopted one kept");
	id = pool_find_ip(&pool, ip("192.0.2.201"));
	CHECK(id && !memcmp(&id->ip6, kept, 16), "its identity keeps its ip6");
	id = pool_find_ip(&pool, ip("192.0.2.202"));
	CHECK(id && sw.dad_sent == 1 && id->awaiting_ip6,
	      "one held back for DAD: DAD again (the adopted prefix is known)");
	CHECK(s.n_prefixes == 1 &&
		      s.prefixes[0].valid_until_ms == t0 + SLAAC_ADOPT_GRACE_MS,
	      "the adopted prefix lives a grace period until an RA says");
	slaac_run(&s, t0 + 1000);
	CHECK(id->state == PSV_ID_READY, "and then ready");
	teardown();

	setup(false);
	owner_put(NULL, kept, ip("192.0.2.201"), true);
	local_add(NULL, kept, true);
	identity_put(NULL, ip("192.0.2.201"), &v);
	pool_adopt(&pool);
	CHECK(slaac_adopt(&s, false, t0) == 0 &&
		      slot16(sw.owners, kept) < 0 && slot16(sw.locals, kept) < 0,
	      "ipv6 not virtualized: everything of an earlier run removed");
	id = pool_find_ip(&pool, ip("192.0.2.201"));
	CHECK(id && !memcmp(&id->ip6, zero16, 16) &&
		      !memcmp(&entry(id->ip)->ip6, zero16, 16),
	      "and the identity's ip6 cleared");
	teardown();
}

/*
 * The host moved to another network: its identities go with their
 * addresses (pool_forget_all), the old prefixes are forgotten and
 * routers solicited again; a new identity gets no address in an old
 * prefix, only in what the new network advertises.
 */
static void test_network_move(void)
{
	uint8_t old_addr[16];
	struct identity *id;
	uint64_t t;

	setup(true);
	slaac_start(&s, t0);
	slaac_run(&s, t0);
	ra(false, "2001:db8:1::", 64, 3600, 1800, 255);
	pool_refill(&pool, t0);
	/* The bound hook started DAD on the real clock. */
	t = clock_now_ms() + SLAAC_DAD_MS;
	slaac_run(&s, t);
	id = pool_find_ip(&pool, ip("192.0.2.200"));
	CHECK(id && id->state == PSV_ID_READY &&
	      slaac_count(&s, SLAAC_DONE) == 1,
	      "move: an identity with an address in the old prefix");
	memcpy(old_addr, &id->ip6, 16);
	sw.log[0] = '\0';
	pool_forget_all(&pool);
	CHECK(slaac_count(&s, SLAAC_DONE) == 0 && !slaac_owner(&s, old_addr) &&
	      slot16(sw.locals, old_addr) < 0,
	      "move: its address went with it (%s)", sw.log);
	slaac_forget_network(&s, t);
	CHECK(s.n_prefixes == 0 && !s.ra_seen, "move: the old prefix forgotten");
	slaac_run(&s, t);
	CHECK_EQ(sw.rs_sent, 2, "move: a router solicited again");
	pool_refill(&pool, t);
	id = pool_find_ip(&pool, ip("192.0.2.201"));
	CHECK(id && id->state == PSV_ID_READY && sw.dad_sent == 1,
	      "move: a new identity is ready at once, no address in the old "
	      "prefix tried");
	ra(false, "2001:db8:4::", 64, 3600, 1800, 255);
	CHECK(sw.dad_sent == 2 && in_prefix(sw.last_dad_target, "2001:db8:4::") &&
	      !memcmp(sw.last_dad_mac, id->mac, 6),
	      "move: the new network's prefix gives it an address");
	teardown();
}

int main(void)
{
	t0 = clock_now_ms();
	test_no_prefix();
	test_held_and_conflicts();
	test_lifetimes();
	test_spread();
	test_dhcpv6_only();
	test_adopt();
	test_network_move();
	return check_exit();
}
