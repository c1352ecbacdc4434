// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_conntrack.c - one expiry pass (loader/conntrack.c) over maps of the
 * dataplane's types, filled with entries on both sides of every timeout,
 * at a clock the test chooses.  What stays is checked against the rules
 * written out here, not against ct_timeout().
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "check.h"
#include "psvd/conntrack.h"
#include "psvd/dataplane.h"
#include "psv.h"

#define SEC 1000000000ULL
#define NOW (10000000 * SEC)	/* later than every age below */


/* One whole expiry pass at once, as psvd's loop runs it turn by turn. */
static void ct_expire(struct dataplane *dp, uint64_t now_ns,
		      const struct ct_observer *obs, struct ct_stats *st)
{
	struct ct_expiry *e = ct_expiry_start(dp, now_ns, obs);

	memset(st, 0, sizeof(*st));
	while (e && ct_expiry_step(e, st))
		;
}

static struct dataplane dp;
static unsigned int n_live;

static int map(const char *name, size_t key, size_t val, unsigned int max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, key, val, max, NULL);

	if (fd < 0)
		printf("# cannot create map %s: %s\n", name, strerror(errno));
	return fd;
}

static void count_live(void *ctx, const struct psv_conn *c)
{
	(void)ctx;
	(void)c;
	n_live++;
}

/* Sockets are bound to identity 77 only. */
#define VIP_WITH_SOCKETS 77

static bool sockets_on(void *ctx, __be32 vip)
{
	(void)ctx;
	return vip == VIP_WITH_SOCKETS;
}

static struct psv_conn_key ckey(__u8 proto, __u16 lport)
{
	struct psv_conn_key k = { .raddr = htonl(0xc6336401), .lport = htons(lport),
				  .rport = htons(80), .proto = proto };
	return k;
}

/* A connection lport idle for idle_s seconds, in group daddr, of app. */
static void add_conn(__u8 proto, __u16 lport, __u8 tcp_state, __u64 idle_s,
		     __u32 daddr, __u32 app)
{
	struct psv_conn_key k = ckey(proto, lport);
	struct psv_conn c = { .vip = htonl(0xc00002c8), .app = app,
			      .last_seen_ns = NOW - idle_s * SEC,
			      .tcp_state = tcp_state };

	c.group.daddr = daddr;
	c.group.proto = proto;
	bpf_map_update_elem(dp.conns_fd, &k, &c, BPF_ANY);
}

static bool has_conn(__u8 proto, __u16 lport)
{
	struct psv_conn_key k = ckey(proto, lport);
	struct psv_conn c;

	return !bpf_map_lookup_elem(dp.conns_fd, &k, &c);
}

/* IPv6: a connection to 2001:db8:2::lport, the group of that address. */
static struct psv_conn6_key ckey6(__u8 proto, __u16 lport)
{
	struct psv_conn6_key k = { .raddr.a = { htonl(0x20010db8),
						htonl(0x20000), 0,
						htonl(lport) },
				   .lport = htons(lport), .rport = htons(443),
				   .proto = proto };
	return k;
}

static void add_conn6(__u8 proto, __u16 lport, __u8 tcp_state, __u64 idle_s)
{
	struct psv_conn6_key k = ckey6(proto, lport);
	struct psv_conn6 c = { .conn = { .vip = htonl(0xc00002c9),
					 .last_seen_ns = NOW - idle_s * SEC,
					 .tcp_state = tcp_state } };

	c.conn.group.ipv6 = 1;
	memcpy(c.conn.group.daddr6, &k.raddr, 16);
	c.conn.group.proto = proto;
	bpf_map_update_elem(dp.conns6_fd, &k, &c, BPF_ANY);
}

static bool has_conn6(__u8 proto, __u16 lport)
{
	struct psv_conn6_key k = ckey6(proto, lport);
	struct psv_conn6 c;

	return !bpf_map_lookup_elem(dp.conns6_fd, &k, &c);
}

static void add_group6(__u8 proto, __u16 lport)
{
	struct psv_conn6_key c = ckey6(proto, lport);
	struct psv_group_key k = { .proto = proto, .ipv6 = 1 };
	struct psv_group g = { .vip = 2, .created_ns = NOW - 3600 * SEC };

	memcpy(k.daddr6, &c.raddr, 16);
	bpf_map_update_elem(dp.groups_fd, &k, &g, BPF_ANY);
}

