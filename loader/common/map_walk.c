// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* map_walk.c - see map_walk.h. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/map_walk.h"

int map_walk(int fd, size_t key_size, size_t value_size, unsigned int limit,
	     map_walk_fn fn, void *ctx)
{
	unsigned char key[MAP_WALK_KEY_MAX], next[MAP_WALK_KEY_MAX];
	unsigned char val[MAP_WALK_VAL_MAX];
	void *prev = NULL;
	int rc;

	if (key_size > sizeof(key) || value_size > sizeof(val))
		return -EINVAL;
	for (unsigned int i = 0; i < limit; i++) {
		if (bpf_map_get_next_key(fd, prev, next))
			return errno == ENOENT ? 0 : -errno;
		if (bpf_map_lookup_elem(fd, next, val)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		rc = fn(ctx, next, val);
		if (rc < 0)
			return rc;
		if (rc == MAP_WALK_DELETE) {
			bpf_map_delete_elem(fd, next);
			continue;
		}
		memcpy(key, next, key_size);
		prev = key;
	}
	return 0;
}
