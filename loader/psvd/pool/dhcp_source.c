// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dhcp_source.c - see dhcp_source.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "psvd/pool/dhcp_source.h"
#include "psvd/dhcp/lease_store.h"
#include "common/clock.h"
#include "common/log.h"

/* One identity's client, and the way back to it from dhcp_ops. */
struct lease_client {
	struct dhcp_client c;
	struct identity *id;
	struct dhcp_source *src;
	bool lost;		/* retire after the call that said so returns */
};

#define to_lc(cp) ((struct lease_client *)((char *)(cp) - \
			offsetof(struct lease_client, c)))

static struct dhcp_client *find_mac(struct dhcp_source *src,
				    const uint8_t mac[6])
{
	struct identity *id = src->pool ? pool_find_mac(src->pool, mac) : NULL;

	return id && id->source_state ? id->source_state : NULL;
}

static struct dhcp_client *find_ip(struct dhcp_source *src, uint32_t ip)
{
	struct identity_pool *pool = src->pool;

	/* During probing the address is only the client's yiaddr. */
	for (unsigned int i = 0; pool && i < pool_size(pool); i++) {
		struct dhcp_client *c = pool_get(pool, i)->source_state;

		if (c && c->yiaddr == ip)
			return c;
	}
	return NULL;
}

static int rx_dhcp(void *ctx, const uint8_t chaddr[6], uint64_t now_ms,
		   const struct link_frame *f)
{
	struct dhcp_client *c = find_mac(ctx, chaddr);

	if (!c)
		return -ENOENT;
	return dhcp_client_receive(c, now_ms, f->payload, f->len, f->src_mac);
}

static int rx_arp(void *ctx, uint32_t ip, uint64_t now_ms,
		  const struct link_frame *f)
{
	struct dhcp_client *c = find_ip(ctx, ip);

	if (!c)
		return -ENOENT;
	return dhcp_client_arp(c, now_ms, f->arp_op, f->arp_sha, f->arp_spa,
			       f->arp_tpa);
}

static const struct link_rx rx = {
	.dhcp = rx_dhcp,
	.arp = rx_arp,
};

static int op_send(void *ctx, struct dhcp_client *c, const void *payload,
		   size_t len, uint32_t src_ip, uint32_t dst_ip,
		   const uint8_t *dst_mac)
{
	struct dhcp_source *src = ctx;

	return link_socket_send_udp(src->link, c->mac, dst_mac, src_ip, dst_ip,
				    payload, len);
}

static int op_probe(void *ctx, struct dhcp_client *c, uint32_t ip)
{
	struct dhcp_source *src = ctx;

	return link_socket_send_arp(src->link, c->mac, 0, ip);
}

static void save(struct dhcp_source *src)
{
	struct identity_pool *pool = src->pool;
	struct lease_file f = { .next_id = pool_next_id(pool) };
	struct lease_record *r;

	src->dirty = false;
	if (!src->state_dir)
		return;
	f.leases = calloc(pool_size(pool) ? pool_size(pool) : 1,
			  sizeof(*f.leases));
	if (!f.leases) {
		log_err("cannot allocate the lease file");
		return;
	}
	for (unsigned int i = 0; i < pool_size(pool); i++) {
		const struct identity *id = pool_get(pool, i);
		const struct dhcp_client *c = id->source_state;

		if (!c || c->state < DHCP_REQUESTING || c->state == DHCP_RETIRED)
			continue;
		r = &f.leases[f.count++];
		r->pending = c->state < DHCP_BOUND;
		r->id = id->id;
		memcpy(r->mac, id->mac, 6);
		memcpy(r->server_mac, c->server_mac, 6);
		r->ip = c->yiaddr;
		r->server = c->server_id;
		r->leased_at = clock_wall_s(c->request_sent_ms);
		r->lease_s = c->lease_s;
		r->t1_s = c->t1_s;
		r->t2_s = c->t2_s;
	}
	if (lease_store_save(src->state_dir, src->ifname, &f))
		src->dirty = true;	/* try again at the next run */
	free(f.leases);
}

