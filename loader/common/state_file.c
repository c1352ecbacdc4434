// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* state_file.c - see state_file.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/state_file.h"
#include "common/log.h"
#include "common/mkdir_p.h"

int state_file_write(const char *dir, const char *name, const char *text,
		     size_t len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	size_t off = 0;
	int fd, err;

	err = mkdir_p(dir);
	if (err) {
		log_err("cannot create state directory %s: %s", dir, strerror(-err));
		return err;
	}
	if (snprintf(final, sizeof(final), "%s/%s", dir, name) >= (int)sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", final) >= (int)sizeof(tmp)) {
		log_err("state file %s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		log_err("cannot create %s: %s", tmp, strerror(-err));
		return err;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += n;
	}
	if (off < len || fsync(fd)) {
		err = -errno;
		log_err("cannot write %s: %s", tmp, strerror(-err));
		close(fd);
		unlink(tmp);
		return err;
	}
	close(fd);
	if (rename(tmp, final)) {
		err = -errno;
		log_err("cannot rename %s to %s: %s", tmp, final, strerror(-err));
		unlink(tmp);
		return err;
	}
	return 0;
}

int state_file_read(const char *dir, const char *name, size_t max,
		    char **text, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, err;

	*text = NULL;
	*len = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		log_err("state file %s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		log_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) || (size_t)st.st_size > max) {
		log_err("%s: unreadable or larger than %zu bytes", path, max);
		close(fd);
		return -EFBIG;
	}
	*text = malloc(st.st_size + 1);
	if (!*text) {
		log_err("cannot allocate %lld bytes for %s",
			(long long)st.st_size + 1, path);
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, *text, st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_err("cannot read %s", path);
		free(*text);
		*text = NULL;
		return -EIO;
	}
	(*text)[n] = '\0';
	*len = n;
	return 0;
}
