/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * clock.h - the clocks psv reads.  Monotonic time is CLOCK_MONOTONIC,
 * the clock bpf_ktime_get_ns() counts, so map timestamps compare with it.
 */
#ifndef PSV_CLOCK_H
#define PSV_CLOCK_H

#include <stdint.h>

uint64_t clock_now_ms(void);
uint64_t clock_now_ns(void);
/* A monotonic time in ms as wall-clock unix seconds (for what psvctl
 * shows and the lease store keeps); UINT64_MAX: INT64_MAX (never). */
int64_t clock_wall_s(uint64_t mono_ms);
/* The reverse, in monotonic seconds, rounded down (for the dataplane's
 * lease ends); 0 and INT64_MAX (none, never) give 0. */
uint32_t clock_mono_s(int64_t wall_s);

#endif