static void op_event(void *ctx, struct dhcp_client *c, enum dhcp_event ev)
{
	struct dhcp_source *src = ctx;
	struct lease_client *lc = to_lc(c);
	struct identity *id = lc->id;
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->yiaddr, ip, sizeof(ip));
	switch (ev) {
	case DHCP_EV_REQUESTING:
		/* Stored before the REQUEST leaves: see dhcp_source_resume(). */
		save(src);
		return;
	case DHCP_EV_BOUND:
		log_debug("identity %u: leased %s for %u s", id->id, ip, c->lease_s);
		/* Stored before any flow can use it: a psvd killed right
		 * after would otherwise find it pinned with no lease known,
		 * and could neither renew nor release it. */
		save(src);
		if (pool_identity_bound(src->pool, id, c->yiaddr))
			lc->lost = true;
		break;
	case DHCP_EV_RENEWED:
		log_info("identity %u (%s): lease renewed for %u s", id->id, ip,
			 c->lease_s);
		pool_lease_renewed(src->pool, id);
		break;
	case DHCP_EV_LOST:
		lc->lost = true;
		break;
	}
	src->dirty = true;
}

static const struct dhcp_ops client_ops = {
	.send = op_send,
	.send_arp_probe = op_probe,
	.event = op_event,
};

void dhcp_source_init(struct dhcp_source *src, struct link_socket *link,
		      const char *ifname, const struct dhcp_params *params,
		      const char *state_dir)
{
	memset(src, 0, sizeof(*src));
	src->link = link;
	src->params = *params;
	src->state_dir = state_dir;
	src->ifname = ifname;
	link_socket_set_rx(link, &rx, src);
}

void dhcp_source_bind(struct dhcp_source *src, struct identity_pool *pool)
{
	src->pool = pool;
}

static struct lease_client *new_client(struct dhcp_source *src,
				       struct identity *id)
{
	struct lease_client *lc = calloc(1, sizeof(*lc));

	if (!lc) {
		log_err("identity %u: cannot allocate its DHCP client", id->id);
		return NULL;
	}
	lc->id = id;
	lc->src = src;
	dhcp_client_init(&lc->c, id->mac, &src->params, &client_ops, src);
	id->source_state = &lc->c;
	link_socket_add_mac(src->link, id->mac);
	return lc;
}

static int dhcp_acquire(struct identity_pool *pool, struct identity *id)
{
	struct dhcp_source *src = pool->source;
	struct lease_client *lc = new_client(src, id);
	int err;

	if (!lc)
		return -ENOMEM;
	err = dhcp_client_start(&lc->c, clock_now_ms());
	if (err) {
		log_err("identity %u: cannot start its DHCP client: %s", id->id,
			strerror(-err));
		link_socket_del_mac(src->link, id->mac);
		id->source_state = NULL;
		free(lc);
	}
	return err;
}

static void stats_add(struct dhcp_client_stats *sum,
		      const struct dhcp_client_stats *s)
{
	sum->tx += s->tx;
	sum->tx_errors += s->tx_errors;
	sum->rx_accepted += s->rx_accepted;
	sum->rx_malformed += s->rx_malformed;
	sum->rx_bad_xid += s->rx_bad_xid;
	sum->rx_bad_chaddr += s->rx_bad_chaddr;
	sum->rx_ignored += s->rx_ignored;
	sum->arp_probes += s->arp_probes;
	sum->naks += s->naks;
	sum->no_offers += s->no_offers;
}

void dhcp_source_client_stats(const struct dhcp_source *src,
			      struct dhcp_client_stats *sum)
{
	*sum = src->retired;
	for (unsigned int i = 0; src->pool && i < pool_size(src->pool); i++) {
		const struct dhcp_client *c = pool_get(src->pool, i)->source_state;

		if (c)
			stats_add(sum, &c->stats);
	}
}

/* id's client goes: its counters stay in the sum, its lease leaves the
 * store at the next save. */
static void free_client(struct dhcp_source *src, struct identity *id)
{
	struct dhcp_client *c = id->source_state;

	link_socket_del_mac(src->link, id->mac);
	stats_add(&src->retired, &c->stats);
	id->source_state = NULL;
	free(to_lc(c));
	src->dirty = true;
}

static void dhcp_release(struct identity_pool *pool, struct identity *id)
{
	struct dhcp_client *c = id->source_state;

	if (!c)
		return;
	if (c->state != DHCP_RETIRED)
		dhcp_client_release(c, clock_now_ms());
	else
		log_info("identity %u: DHCP: %s", id->id,
			 dhcp_retire_reason_name(c->retire_reason));
	free_client(pool->source, id);
}

/* The lease stays with the server until it ends: nothing is sent. */
static void dhcp_forget(struct identity_pool *pool, struct identity *id)
{
	if (id->source_state)
		free_client(pool->source, id);
}

static void dhcp_announce(struct identity_pool *pool, struct identity *id)
{
	struct dhcp_source *src = pool->source;

	link_socket_announce(src->link, id->mac, id->ip);
}

