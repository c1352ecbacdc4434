// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_local_addrs6.c - identity IPv6 addresses on lo, in a private
 * network namespace: added deprecated and tagged, found by their tag
 * (an address of someone else's is not), a socket binds to one,
 * deleted (twice is fine); then a restart's adoption on the real thing
 * (slaac with pool_maps.c's io on real maps and lo): a crash's stray
 * tagged address and map entries go, the adopted address stays, and
 * retirement removes it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "netns.h"
#include "psvd/dataplane.h"
#include "psvd/link/link_socket.h"
#include "psvd/local_addrs6.h"
#include "psvd/pool/pool_maps.h"
#include "psvd/pool/slaac.h"
#include "psvd/pool/static_source.h"

#define MAX_FOUND 8

static struct found {
	uint8_t a[MAX_FOUND][16];
	int n;
} found;

static void collect(void *ctx, const uint8_t addr[16])
{
	(void)ctx;
	if (found.n < MAX_FOUND)
		memcpy(found.a[found.n], addr, 16);
	found.n++;
}

static int listed(const uint8_t a[16])
{
	found.n = 0;
	CHECK_EQ(local_addrs6_list(collect, NULL), 0, "listed");
	for (int i = 0; i < found.n && i < MAX_FOUND; i++)
		if (!memcmp(found.a[i], a, 16))
			return 1;
	return 0;
}

static struct sockaddr_in6 sin6(const uint8_t a[16], uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };

	memcpy(&s.sin6_addr, a, 16);
	return s;
}

static bool owner_of(int fd, const uint8_t a[16])
{
	struct psv_addr6_owner o;

	return !bpf_map_lookup_elem(fd, a, &o);
}

static void test_adoption(void)
{
	static const struct pool_params params = { .ready = 0, .max = 4 };
	struct psv_identity v = { .state = PSV_ID_ACTIVE, .id = 5 };
	struct psv_addr6_owner done = { .vip = 0, .dad_done = 1 };
	struct psv_addr6_owner tentative = { .dad_done = 0 };
	uint8_t kept[16], dad[16], orphan[16], stray[16];
	struct link_socket link = { .fd = -1 };
	struct dataplane dp = { .ready_fd = -1, .groups_fd = -1 };
	struct static_source src;
	struct identity_pool pool;
	struct slaac_maps io6;
	struct pool_hooks hooks;
	struct pool_io io;
	struct slaac s;
	uint32_t vip = ip4("192.0.2.201");

	dp.identities_fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4,
					  sizeof(struct psv_identity), 8, NULL);
	dp.addrs6_fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL,
				      sizeof(struct psv_addr6),
				      sizeof(struct psv_addr6_owner), 8, NULL);
	CHECK(dp.identities_fd >= 0 && dp.addrs6_fd >= 0, "maps created");
	inet_pton(AF_INET6, "2001:db8:1:0:1234:5678:9abc:def0", kept);
	inet_pton(AF_INET6, "2001:db8:1:0:1111:2222:3333:4444", dad);
	inet_pton(AF_INET6, "2001:db8:1:0:5555:6666:7777:8888", orphan);
	inet_pton(AF_INET6, "2001:db8:1:0:dead:beef:0:1", stray);
	memcpy(&v.ip6, kept, 16);
	done.vip = tentative.vip = vip;
	bpf_map_update_elem(dp.identities_fd, &vip, &v, BPF_ANY);
	bpf_map_update_elem(dp.addrs6_fd, kept, &done, BPF_ANY);
	bpf_map_update_elem(dp.addrs6_fd, dad, &tentative, BPF_ANY);
	done.vip = ip4("192.0.2.250");
	bpf_map_update_elem(dp.addrs6_fd, orphan, &done, BPF_ANY);
	CHECK(!local_addr6_add(kept) && !local_addr6_add(stray),
	      "a crash left two tagged addresses on lo");

	pool_maps_io(&io, &dp);
	static_source_init(&src, ip4("192.0.2.200"), ip4("192.0.2.209"), &link);
	pool_init(&pool, &params, &static_source_ops, &src, &io);
	slaac_maps_io(&io6, &dp, &link);
	slaac_init(&s, &pool, &io6.io);
	slaac_pool_hooks(&s, &hooks);
	pool_set_hooks(&pool, &hooks);
	CHECK_EQ(pool_adopt(&pool), 0, "the pool adopts its identity");
	CHECK_EQ(slaac_adopt(&s, true, 1000), 0, "slaac adopts");
	CHECK(listed(kept) && !listed(stray) && found.n == 1,
	      "lo: the adopted address stays, the stray one is gone");
	CHECK(owner_of(dp.addrs6_fd, kept) && !owner_of(dp.addrs6_fd, dad) &&
		      !owner_of(dp.addrs6_fd, orphan),
	      "psv_addrs6: the adopted entry stays, a DAD cut short and an "
	      "unknown identity's are deleted");
	sh("ip -6 addr show dev lo | grep -q 2001:db8:1::77");
	pool_release_all(&pool);
	CHECK(!listed(kept) && found.n == 0 && !owner_of(dp.addrs6_fd, kept),
	      "retired: its address leaves lo and psv_addrs6");
	slaac_free(&s);
	pool_free(&pool);
	close(dp.identities_fd);
	close(dp.addrs6_fd);
}

int main(void)
{
	uint8_t a[16], b[16];
	struct sockaddr_in6 s;
	int fd;

	if (netns_enter())
		return check_exit();
	sh("ip link add psv0 type veth peer name psv0p && "
	   "ip link set psv0 up && ip link set psv0p up && "
	   "ip addr add 2001:db8:1::10/64 dev psv0 nodad && "
	   "ip -6 route add default via 2001:db8:1::1 dev psv0 && "
	   "ip addr add 2001:db8:1::77/128 dev lo");
	inet_pton(AF_INET6, "2001:db8:1:0:1234:5678:9abc:def0", a);
	inet_pton(AF_INET6, "2001:db8:1:0:aaaa:bbbb:cccc:dddd", b);

	CHECK_EQ(local_addr6_add(a), 0, "an identity address added");
	CHECK_EQ(local_addr6_add(a), 0, "again: idempotent");
	CHECK_EQ(local_addr6_add(b), 0, "a second");
	CHECK(listed(a) && listed(b), "both found by their tag");
	CHECK_EQ(found.n, 2, "and nothing else (2001:db8:1::77 is not psv's)");
	sh("ip -6 addr show dev lo | grep -q '2001:db8:1:0:1234:5678:9abc:def0/128.*deprecated'");
	sh("ip -6 addr show dev lo | grep -A1 '2001:db8:1:0:1234:5678:9abc:def0' | "
	   "grep -q 'preferred_lft 0sec'");

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	s = sin6(a, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0,
	      "a socket binds to it: %s", strerror(errno));
	if (fd >= 0)
		close(fd);

	CHECK_EQ(local_addr6_del(a), 0, "deleted");
	CHECK_EQ(local_addr6_del(a), 0, "deleted again: nothing to do, 0");
	CHECK(!listed(a) && listed(b), "only the other one left");
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	s = sin6(a, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&s, sizeof(s)) < 0 &&
		      errno == EADDRNOTAVAIL,
	      "a deleted address can no longer be bound");
	if (fd >= 0)
		close(fd);
	CHECK_EQ(local_addr6_del(b), 0, "the other deleted");
	CHECK(!listed(b) && found.n == 0, "none of psv's left");
	sh("ip -6 addr show dev lo | grep -q 2001:db8:1::77");
	test_adoption();
	return check_exit();
}
