// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dhcp_source.c - see dhcp_source.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "dhcp_source.h"
#include "lease_store.h"
#include "log.h"

/* One identity's client, and the way back to it from dhcp_ops. */
struct lease_client {
	struct dhcp_client c;
	struct identity *id;
	struct dhcp_source *src;
	bool lost;		/* retire after the call that said so returns */
};

#define to_lc(cp) ((struct lease_client *)((char *)(cp) - \
			offsetof(struct lease_client, c)))

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Monotonic ms to wall-clock seconds, for what psvctl shows and the store. */
static int64_t wall_s(uint64_t mono_ms)
{
	if (mono_ms == UINT64_MAX)
		return INT64_MAX;
	return time(NULL) + ((int64_t)mono_ms - (int64_t)now_ms()) / 1000;
}

static struct dhcp_client *find_mac(void *ctx, const uint8_t mac[6])
{
	struct dhcp_source *src = ctx;
	struct identity *id = pool_find_mac(src->pool, mac);

	return id && id->source_state ? id->source_state : NULL;
}

static struct dhcp_client *find_ip(void *ctx, uint32_t ip)
{
	struct dhcp_source *src = ctx;
	struct identity_pool *pool = src->pool;

	/* During probing the address is only the client's yiaddr. */
	for (unsigned int i = 0; i < pool->count; i++) {
		struct dhcp_client *c = pool->ids[i]->source_state;

		if (c && c->yiaddr == ip)
			return c;
	}
	return NULL;
}

static const struct dhcp_socket_lookup lookup = {
	.by_mac = find_mac,
	.by_ip = find_ip,
};

static int op_send(void *ctx, struct dhcp_client *c, const void *payload,
		   size_t len, uint32_t src_ip, uint32_t dst_ip,
		   const uint8_t *dst_mac)
{
	struct dhcp_source *src = ctx;

	return dhcp_socket_send_udp(&src->sock, c->mac, dst_mac, src_ip, dst_ip,
				    payload, len);
}

static int op_probe(void *ctx, struct dhcp_client *c, uint32_t ip)
{
	struct dhcp_source *src = ctx;

	return dhcp_socket_send_arp(&src->sock, c->mac, 0, ip);
}

