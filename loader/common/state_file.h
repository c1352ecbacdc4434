/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state_file.h - small files psvd keeps across restarts in its state
 * directory (the DHCP leases, the learned demand).  Written atomically:
 * a temporary file, fsync, rename, so a crash leaves the old file or
 * the new one, never half of one.  Errors are logged with the path.
 */
#ifndef PSV_STATE_FILE_H
#define PSV_STATE_FILE_H

#include <stddef.h>

/* Writes text to dir/name (dir made if missing, mode 0700; the file
 * 0600); 0 or -errno. */
int state_file_write(const char *dir, const char *name, const char *text,
		     size_t len);
/*
 * Reads dir/name into *text (malloc'd, NUL-terminated, *len bytes): 0;
 * 0 with *text NULL if there is none; -EFBIG beyond max bytes; -errno.
 */
int state_file_read(const char *dir, const char *name, size_t max,
		    char **text, size_t *len);

#endif
