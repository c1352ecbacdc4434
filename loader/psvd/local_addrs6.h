/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * local_addrs6.h - identity IPv6 addresses made local to the kernel as
 * /128 addresses on lo.  Unlike IPv4, where a local route suffices
 * (local_routes.h), IPv6 bind() needs an interface address.  They are
 * added with nodad (psvd ran DAD on the link, from the identity's MAC)
 * and a preferred lifetime of 0: deprecated, so source address selection
 * (RFC 6724 rule 3) never picks one for the host's own flows while it
 * has a preferred address of its own; bind() to them works all the
 * same.  They carry IFA_PROTO PSV_RTPROT, so a restarted psvd finds the
 * ones it left behind.
 */
#ifndef PSV_LOCAL_ADDRS6_H
#define PSV_LOCAL_ADDRS6_H

#include <stdint.h>

/* Adds (or refreshes) addr/128 on lo: 0 or -errno, logged. */
int local_addr6_add(const uint8_t addr[16]);
/* Deletes it: 0 also if there was none; else -errno, logged. */
int local_addr6_del(const uint8_t addr[16]);
/*
 * Calls cb for each of psv's addresses on lo (found by their IFA_PROTO),
 * after the dump, so cb may delete it.  0 or -errno, logged.
 */
int local_addrs6_list(void (*cb)(void *ctx, const uint8_t addr[16]),
		      void *ctx);

#endif
