/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * demand.h - how many identities the pool keeps ready: the largest burst
 * of recent demand, remembered for a while, never below the configured
 * floor.  Demand is a new group asking for an identity (egress took one
 * from the ready queue, or found the queue empty).
 *
 * burst: the demand of the last moments, an exponentially decaying count
 *        (time constant DEMAND_BURST_S; burst / DEMAND_BURST_S is the
 *        recent rate in identities per second).  A page load that opens
 *        N groups within a second or two raises it to about N.
 * peak:  the largest burst, decaying with time constant window_s: the
 *        ready target stays near N for about window_s after such a page
 *        and falls back to the floor over the next ones.
 *
 * The peak outlives psvd: saved in its state directory (demand_store.h)
 * and resumed at the next start, as if psvd had not stopped (the window
 * counts psvd's running time), so a restart keeps the learned target.
 *
 * Pure arithmetic on times the caller passes (monotonic ms), so tests
 * run it on a fake clock.
 */
#ifndef PSV_DEMAND_H
#define PSV_DEMAND_H

#include <stdint.h>

#define DEMAND_BURST_S 10

struct demand {
	double burst;		/* as of last_ms */
	double peak;		/* as of last_ms */
	uint64_t last_ms;
};

/* One new group asked for an identity at now_ms. */
void demand_note(struct demand *d, uint64_t now_ms, unsigned int window_s);
/* The ready target at now_ms: ceil(peak), at least floor. */
unsigned int demand_target(const struct demand *d, uint64_t now_ms,
			   unsigned int window_s, unsigned int floor);
/* The peak at now_ms, decayed: what the target follows. */
double demand_peak(const struct demand *d, uint64_t now_ms,
		   unsigned int window_s);
/* Starts d from a peak an earlier run saved (no burst yet), at now_ms. */
void demand_resume(struct demand *d, double peak, uint64_t now_ms);
/* The recent rate of demand, identities per second. */
double demand_rate(const struct demand *d, uint64_t now_ms);

#endif
