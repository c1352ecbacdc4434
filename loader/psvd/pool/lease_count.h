/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lease_count.h - leases acquired and released over the last hour, in
 * one-minute buckets, for psvctl status.
 */
#ifndef PSV_LEASE_COUNT_H
#define PSV_LEASE_COUNT_H

#include <stdint.h>

#define LEASE_COUNT_MINUTES 60

struct lease_count {
	uint64_t minute[LEASE_COUNT_MINUTES];	/* which minute a bucket holds */
	uint32_t acquired[LEASE_COUNT_MINUTES];
	uint32_t released[LEASE_COUNT_MINUTES];
};

void lease_count_acquired(struct lease_count *c, uint64_t now_ms);
void lease_count_released(struct lease_count *c, uint64_t now_ms);
/* Sums over the hour before now_ms. */
void lease_count_hour(const struct lease_count *c, uint64_t now_ms,
		      uint32_t *acquired, uint32_t *released);

#endif
