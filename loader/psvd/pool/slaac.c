// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* slaac.c - see slaac.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "psvd/pool/slaac.h"
#include "psvd/ipv6/iid.h"
#include "common/clock.h"
#include "common/log.h"

#define TWO_HOURS_MS (2 * 3600 * 1000ull)

static const char *fmt6(const uint8_t a[16], char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static const char *fmt_lifetime(uint32_t s, char buf[16])
{
	if (s == RA_INFINITE)
		return "forever";
	snprintf(buf, 16, "%us", s);
	return buf;
}

static bool unspecified(const void *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

static uint64_t deadline(uint64_t now_ms, uint32_t lifetime_s)
{
	return lifetime_s == RA_INFINITE ? SLAAC_INFINITE :
					   now_ms + lifetime_s * 1000ull;
}

int slaac_init(struct slaac *s, struct identity_pool *pool,
	       const struct slaac_io *io)
{
	memset(s, 0, sizeof(*s));
	s->pool = pool;
	s->io = io;
	s->cap = PSV_MAX_ADDRS6;
	s->addrs = calloc(s->cap, sizeof(*s->addrs));
	if (!s->addrs) {
		log_err("cannot allocate the IPv6 address table (%u entries)",
			s->cap);
		return -ENOMEM;
	}
	return 0;
}

void slaac_free(struct slaac *s)
{
	free(s->addrs);
	s->addrs = NULL;
	s->n_addrs = 0;
}

/* A prefix SLAAC gives addresses in (RFC 4862 5.5.3: A set, 64 bits). */
static bool usable(const struct slaac_prefix *p)
{
	return p->autonomous && p->len == 64;
}

/* The usable prefix of addr (its first 64 bits), or NULL. */
static struct slaac_prefix *prefix_of(struct slaac *s, const uint8_t a[16])
{
	for (unsigned int i = 0; i < s->n_prefixes; i++)
		if (usable(&s->prefixes[i]) &&
		    !memcmp(s->prefixes[i].prefix, a, 8))
			return &s->prefixes[i];
	return NULL;
}

/* Whether a's prefix is preferred (not deprecated). */
static bool preferred(struct slaac *s, const uint8_t a[16])
{
	struct slaac_prefix *p = prefix_of(s, a);

	return p && !p->deprecated;
}

static struct slaac_addr *find_addr(struct slaac *s, const uint8_t a[16])
{
	for (unsigned int i = 0; i < s->n_addrs; i++)
		if (!memcmp(s->addrs[i].addr, a, 16))
			return &s->addrs[i];
	return NULL;
}

uint32_t slaac_owner(const struct slaac *s, const uint8_t addr[16])
{
	struct slaac_addr *a = find_addr((struct slaac *)s, addr);

	return a && a->state != SLAAC_FAILED ? a->vip : 0;
}

unsigned int slaac_count(const struct slaac *s, enum slaac_addr_state st)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n_addrs; i++)
		n += s->addrs[i].state == st;
	return n;
}

static uint32_t identity_no(struct slaac *s, uint32_t vip)
{
	struct identity *id = pool_find_ip(s->pool, vip);

	return id ? id->id : 0;
}

/*
 * The address vip's sockets get: the current one while it is done and
 * preferred, else the first done and preferred one, else none.
 */
static void choose_ip6(struct slaac *s, uint32_t vip)
{
	struct identity *id = pool_find_ip(s->pool, vip);
	struct psv_addr6 best = { 0 };
	char buf[INET6_ADDRSTRLEN];

	if (!id)
		return;
	for (unsigned int i = 0; i < s->n_addrs; i++) {
		struct slaac_addr *a = &s->addrs[i];
		struct slaac_prefix *p;

		if (a->vip != vip || a->state != SLAAC_DONE)
			continue;
		p = prefix_of(s, a->addr);
		if (!p || p->deprecated)
			continue;
		if (!memcmp(a->addr, &id->ip6, 16))
			return;		/* still good */
		if (unspecified(&best))
			memcpy(&best, a->addr, 16);
	}
	if (!memcmp(&best, &id->ip6, 16))
		return;
	if (!unspecified(&best))
		log_info("identity %u: IPv6 flows use %s", id->id,
			 fmt6((uint8_t *)&best, buf));
	else
		log_info("identity %u: no preferred IPv6 address: its IPv6 "
			 "flows are blocked", id->id);
	pool_set_ip6(s->pool, id, &best);
}

