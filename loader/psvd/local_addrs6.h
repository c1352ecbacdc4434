/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * local_addrs6.h - identity IPv6 addresses made local to the kernel as
 * /128 addresses on lo.  Unlike IPv4, where a local route suffices
 * (local_routes.h), IPv6 bind() needs an interface address.  They are
 * added with nodad (psvd ran DAD on the link, from the identity's MAC),
 * valid until psvd removes them, preferred while their prefix is.  Not
 * deprecated from the start: glibc's getaddrinfo() ranks a destination
 * whose source would be deprecated below IPv4 (RFC 6724 destination rule
 * 3), and connect6 gives its probe socket the identity's address.  The
 * host's own flows still never get one as source while the interface has
 * an address as good (source rule 5, the outgoing interface's, comes
 * before any tie is broken; rule 3 keeps a deprecated one of ours behind
 * a preferred one of the host's).  They carry IFA_PROTO PSV_RTPROT, so a
 * restarted psvd finds the ones it left behind.
 */
#ifndef PSV_LOCAL_ADDRS6_H
#define PSV_LOCAL_ADDRS6_H

#include <stdbool.h>
#include <stdint.h>

/* Adds (or refreshes) addr/128 on lo, preferred or deprecated: 0 or
 * -errno, logged. */
int local_addr6_add(const uint8_t addr[16], bool preferred);
/* Deletes it: 0 also if there was none; else -errno, logged. */
int local_addr6_del(const uint8_t addr[16]);
/*
 * Calls cb for each of psv's addresses on lo (found by their IFA_PROTO),
 * after the dump, so cb may delete it.  0 or -errno, logged.
 */
int local_addrs6_list(void (*cb)(void *ctx, const uint8_t addr[16]),
		      void *ctx);

#endif
