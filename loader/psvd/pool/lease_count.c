// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lease_count.c - see lease_count.h. */
#include "psvd/pool/lease_count.h"

/*
 * The bucket of now_ms's minute, emptied if it held an older one.
 * Minutes count from 1, so a zeroed table holds none.
 */
static unsigned int bucket(struct lease_count *c, uint64_t now_ms)
{
	uint64_t minute = now_ms / 60000 + 1;
	unsigned int i = minute % LEASE_COUNT_MINUTES;

	if (c->minute[i] != minute) {
		c->minute[i] = minute;
		c->acquired[i] = 0;
		c->released[i] = 0;
	}
	return i;
}

void lease_count_acquired(struct lease_count *c, uint64_t now_ms)
{
	c->acquired[bucket(c, now_ms)]++;
}

void lease_count_released(struct lease_count *c, uint64_t now_ms)
{
	c->released[bucket(c, now_ms)]++;
}

void lease_count_hour(const struct lease_count *c, uint64_t now_ms,
		      uint32_t *acquired, uint32_t *released)
{
	uint64_t minute = now_ms / 60000 + 1;

	*acquired = 0;
	*released = 0;
	for (unsigned int i = 0; i < LEASE_COUNT_MINUTES; i++) {
		if (!c->minute[i] || c->minute[i] + LEASE_COUNT_MINUTES <= minute)
			continue;
		*acquired += c->acquired[i];
		*released += c->released[i];
	}
}
