/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.h - psvd's control socket, /run/psv/IF.sock (mode 0600), for
 * what the maps do not hold (leases).  A client writes one line, "leases",
 * and reads one JSON document:
 *   {"pid":N,"started":UNIX,"source":"dhcp|static",
 *    "leases":[{"ipv4":"A.B.C.D","lease_expires":UNIX|null,"server":..}]}
 */
#ifndef PSV_CONTROL_H
#define PSV_CONTROL_H

#include <stddef.h>

#define PSV_CONTROL_DIR "/run/psv"

/* dir/ifname.sock, dir being $PSV_CONTROL_DIR (tests) or PSV_CONTROL_DIR;
 * -ENAMETOOLONG if it does not fit a unix socket address. */
int control_path(char *buf, size_t len, const char *ifname);

/* Builds the reply to a command; returns a malloc'ed string or NULL. */
typedef char *(*control_handler)(void *ctx, const char *command);

/* Listening socket at control_path(); -errno on failure. */
int control_open(const char *ifname, char *path, size_t pathlen);
/* Serves one client waiting on listen_fd (call when it is readable). */
void control_serve(int listen_fd, control_handler handler, void *ctx);
void control_close(int listen_fd, const char *path);

#endif
