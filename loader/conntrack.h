/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - expiry of the dataplane's connection, group, host
 * connection and application entries.  BPF creates them; only psvd deletes them, so a
 * full table drops new flows instead of evicting a live one (which would
 * then continue on the real identity).
 */
#ifndef PSV_CONNTRACK_H
#define PSV_CONNTRACK_H

#include <stdint.h>

#include "psv.h"

struct dataplane;

/* Seconds an entry may stay unused, by state (netfilter's spirit). */
#define CT_TIMEOUT_TCP_CLOSED 10
#define CT_TIMEOUT_TCP_FIN 120
#define CT_TIMEOUT_TCP_EST (5 * 24 * 3600)
#define CT_TIMEOUT_UDP 180
#define CT_TIMEOUT_ICMP 60
/* An application without open sockets or connections, after its last
 * socket. */
#define CT_TIMEOUT_APP 600

struct ct_stats {
	unsigned int conns, groups, host_conns, apps;	/* live after the pass */
	unsigned int expired;
};

/* Returns the idle timeout in seconds for a connection. */
unsigned int ct_timeout(const struct psv_conn_key *key, const struct psv_conn *c);

/* One expiry pass at monotonic time now_ns.  live() is called for every
 * connection that stays. */
void ct_expire(struct dataplane *dp, uint64_t now_ns,
	       void (*live)(void *ctx, const struct psv_conn *c), void *ctx,
	       struct ct_stats *st);

#endif