static bool has_group6(__u8 proto, __u16 lport)
{
	struct psv_conn6_key c = ckey6(proto, lport);
	struct psv_group_key k = { .proto = proto, .ipv6 = 1 };
	struct psv_group g;

	memcpy(k.daddr6, &c.raddr, 16);
	return !bpf_map_lookup_elem(dp.groups_fd, &k, &g);
}

static struct psv_group_key gkey(__u8 proto, __u32 daddr)
{
	struct psv_group_key k = { .daddr = daddr, .proto = proto };
	return k;
}

static void add_group(__u8 proto, __u32 daddr, __u64 age_ms)
{
	struct psv_group_key k = gkey(proto, daddr);
	struct psv_group g = { .vip = 1, .created_ns = NOW - age_ms * 1000000 };

	bpf_map_update_elem(dp.groups_fd, &k, &g, BPF_ANY);
}

static bool has_group(__u8 proto, __u32 daddr)
{
	struct psv_group_key k = gkey(proto, daddr);
	struct psv_group g;

	return !bpf_map_lookup_elem(dp.groups_fd, &k, &g);
}

static void add_app(__u64 ino, __u32 id, __s64 open, __u64 idle_s)
{
	struct psv_app_key k = { .ino = ino };
	struct psv_app a = { .id = id, .open = open,
			     .last_ns = NOW - idle_s * SEC };

	bpf_map_update_elem(dp.apps_fd, &k, &a, BPF_ANY);
}

static bool has_app(__u64 ino)
{
	struct psv_app_key k = { .ino = ino };
	struct psv_app a;

	return !bpf_map_lookup_elem(dp.apps_fd, &k, &a);
}

static void add_host_conn(__u8 proto, __u16 lport, __u64 idle_s)
{
	struct psv_conn_key k = ckey(proto, lport);
	__u64 last = NOW - idle_s * SEC;

	bpf_map_update_elem(dp.host_conns_fd, &k, &last, BPF_ANY);
}

static bool has_host_conn(__u8 proto, __u16 lport)
{
	struct psv_conn_key k = ckey(proto, lport);
	__u64 last;

	return !bpf_map_lookup_elem(dp.host_conns_fd, &k, &last);
}

