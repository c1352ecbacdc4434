// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control.c - see control.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "control.h"
#include "log.h"

static const char *control_dir(void)
{
	const char *dir = getenv("PSV_CONTROL_DIR");

	return dir && dir[0] ? dir : PSV_CONTROL_DIR;
}

int control_path(char *buf, size_t len, const char *ifname)
{
	struct sockaddr_un sun;

	if ((size_t)snprintf(buf, len, "%s/%s.sock", control_dir(), ifname) >= len ||
	    strlen(buf) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int control_open(const char *ifname, char *path, size_t pathlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int fd, err;

	if (mkdir(control_dir(), 0700) && errno != EEXIST) {
		err = -errno;
		log_err("cannot create %s: %s", control_dir(), strerror(-err));
		return err;
	}
	if (control_path(path, pathlen, ifname)) {
		log_err("control socket path for %s too long", ifname);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("socket(AF_UNIX) for %s: %s", path, strerror(-err));
		return err;
	}
	/* A stale socket of a crashed psvd would make bind fail. */
	unlink(path);
	old_umask = umask(0177);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (err || listen(fd, 8)) {
		err = -errno;
		log_err("cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

void control_serve(int listen_fd, control_handler handler, void *ctx)
{
	/* A client that does not write promptly must not stall the daemon. */
	struct timeval tmo = { .tv_sec = 0, .tv_usec = 200000 };
	char line[64];
	ssize_t n;
	char *reply;
	int fd;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on control socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	reply = handler(ctx, line);
	if (reply) {
		size_t len = strlen(reply), off = 0;

		while (off < len) {
			n = write(fd, reply + off, len - off);
			if (n <= 0)
				break;
			off += n;
		}
		free(reply);
	}
	close(fd);
}

void control_close(int listen_fd, const char *path)
{
	if (listen_fd >= 0)
		close(listen_fd);
	if (path[0])
		unlink(path);
}
