/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * map_walk.h - the one walker of psv's maps (pinned or held by a
 * skeleton): psvctl reads them, psvd's expiry deletes from them.
 */
#ifndef PSV_MAP_WALK_H
#define PSV_MAP_WALK_H

#include <stddef.h>

/* The largest key and value map_walk reads. */
#define MAP_WALK_KEY_MAX 64
#define MAP_WALK_VAL_MAX 256

/* A map_walk_fn's answer: delete this entry and go on. */
#define MAP_WALK_DELETE 1

/* 0: go on; MAP_WALK_DELETE; < 0: stop the walk with that error. */
typedef int (*map_walk_fn)(void *ctx, const void *key, const void *val);

/*
 * Calls fn for every entry of a hash map, or every slot of an array (in
 * index order).  Entries may come and go while we walk (BPF adds, psvd
 * expires): one deleted under us is skipped, and at most limit entries
 * are visited, should a deletion restart the walk (get_next_key from a
 * key that is gone starts again at the beginning).  An entry fn deletes
 * does not move the walk on, so the walk resumes after the last entry
 * that stays.  0, fn's error, or -errno of the kernel.
 */
int map_walk(int fd, size_t key_size, size_t value_size, unsigned int limit,
	     map_walk_fn fn, void *ctx);

#endif