static bool dad_running(struct slaac *s, uint32_t vip)
{
	for (unsigned int i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].vip == vip && s->addrs[i].state == SLAAC_DAD)
			return true;
	return false;
}

/* A held-back identity joins the ready queue once no DAD of it runs. */
static void maybe_ready(struct slaac *s, uint32_t vip)
{
	struct identity *id = pool_find_ip(s->pool, vip);

	if (!id || !id->awaiting_ip6 || dad_running(s, vip))
		return;
	/* A map write failed (the pool logged it): the DHCP source
	 * retires an identity that lost its source at its next run. */
	if (pool_identity_ready(s->pool, id))
		id->lost_source = true;
}

static void send_ns(struct slaac *s, struct slaac_addr *a,
		    const struct identity *id)
{
	s->io->send_dad(s->io->ctx, id->mac, a->addr);
	a->send_at_ms = 0;
}

/* Whether another entry has a's address (never, in practice: 64 bits). */
static bool in_use(struct slaac *s, const struct slaac_addr *a)
{
	for (unsigned int i = 0; i < s->n_addrs; i++)
		if (&s->addrs[i] != a && !memcmp(s->addrs[i].addr, a->addr, 16))
			return true;
	return false;
}

/* A fresh identifier in a's prefix, and its DAD: one NS (after delay_ms),
 * then RetransTimer. */
static int start_dad(struct slaac *s, struct slaac_addr *a, uint64_t now_ms,
		     uint64_t delay_ms)
{
	struct identity *id = pool_find_ip(s->pool, a->vip);
	int err;

	if (!id)
		return -ENOENT;
	do {
		err = iid_random(a->addr);
		if (err)
			return err;
	} while (in_use(s, a));
	a->state = SLAAC_DAD;
	a->tries++;
	a->send_at_ms = now_ms + delay_ms;
	a->dad_until_ms = a->send_at_ms + SLAAC_DAD_MS;
	s->stats.dad_started++;
	/* Known to egress and ingress (not answered) before the NS leaves. */
	err = s->io->owner_put(s->io->ctx, a->addr, a->vip, false);
	if (err) {
		log_err("identity %u: cannot write its IPv6 address to %s: %s",
			id->id, PSV_MAP_ADDRS6, strerror(-err));
		return err;
	}
	if (!delay_ms)
		send_ns(s, a, id);
	return 0;
}

/* Starts an address for vip in prefix p: 1 if DAD started, else 0. */
static int add_addr(struct slaac *s, uint32_t vip,
		    const struct slaac_prefix *p, uint64_t now_ms,
		    uint64_t delay_ms)
{
	struct slaac_addr *a;

	if (s->n_addrs >= s->cap) {
		log_warn("IPv6 address table full (%u): no address in a "
			 "prefix for identity %u", s->cap, identity_no(s, vip));
		return 0;
	}
	a = &s->addrs[s->n_addrs++];
	memset(a, 0, sizeof(*a));
	memcpy(a->addr, p->prefix, 8);
	a->vip = vip;
	if (start_dad(s, a, now_ms, delay_ms)) {
		*a = s->addrs[--s->n_addrs];
		return 0;
	}
	return 1;
}

/*
 * Gives vip an address in every usable prefix it has none in (at most
 * SLAAC_MAX_PER_IDENTITY), DAD's NS after delay_ms: the number of DADs
 * started.
 */
static int ensure_addrs(struct slaac *s, uint32_t vip, uint64_t now_ms,
			uint64_t delay_ms)
{
	unsigned int have = 0;
	int started = 0;

	for (unsigned int i = 0; i < s->n_addrs; i++)
		have += s->addrs[i].vip == vip;
	for (unsigned int i = 0; i < s->n_prefixes; i++) {
		const struct slaac_prefix *p = &s->prefixes[i];
		bool found = false;

		if (!usable(p) || p->valid_until_ms <= now_ms)
			continue;
		for (unsigned int j = 0; j < s->n_addrs && !found; j++)
			found = s->addrs[j].vip == vip &&
				!memcmp(s->addrs[j].addr, p->prefix, 8);
		if (found || have >= SLAAC_MAX_PER_IDENTITY)
			continue;
		started += add_addr(s, vip, p, now_ms, delay_ms);
		have++;
	}
	return started;
}

