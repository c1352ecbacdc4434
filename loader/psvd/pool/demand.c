// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* demand.c - see demand.h. */
#include <math.h>

#include "psvd/pool/demand.h"

/* e^(-elapsed / tau), for times in ms and tau in s. */
static double decay(uint64_t from_ms, uint64_t to_ms, unsigned int tau_s)
{
	if (to_ms <= from_ms)
		return 1.0;
	if (!tau_s)
		return 0.0;
	return exp(-(double)(to_ms - from_ms) / (1000.0 * tau_s));
}

void demand_note(struct demand *d, uint64_t now_ms, unsigned int window_s)
{
	d->burst = d->burst * decay(d->last_ms, now_ms, DEMAND_BURST_S) + 1.0;
	d->peak *= decay(d->last_ms, now_ms, window_s);
	if (d->burst > d->peak)
		d->peak = d->burst;
	if (now_ms > d->last_ms)
		d->last_ms = now_ms;
}

double demand_peak(const struct demand *d, uint64_t now_ms,
		   unsigned int window_s)
{
	return d->peak * decay(d->last_ms, now_ms, window_s);
}

void demand_resume(struct demand *d, double peak, uint64_t now_ms)
{
	*d = (struct demand){ .peak = peak, .last_ms = now_ms };
}

unsigned int demand_target(const struct demand *d, uint64_t now_ms,
			   unsigned int window_s, unsigned int floor)
{
	/* A hair below a whole identity is that identity: no float dust. */
	double want = ceil(demand_peak(d, now_ms, window_s) - 1e-6);

	return want > floor ? (unsigned int)want : floor;
}

double demand_rate(const struct demand *d, uint64_t now_ms)
{
	return d->burst * decay(d->last_ms, now_ms, DEMAND_BURST_S) /
	       DEMAND_BURST_S;
}
