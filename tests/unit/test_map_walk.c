// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_map_walk.c - the chunked map walker (loader/common/map_walk.c) on
 * real BPF maps: every entry once, deletions by the walker and under it
 * (the key the walk would resume from among them), entries added
 * meanwhile, a hash bucket larger than the chunk, an array in index
 * order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "check.h"
#include "common/map_walk.h"

#define N 10000

static unsigned int visits[2 * N];

static int hash_map(unsigned int max_entries)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "test_walk", sizeof(__u32),
				sizeof(__u32), max_entries, NULL);

	if (fd < 0)
		printf("# cannot create a hash map: %s\n", strerror(errno));
	return fd;
}

static void fill(int fd, __u32 from, __u32 to)
{
	for (__u32 k = from; k < to; k++)
		bpf_map_update_elem(fd, &k, &k, BPF_ANY);
}

/* Counts the visit; the value must be the key's. */
static int visit(void *ctx, const void *key, const void *val)
{
	__u32 k = *(const __u32 *)key;

	(void)ctx;
	if (k >= 2 * N || *(const __u32 *)val != k)
		return -EBADMSG;
	visits[k]++;
	return 0;
}

/* Visits, and deletes the odd keys. */
static int visit_drop_odd(void *ctx, const void *key, const void *val)
{
	int rc = visit(ctx, key, val);

	return rc ?: (*(const __u32 *)key % 2 ? MAP_WALK_DELETE : 0);
}

/* How many keys in [from, to) were visited other than want times. */
static unsigned int visited_wrong(__u32 from, __u32 to, unsigned int want)
{
	unsigned int wrong = 0;

	for (__u32 k = from; k < to; k++)
		wrong += visits[k] != want;
	return wrong;
}

static unsigned int map_count(int fd)
{
	__u32 k, next, *prev = NULL;
	unsigned int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		n++;
		k = next;
		prev = &k;
	}
	return n;
}

static void test_whole(void)
{
	int fd = hash_map(N), rc;

	fill(fd, 0, N);
	memset(visits, 0, sizeof(visits));
	rc = map_walk(fd, sizeof(__u32), sizeof(__u32), visit, NULL);
	CHECK_EQ(rc, 0, "map_walk of %u entries succeeds", N);
	CHECK_EQ(visited_wrong(0, N, 1), 0, "... every entry visited once");

	memset(visits, 0, sizeof(visits));
	rc = map_walk(fd, sizeof(__u32), sizeof(__u32), visit_drop_odd, NULL);
	CHECK_EQ(rc, 0, "a walk deleting every odd entry succeeds");
	CHECK_EQ(visited_wrong(0, N, 1), 0, "... visiting every entry once");
	CHECK_EQ(map_count(fd), N / 2, "... the even half stays");
	close(fd);

	fd = hash_map(N);
	rc = map_walk(fd, sizeof(__u32), sizeof(__u32), visit, NULL);
	CHECK_EQ(rc, 0, "an empty map: nothing to visit, no error");
	close(fd);
}

/* How many keys in [from, to) were visited more than once. */
static unsigned int visited_twice(__u32 from, __u32 to)
{
	unsigned int n = 0;

	for (__u32 k = from; k < to; k++)
		n += visits[k] > 1;
	return n;
}

/*
 * Between chunks, BPF (here: the test) deletes entries and adds new
 * ones: the walk goes on where it was.
 */
static void test_chunks_under_change(void)
{
	struct map_cursor c;
	unsigned int steps = 0;
	__u32 gone = 0, added = N;
	int fd = hash_map(2 * N), rc;

	fill(fd, 0, N);
	memset(visits, 0, sizeof(visits));
	rc = map_cursor_open(&c, fd, sizeof(__u32), sizeof(__u32), 100);
	CHECK_EQ(rc, 0, "a cursor of 100 entries a step opens");
	do {
		rc = map_cursor_step(&c, visit, NULL);
		steps++;
		/* Ten more of the keys below N/2 go, ten new ones come. */
		for (int i = 0; i < 10 && gone < N / 2; i++, gone++)
			bpf_map_delete_elem(fd, &gone);
		fill(fd, added, added + 10);
		added += 10;
	} while (rc > 0 && steps < N);
	map_cursor_close(&c);
	CHECK_EQ(rc, 0, "entries deleted and added between steps: the walk "
		 "ends (%u steps)", steps);
	CHECK(steps <= 2 * N / 100 + 10, "... in few steps: it never started "
	      "again (%u steps)", steps);
	CHECK_EQ(visited_wrong(N / 2, N, 1), 0,
		 "... every entry never deleted visited once");
	CHECK_EQ(visited_twice(0, added), 0, "... none twice");
	close(fd);
}

