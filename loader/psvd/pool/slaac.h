/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * slaac.h - the identities' IPv6 addresses (ipv6 = virtualize): the
 * prefixes routers advertise (RFC 4861), one address per identity and
 * advertised SLAAC prefix with a random interface identifier (RFC 8981
 * style, ipv6/iid.h), duplicate address detection from the identity's
 * MAC (RFC 4862 5.4), the prefix lifetimes (5.5.3), and which address an
 * identity's sockets get (psv_identity.ip6).
 *
 * An address is in psv_addrs6 with dad_done 0 while its DAD runs (one
 * NS, then RetransTimer); a NA for it, or another node's DAD NS for it,
 * is a conflict: it is given up and another identifier tried, a bounded
 * number of times.  After DAD it is a /128 on lo (local_addrs6.h;
 * deprecated there while its prefix is), dad_done 1, and the identity's
 * ip6 if it has none that is preferred.
 * While a SLAAC prefix is known, a freshly bound identity joins the
 * ready queue only once its DAD ended, so no IPv6 flow meets a new
 * identity without an address.  psvd does not run DHCPv6: on a network
 * whose router sets M and offers no SLAAC prefix, IPv6 flows are
 * blocked (logged once, in psvctl status).
 *
 * RAs arrive on the link socket (link_socket.h): DAD needs it anyway to
 * see solicitations to solicited-node groups the host never joins, and
 * one socket means one validation path.  At start psvd sends a router
 * solicitation from :: and a fresh random MAC (nothing of the host in
 * it) rather than read the kernel's view: the kernel keeps neither the
 * A, M and O flags nor prefixes it did not autoconfigure.
 */
#ifndef PSV_SLAAC_H
#define PSV_SLAAC_H

#include <stdbool.h>
#include <stdint.h>

#include "psv.h"
#include "psvd/ipv6/ra.h"
#include "psvd/link/link_frame.h"
#include "psvd/pool/identity_pool.h"

#define SLAAC_MAX_PREFIXES 8	/* prefixes remembered (any kind) */
#define SLAAC_MAX_PER_IDENTITY (PSV_MAX_ADDRS6 / PSV_MAX_IDENTITIES)
#define SLAAC_DAD_MS 1000	/* RetransTimer (RFC 4861 10) */
#define SLAAC_DAD_TRIES 3	/* identifiers tried (RFC 8981 IDGEN_RETRIES) */
#define SLAAC_RS_TRIES 3	/* MAX_RTR_SOLICITATIONS */
#define SLAAC_RS_INTERVAL_MS 4000
/*
 * A prefix that appears gives every identity an address at once: their
 * DADs are spread over a random delay (pace_ms per identity, as the pool
 * paces acquisitions, at most this), or the burst of solicitations from
 * as many MACs would tie them together.
 */
#define SLAAC_SPREAD_MAX_MS 30000
/* Adopted addresses live this long unless an RA renews their prefix. */
#define SLAAC_ADOPT_GRACE_MS 60000
#define SLAAC_INFINITE UINT64_MAX

/* What slaac changes outside itself; pool_maps.c, or a test's recorder. */
struct slaac_io {
	int (*send_dad)(void *ctx, const uint8_t mac[6], const uint8_t a[16]);
	int (*send_rs)(void *ctx, const uint8_t mac[6]);
	/* psv_addrs6; owner_each's cb returns true to delete the entry */
	int (*owner_put)(void *ctx, const uint8_t a[16], uint32_t vip,
			 bool dad_done);
	void (*owner_del)(void *ctx, const uint8_t a[16]);
	int (*owner_each)(void *ctx,
			  bool (*cb)(void *arg, const uint8_t a[16],
				     const struct psv_addr6_owner *o),
			  void *arg);
	/* the /128 on lo: added, or its preferred state changed */
	int (*local_add)(void *ctx, const uint8_t a[16], bool preferred);
	void (*local_del)(void *ctx, const uint8_t a[16]);
	int (*local_each)(void *ctx,
			  void (*cb)(void *arg, const uint8_t a[16]),
			  void *arg);
	/* Destroys the sockets bound to a. */
	void (*sockets_end)(void *ctx, const uint8_t a[16]);
	void *ctx;
};

