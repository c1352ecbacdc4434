/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * route_mirror.h - the main routing table's IPv4 and IPv6 routes in the
 * psv_routes and psv_routes6 LPM tries (psv.h), kept current from
 * rtnetlink notifications, so the socket hooks bind a socket to an
 * identity only if its destination leaves through psv's interface.
 * psvd's network namespace is the one mirrored.  One code for both
 * families: only the address length and the names differ.
 */
#ifndef PSV_ROUTE_MIRROR_H
#define PSV_ROUTE_MIRROR_H

#include <stdint.h>

/* Index 0 is IPv4, 1 IPv6; ROUTE_ALL has both bits. */
#define ROUTE_FAMILIES 2
#define ROUTE_ALL 3u

struct route_mirror {
	struct mnl_socket *events;	/* notifications only, non-blocking */
	struct mnl_socket *dump;	/* requests, no notification between */
	int map_fd[ROUTE_FAMILIES];	/* -1: that family is not mirrored */
	int ifindex;			/* psv's interface */
	/* The non-default ip rules' hash per family; 0: defaults only. */
	uint32_t rules[ROUTE_FAMILIES];
};

/*
 * Subscribes to route, rule, address and link changes of both families
 * (the kernel removes the routes of a deleted address or link without a
 * word) and fills map_fd (a psv_routes trie) and map6_fd (psv_routes6;
 * -1: none) from the main table: routes through ifindex (every next hop
 * of a multipath route) get PSV_ROUTE_IFACE, the others (another
 * interface, blackhole, unreachable) PSV_ROUTE_OTHER, and so do the
 * host's own addresses (the local table's local routes).  0 or -errno,
 * logged.
 */
int route_mirror_open(struct route_mirror *rm, int map_fd, int map6_fd,
		      int ifindex);
/* The fd to poll for input. */
int route_mirror_fd(const struct route_mirror *rm);
/*
 * Reads the pending notifications; if one concerned the main table, a
 * rule, an address or a link, or some were lost, mirrors that family's
 * table again.  0 or -errno, logged; after an error the next change retries.
 */
int route_mirror_read(struct route_mirror *rm);
void route_mirror_close(struct route_mirror *rm);

#endif
