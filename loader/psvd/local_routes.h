/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * local_routes.h - identity addresses made local to the kernel without
 * being interface addresses ("AnyIP": `ip route add local A/32 dev lo
 * table local`), so the socket hooks can bind() a socket to its identity
 * and the kernel delivers the replies to it.  The routes carry protocol
 * PSV_RTPROT, so a restarted psvd finds the ones it left behind.
 */
#ifndef PSV_LOCAL_ROUTES_H
#define PSV_LOCAL_ROUTES_H

#include <stdint.h>

/*
 * psv's route protocol (`ip route show proto 245`): unassigned in
 * linux/rtnetlink.h and /etc/iproute2/rt_protos.
 */
#define PSV_RTPROT 245
/*
 * psv's metric for its local routes.  Routes replace one another only at
 * equal metric, so adding an identity never replaces the kernel's local
 * route of an interface address (metric 0), and deleting one never
 * removes it, should the two addresses ever be the same.
 */
#define PSV_RTMETRIC 245

/*
 * Adds or refreshes the local route of ip (network order): 0 or -errno,
 * logged.  Idempotent: a restarted psvd adds its identities' routes again.
 */
int local_route_add(uint32_t ip);
/* Deletes it: 0 also if there was none; else -errno, logged. */
int local_route_del(uint32_t ip);
/*
 * Calls cb for the address of each of psv's local routes (found by
 * PSV_RTPROT), after the dump, so cb may delete it.  0 or -errno, logged.
 */
int local_routes_list(void (*cb)(void *ctx, uint32_t ip), void *ctx);

#endif
