// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Demand file: the peak survives a save/load round trip, a missing file
 * is no demand, and what a psvd never wrote is refused (the target then
 * starts at the floor).  The model resuming from it: demand.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/log.h"
#include "psvd/pool/demand.h"
#include "psvd/pool/demand_store.h"

static void test_round_trip(const char *dir)
{
	double peak = -1;

	CHECK_EQ(demand_store_load(dir, "eth0", &peak), 0, "no file: no error");
	CHECK(peak == 0.0, "no file: no demand");
	CHECK_EQ(demand_store_save(dir, "eth0", 17.25), 0, "save a peak");
	CHECK_EQ(demand_store_load(dir, "eth0", &peak), 0, "load it back");
	CHECK(peak == 17.25, "the same peak (%.3f)", peak);
	CHECK_EQ(demand_store_save(dir, "eth0", 3.5), 0, "save over it");
	demand_store_load(dir, "eth0", &peak);
	CHECK(peak == 3.5, "the newer peak (%.3f)", peak);
}

static void test_refused(const char *dir)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"version\": 1}", "{\"peak\": 3}",
		"{\"version\": 2, \"peak\": 3}",
		"{\"version\": 1, \"peak\": \"3\"}",
		"{\"version\": 1, \"peak\": -1}",
		"{\"version\": 1, \"peak\": 1e9}",
		"{\"version\": 1, \"peak\": NaN}",
		"{\"version\": 1, \"peak\": 3",
	};
	char path[256];
	double peak;
	FILE *f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(demand_store_parse(bad[i], strlen(bad[i]), &peak),
			 -EINVAL, "refused: %s", bad[i]);
	{
		static const char whole[] = "{\"version\": 1, \"peak\": 12}";

		CHECK(!demand_store_parse(whole, strlen(whole), &peak) &&
		      peak == 12.0, "a whole number is a peak too");
	}
	snprintf(path, sizeof(path), "%s/eth1.demand.json", dir);
	f = fopen(path, "w");
	fputs("{\"version\": 1, \"peak\": -4}", f);
	fclose(f);
	peak = 5;
	CHECK_EQ(demand_store_load(dir, "eth1", &peak), -EINVAL,
		 "a bad file: an error");
	CHECK(peak == 0.0, "... and no demand: the floor");
	unlink(path);
}

/* A restart resumes the learned peak: the target starts there and
 * decays over the window from the start, as if psvd had kept running. */
static void test_resume(void)
{
	struct demand d;
	uint64_t t = 5000;

	demand_resume(&d, 16.4, t);
	CHECK_EQ(demand_target(&d, t, 600, 8), 17, "resumed: target 17");
	CHECK(fabs(demand_peak(&d, t + 600 * 1000, 600) - 16.4 / M_E) < 1e-9,
	      "one window later: peak / e");
	CHECK_EQ(demand_target(&d, t + 3600 * 1000, 600, 8), 8,
		 "an hour later: the floor");
	CHECK(demand_rate(&d, t) == 0.0, "no burst yet: no recent rate");
	demand_resume(&d, 0.0, t);
	CHECK_EQ(demand_target(&d, t, 600, 8), 8, "nothing learned: the floor");
}

int main(void)
{
	char dir[] = "/tmp/psv-demand-test.XXXXXX";
	char path[300];

	log_init("test_demand_store", false, LOG_LVL_ERROR);
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return check_exit();
	}
	test_round_trip(dir);
	test_refused(dir);
	test_resume();
	snprintf(path, sizeof(path), "%s/eth0.demand.json", dir);
	unlink(path);
	rmdir(dir);
	return check_exit();
}