/*
 * Takes addresses out in the order nothing can send from an address
 * egress does not know: its sockets, its lo address, then its entry.
 */
static void remove_at(struct slaac *s, unsigned int i)
{
	struct slaac_addr *a = &s->addrs[i];

	if (a->state == SLAAC_DONE) {
		s->io->sockets_end(s->io->ctx, a->addr);
		s->io->local_del(s->io->ctx, a->addr);
	}
	if (a->state != SLAAC_FAILED)
		s->io->owner_del(s->io->ctx, a->addr);
	*a = s->addrs[--s->n_addrs];
}

/* No address in a's prefix for its identity: the entry stays, its
 * identifier zeroed, so the prefix is not tried again. */
static void give_up(struct slaac *s, struct slaac_addr *a)
{
	a->state = SLAAC_FAILED;
	memset(a->addr + 8, 0, 8);
	s->stats.dad_given_up++;
}

/* A DAD conflict for a (RFC 4862 5.4.5): another identifier, or none. */
static void conflict(struct slaac *s, struct slaac_addr *a, uint64_t now_ms)
{
	char buf[INET6_ADDRSTRLEN];
	uint32_t vip = a->vip;

	s->stats.dad_conflicts++;
	log_info("identity %u: %s is in use on the link (DAD)%s",
		 identity_no(s, vip), fmt6(a->addr, buf),
		 a->tries < SLAAC_DAD_TRIES ? ": trying another" : "");
	s->io->owner_del(s->io->ctx, a->addr);
	if (a->tries < SLAAC_DAD_TRIES && !start_dad(s, a, now_ms, 0))
		return;
	give_up(s, a);
	log_warn("identity %u: no IPv6 address in %s/64 after %u conflicts",
		 identity_no(s, vip), fmt6(a->addr, buf), a->tries);
	maybe_ready(s, vip);
}

/* DAD of a ended without a conflict: the address is the identity's. */
static void dad_done(struct slaac *s, struct slaac_addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	uint32_t vip = a->vip;
	int err;

	err = s->io->local_add(s->io->ctx, a->addr, preferred(s, a->addr)) ?:
	      s->io->owner_put(s->io->ctx, a->addr, vip, true);
	if (err) {
		s->io->local_del(s->io->ctx, a->addr);
		s->io->owner_del(s->io->ctx, a->addr);
		give_up(s, a);
	} else {
		a->state = SLAAC_DONE;
		log_info("identity %u: IPv6 address %s", identity_no(s, vip),
			 fmt6(a->addr, buf));
		choose_ip6(s, vip);
	}
	maybe_ready(s, vip);
}

/* A bound identity starts DAD in every known prefix (on the real
 * clock: the pool's hooks carry no time); it waits if any started. */
static bool pool_hook_bound(void *ctx, struct identity *id)
{
	struct slaac *s = ctx;

	return ensure_addrs(s, id->ip, clock_now_ms(), 0) > 0;
}

/* Retirement: its addresses go, after their sockets. */
static void pool_hook_retiring(void *ctx, struct identity *id)
{
	struct slaac *s = ctx;

	for (unsigned int i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].vip == id->ip)
			remove_at(s, i--);
}

void slaac_pool_hooks(struct slaac *s, struct pool_hooks *hooks)
{
	*hooks = (struct pool_hooks){ .bound = pool_hook_bound,
				      .retiring = pool_hook_retiring,
				      .ctx = s };
}

/* Every identity with an address (ready, active, idle, or held back)
 * gets one in each usable prefix, their DADs spread (SLAAC_SPREAD_MAX_MS). */
static void ensure_all(struct slaac *s, uint64_t now_ms)
{
	uint64_t spread = (uint64_t)pool_size(s->pool) *
			  s->pool->params.pace_ms;

	if (spread > SLAAC_SPREAD_MAX_MS)
		spread = SLAAC_SPREAD_MAX_MS;
	for (unsigned int i = 0; i < pool_size(s->pool); i++) {
		struct identity *id = pool_get(s->pool, i);

		if (id->ip && id->state != PSV_ID_RETIRED)
			ensure_addrs(s, id->ip, now_ms,
				     pool_random_below(spread));
	}
}

/*
 * p was deprecated or is preferred again: its addresses on lo follow,
 * and their identities may need another ip6.
 */