struct slaac_prefix {
	uint8_t prefix[16];
	uint8_t len;
	bool onlink, autonomous;
	bool deprecated;		/* preferred lifetime over */
	uint64_t valid_until_ms;	/* monotonic; SLAAC_INFINITE */
	uint64_t preferred_until_ms;
};

enum slaac_addr_state {
	SLAAC_DAD = 1,		/* in psv_addrs6 with dad_done 0 */
	SLAAC_DONE = 2,		/* on lo, dad_done 1 */
	SLAAC_FAILED = 3,	/* conflicts every time: none in this prefix */
};

struct slaac_addr {
	uint8_t addr[16];
	uint32_t vip;		/* the identity */
	enum slaac_addr_state state;
	unsigned int tries;	/* identifiers tried */
	uint64_t send_at_ms;	/* DAD's NS is due then; 0: sent */
	uint64_t dad_until_ms;
};

struct slaac_stats {
	uint64_t ra_accepted;
	uint64_t ra_malformed;
	uint64_t ra_not_router;	/* not link-local, hop limit not 255 */
	uint64_t rs_sent;
	uint64_t dad_started;
	uint64_t dad_conflicts;
	uint64_t dad_given_up;	/* an identity left without an address
				 * in a prefix */
	uint64_t addrs_expired;	/* valid lifetime over */
};

struct slaac {
	struct identity_pool *pool;
	const struct slaac_io *io;
	struct slaac_prefix prefixes[SLAAC_MAX_PREFIXES];
	unsigned int n_prefixes;
	struct slaac_addr *addrs;
	unsigned int n_addrs, cap;
	bool ra_seen;
	bool managed_only;	/* M set, no SLAAC prefix: IPv6 blocked */
	unsigned int rs_sent;
	uint64_t next_rs_ms;
	struct slaac_stats stats;
};

/* 0 or -ENOMEM (logged). */
int slaac_init(struct slaac *s, struct identity_pool *pool,
	       const struct slaac_io *io);
void slaac_free(struct slaac *s);
/* The pool hooks that hold new identities back and retire addresses. */
void slaac_pool_hooks(struct slaac *s, struct pool_hooks *hooks);
/*
 * After pool_adopt(): takes over the addresses of the adopted identities
 * (psv_addrs6 entries whose DAD ended, and their lo addresses) when
 * keep, removes everything else of psv's (psv_addrs6 entries, lo
 * addresses carrying psv's tag: a crash's strays), and lets identities
 * that were waiting for an address proceed.
 */
int slaac_adopt(struct slaac *s, bool keep, uint64_t now_ms);
/* Starts soliciting routers. */
void slaac_start(struct slaac *s, uint64_t now_ms);
/*
 * The host moved to another network (its identities, and with them
 * their addresses, are gone already: pool_forget_all): the prefixes of
 * the old one are forgotten and routers solicited again, so new
 * identities get addresses only in what the new network advertises.
 */
void slaac_forget_network(struct slaac *s, uint64_t now_ms);
/* A neighbour discovery frame from the link socket (link_nd_rx). */
int slaac_nd(void *ctx, uint64_t now_ms, const struct link_frame *f);
/* A parsed, checked router advertisement. */
void slaac_ra(struct slaac *s, const struct ra *ra, uint64_t now_ms);
/* Runs what is due; returns the next time it wants to run, or UINT64_MAX. */
uint64_t slaac_run(struct slaac *s, uint64_t now_ms);
/* The identity (vip) owning addr, 0 if none (done or in DAD). */
uint32_t slaac_owner(const struct slaac *s, const uint8_t addr[16]);
/* How many addresses are in state st. */
unsigned int slaac_count(const struct slaac *s, enum slaac_addr_state st);

#endif