static void save(struct dhcp_source *src)
{
	struct identity_pool *pool = src->pool;
	struct lease_file f = { .next_id = pool->next_id };
	struct lease_record *r;

	src->dirty = false;
	if (!src->state_dir)
		return;
	f.leases = calloc(pool->count ? pool->count : 1, sizeof(*f.leases));
	if (!f.leases) {
		log_err("cannot allocate the lease file");
		return;
	}
	for (unsigned int i = 0; i < pool->count; i++) {
		const struct identity *id = pool->ids[i];
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
		r->leased_at = wall_s(c->request_sent_ms);
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
		id->server = c->server_id;
		id->lease_expires = wall_s(c->expire_ms);
		log_debug("identity %u: leased %s for %u s", id->id, ip, c->lease_s);
		/* Stored before any flow can use it: a psvd killed right
		 * after would otherwise find it pinned with no lease known,
		 * and could neither renew nor release it. */
		save(src);
		if (pool_identity_bound(src->pool, id, c->yiaddr))
			lc->lost = true;
		break;
	case DHCP_EV_RENEWED:
		id->lease_expires = wall_s(c->expire_ms);
		log_info("identity %u (%s): lease renewed for %u s", id->id, ip,
			 c->lease_s);
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

int dhcp_source_open(struct dhcp_source *src, int ifindex, const char *ifname,
		     const struct dhcp_params *params, const char *state_dir)
{
	memset(src, 0, sizeof(*src));
	src->params = *params;
	src->state_dir = state_dir;
	src->ifname = ifname;
	return dhcp_socket_open(&src->sock, ifindex, &lookup, src);
}

void dhcp_source_bind(struct dhcp_source *src, struct identity_pool *pool)
{
	src->pool = pool;
}

void dhcp_source_close(struct dhcp_source *src)
{
	dhcp_socket_close(&src->sock);
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
	dhcp_socket_add_mac(&src->sock, id->mac);
	return lc;
}

static int dhcp_acquire(struct identity_pool *pool, struct identity *id)
{
	struct dhcp_source *src = pool->source;
	struct lease_client *lc = new_client(src, id);
	int err;

	if (!lc)
		return -ENOMEM;
	err = dhcp_client_start(&lc->c, now_ms());
	if (err) {
		log_err("identity %u: cannot start its DHCP client: %s", id->id,
			strerror(-err));
		dhcp_socket_del_mac(&src->sock, id->mac);
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
}

void dhcp_source_client_stats(const struct dhcp_source *src,
			      struct dhcp_client_stats *sum)
{
	*sum = src->retired;
	for (unsigned int i = 0; src->pool && i < src->pool->count; i++) {
		const struct dhcp_client *c = src->pool->ids[i]->source_state;

		if (c)
			stats_add(sum, &c->stats);
	}
}

static void dhcp_release(struct identity_pool *pool, struct identity *id)
{
	struct dhcp_source *src = pool->source;
	struct dhcp_client *c = id->source_state;

	if (!c)
		return;
	if (c->state != DHCP_RETIRED)
		dhcp_client_release(c, now_ms());
	else
		log_info("identity %u: DHCP: %s", id->id,
			 dhcp_retire_reason_name(c->retire_reason));
	dhcp_socket_del_mac(&src->sock, id->mac);
	stats_add(&src->retired, &c->stats);
	id->source_state = NULL;
	free(to_lc(c));
	src->dirty = true;
}

void dhcp_source_announce(struct dhcp_source *src, const struct identity *id)
{
	dhcp_socket_send_arp(&src->sock, id->mac, id->ip, id->ip);
	/*
	 * A router does not learn a neighbour from an announcement (Linux:
	 * arp_accept=0), but it does from a request addressed to it: asking
	 * for the gateway, as any host does before its first packet, spares
	 * the identity's first flow an ARP round trip on its first reply.
	 */
	if (src->gateway && src->gateway != id->ip)
		dhcp_socket_send_arp(&src->sock, id->mac, id->ip, src->gateway);
}

static void dhcp_announce(struct identity_pool *pool, struct identity *id)
{
	dhcp_source_announce(pool->source, id);
}

const struct pool_source_ops dhcp_source_ops = {
	.acquire = dhcp_acquire,
	.release = dhcp_release,
	.announce = dhcp_announce,
};

/*
 * An acquisition the previous psvd had in flight when it died: the server
 * may have leased the address since.  Its identity never entered the
 * maps, so the lease is released and the id stays unused.
 */
static void release_pending(struct dhcp_source *src,
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
		log_warn("identity %u: cannot release %s, offered to a psvd "
			 "that died acquiring it: %s", r->id, ip, strerror(-err));
	else
		log_info("identity %u: released %s, offered to a psvd that "
			 "died acquiring it", r->id, ip);
	src->dirty = true;
}

int dhcp_source_resume(struct dhcp_source *src, uint64_t now)
{
	struct identity_pool *pool = src->pool;
	struct lease_file f;
	int err;

	err = lease_store_load(src->state_dir, src->ifname, &f);
	if (err)
		return err;
	if (f.next_id > pool->next_id)
		pool->next_id = f.next_id;
	for (unsigned int i = 0; i < pool->count; i++) {
		struct identity *id = pool->ids[i];
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
		id->server = r->server;
		id->lease_expires = wall_s(lc->c.expire_ms);
	}
	for (size_t j = 0; j < f.count; j++)
		if (f.leases[j].pending)
			release_pending(src, &f.leases[j], now);
	log_info("resumed %zu stored leases", f.count);
	lease_store_free(&f);
	return 0;
}

uint64_t dhcp_source_run(struct dhcp_source *src, uint64_t now)
{
	struct identity_pool *pool = src->pool;
	uint64_t next = UINT64_MAX;

	for (unsigned int i = 0; i < pool->count; i++) {
		struct identity *id = pool->ids[i];
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