static void rechoose_in(struct slaac *s, const struct slaac_prefix *p)
{
	for (unsigned int i = 0; i < s->n_addrs; i++) {
		struct slaac_addr *a = &s->addrs[i];

		if (memcmp(a->addr, p->prefix, 8))
			continue;
		if (a->state == SLAAC_DONE)
			s->io->local_add(s->io->ctx, a->addr, !p->deprecated);
		choose_ip6(s, a->vip);
	}
}

/* RFC 4862 5.5.3 e: the valid lifetime an RA may set for a known prefix. */
static uint64_t valid_update(uint64_t current, uint32_t received_s,
			     uint64_t now_ms)
{
	uint64_t received = deadline(now_ms, received_s);
	uint64_t remaining = current - now_ms;

	if (current <= now_ms || received_s > 7200 || received > current)
		return received;
	if (remaining <= TWO_HOURS_MS)
		return current;
	return now_ms + TWO_HOURS_MS;
}

static void learn_prefix(struct slaac *s, const struct ra_prefix *rp,
			 uint64_t now_ms)
{
	struct slaac_prefix *p = NULL;
	char buf[INET6_ADDRSTRLEN], v[16], pr[16];
	bool was_deprecated;

	if (rp->prefix[0] == 0xfe && (rp->prefix[1] & 0xc0) == 0x80)
		return;		/* link-local: ignored (RFC 4862 5.5.3 b) */
	for (unsigned int i = 0; i < s->n_prefixes && !p; i++)
		if (s->prefixes[i].len == rp->len &&
		    !memcmp(s->prefixes[i].prefix, rp->prefix, 16))
			p = &s->prefixes[i];
	if (!p) {
		if (!rp->valid_s)
			return;
		if (s->n_prefixes >= SLAAC_MAX_PREFIXES) {
			log_debug("RA: prefix %s/%u ignored: %u prefixes known",
				  fmt6(rp->prefix, buf), rp->len,
				  SLAAC_MAX_PREFIXES);
			return;
		}
		p = &s->prefixes[s->n_prefixes++];
		memset(p, 0, sizeof(*p));
		memcpy(p->prefix, rp->prefix, 16);
		p->len = rp->len;
		p->valid_until_ms = deadline(now_ms, rp->valid_s);
		log_info("RA: prefix %s/%u (%s%s), valid %s, preferred %s",
			 fmt6(rp->prefix, buf), rp->len,
			 rp->autonomous ? "SLAAC" : "no SLAAC",
			 rp->autonomous && rp->len != 64 ? ", not /64: unused" :
							   "",
			 fmt_lifetime(rp->valid_s, v),
			 fmt_lifetime(rp->preferred_s, pr));
	} else if (usable(p) && !rp->autonomous) {
		/* Without A the option says nothing about addresses
		 * (RFC 4862 5.5.3 a): theirs keep their lifetimes. */
		p->onlink = rp->onlink;
		return;
	} else {
		p->valid_until_ms = valid_update(p->valid_until_ms, rp->valid_s,
						 now_ms);
	}
	p->onlink = rp->onlink;
	p->autonomous = rp->autonomous;
	p->preferred_until_ms = deadline(now_ms, rp->preferred_s);
	was_deprecated = p->deprecated;
	p->deprecated = p->preferred_until_ms <= now_ms;
	if (was_deprecated != p->deprecated)
		rechoose_in(s, p);
}

static bool any_usable(const struct slaac *s)
{
	for (unsigned int i = 0; i < s->n_prefixes; i++)
		if (usable(&s->prefixes[i]))
			return true;
	return false;
}

void slaac_ra(struct slaac *s, const struct ra *ra, uint64_t now_ms)
{
	bool managed_only;

	s->ra_seen = true;
	for (unsigned int i = 0; i < ra->n_prefixes; i++)
		learn_prefix(s, &ra->prefixes[i], now_ms);
	managed_only = ra->managed && !any_usable(s);
	if (managed_only && !s->managed_only)
		log_warn("IPv6 flows are blocked on this network: its router "
			 "offers addresses over DHCPv6 only (M flag, no SLAAC "
			 "prefix), which psvd does not implement");
	else if (!managed_only && s->managed_only)
		log_info("a SLAAC prefix is advertised: identities get IPv6 "
			 "addresses");
	s->managed_only = managed_only;
	ensure_all(s, now_ms);
}

