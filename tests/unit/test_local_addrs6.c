// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_local_addrs6.c - identity IPv6 addresses on lo, in a private
 * network namespace: added deprecated and tagged, found by their tag
 * (an address of someone else's is not), a socket binds to one,
 * deleted (twice is fine).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netns.h"
#include "psvd/local_addrs6.h"

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
	return check_exit();
}
