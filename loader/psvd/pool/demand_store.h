/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * demand_store.h - the demand peak (demand.h) across psvd's restarts,
 * in STATE_DIR/IF.demand.json: {"version": 1, "peak": 17.3}.  A
 * restarted psvd resumes its ready target where the last run left it
 * instead of falling back to the floor.
 */
#ifndef PSV_DEMAND_STORE_H
#define PSV_DEMAND_STORE_H

/* The most a file may say: more identities than any pool holds is
 * not a peak psvd wrote. */
#define DEMAND_STORE_PEAK_MAX 4096.0

/* Writes peak; 0 or -errno (logged). */
int demand_store_save(const char *dir, const char *ifname, double peak);
/* Reads it into *peak: 0 (0.0 if there is no file), -errno (logged);
 * a file that does not parse is -EINVAL. */
int demand_store_load(const char *dir, const char *ifname, double *peak);
/* Parses the file's text (also for the tests). */
int demand_store_parse(const char *text, size_t len, double *peak);

#endif