/* The tentative address a frame's target names, or NULL. */
static struct slaac_addr *tentative(struct slaac *s, const uint8_t *target)
{
	struct slaac_addr *a = find_addr(s, target);

	return a && a->state == SLAAC_DAD ? a : NULL;
}

int slaac_nd(void *ctx, uint64_t now_ms, const struct link_frame *f)
{
	struct slaac *s = ctx;
	struct slaac_addr *a;
	struct identity *id;
	struct ra ra;
	int err;

	if (f->nd_type == LINK_ND_RA) {
		err = ra_parse(f->ip6_src, f->hop_limit, f->payload, f->len,
			       &ra);
		if (err == -EPERM)
			s->stats.ra_not_router++;
		else if (err)
			s->stats.ra_malformed++;
		if (err) {
			log_debug("RA ignored: %s", err == -EPERM ?
				  "not link-local or hop limit not 255" :
				  "malformed");
			return err;
		}
		s->stats.ra_accepted++;
		slaac_ra(s, &ra, now_ms);
		return 0;
	}
	/* NS and NA: target at 8 (link_frame: at least 24 bytes). */
	if (f->hop_limit != 255)
		return -EPERM;
	a = tentative(s, f->payload + 8);
	if (!a)
		return -ENOENT;
	id = pool_find_ip(s->pool, a->vip);
	/* Our own NS, should the link echo it back (RFC 7527's case). */
	if (id && !memcmp(f->src_mac, id->mac, 6))
		return 0;
	/* RFC 4862 5.4.3: only another node's DAD (from ::) is a conflict
	 * among solicitations; 5.4.4: any advertisement is. */
	if (f->nd_type == LINK_ND_NS && !unspecified(f->ip6_src))
		return 0;
	conflict(s, a, now_ms);
	return 0;
}

void slaac_start(struct slaac *s, uint64_t now_ms)
{
	s->next_rs_ms = now_ms;
}

void slaac_forget_network(struct slaac *s, uint64_t now_ms)
{
	s->n_prefixes = 0;
	s->ra_seen = false;
	s->managed_only = false;
	s->rs_sent = 0;
	slaac_start(s, now_ms);
}

static void solicit(struct slaac *s, uint64_t now_ms)
{
	uint8_t mac[6];

	if (s->ra_seen || s->rs_sent >= SLAAC_RS_TRIES ||
	    now_ms < s->next_rs_ms || !s->next_rs_ms)
		return;
	/* A MAC of its own, used once: the solicitation names nobody. */
	if (pool_random_mac(mac))
		return;
	s->io->send_rs(s->io->ctx, mac);
	s->rs_sent++;
	s->stats.rs_sent++;
	s->next_rs_ms = now_ms + SLAAC_RS_INTERVAL_MS;
	if (s->rs_sent == SLAAC_RS_TRIES)
		log_debug("no router advertisement after %u solicitations: "
			  "waiting for an unsolicited one", SLAAC_RS_TRIES);
}

/* Prefixes whose valid lifetime is over go, with their addresses. */
static void expire_prefixes(struct slaac *s, uint64_t now_ms)
{
	char buf[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < s->n_prefixes; i++) {
		struct slaac_prefix *p = &s->prefixes[i];

		if (!p->deprecated && p->preferred_until_ms <= now_ms) {
			p->deprecated = true;
			log_info("prefix %s/%u deprecated", fmt6(p->prefix, buf),
				 p->len);
			rechoose_in(s, p);
		}
		if (p->valid_until_ms > now_ms)
			continue;
		log_info("prefix %s/%u expired: its addresses go",
			 fmt6(p->prefix, buf), p->len);
		for (unsigned int j = 0; usable(p) && j < s->n_addrs; j++) {
			uint32_t vip = s->addrs[j].vip;

			if (memcmp(s->addrs[j].addr, p->prefix, 8))
				continue;
			s->stats.addrs_expired++;
			remove_at(s, j--);
			/* Gone from the table: choose among the others. */
			p->deprecated = true;
			choose_ip6(s, vip);
			maybe_ready(s, vip);
		}
		*p = s->prefixes[--s->n_prefixes];
		i--;
	}
}

