// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* static_source.c - see static_source.h. */
#include <errno.h>
#include <arpa/inet.h>

#include "psvd/link/link_socket.h"
#include "common/log.h"
#include "psvd/netdev.h"
#include "psvd/pool/static_source.h"

void static_source_init(struct static_source *src, uint32_t first,
			uint32_t last, struct link_socket *link)
{
	src->first = ntohl(first);
	src->last = ntohl(last);
	src->next = src->first;
	src->link = link;
	src->off_subnet = false;
}

void static_source_adopted(struct static_source *src,
			   const struct identity_pool *pool)
{
	for (unsigned int i = 0; i < pool_size(pool); i++) {
		uint32_t ip = ntohl(pool_get(pool, i)->ip);

		if (ip >= src->next && ip <= src->last)
			src->next = ip + 1;
	}
}

void static_source_set_subnet(struct static_source *src, uint32_t ip,
			      uint32_t netmask)
{
	char first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
	char net[INET_ADDRSTRLEN];
	uint32_t f = htonl(src->first), l = htonl(src->last);

	src->off_subnet = !netdev_in_subnet(f, ip, netmask) ||
			  !netdev_in_subnet(l, ip, netmask);
	if (!src->off_subnet)
		return;
	inet_ntop(AF_INET, &f, first, sizeof(first));
	inet_ntop(AF_INET, &l, last, sizeof(last));
	ip &= netmask;
	inet_ntop(AF_INET, &ip, net, sizeof(net));
	log_warn("static range %s-%s is not in the host's subnet %s/%d: no "
		 "identities from it on this network (new flows follow "
		 "on_exhausted)", first, last, net,
		 __builtin_popcount(netmask));
}

static int static_acquire(struct identity_pool *pool, struct identity *id)
{
	struct static_source *src = pool->source;

	if (src->off_subnet)
		return -ENETUNREACH;
	if (src->next > src->last || src->next < src->first) {
		log_warn("static range exhausted: no fresh address for identity %u",
			 id->id);
		return -ENOSPC;
	}
	return pool_identity_bound(pool, id, htonl(src->next++));
}

/* Release and forget: nothing leased, nothing to give back. */
static void static_release(struct identity_pool *pool, struct identity *id)
{
	(void)pool;
	(void)id;
}

static void static_announce(struct identity_pool *pool, struct identity *id)
{
	struct static_source *src = pool->source;

	link_socket_announce(src->link, id->mac, id->ip);
}

const struct pool_source_ops static_source_ops = {
	.acquire = static_acquire,
	.release = static_release,
	.forget = static_release,
	.announce = static_announce,
};