static void test_one_pass(void)
{
	struct ct_stats st;

	/* Connections: UDP 180 s, ICMP 60 s, TCP closed 10 s, FIN 120 s,
	 * established (and SYN sent) 5 days. */
	add_conn(IPPROTO_UDP, 1, PSV_TCP_NONE, 179, 1, 7);
	add_conn(IPPROTO_UDP, 2, PSV_TCP_NONE, 181, 2, 8);
	add_conn(IPPROTO_ICMP, 3, PSV_TCP_NONE, 59, 3, 0);
	add_conn(IPPROTO_ICMP, 4, PSV_TCP_NONE, 61, 4, 0);
	add_conn(IPPROTO_TCP, 5, PSV_TCP_CLOSED, 9, 5, 0);
	add_conn(IPPROTO_TCP, 6, PSV_TCP_CLOSED, 11, 6, 0);
	add_conn(IPPROTO_TCP, 7, PSV_TCP_FIN_WAIT, 119, 7, 0);
	add_conn(IPPROTO_TCP, 8, PSV_TCP_FIN_WAIT, 121, 8, 0);
	add_conn(IPPROTO_TCP, 9, PSV_TCP_SYN_SENT, 4 * 86400, 9, 0);
	add_conn(IPPROTO_TCP, 10, PSV_TCP_ESTABLISHED, 5 * 86400 + 1, 10, 0);
	/* A connection stamped after the pass's clock (another CPU). */
	add_conn(IPPROTO_UDP, 11, PSV_TCP_NONE, 0, 11, 0);

	/* IPv6, the same timeouts: UDP, ICMPv6, TCP established. */
	add_conn6(IPPROTO_UDP, 1, PSV_TCP_NONE, 179);
	add_conn6(IPPROTO_UDP, 2, PSV_TCP_NONE, 181);
	add_conn6(IPPROTO_ICMPV6, 3, PSV_TCP_NONE, 59);
	add_conn6(IPPROTO_ICMPV6, 4, PSV_TCP_NONE, 61);
	add_conn6(IPPROTO_TCP, 5, PSV_TCP_ESTABLISHED, 86400);
	add_group6(IPPROTO_UDP, 1);
	add_group6(IPPROTO_UDP, 2);

	/* Groups: of a live connection (old), of an expired one, without
	 * connection but younger than a second. */
	add_group(IPPROTO_UDP, 1, 3600000);
	add_group(IPPROTO_UDP, 2, 3600000);
	add_group(IPPROTO_TCP, 99, 500);
	add_group(IPPROTO_TCP, 98, 1500);
	{
		struct psv_group_key k = gkey(IPPROTO_TCP, 97);
		struct psv_group g = { .vip = VIP_WITH_SOCKETS,
				       .created_ns = NOW - 3600 * SEC };

		bpf_map_update_elem(dp.groups_fd, &k, &g, BPF_ANY);
	}

	/* Applications: 7 has a live connection, 8 only an expired one. */
	add_app(1, 7, 0, 3600);
	add_app(2, 8, 0, 3600);
	add_app(3, 9, 2, 3600);		/* sockets open */
	add_app(4, 10, 0, 599);		/* recent */
	add_app(5, 11, 0, 601);

	/* Host connections: UDP 180 s, TCP 5 days. */
	add_host_conn(IPPROTO_UDP, 1, 179);
	add_host_conn(IPPROTO_UDP, 2, 181);
	add_host_conn(IPPROTO_TCP, 3, 86400);

	n_live = 0;
	ct_expire(&dp, NOW,
		  &(struct ct_observer){ .live = count_live,
					 .in_use = sockets_on },
		  &st);

	CHECK(has_conn(IPPROTO_UDP, 1) && !has_conn(IPPROTO_UDP, 2),
	      "UDP: 179 s idle stays, 181 s goes");
	CHECK(has_conn(IPPROTO_ICMP, 3) && !has_conn(IPPROTO_ICMP, 4),
	      "ICMP: 59 s stays, 61 s goes");
	CHECK(has_conn(IPPROTO_TCP, 5) && !has_conn(IPPROTO_TCP, 6),
	      "TCP closed: 9 s stays, 11 s goes");
	CHECK(has_conn(IPPROTO_TCP, 7) && !has_conn(IPPROTO_TCP, 8),
	      "TCP FIN: 119 s stays, 121 s goes");
	CHECK(has_conn(IPPROTO_TCP, 9), "TCP SYN sent stays 4 days (no SYN-ACK seen is no proof of death)");
	CHECK(!has_conn(IPPROTO_TCP, 10), "TCP established goes after 5 days");
	CHECK(has_conn(IPPROTO_UDP, 11), "an entry newer than the clock stays");
	CHECK_EQ(st.conns, 6, "6 connections live");
	CHECK(has_conn6(IPPROTO_UDP, 1) && !has_conn6(IPPROTO_UDP, 2),
	      "IPv6 UDP: 179 s idle stays, 181 s goes");
	CHECK(has_conn6(IPPROTO_ICMPV6, 3) && !has_conn6(IPPROTO_ICMPV6, 4),
	      "ICMPv6: 59 s stays, 61 s goes");
	CHECK(has_conn6(IPPROTO_TCP, 5), "IPv6 TCP established stays a day");
	CHECK_EQ(st.conns6, 3, "3 IPv6 connections live");
	CHECK_EQ(n_live, 6 + 3, "live() was called for each of them");
	CHECK(has_group6(IPPROTO_UDP, 1) && !has_group6(IPPROTO_UDP, 2),
	      "an IPv6 connection keeps its group, an expired one not");

	CHECK(has_group(IPPROTO_UDP, 1), "a live connection's group stays");
	CHECK(!has_group(IPPROTO_UDP, 2), "an expired connection's group goes");
	CHECK(has_group(IPPROTO_TCP, 99), "a group younger than a second stays");
	CHECK(!has_group(IPPROTO_TCP, 98), "a group of 1.5 s without connection goes");
	CHECK(has_group(IPPROTO_TCP, 97),
	      "a group whose identity has sockets (and no connection) stays");
	{
		struct psv_group_key k = gkey(IPPROTO_TCP, 97);

		bpf_map_delete_elem(dp.groups_fd, &k);	/* test_many counts */
	}
	CHECK_EQ(st.groups, 4, "4 groups live (one IPv6)");

	CHECK(has_app(1), "an application with a live connection stays");
	CHECK(!has_app(2), "one whose connections expired goes (after 600 s)");
	CHECK(has_app(3), "one with open sockets stays");
	CHECK(has_app(4), "one with a socket 599 s ago stays");
	CHECK(!has_app(5), "one idle for 601 s goes");
	CHECK_EQ(st.apps, 3, "3 applications live");

	CHECK(has_host_conn(IPPROTO_UDP, 1) && !has_host_conn(IPPROTO_UDP, 2),
	      "host UDP: 179 s stays, 181 s goes");
	CHECK(has_host_conn(IPPROTO_TCP, 3), "host TCP: a day stays");
	CHECK_EQ(st.host_conns, 2, "2 host connections live");
	CHECK_EQ(st.expired, 5 + 2 + 3 + 2 + 1,
		 "13 entries expired (conns, IPv6 conns, groups, apps, host)");
}