static __u32 last_key;

static int visit_note_last(void *ctx, const void *key, const void *val)
{
	last_key = *(const __u32 *)key;
	return visit(ctx, key, val);
}

/*
 * After each chunk, the last entry the walker visited is deleted:
 * get_next_key from that key would start again at the first one.
 */
static void test_resume_key_deleted(void)
{
	struct map_cursor c;
	unsigned int steps = 0, deleted = 0;
	int fd = hash_map(N), rc;

	fill(fd, 0, N);
	memset(visits, 0, sizeof(visits));
	map_cursor_open(&c, fd, sizeof(__u32), sizeof(__u32), 10);
	do {
		rc = map_cursor_step(&c, visit_note_last, NULL);
		steps++;
		if (rc > 0)
			deleted += !bpf_map_delete_elem(fd, &last_key);
	} while (rc > 0 && steps < 10 * N);
	map_cursor_close(&c);
	CHECK_EQ(rc, 0, "the last key visited deleted after each step of 10: "
		 "the walk ends (%u steps, %u deleted)", steps, deleted);
	CHECK(steps <= 2 * N / 10 + 10, "... in few steps (%u)", steps);
	CHECK_EQ(visited_wrong(0, N, 1), 0,
		 "... every entry visited exactly once");
}

/* A bucket of several entries read with a chunk of 1: the chunk grows. */
static void test_chunk_smaller_than_bucket(void)
{
	struct map_cursor c;
	int fd = hash_map(64), rc;

	fill(fd, 0, 64);
	memset(visits, 0, sizeof(visits));
	map_cursor_open(&c, fd, sizeof(__u32), sizeof(__u32), 1);
	while ((rc = map_cursor_step(&c, visit, NULL)) > 0)
		;
	CHECK_EQ(rc, 0, "a chunk of 1 over 64 entries in 64 buckets (some "
		 "share one) succeeds (chunk now %u)", c.chunk);
	CHECK_EQ(visited_wrong(0, 64, 1), 0, "... every entry visited once");
	map_cursor_close(&c);
	close(fd);
}

struct order {
	__u32 next;
	unsigned int wrong;
};

static int in_order(void *ctx, const void *key, const void *val)
{
	struct order *o = ctx;

	(void)val;
	o->wrong += *(const __u32 *)key != o->next++;
	return 0;
}

static void test_array(void)
{
	struct order o = { 0 };
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "test_walk_arr",
				sizeof(__u32), sizeof(__u64), 3000, NULL);
	int rc;

	rc = map_walk(fd, sizeof(__u32), sizeof(__u64), in_order, &o);
	CHECK_EQ(rc, 0, "an array of 3000 slots is walked");
	CHECK(o.next == 3000 && !o.wrong, "... every slot, in index order "
	      "(%u slots, %u out of order)", o.next, o.wrong);
	close(fd);
}

static void test_errors(void)
{
	struct map_cursor c;
	int fd = hash_map(16);

	CHECK_EQ(map_cursor_open(&c, fd, MAP_WALK_KEY_MAX + 1, 4, 8), -EINVAL,
		 "a key larger than the walker's token is refused");
	close(fd);
	CHECK(map_walk(fd, sizeof(__u32), sizeof(__u32), visit, NULL) < 0,
	      "a closed map: the kernel's error, not a crash");
}

int main(void)
{
	test_whole();
	test_chunks_under_change();
	test_resume_key_deleted();
	test_chunk_smaller_than_bucket();
	test_array();
	test_errors();
	return check_exit();
}
