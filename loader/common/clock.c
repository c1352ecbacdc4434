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