/* Deleting while walking: every other of many entries goes. */
static void test_many(void)
{
	struct psv_conn_key k, next, *prev = NULL;
	unsigned int left = 0, wrong = 0;
	struct psv_conn c;
	struct ct_stats st;

	for (__u16 i = 0; i < 5000; i++)
		add_conn(IPPROTO_UDP, 1000 + i, PSV_TCP_NONE, i % 2 ? 200 : 10, 1, 0);
	ct_expire(&dp, NOW, NULL, &st);
	while (!bpf_map_get_next_key(dp.conns_fd, prev, &next)) {
		bpf_map_lookup_elem(dp.conns_fd, &next, &c);
		left++;
		wrong += ntohs(next.lport) >= 1000 && ntohs(next.lport) % 2 != 0;
		k = next;
		prev = &k;
	}
	CHECK_EQ(st.expired, 2500, "5000 connections: the 2500 idle ones expired");
	CHECK_EQ(wrong, 0, "... none of them is left");
	CHECK_EQ(left, st.conns, "... the pass counted what is left (%u)", left);
}

/*
 * The pass in steps, as psvd runs it: a chunk of one map a step, so
 * 5000 connections take several; the result is the whole pass's.  A
 * pass given up halfway deletes nothing more.
 */
static void test_steps(void)
{
	struct ct_expiry *e;
	struct ct_stats st;
	unsigned int steps = 1, left;

	for (__u16 i = 0; i < 5000; i++)
		add_conn(IPPROTO_UDP, 1000 + i, PSV_TCP_NONE, i % 2 ? 200 : 10, 1, 0);
	e = ct_expiry_start(&dp, NOW, NULL);
	while (ct_expiry_step(e, &st))
		steps++;
	CHECK(steps > 5000 / CT_EXPIRY_CHUNK,
	      "5000 connections: the pass took %u steps of %u entries", steps,
	      CT_EXPIRY_CHUNK);
	CHECK(st.expired == 2500 && st.conns >= 2500,
	      "... expired the 2500 idle ones, kept the others (%u kept, %u "
	      "expired)",
	      st.conns, st.expired);

	for (__u16 i = 0; i < 5000; i++)
		add_conn(IPPROTO_UDP, 1000 + i, PSV_TCP_NONE, 200, 1, 0);
	e = ct_expiry_start(&dp, NOW, NULL);
	ct_expiry_step(e, &st);
	ct_expiry_abort(e);
	left = 0;
	for (__u16 i = 0; i < 5000; i++)
		left += has_conn(IPPROTO_UDP, 1000 + i);
	CHECK(left < 5000 && left >= 5000 - CT_EXPIRY_CHUNK,
	      "5000 idle connections, a pass given up after one step: one "
	      "chunk expired (%u left)", left);
}

int main(void)
{
	dp.conns_fd = map(PSV_MAP_CONNS, sizeof(struct psv_conn_key),
			  sizeof(struct psv_conn), 8192);
	dp.groups_fd = map(PSV_MAP_GROUPS, sizeof(struct psv_group_key),
			   sizeof(struct psv_group), 1024);
	dp.host_conns_fd = map(PSV_MAP_HOST_CONNS, sizeof(struct psv_conn_key),
			       sizeof(__u64), 1024);
	dp.apps_fd = map(PSV_MAP_APPS, sizeof(struct psv_app_key),
			 sizeof(struct psv_app), 1024);
	dp.conns6_fd = map(PSV_MAP_CONNS6, sizeof(struct psv_conn6_key),
			   sizeof(struct psv_conn6), 1024);
	if (dp.conns_fd < 0 || dp.groups_fd < 0 || dp.host_conns_fd < 0 ||
	    dp.apps_fd < 0 || dp.conns6_fd < 0) {
		CHECK(0, "create the maps");
		return check_exit();
	}
	test_one_pass();
	test_many();
	test_steps();
	return check_exit();
}