static void dhcp_lease(struct identity_pool *pool, const struct identity *id,
		       int64_t *expires, uint32_t *server)
{
	const struct dhcp_client *c = id->source_state;

	(void)pool;
	if (!c || c->state < DHCP_BOUND)
		return;
	*expires = clock_wall_s(c->expire_ms);
	*server = c->server_id;
}

const struct pool_source_ops dhcp_source_ops = {
	.acquire = dhcp_acquire,
	.release = dhcp_release,
	.forget = dhcp_forget,
	.announce = dhcp_announce,
	.lease = dhcp_lease,
};

/*
 * A stored lease whose identity never entered the maps: an acquisition
 * the previous psvd had in flight when it died (the server may have
 * leased the address since), or a lease it stored on the ACK and died
 * before the identity was written.  Nothing can use it, so it is
 * released and the id stays unused.
 */
static void release_orphan(struct dhcp_source *src,
			   const struct lease_record *r, uint64_t now)
{
	struct dhcp_lease l = { .yiaddr = r->ip, .server_id = r->server,
				.start_ms = now };
	char ip[INET_ADDRSTRLEN];
	struct dhcp_client c;
	int err;

	inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
	memcpy(l.server_mac, r->server_mac, 6);
	dhcp_client_init(&c, r->mac, &src->params, &client_ops, src);
	err = dhcp_client_resume(&c, &l) ?: dhcp_client_release(&c, now);
	if (err)
		log_warn("identity %u: cannot release %s, left by a psvd that "
			 "died acquiring it: %s", r->id, ip, strerror(-err));
	else
		log_info("identity %u: released %s, left by a psvd that died "
			 "acquiring it", r->id, ip);
	src->dirty = true;
}

/* Whether an identity in the maps has the stored lease r's MAC and address. */
static bool pool_holds(struct identity_pool *pool, const struct lease_record *r)
{
	for (unsigned int i = 0; i < pool_size(pool); i++) {
		const struct identity *id = pool_get(pool, i);

		if (!memcmp(r->mac, id->mac, 6) && r->ip == id->ip)
			return true;
	}
	return false;
}

int dhcp_source_resume(struct dhcp_source *src, uint64_t now)
{
	struct identity_pool *pool = src->pool;
	struct lease_file f;
	int err;

	err = lease_store_load(src->state_dir, src->ifname, &f);
	if (err)
		return err;
	pool_reserve_ids(pool, f.next_id);
	for (unsigned int i = 0; i < pool_size(pool); i++) {
		struct identity *id = pool_get(pool, i);
		const struct lease_record *r = NULL;
		struct lease_client *lc;
		struct dhcp_lease l;

		for (size_t j = 0; j < f.count; j++)
			if (!f.leases[j].pending &&
			    !memcmp(f.leases[j].mac, id->mac, 6) &&
			    f.leases[j].ip == id->ip)
				r = &f.leases[j];
		if (!r) {
			/* No lease known: it may be gone already; retire it
			 * rather than use an address nobody renews. */
			id->lost_source = true;
			continue;
		}
		lc = new_client(src, id);
		if (!lc) {
			lease_store_free(&f);
			return -ENOMEM;
		}
		l = (struct dhcp_lease){
			.yiaddr = r->ip, .server_id = r->server,
			.start_ms = now - (time(NULL) - r->leased_at) * 1000,
			.lease_s = r->lease_s, .t1_s = r->t1_s, .t2_s = r->t2_s,
		};
		memcpy(l.server_mac, r->server_mac, 6);
		if (dhcp_client_resume(&lc->c, &l))
			id->lost_source = true;
	}
	for (size_t j = 0; j < f.count; j++)
		if (f.leases[j].pending || !pool_holds(pool, &f.leases[j]))
			release_orphan(src, &f.leases[j], now);
	log_info("resumed %zu stored leases", f.count);
	lease_store_free(&f);
	return 0;
}

uint64_t dhcp_source_run(struct dhcp_source *src, uint64_t now)
{
	struct identity_pool *pool = src->pool;
	uint64_t next = UINT64_MAX;

	for (unsigned int i = 0; i < pool_size(pool); i++) {
		struct identity *id = pool_get(pool, i);
		struct dhcp_client *c = id->source_state;

		if (c && !to_lc(c)->lost && now >= dhcp_client_deadline(c))
			dhcp_client_timeout(c, now);
		if (id->lost_source || (c && to_lc(c)->lost)) {
			pool_retire(pool, id, c ? dhcp_retire_reason_name(
						  c->retire_reason) : "no stored lease");
			i--;	/* pool_retire moved the last identity here */
			continue;
		}
		if (c && dhcp_client_deadline(c) < next)
			next = dhcp_client_deadline(c);
	}
	if (src->dirty)
		save(src);
	return next;
}
