// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pool_maps.c - see pool_maps.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <bpf/bpf.h>

#include "psvd/pool/pool_maps.h"
#include "psvd/dataplane.h"
#include "psvd/local_addrs6.h"
#include "psvd/local_routes.h"
#include "common/clock.h"
#include "common/map_walk.h"
#include "common/sockets.h"

static int identity_put(void *ctx, uint32_t ip, const struct psv_identity *v)
{
	struct dataplane *dp = ctx;

	return bpf_map_update_elem(dp->identities_fd, &ip, v, BPF_ANY) ?
	       -errno : 0;
}

static void identity_del(void *ctx, uint32_t ip)
{
	struct dataplane *dp = ctx;

	bpf_map_delete_elem(dp->identities_fd, &ip);
}

struct each {
	void (*cb)(void *arg, uint32_t ip, const struct psv_identity *v);
	void *arg;
};

static int each_entry(void *ctx, const void *key, const void *val)
{
	struct each *e = ctx;

	e->cb(e->arg, *(const uint32_t *)key, val);
	return 0;
}

static int identity_each(void *ctx,
			 void (*cb)(void *arg, uint32_t ip,
				    const struct psv_identity *v),
			 void *arg)
{
	struct dataplane *dp = ctx;
	struct each e = { .cb = cb, .arg = arg };

	return map_walk(dp->identities_fd, sizeof(uint32_t),
			sizeof(struct psv_identity), each_entry, &e);
}

static int identity_get(void *ctx, uint32_t ip, struct psv_identity *v)
{
	struct dataplane *dp = ctx;

	return bpf_map_lookup_elem(dp->identities_fd, &ip, v) ? -errno : 0;
}

static int ready_push(void *ctx, uint32_t ip)
{
	struct dataplane *dp = ctx;

	return bpf_map_update_elem(dp->ready_fd, NULL, &ip, BPF_ANY) ?
	       -errno : 0;
}

/*
 * Pops the whole ready queue and pushes it back in its order, without
 * skip (0: none), calling cb (if any) for each address back in it; 0,
 * or -errno if a pop failed (the queue may hold more than cb heard of).
 * Egress popping meanwhile finds the queue empty for that moment: psvd
 * does it only to take a ready identity out and once at adoption.
 */
static int ready_cycle(struct dataplane *dp, uint32_t skip,
		       void (*cb)(void *arg, uint32_t ip), void *arg)
{
	uint32_t q[PSV_MAX_IDENTITIES], v;
	unsigned int n = 0;
	int err = 0;

	while (n < PSV_MAX_IDENTITIES) {
		if (bpf_map_lookup_and_delete_elem(dp->ready_fd, NULL, &v)) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		if (v != skip)
			q[n++] = v;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!bpf_map_update_elem(dp->ready_fd, NULL, &q[i], BPF_ANY) &&
		    cb)
			cb(arg, q[i]);
	return err;
}

static void ready_remove(void *ctx, uint32_t vip)
{
	ready_cycle(ctx, vip, NULL, NULL);
}

static int ready_each(void *ctx, void (*cb)(void *arg, uint32_t ip), void *arg)
{
	return ready_cycle(ctx, 0, cb, arg);
}

_Static_assert(offsetof(struct psv_group, vip) == 0,
	       "psv_groups and psv_links values begin with the identity");

static int drop_if_to(void *ctx, const void *key, const void *val)
{
	(void)key;
	return *(const uint32_t *)val == *(const uint32_t *)ctx ?
	       MAP_WALK_DELETE : 0;
}

/* The groups, and the on_exhausted = link hints, that lead to vip. */
static void groups_drop(void *ctx, uint32_t vip)
{
	struct dataplane *dp = ctx;

	map_walk(dp->groups_fd, sizeof(struct psv_group_key),
		 sizeof(struct psv_group), drop_if_to, &vip);
	map_walk(dp->links_fd, sizeof(struct psv_group_key), sizeof(__be32),
		 drop_if_to, &vip);
}

static int route_add(void *ctx, uint32_t ip)
{
	(void)ctx;
	return local_route_add(ip);
}

