/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * map_walk.h - the one walker of psv's maps (pinned or held by a
 * skeleton): psvctl reads them, psvd's expiry deletes from them.
 *
 * The walk reads the map in batches (BPF_MAP_LOOKUP_BATCH), a chunk of
 * entries at a time, so a daemon can walk a table of 100,000 entries a
 * chunk per turn of its event loop.  The kernel resumes a hash map's
 * batch at the next bucket, not at a key: entries deleted under the
 * walk (by BPF, by fn, between chunks) neither restart it nor end it
 * early.  Every entry that is in the map from the walk's start to its
 * end is visited exactly once; one added or deleted meanwhile, at most
 * once.  An array is visited in index order.
 */
#ifndef PSV_MAP_WALK_H
#define PSV_MAP_WALK_H

#include <stdbool.h>
#include <stddef.h>

/* The largest key map_walk reads (the kernel's resume token is a key
 * for arrays, a bucket for hash maps). */
#define MAP_WALK_KEY_MAX 64

/* A map_walk_fn's answer: delete this entry and go on. */
#define MAP_WALK_DELETE 1

/* 0: go on; MAP_WALK_DELETE; < 0: stop the walk with that error. */
typedef int (*map_walk_fn)(void *ctx, const void *key, const void *val);

/* A walk in progress: map_cursor_open, map_cursor_step until it
 * returns 0 (done) or an error, map_cursor_close. */
struct map_cursor {
	int fd;
	size_t key_size, value_size;
	unsigned int chunk;		/* entries read per step */
	unsigned char *keys, *vals;	/* a chunk of each */
	unsigned char token[MAP_WALK_KEY_MAX];	/* where the next batch starts */
	bool started, done;
};

/* 0 or -errno (key too large, no memory). */
int map_cursor_open(struct map_cursor *c, int fd, size_t key_size,
		    size_t value_size, unsigned int chunk);
/*
 * Reads the next chunk and calls fn for each of its entries (deleting
 * those it answers MAP_WALK_DELETE for).  1: more to come; 0: the walk
 * is done; < 0: fn's error or -errno of the kernel.
 */
int map_cursor_step(struct map_cursor *c, map_walk_fn fn, void *ctx);
void map_cursor_close(struct map_cursor *c);

/* The whole walk at once: 0, fn's error, or -errno. */
int map_walk(int fd, size_t key_size, size_t value_size, map_walk_fn fn,
	     void *ctx);

#endif
