/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pool_maps.h - the pool's io (identity_pool.h) on the real thing: the
 * dataplane's maps, the local routes on lo, sock_diag.
 */
#ifndef PSV_POOL_MAPS_H
#define PSV_POOL_MAPS_H

#include "psvd/pool/identity_pool.h"

struct dataplane;

/* io for the dataplane dp (which must outlive it). */
void pool_maps_io(struct pool_io *io, struct dataplane *dp);

#endif
