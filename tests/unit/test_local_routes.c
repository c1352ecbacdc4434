// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Identity addresses as local routes, in a private network namespace. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "psvd/local_routes.h"
#include "netns.h"

struct listed {
	int n;
	uint32_t ips[8];
};

static void collect(void *ctx, uint32_t ip)
{
	struct listed *l = ctx;

	if (l->n < 8)
		l->ips[l->n] = ip;
	l->n++;
}

static int listed_has(const struct listed *l, uint32_t ip)
{
	for (int i = 0; i < l->n && i < 8; i++)
		if (l->ips[i] == ip)
			return 1;
	return 0;
}

/* Deletes each listed route from the callback, as a restarted psvd does. */
static void delete(void *ctx, uint32_t ip)
{
	int *n = ctx;

	*n += local_route_del(ip) == 0;
}

/* A TCP socket bound to a, port 0; -1 on failure. */
static int tcp_bound(uint32_t a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = a };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A socket bound to the address connects to a listener on it. */
static void test_bind_connect(uint32_t a)
{
	struct sockaddr_in sin, peer;
	socklen_t len = sizeof(sin);
	int l = tcp_bound(a), c = tcp_bound(a), s = -1;

	CHECK(l >= 0 && c >= 0, "two sockets bind to the identity address");
	CHECK(l >= 0 && c >= 0 && listen(l, 1) == 0 &&
		      getsockname(l, (struct sockaddr *)&sin, &len) == 0 &&
		      connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	      "one connects to the other, listening");
	if (l >= 0)
		s = accept(l, (struct sockaddr *)&peer, &len);
	CHECK(s >= 0 && peer.sin_addr.s_addr == a,
	      "the connection is accepted from the identity address");
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	uint32_t a = ip4("192.0.2.77"), b = ip4("192.0.2.78");
	struct listed l = { 0 };
	int deleted = 0;

	if (netns_enter())
		return check_exit();
	CHECK_EQ(tcp_bound(a), -1, "without its route the address is not local");
	CHECK_EQ(local_route_add(a), 0, "route of %s added", "192.0.2.77");
	CHECK_EQ(local_route_add(a), 0, "added again: idempotent");
	CHECK_EQ(local_route_add(b), 0, "a second one added");
	CHECK_EQ(local_routes_list(collect, &l), 0, "listed");
	CHECK(l.n == 2 && listed_has(&l, a) && listed_has(&l, b),
	      "exactly the two routes are listed (%d)", l.n);
	CHECK_EQ(system("ip route show table local proto 245 | "
			"grep -qx 'local 192.0.2.77 dev lo scope host metric 245 '"),
		 0, "ip(8) shows it as psv's local route on lo");

	test_bind_connect(a);

	/* The kernel's own local route of 127.0.0.1 is not psv's. */
	CHECK_EQ(local_route_add(ip4("127.0.0.1")), 0,
		 "a route for an interface address is added beside it");
	CHECK_EQ(local_route_del(ip4("127.0.0.1")), 0, "and deleted");
	CHECK_EQ(system("ip route show table local | "
			"grep -q '^local 127.0.0.1 dev lo proto kernel'"),
		 0, "the kernel's local route of 127.0.0.1 is still there");

	CHECK_EQ(local_route_del(b), 0, "route of the second deleted");
	CHECK_EQ(local_route_del(b), 0, "deleting a missing route is no error");
	l.n = 0;
	CHECK(local_routes_list(collect, &l) == 0 && l.n == 1 && l.ips[0] == a,
	      "one route left (%d)", l.n);
	CHECK(local_routes_list(delete, &deleted) == 0 && deleted == 1,
	      "the callback deletes what is listed (%d)", deleted);
	l.n = 0;
	CHECK(local_routes_list(collect, &l) == 0 && l.n == 0,
	      "none left (%d)", l.n);
	CHECK_EQ(tcp_bound(a), -1, "the address is no longer local");
	return check_exit();
}
