/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nl.h - what local_routes, route_mirror and sockets share of netlink
 * (libmnl): one request and its answers, and a growing array to collect a
 * dump into.  Dumps are collected before anything acts on them: a request
 * or a change made while a dump is under way would disturb it (the
 * kernel resumes a dump by position).
 */
#ifndef PSV_NL_H
#define PSV_NL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

/*
 * Receive buffer: dump messages come in skbs of up to 32 KiB, and a
 * datagram that does not fit is cut (libmnl then fails with ENOSPC).
 */
#define NL_BUF_SIZE 32768

/*
 * Opens *nl, a netlink socket of bus (NETLINK_ROUTE, NETLINK_SOCK_DIAG),
 * close on exec, bound to the multicast groups (a bit mask, 0 for none);
 * flags may add SOCK_NONBLOCK.  0, or -errno with a message logged that
 * names what the socket was for.
 */
int nl_open(struct mnl_socket **nl, int bus, int flags, unsigned int groups,
	    const char *what);

/*
 * A dump request of type in buf (MNL_SOCKET_BUFFER_SIZE bytes) with a
 * zeroed family header of hdr_len bytes after it, in *hdr; attributes
 * may follow.
 */
struct nlmsghdr *nl_dump_header(char *buf, uint16_t type, size_t hdr_len,
				void **hdr);

/*
 * Sends req (its sequence number is set here) and runs cb on each answer
 * until the kernel's acknowledgement or the end of the dump.  0, or
 * -errno: the kernel's error for the request, a failed send or receive, or
 * the errno a cb that returned MNL_CB_ERROR set.  Nothing is logged: the
 * caller knows which errors are expected and what the request was.
 */
int nl_request(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb,
	       void *data);

/* A route's table: RTA_TABLE when present (tables above 255 need it). */
unsigned int nl_route_table(const struct nlmsghdr *nlh,
			    const struct nlattr *rta_table);

/* A growing array of items of one size; zero-initialize, then nl_vec_free. */
struct nl_vec {
	void *items;
	size_t len, cap, size;
};

/* Appends a copy of item: 0, or -ENOMEM (with errno set, for a cb). */
int nl_vec_push(struct nl_vec *v, const void *item);
void nl_vec_free(struct nl_vec *v);

#endif
