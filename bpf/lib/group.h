/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * group.h - which group a new flow joins: its socket's policy (or
 * policy.default for a socket the hooks did not see) applied to the
 * flow's keys.  Decided where the flow is first seen: at connect() or
 * sendmsg() by the cgroup hooks (the socket path), or by egress for a
 * flow no hook could bind (the NAT fallback).
 */
#ifndef PSV_BPF_GROUP_H
#define PSV_BPF_GROUP_H

/* What names a new flow, in network order. */
struct psv_new_flow {
	union {
		__be32 daddr;
		__be32 daddr6[4]; /* with ipv6 = 1 */
	};
	__be16 sport;		/* UDP */
	__be16 dport;		/* TCP, UDP */
	__u32 uid;		/* the sender's, for a socket the hooks missed */
	__u8 proto;
	__u8 ipv6;
};

/* Limited and subnet broadcast, and multicast (224.0.0.0/4): never
 * virtualized, chatter has a policy of its own. */
static __always_inline bool not_unicast(const struct psv_config *cfg,
					__be32 daddr)
{
	return daddr == 0xffffffff || daddr == (cfg->host_ip | ~cfg->netmask) ||
	       (daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000);
}

/*
 * Fills gk for a new flow f of a socket s (NULL: not attributed) and
 * returns the granularity used; PSV_GRAN_HOST leaves gk zero.
 */
static __always_inline __u8 group_key(const struct psv_config *cfg,
				      const struct psv_sock *s,
				      const struct psv_new_flow *f,
				      struct psv_group_key *gk)
{
	__u8 gran = s ? s->granularity : cfg->granularity;

	__builtin_memset(gk, 0, sizeof(*gk));
	switch (gran) {
	case PSV_GRAN_HOST:
		return gran;
	case PSV_GRAN_UID:
		gk->kind = gran;
		gk->owner = s ? s->uid : f->uid;
		return gran;
	case PSV_GRAN_APP:
		if (s && s->app) {
			gk->kind = gran;
			gk->owner = s->app;
			return gran;
		}
		/* No application known: flows kept apart link nothing. */
		stat_inc(PSV_STAT_EG_UNATTRIBUTED);
		break;
	}
	/* FLOW, the paper's keys. */
	gk->proto = f->proto;
	if (f->ipv6) {
		gk->ipv6 = 1;
		gk->daddr6[0] = f->daddr6[0];
		gk->daddr6[1] = f->daddr6[1];
		gk->daddr6[2] = f->daddr6[2];
		gk->daddr6[3] = f->daddr6[3];
	} else {
		gk->daddr = f->daddr;
	}
	if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP)
		gk->dport = f->dport;
	/*
	 * A UDP socket being connected has no port yet (connect4 runs before
	 * autobind): it is grouped like TCP, by destination.  A port-keyed
	 * group would spend an identity per socket, and route probes
	 * (getaddrinfo's address sorting, ping's source probe) connect UDP
	 * sockets that never send.
	 */
	if (f->proto != IPPROTO_UDP)
		return PSV_GRAN_FLOW;
	/*
	 * DNS: one identity per application and resolver.  Resolvers send
	 * each lookup from a new source port (bound before connect(), so
	 * even connected sockets reach egress's per-port key): per port, a
	 * page load would spend an identity per lookup, while an observer
	 * links a lookup to the connection that follows it by timing
	 * anyway.  Encrypted DNS is the remedy for that (ARCHITECTURE.md).
	 */
	if (f->dport == bpf_htons(PSV_DNS_PORT)) {
		gk->owner = s ? s->app : 0;
		return PSV_GRAN_FLOW;
	}
	gk->sport = f->sport;
	return PSV_GRAN_FLOW;
}

/*
 * The identity for a new flow f of socket s and group gk, marked active;
 * with hold (a UDP socket's connect(), which sends nothing yet) a ready
 * one stays ready, held (pool_hold).
 */
static __always_inline int group_identity(const struct psv_config *cfg,
					  const struct psv_sock *s,
					  const struct psv_new_flow *f,
					  const struct psv_group_key *gk,
					  bool hold, __be32 *vip)
{
	struct psv_owner o = { .app = s ? s->app : 0,
			       .uid = s ? s->uid : f->uid };
	struct psv_identity *id;
	int err;

	err = pool_take(cfg, gk, &o, vip);
	if (err)
		return err;
	id = bpf_map_lookup_elem(&psv_identities, vip);
	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	/*
	 * Its lease ran out while psvd could not renew it (psvd dead): the
	 * address may be someone else's by now.  Flows already on it go
	 * on; a new one fails closed until psvd retires it.
	 */
	if (id->lease_end_s && id->lease_end_s <= bpf_ktime_get_ns() / NSEC_PER_SEC)
		return PSV_REASON(PSV_DROP, EG_DROP_LEASE_EXPIRED);
	if (id->state != PSV_ID_READY)
		return 0;
	if (hold)
		pool_hold(*vip, gk);
	else
		pool_use(id, *vip, gk, &o);
	return 0;
}

#endif /* PSV_BPF_GROUP_H */
