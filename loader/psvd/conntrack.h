/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - expiry of the dataplane's connection (IPv4 and IPv6),
 * group, host connection and application entries.  BPF creates them; only psvd deletes them, so a
 * full table drops new flows instead of evicting a live one (which would
 * then continue on the real identity).
 */
#ifndef PSV_CONNTRACK_H
#define PSV_CONNTRACK_H

#include <stdbool.h>
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
	unsigned int conns, conns6, groups, host_conns, apps; /* live after the pass */
	unsigned int expired;
};

/* Returns the idle timeout in seconds for a connection of protocol proto
 * (psv_conns and psv_conns6 alike). */
unsigned int ct_timeout(__u8 proto, const struct psv_conn *c);

/* What an expiry pass tells its caller, and asks it. */
struct ct_observer {
	/* Called for every connection that stays (may be NULL). */
	void (*live)(void *ctx, const struct psv_conn *c);
	/* Whether sockets still use identity vip (may be NULL): a socket
	 * bound to it keeps its groups, though it has no entry here. */
	bool (*in_use)(void *ctx, __be32 vip);
	void *ctx;
};

/*
 * An expiry pass in steps, so psvd's loop answers psvctl between them
 * however large the tables: ct_expiry_start at monotonic time now_ns
 * (obs may be NULL, else it must last until the pass ends), then
 * ct_expiry_step, one chunk of CT_EXPIRY_CHUNK entries of one map at a
 * time, until it returns false: the pass is over, *st says what it
 * found and the state is freed.  Every entry is visited once per pass
 * (map_walk.h), against the time the pass started.
 */
#define CT_EXPIRY_CHUNK 1024
struct ct_expiry;
struct ct_expiry *ct_expiry_start(struct dataplane *dp, uint64_t now_ns,
				  const struct ct_observer *obs);
bool ct_expiry_step(struct ct_expiry *e, struct ct_stats *st);
/* Ends a pass before its time (psvd stopping); e may be NULL. */
void ct_expiry_abort(struct ct_expiry *e);

#endif
