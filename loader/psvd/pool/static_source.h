/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * static_source.h - identities from a configured address range
 * ([pool] source = static).  Each address is handed out once: a retired
 * one is not reused while the range has fresh ones.  The range is an
 * address plan of one network: after the host moved to another subnet
 * it is used only if it lies in that subnet.
 */
#ifndef PSV_STATIC_SOURCE_H
#define PSV_STATIC_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "psvd/pool/identity_pool.h"

struct link_socket;

struct static_source {
	uint32_t first, last;	/* host order */
	uint32_t next;		/* host order; last + 1 when exhausted */
	struct link_socket *link;	/* where identities are announced */
	bool off_subnet;	/* not in the host's subnet: no acquisitions */
};

extern const struct pool_source_ops static_source_ops;

/* first/last in network order, as the config holds them. */
void static_source_init(struct static_source *src, uint32_t first,
			uint32_t last, struct link_socket *link);
/* Skips past the addresses adopted identities hold. */
void static_source_adopted(struct static_source *src,
			   const struct identity_pool *pool);
/*
 * The host moved to the subnet of ip/netmask (network order): the range
 * is used from now on only if it lies in it (logged if not).
 */
void static_source_set_subnet(struct static_source *src, uint32_t ip,
			      uint32_t netmask);

#endif
