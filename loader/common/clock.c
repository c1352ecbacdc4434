// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* clock.c - see clock.h. */
#include <time.h>

#include "common/clock.h"

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t clock_now_ms(void)
{
	return clock_now_ns() / 1000000;
}

int64_t clock_wall_s(uint64_t mono_ms)
{
	if (mono_ms == UINT64_MAX)
		return INT64_MAX;
	return time(NULL) + ((int64_t)mono_ms - (int64_t)clock_now_ms()) / 1000;
}

uint32_t clock_mono_s(int64_t wall_s)
{
	int64_t mono_s;

	if (!wall_s || wall_s == INT64_MAX)
		return 0;
	mono_s = (int64_t)(clock_now_ms() / 1000) + wall_s - time(NULL);
	if (mono_s < 1)
		return 1;	/* already over: still a lease that ended */
	return mono_s > UINT32_MAX ? 0 : (uint32_t)mono_s;
}