uint64_t slaac_run(struct slaac *s, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	solicit(s, now_ms);
	for (unsigned int i = 0; i < s->n_addrs; i++) {
		struct slaac_addr *a = &s->addrs[i];
		struct identity *id;

		if (a->state != SLAAC_DAD)
			continue;
		if (a->send_at_ms && a->send_at_ms <= now_ms) {
			id = pool_find_ip(s->pool, a->vip);
			if (id)
				send_ns(s, a, id);
		}
		if (!a->send_at_ms && a->dad_until_ms <= now_ms)
			dad_done(s, a);
		else if (a->send_at_ms && a->send_at_ms < next)
			next = a->send_at_ms;
		else if (a->dad_until_ms < next)
			next = a->dad_until_ms;
	}
	expire_prefixes(s, now_ms);
	for (unsigned int i = 0; i < s->n_prefixes; i++) {
		const struct slaac_prefix *p = &s->prefixes[i];

		if (p->valid_until_ms < next)
			next = p->valid_until_ms;
		if (!p->deprecated && p->preferred_until_ms < next)
			next = p->preferred_until_ms;
	}
	if (!s->ra_seen && s->rs_sent < SLAAC_RS_TRIES && s->next_rs_ms &&
	    s->next_rs_ms < next)
		next = s->next_rs_ms;
	return next;
}

struct adoption {
	struct slaac *s;
	bool keep;
	uint64_t now_ms;
};

/* A psv_addrs6 entry of the previous psvd: kept if DAD ended for an
 * adopted identity, else deleted (true). */
static bool adopt_owner(void *arg, const uint8_t a[16],
			const struct psv_addr6_owner *o)
{
	struct adoption *ad = arg;
	struct slaac *s = ad->s;
	struct slaac_prefix *p;
	struct slaac_addr *sa;

	if (find_addr(s, a))
		return false;	/* met again: the walk restarted */
	if (!ad->keep || !o->dad_done || !pool_find_ip(s->pool, o->vip) ||
	    s->n_addrs >= s->cap)
		return true;
	p = prefix_of(s, a);
	if (!p && s->n_prefixes < SLAAC_MAX_PREFIXES) {
		/* Until an RA says how long, a short grace. */
		p = &s->prefixes[s->n_prefixes++];
		*p = (struct slaac_prefix){
			.len = 64, .autonomous = true, .onlink = true,
			.valid_until_ms = ad->now_ms + SLAAC_ADOPT_GRACE_MS,
			.preferred_until_ms = ad->now_ms + SLAAC_ADOPT_GRACE_MS,
		};
		memcpy(p->prefix, a, 8);
	}
	if (!p)
		return true;
	sa = &s->addrs[s->n_addrs++];
	*sa = (struct slaac_addr){ .vip = o->vip, .state = SLAAC_DONE,
				   .tries = 1 };
	memcpy(sa->addr, a, 16);
	return false;
}

/* A tagged lo address: gone unless it is an adopted address. */
static void adopt_local(void *arg, const uint8_t a[16])
{
	struct adoption *ad = arg;
	struct slaac_addr *sa = find_addr(ad->s, a);

	if (!sa || sa->state != SLAAC_DONE)
		ad->s->io->local_del(ad->s->io->ctx, a);
}

int slaac_adopt(struct slaac *s, bool keep, uint64_t now_ms)
{
	struct adoption ad = { .s = s, .keep = keep, .now_ms = now_ms };
	int err;

	err = s->io->owner_each(s->io->ctx, adopt_owner, &ad) ?:
	      s->io->local_each(s->io->ctx, adopt_local, &ad);
	if (err)
		return err;
	/* Made sure of: a crash may have come between map and lo. */
	for (unsigned int i = 0; i < s->n_addrs; i++)
		s->io->local_add(s->io->ctx, s->addrs[i].addr,
				 preferred(s, s->addrs[i].addr));
	if (s->n_addrs)
		log_info("adopted %u IPv6 addresses", s->n_addrs);
	for (unsigned int i = 0; i < pool_size(s->pool); i++) {
		struct identity *id = pool_get(s->pool, i);

		if (!id->ip)
			continue;
		choose_ip6(s, id->ip);
		if (id->awaiting_ip6 &&
		    (!keep || !ensure_addrs(s, id->ip, now_ms, 0)))
			pool_identity_ready(s->pool, id);
	}
	return 0;
}
