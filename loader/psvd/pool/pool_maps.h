/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pool_maps.h - the pool's io (identity_pool.h) on the real thing: the
 * dataplane's maps, the local routes and addresses on lo, sock_diag,
 * and for slaac.h the link socket.
 */
#ifndef PSV_POOL_MAPS_H
#define PSV_POOL_MAPS_H

#include "psvd/link/link_socket.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/pool/slaac.h"

struct dataplane;

/* io for the dataplane dp (which must outlive it). */
void pool_maps_io(struct pool_io *io, struct dataplane *dp);

/* slaac's io: psv_addrs6, lo addresses, DAD and RS on the link socket. */
struct slaac_maps {
	struct slaac_io io;
	struct dataplane *dp;
	struct link_socket *link;
};

void slaac_maps_io(struct slaac_maps *m, struct dataplane *dp,
		   struct link_socket *link);

#endif
