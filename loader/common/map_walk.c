// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* map_walk.c - see map_walk.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/map_walk.h"

/* map_walk's chunk: a syscall per 1024 entries. */
#define WALK_CHUNK 1024

static int alloc_chunk(struct map_cursor *c, unsigned int chunk)
{
	unsigned char *keys, *vals;

	keys = reallocarray(c->keys, chunk, c->key_size);
	if (!keys)
		return -ENOMEM;
	c->keys = keys;
	vals = reallocarray(c->vals, chunk, c->value_size);
	if (!vals)
		return -ENOMEM;
	c->vals = vals;
	c->chunk = chunk;
	return 0;
}

int map_cursor_open(struct map_cursor *c, int fd, size_t key_size,
		    size_t value_size, unsigned int chunk)
{
	int err;

	*c = (struct map_cursor){ .fd = fd, .key_size = key_size,
				  .value_size = value_size };
	if (key_size > sizeof(c->token) || !chunk)
		return -EINVAL;
	err = alloc_chunk(c, chunk);
	if (err)
		map_cursor_close(c);
	return err;
}

/*
 * The next batch into keys and vals; how many, or -errno.  The kernel
 * answers ENOENT with the map's last entries (perhaps none), and
 * ENOSPC when one hash bucket holds more entries than the chunk: then
 * the chunk grows.
 */
static int read_batch(struct map_cursor *c)
{
	unsigned char next[MAP_WALK_KEY_MAX] = { 0 };

	for (;;) {
		__u32 count = c->chunk;
		int err;

		if (!bpf_map_lookup_batch(c->fd, c->started ? c->token : NULL,
					  next, c->keys, c->vals, &count,
					  NULL)) {
			memcpy(c->token, next, sizeof(next));
			c->started = true;
			return count;
		}
		if (errno == ENOENT) {
			c->done = true;
			return count;
		}
		if (errno != ENOSPC || c->chunk > UINT32_MAX / 2)
			return -errno;
		err = alloc_chunk(c, c->chunk * 2);
		if (err)
			return err;
	}
}

int map_cursor_step(struct map_cursor *c, map_walk_fn fn, void *ctx)
{
	int n, rc;

	if (c->done)
		return 0;
	n = read_batch(c);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const void *key = c->keys + (size_t)i * c->key_size;

		rc = fn(ctx, key, c->vals + (size_t)i * c->value_size);
		if (rc < 0)
			return rc;
		/* Gone already (BPF, another walker): nothing to do. */
		if (rc == MAP_WALK_DELETE)
			bpf_map_delete_elem(c->fd, key);
	}
	return !c->done;
}

void map_cursor_close(struct map_cursor *c)
{
	free(c->keys);
	free(c->vals);
	c->keys = c->vals = NULL;
}

int map_walk(int fd, size_t key_size, size_t value_size, map_walk_fn fn,
	     void *ctx)
{
	struct map_cursor c;
	int rc = map_cursor_open(&c, fd, key_size, value_size, WALK_CHUNK);

	if (!rc)
		do
			rc = map_cursor_step(&c, fn, ctx);
		while (rc > 0);
	map_cursor_close(&c);
	return rc;
}