static void route_del(void *ctx, uint32_t ip)
{
	(void)ctx;
	local_route_del(ip);
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return clock_now_ms();
}

static int destroy_if_on(void *ctx, const struct inet4_sock *s)
{
	if (s->laddr == *(const uint32_t *)ctx)
		sockets_destroy(s);
	return 0;
}

static void sockets_end(void *ctx, uint32_t ip)
{
	(void)ctx;
	sockets_walk(destroy_if_on, &ip);
}

void pool_maps_io(struct pool_io *io, struct dataplane *dp)
{
	*io = (struct pool_io){
		.identity_put = identity_put,
		.identity_del = identity_del,
		.identity_each = identity_each,
		.identity_get = identity_get,
		.ready_push = ready_push,
		.ready_remove = ready_remove,
		.ready_each = ready_each,
		.groups_drop = groups_drop,
		.route_add = route_add,
		.route_del = route_del,
		.sockets_end = sockets_end,
		.now_ms = now_ms,
		.ctx = dp,
	};
}

static int send_dad(void *ctx, const uint8_t mac[6], const uint8_t a[16])
{
	struct slaac_maps *m = ctx;

	return link_socket_send_dad_ns(m->link, mac, a);
}

static int send_rs(void *ctx, const uint8_t mac[6])
{
	struct slaac_maps *m = ctx;

	return link_socket_send_rs(m->link, mac);
}

static int owner_put(void *ctx, const uint8_t a[16], uint32_t vip,
		     bool dad_done)
{
	struct slaac_maps *m = ctx;
	struct psv_addr6_owner o = { .vip = vip, .dad_done = dad_done };

	return bpf_map_update_elem(m->dp->addrs6_fd, a, &o, BPF_ANY) ?
	       -errno : 0;
}

static void owner_del(void *ctx, const uint8_t a[16])
{
	struct slaac_maps *m = ctx;

	bpf_map_delete_elem(m->dp->addrs6_fd, a);
}

struct owner_each {
	bool (*cb)(void *arg, const uint8_t a[16],
		   const struct psv_addr6_owner *o);
	void *arg;
};

static int each_owner(void *ctx, const void *key, const void *val)
{
	struct owner_each *e = ctx;

	return e->cb(e->arg, key, val) ? MAP_WALK_DELETE : 0;
}

static int owners(void *ctx,
		  bool (*cb)(void *arg, const uint8_t a[16],
			     const struct psv_addr6_owner *o),
		  void *arg)
{
	struct slaac_maps *m = ctx;
	struct owner_each e = { .cb = cb, .arg = arg };

	return map_walk(m->dp->addrs6_fd, sizeof(struct psv_addr6),
			sizeof(struct psv_addr6_owner), each_owner, &e);
}

static int local_add(void *ctx, const uint8_t a[16], bool preferred)
{
	(void)ctx;
	return local_addr6_add(a, preferred);
}

static void local_del(void *ctx, const uint8_t a[16])
{
	(void)ctx;
	local_addr6_del(a);
}

static int locals(void *ctx, void (*cb)(void *arg, const uint8_t a[16]),
		  void *arg)
{
	(void)ctx;
	return local_addrs6_list(cb, arg);
}

static int destroy6_if_on(void *ctx, const struct inet6_sock *s)
{
	if (!memcmp(s->laddr, ctx, 16))
		sockets_destroy6(s);
	return 0;
}

static void sockets6_end(void *ctx, const uint8_t a[16])
{
	(void)ctx;
	sockets_walk6(destroy6_if_on, (void *)a);
}

void slaac_maps_io(struct slaac_maps *m, struct dataplane *dp,
		   struct link_socket *link)
{
	m->dp = dp;
	m->link = link;
	m->io = (struct slaac_io){
		.send_dad = send_dad,
		.send_rs = send_rs,
		.owner_put = owner_put,
		.owner_del = owner_del,
		.owner_each = owners,
		.local_add = local_add,
		.local_del = local_del,
		.local_each = locals,
		.sockets_end = sockets6_end,
		.ctx = m,
	};
}
