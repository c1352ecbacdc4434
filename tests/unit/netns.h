/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * netns.h - a private network namespace for tests that change routes,
 * links or sockets: the machine's own are never touched.  Setup is done
 * with ip(8), as an operator would.
 */
#ifndef PSV_NETNS_H
#define PSV_NETNS_H

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>

#include "check.h"

/* Runs a shell command built like printf; its success, as a check. */
static inline __attribute__((format(printf, 1, 2))) int sh(const char *fmt,
							     ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	CHECK(st == 0, "%s", cmd);
	return st == 0 ? 0 : -1;
}

/* Enters a new network namespace with lo up; tests run as root. */
static inline int netns_enter(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		CHECK(0, "private network namespace: %m");
		return -1;
	}
	return sh("ip link set lo up");
}

/* An IPv4 address in network order. */
static inline uint32_t ip4(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

#endif
