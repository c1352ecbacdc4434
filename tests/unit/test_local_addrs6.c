// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_local_addrs6.c - identity IPv6 addresses on lo, in a private
 * network namespace: added tagged, preferred or deprecated, found by
 * their tag (an address of someone else's is not), never the source the
 * kernel picks for the host's own flows (use_oif_addrs_only: not even
 * when its own address is deprecated), a socket binds to one,
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
#include "psvd/netdev.h"
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
	CHECK(!local_addr6_add(kept, true) && !local_addr6_add(stray, true),
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
	pool_release_all(&pool, 0);
	CHECK(!listed(kept) && found.n == 0 && !owner_of(dp.addrs6_fd, kept),
	      "retired: its address leaves lo and psv_addrs6");
	slaac_free(&s);
	pool_free(&pool);
	close(dp.identities_fd);
	close(dp.addrs6_fd);
}

/* The source the kernel picks for a flow to the gateway's prefix. */
static int source_of(uint8_t src[16])
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
				  .sin6_port = htons(80) };
	socklen_t len = sizeof(s);
	int fd, err;

	inet_pton(AF_INET6, "2001:db8:1::1", &s.sin6_addr);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (struct sockaddr *)&s, sizeof(s)) ||
	      getsockname(fd, (struct sockaddr *)&s, &len) ? -errno : 0;
	close(fd);
	memcpy(src, &s.sin6_addr, 16);
	return err;
}

/*
 * Identity addresses are preferred (applications sort them as any
 * address), so only use_oif_addrs_only keeps them from becoming the
 * host's source when its own address is deprecated.
 */
static void test_own_sources(void)
{
	uint8_t host[16], src[16];

	inet_pton(AF_INET6, "2001:db8:1::10", host);
	CHECK(source_of(src) == 0 && !memcmp(src, host, 16),
	      "the host's preferred address is its source");
	sh("ip -6 addr change 2001:db8:1::10/64 dev psv0 nodad preferred_lft 0");
	CHECK(source_of(src) == 0 && memcmp(src, host, 16),
	      "its own deprecated, the kernel would pick one on lo");
	CHECK_EQ(netdev_ipv6_own_sources("psv0"), 0,
		 "use_oif_addrs_only set on the interface");
	CHECK(source_of(src) == 0 && !memcmp(src, host, 16),
	      "then the host's own, deprecated, stays its source");
	CHECK_EQ(netdev_ipv6_own_sources("nosuch0"), 0,
		 "an interface without IPv6: nothing to do");
	sh("ip -6 addr change 2001:db8:1::10/64 dev psv0 nodad");
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

	CHECK_EQ(local_addr6_add(a, true), 0, "an identity address added");
	CHECK_EQ(local_addr6_add(a, true), 0, "again: idempotent");
	CHECK_EQ(local_addr6_add(b, true), 0, "a second");
	CHECK(listed(a) && listed(b), "both found by their tag");
	CHECK_EQ(found.n, 2, "and nothing else (2001:db8:1::77 is not psv's)");
	sh("ip -6 addr show dev lo | grep -A1 '2001:db8:1:0:1234:5678:9abc:def0' | "
	   "grep -q 'preferred_lft forever'");
	/* Source rule 8 (longest match: 112 bits against psv0's 64) would
	 * pick the identity's; rule 5 (the outgoing interface) comes first. */
	sh("ip -6 route get 2001:db8:1:0:1234:5678:9abc:1 | grep -q 'src 2001:db8:1::10 '");
	CHECK_EQ(local_addr6_add(a, false), 0, "deprecated, as its prefix");
	sh("ip -6 addr show dev lo | grep -q '2001:db8:1:0:1234:5678:9abc:def0/128.*deprecated'");
	sh("ip -6 addr show dev lo | grep -A1 '2001:db8:1:0:1234:5678:9abc:def0' | "
	   "grep -q 'preferred_lft 0sec'");
	sh("ip -6 route get 2001:db8:1:0:1234:5678:9abc:1 | grep -q 'src 2001:db8:1::10 '");
	CHECK(listed(a) && found.n == 2, "still psv's, still one address");
	test_own_sources();

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
