// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The main table mirrored into the psv_routes and psv_routes6 tries, in a
 * private network namespace: psv0 is psv's interface, oth1 another (veth
 * pairs: this kernel has no dummy links).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>

#include "netns.h"
#include "psv.h"
#include "psvd/route_mirror.h"

static int map_fd, map6_fd;

/* The number of keys in the trie. */
static int count_keys(void)
{
	struct psv_route_key key, next;
	int n = 0;

	for (int ret = bpf_map_get_next_key(map_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(map_fd, &key, &next)) {
		key = next;
		n++;
	}
	return n;
}

/*
 * The value of exactly prefix/len, -1 if the trie has no such key (a
 * lookup alone would answer for a shorter prefix too).
 */
static int value_of(const char *prefix, uint32_t len)
{
	struct psv_route_key key, next, want = { len, ip4(prefix) };
	uint8_t v;

	for (int ret = bpf_map_get_next_key(map_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(map_fd, &key, &next)) {
		key = next;
		if (key.prefixlen == want.prefixlen && key.addr == want.addr)
			return bpf_map_lookup_elem(map_fd, &key, &v) ? -1 : v;
	}
	return -1;
}

/* What the socket hooks will see for a destination: the longest match. */
static int lookup(const char *dst)
{
	struct psv_route_key key = { 32, ip4(dst) };
	uint8_t v;

	return bpf_map_lookup_elem(map_fd, &key, &v) ? -1 : v;
}

static struct psv_route6_key key6(const char *a, uint32_t len)
{
	struct psv_route6_key k = { .prefixlen = len };

	inet_pton(AF_INET6, a, &k.addr);
	return k;
}

/* value_of() and lookup() for IPv6. */
static int value6_of(const char *prefix, uint32_t len)
{
	struct psv_route6_key key, next, want = key6(prefix, len);
	uint8_t v;

	for (int ret = bpf_map_get_next_key(map6_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(map6_fd, &key, &next)) {
		key = next;
		if (!memcmp(&key, &want, sizeof(key)))
			return bpf_map_lookup_elem(map6_fd, &key, &v) ? -1 : v;
	}
	return -1;
}

static int lookup6(const char *dst)
{
	struct psv_route6_key key = key6(dst, 128);
	uint8_t v;

	return bpf_map_lookup_elem(map6_fd, &key, &v) ? -1 : v;
}

static void setup(void)
{
	sh("ip link add psv0 type veth peer name psv0p && "
	   "ip link add oth1 type veth peer name oth1p && "
	   "for l in psv0 psv0p oth1 oth1p; do ip link set $l up; done && "
	   "ip addr add 192.0.2.10/24 dev psv0 && "
	   "ip addr add 198.51.100.10/24 dev oth1");
	sh("ip route add default via 192.0.2.1 && "
	   "ip route add 203.0.113.0/24 via 198.51.100.1 && "
	   "ip route add blackhole 10.0.0.0/8 && "
	   "ip route add unreachable 10.1.0.0/16 && "
	   "ip route add 172.16.0.0/12 nexthop via 192.0.2.1 "
	   "nexthop via 192.0.2.2 dev psv0 && "
	   "ip route add 172.20.0.0/16 nexthop via 192.0.2.1 "
	   "nexthop via 198.51.100.1 && "
	   "ip route add 100.64.0.0/10 via 198.51.100.1 metric 10 && "
	   "ip route add 100.64.0.0/10 via 192.0.2.1 metric 5 && "
	   "ip route add 100.100.0.0/16 via 198.51.100.1 table 100");
	sh("ip addr add 2001:db8:1::10/64 dev psv0 nodad && "
	   "ip addr add 2001:db8:2::10/64 dev oth1 nodad && "
	   "ip -6 route add default via 2001:db8:1::1 && "
	   "ip -6 route add 2001:db8:3::/48 via 2001:db8:2::1 && "
	   "ip -6 route add blackhole 2001:db8:4::/48 && "
	   "ip -6 route add 2001:db8:5::/48 via 2001:db8:2::1 metric 10 && "
	   "ip -6 route add 2001:db8:5::/48 via 2001:db8:1::1 metric 5 && "
	   "ip -6 route add 2001:db8:6::/48 via 2001:db8:2::1 table 100");
}

static void test_initial6(void)
{
	CHECK_EQ(value6_of("::", 0), PSV_ROUTE_IFACE, "IPv6 default via psv0");
	CHECK_EQ(value6_of("2001:db8:1::", 64), PSV_ROUTE_IFACE,
		 "psv0's IPv6 connected route");
	CHECK_EQ(value6_of("2001:db8:2::", 64), PSV_ROUTE_OTHER,
		 "oth1's IPv6 connected route");
	CHECK_EQ(value6_of("2001:db8:3::", 48), PSV_ROUTE_OTHER,
		 "an IPv6 route via oth1");
	CHECK_EQ(value6_of("2001:db8:4::", 48), PSV_ROUTE_OTHER,
		 "IPv6 blackhole");
	CHECK_EQ(value6_of("2001:db8:5::", 48), PSV_ROUTE_IFACE,
		 "IPv6: of two metrics the lowest (via psv0) wins");
	CHECK_EQ(value6_of("2001:db8:6::", 48), -1,
		 "IPv6 table 100 is not mirrored");
	CHECK_EQ(value6_of("2001:db8:1::10", 128), PSV_ROUTE_OTHER,
		 "the host's own IPv6 address (table local): not through psv0");
	CHECK_EQ(lookup6("2001:db8:1::10"), PSV_ROUTE_OTHER,
		 "lookup: a flow to it is never bound to an identity");
	CHECK_EQ(value6_of("2001:db8:ff::", 48), -1, "a stale IPv6 key is deleted");
	CHECK_EQ(lookup6("2001:db8:99::1"), PSV_ROUTE_IFACE,
		 "lookup: 2001:db8:99::1 via psv0");
	CHECK_EQ(lookup6("2001:db8:3::7"), PSV_ROUTE_OTHER,
		 "lookup: 2001:db8:3::7 elsewhere");
	CHECK_EQ(value_of("0.0.0.0", 0), PSV_ROUTE_IFACE,
		 "the IPv4 trie holds no IPv6 route (its default is IPv4's)");
}

static void test_changes6(struct route_mirror *rm)
{
	sh("ip -6 route add 2001:db8:7::/48 dev psv0");
	CHECK(route_mirror_read(rm) == 0 &&
		      value6_of("2001:db8:7::", 48) == PSV_ROUTE_IFACE,
	      "an added IPv6 route is mirrored");
	sh("ip -6 route del 2001:db8:7::/48");
	CHECK(route_mirror_read(rm) == 0 && value6_of("2001:db8:7::", 48) == -1,
	      "a deleted IPv6 route is gone");
	sh("ip addr del 2001:db8:2::10/64 dev oth1");
	CHECK(route_mirror_read(rm) == 0 && value6_of("2001:db8:2::", 64) == -1,
	      "an IPv6 address deleted: its connected route is gone too");
	CHECK_EQ(rm->rules[1], 0, "only the default IPv6 rules");
	sh("ip -6 rule add from 2001:db8:9::/48 table 100");
	CHECK(route_mirror_read(rm) == 0 && rm->rules[1] != 0 &&
		      rm->rules[0] == 0,
	      "an IPv6 rule is noticed, as IPv6's");
	sh("ip -6 rule del from 2001:db8:9::/48 table 100");
	CHECK(route_mirror_read(rm) == 0 && rm->rules[1] == 0,
	      "and its deletion");
}

static void test_initial(void)
{
	CHECK_EQ(value_of("0.0.0.0", 0), PSV_ROUTE_IFACE,
		 "default route via psv0");
	CHECK_EQ(value_of("192.0.2.0", 24), PSV_ROUTE_IFACE,
		 "psv0's connected route");
	CHECK_EQ(value_of("198.51.100.0", 24), PSV_ROUTE_OTHER,
		 "oth1's connected route");
	CHECK_EQ(value_of("203.0.113.0", 24), PSV_ROUTE_OTHER,
		 "a route via oth1");
	CHECK_EQ(value_of("10.0.0.0", 8), PSV_ROUTE_OTHER, "blackhole");
	CHECK_EQ(value_of("10.1.0.0", 16), PSV_ROUTE_OTHER, "unreachable");
	CHECK_EQ(value_of("172.16.0.0", 12), PSV_ROUTE_IFACE,
		 "multipath, every next hop via psv0");
	CHECK_EQ(value_of("172.20.0.0", 16), PSV_ROUTE_OTHER,
		 "multipath, one next hop via oth1");
	CHECK_EQ(value_of("100.64.0.0", 10), PSV_ROUTE_IFACE,
		 "of two metrics the lowest (via psv0) wins");
	CHECK_EQ(value_of("100.100.0.0", 16), -1, "table 100 is not mirrored");
	CHECK_EQ(value_of("192.0.2.10", 32), PSV_ROUTE_OTHER,
		 "the host's own address (table local): not through psv0");
	CHECK_EQ(value_of("192.0.2.255", 32), -1,
		 "table local's broadcast routes are not mirrored");
	CHECK_EQ(value_of("1.2.3.0", 24), -1, "a stale key is deleted");
	CHECK_EQ(count_keys(), 13,
		 "13 keys: the main table's 9 prefixes, 127/8, 127.0.0.1 and "
		 "the two addresses");
	CHECK_EQ(lookup("8.8.8.8"), PSV_ROUTE_IFACE, "lookup: 8.8.8.8 via psv0");
	CHECK_EQ(lookup("203.0.113.7"), PSV_ROUTE_OTHER,
		 "lookup: 203.0.113.7 elsewhere");
	CHECK_EQ(lookup("10.200.0.1"), PSV_ROUTE_OTHER,
		 "lookup: 10.200.0.1 blackholed");
}

static void test_changes(struct route_mirror *rm)
{
	CHECK_EQ(route_mirror_read(rm), 0, "nothing pending: read is a no-op");
	sh("ip route add 198.18.0.0/15 dev psv0 && "
	   "ip route del 100.64.0.0/10 via 192.0.2.1 metric 5");
	CHECK_EQ(value_of("198.18.0.0", 15), -1, "not mirrored before reading");
	CHECK_EQ(route_mirror_read(rm), 0, "notifications read");
	CHECK_EQ(value_of("198.18.0.0", 15), PSV_ROUTE_IFACE,
		 "an added route is mirrored");
	CHECK_EQ(value_of("100.64.0.0", 10), PSV_ROUTE_OTHER,
		 "the lowest metric deleted, the other one counts");
	sh("ip route del 198.18.0.0/15");
	CHECK(route_mirror_read(rm) == 0 && value_of("198.18.0.0", 15) == -1,
	      "a deleted route is gone");

	/* The kernel drops the routes of a deleted address silently. */
	sh("ip addr del 198.51.100.10/24 dev oth1");
	CHECK_EQ(route_mirror_read(rm), 0, "address deletion read");
	CHECK(value_of("198.51.100.0", 24) == -1 &&
		      value_of("203.0.113.0", 24) == -1 &&
		      value_of("100.64.0.0", 10) == -1,
	      "the routes through oth1's address are gone too");
	CHECK_EQ(count_keys(), 9, "9 keys left: 6 routes, 3 local");

	/* A link going down drops its IPv4 routes without any route message. */
	sh("ip addr add 198.51.100.10/24 dev oth1 && "
	   "ip route add 203.0.113.0/24 via 198.51.100.1");
	CHECK(route_mirror_read(rm) == 0 &&
		      value_of("203.0.113.0", 24) == PSV_ROUTE_OTHER,
	      "the route via oth1 is back");
	sh("ip link set oth1 down");
	CHECK(route_mirror_read(rm) == 0 && value_of("203.0.113.0", 24) == -1 &&
		      value_of("198.51.100.0", 24) == -1,
	      "oth1 down: its routes are gone");
	CHECK_EQ(count_keys(), 10,
		 "10 keys: 6 routes, 4 local (oth1's address stays local)");

	CHECK_EQ(rm->rules[0], 0, "only the default ip rules");
	sh("ip rule add from 10.9.0.0/16 table 100");
	CHECK(route_mirror_read(rm) == 0 && rm->rules[0] != 0,
	      "a rule of a VPN's kind is noticed");
	sh("ip rule del from 10.9.0.0/16 table 100");
	CHECK(route_mirror_read(rm) == 0 && rm->rules[0] == 0,
	      "and its deletion");
}

int main(void)
{
	struct psv_route_key stale = { 24, ip4("1.2.3.0") };
	struct psv_route6_key stale6 = key6("2001:db8:ff::", 48);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	struct route_mirror rm;
	uint8_t v = PSV_ROUTE_IFACE;

	if (netns_enter())
		return check_exit();
	setup();
	map_fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, PSV_MAP_ROUTES,
				sizeof(struct psv_route_key), sizeof(uint8_t),
				PSV_MAX_ROUTES, &opts);
	CHECK(map_fd >= 0, "LPM trie created: %s", strerror(errno));
	if (map_fd < 0)
		return check_exit();
	map6_fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, PSV_MAP_ROUTES6,
				 sizeof(struct psv_route6_key), sizeof(uint8_t),
				 PSV_MAX_ROUTES6, &opts);
	CHECK(map6_fd >= 0, "IPv6 LPM trie created: %s", strerror(errno));
	if (map6_fd < 0)
		return check_exit();
	CHECK_EQ(bpf_map_update_elem(map_fd, &stale, &v, BPF_ANY), 0,
		 "a stale key from an earlier run");
	CHECK_EQ(bpf_map_update_elem(map6_fd, &stale6, &v, BPF_ANY), 0,
		 "a stale IPv6 key from an earlier run");
	CHECK_EQ(route_mirror_open(&rm, map_fd, map6_fd, if_nametoindex("psv0")),
		 0, "route_mirror_open");
	CHECK(route_mirror_fd(&rm) >= 0, "an fd to poll");
	test_initial();
	test_initial6();
	test_changes6(&rm);
	test_changes(&rm);
	route_mirror_close(&rm);
	return check_exit();
}
