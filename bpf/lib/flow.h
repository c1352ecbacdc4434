/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * flow.h - connection and fragment state: the keys both directions
 * build, and the updates a packet makes to a connection.  Keys are in
 * egress orientation (psv.h): local = the host, remote = the peer.
 */
#ifndef PSV_BPF_FLOW_H
#define PSV_BPF_FLOW_H

#define NSEC_PER_SEC 1000000000ULL
#define PSV_CONN_FIN_BOTH (PSV_CONN_FIN_OUT | PSV_CONN_FIN_IN)

static __always_inline void conn_key_fill(struct psv_conn_key *k, __u8 proto,
					  __be32 raddr, __be16 lport,
					  __be16 rport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->raddr = raddr;
	k->lport = lport;
	k->rport = rport;
	k->proto = proto;
}

/* Key of a packet the host sends: ICMP echo is named by its id. */
static __always_inline void conn_key_egress(struct psv_conn_key *k,
					    const struct psv_pkt *p)
{
	if (p->proto == IPPROTO_ICMP)
		conn_key_fill(k, p->proto, p->daddr, p->icmp_id, 0);
	else
		conn_key_fill(k, p->proto, p->daddr, p->sport, p->dport);
}

/* Key of a packet the host receives. */
static __always_inline void conn_key_ingress(struct psv_conn_key *k,
					     const struct psv_pkt *p)
{
	if (p->proto == IPPROTO_ICMP)
		conn_key_fill(k, p->proto, p->saddr, p->icmp_id, 0);
	else
		conn_key_fill(k, p->proto, p->saddr, p->dport, p->sport);
}

static __always_inline void frag_key_fill(struct psv_frag_key *k,
					  const struct psv_pkt *p, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->raddr = dir == PSV_DIR_EGRESS ? p->daddr : p->saddr;
	k->ip_id = p->ip_id;
	k->proto = p->proto;
	k->dir = dir;
}

/*
 * A first fragment notes which identity its datagram got (vip 0: the
 * host's own) and whether its socket has the identity's address
 * (bound: nothing to translate), so the later ones, which carry no
 * ports, follow it.
 * LRU: a lost entry only drops the rest of that datagram.
 */
static __always_inline void frag_note(const struct psv_pkt *p, __u8 dir,
				      __be32 vip, bool bound)
{
	struct psv_frag_key k;
	struct psv_frag f = { .vip = vip, .bound = bound };

	if (p->frag != PSV_FRAG_FIRST)
		return;
	frag_key_fill(&k, p, dir);
	bpf_map_update_elem(&psv_frags, &k, &f, BPF_ANY);
}

static __always_inline struct psv_frag *frag_find(const struct psv_pkt *p,
						  __u8 dir)
{
	struct psv_frag_key k;

	frag_key_fill(&k, p, dir);
	return bpf_map_lookup_elem(&psv_frags, &k);
}

/*
 * The clock of last_seen (conns, host_conns).  Coarse: CLOCK_MONOTONIC
 * as of the last tick, read without touching the clocksource (kvm-clock
 * here: a pvclock read per packet).  Timestamps are kept to the second
 * (touch) and expire in seconds, so a tick of lag changes nothing.
 */
static __always_inline __u64 flow_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/*
 * Store a timestamp at most once a second: a write per packet would
 * bounce the entry's cache line between CPUs for nothing.
 */
static __always_inline void touch(__u64 *last_seen, __u64 now)
{
	if (now - *last_seen >= NSEC_PER_SEC)
		*last_seen = now;
}

/* IPv6 keys, as the IPv4 ones above. */
static __always_inline void conn6_key_fill(struct psv_conn6_key *k,
					   __u8 proto,
					   const struct psv_addr6 *raddr,
					   __be16 lport, __be16 rport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->raddr = *raddr;
	k->lport = lport;
	k->rport = rport;
	k->proto = proto;
}

static __always_inline void conn6_key_egress(struct psv_conn6_key *k,
					     const struct psv_pkt *p,
					     const struct psv_addr6 *daddr)
{
	if (p->proto == IPPROTO_ICMPV6)
		conn6_key_fill(k, p->proto, daddr, p->icmp_id, 0);
	else
		conn6_key_fill(k, p->proto, daddr, p->sport, p->dport);
}

static __always_inline void conn6_key_ingress(struct psv_conn6_key *k,
					      const struct psv_pkt *p,
					      const struct psv_addr6 *saddr)
{
	if (p->proto == IPPROTO_ICMPV6)
		conn6_key_fill(k, p->proto, saddr, p->icmp_id, 0);
	else
		conn6_key_fill(k, p->proto, saddr, p->dport, p->sport);
}

/*
 * A flow of a socket that sends from its identity's address, noted so
 * ingress admits its replies where no socket lookup can tell
 * (unconnected UDP, ICMP echo).  Nothing to translate: PSV_CONN_BOUND.
 * conns: psv_conns with a struct psv_conn_key, or psv_conns6 with a
 * struct psv_conn6_key (its value starts with a struct psv_conn; the
 * host address stays zero, there is nothing to give back).
 */
static __always_inline void conn_note_bound_in(void *conns, const void *k,
					       __be32 vip,
					       const struct psv_group_key *gk,
					       __u32 app)
{
	struct psv_conn *c = bpf_map_lookup_elem(conns, k);
	struct psv_conn6 fresh = {};
	__u64 now = flow_now();

	if (c && c->vip == vip) {
		touch(&c->last_seen_ns, now);
		return;
	}
	fresh.conn.vip = vip;
	fresh.conn.app = app;
	fresh.conn.last_seen_ns = now;
	fresh.conn.flags = PSV_CONN_BOUND;
	if (gk)
		fresh.conn.group = *gk;
	/* Full table: the replies are dropped, nothing leaks. */
	if (bpf_map_update_elem(conns, k, &fresh, BPF_ANY))
		stat_inc(PSV_STAT_EG_DROP_TABLE_FULL);
}

static __always_inline void conn_note_bound(const struct psv_conn_key *k,
					    __be32 vip,
					    const struct psv_group_key *gk,
					    __u32 app)
{
	conn_note_bound_in(&psv_conns, k, vip, gk, app);
}

static __always_inline void conn6_note_bound(const struct psv_conn6_key *k,
					     __be32 vip,
					     const struct psv_group_key *gk,
					     __u32 app)
{
	conn_note_bound_in(&psv_conns6, k, vip, gk, app);
}

/*
 * TCP state, as far as psvd's expiry needs it.  Egress reopens a closed
 * entry on a new SYN (port reuse); ingress sees the SYN-ACK; FINs from
 * both sides or an RST close.  Fields are written only when they change.
 */
static __always_inline void conn_seen(struct psv_conn *c,
				      const struct psv_pkt *p, bool egress,
				      __u64 now)
{
	__u8 fin = egress ? PSV_CONN_FIN_OUT : PSV_CONN_FIN_IN;
	__u8 state = c->tcp_state, flags = c->flags;

	if (p->proto == IPPROTO_TCP && p->frag != PSV_FRAG_LATER) {
		if (egress && is_pure_syn(p) && state == PSV_TCP_CLOSED) {
			state = PSV_TCP_SYN_SENT;
			flags = 0;
		}
		if (!egress && state == PSV_TCP_SYN_SENT &&
		    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) ==
		    (TCP_FLAG_SYN | TCP_FLAG_ACK))
			state = PSV_TCP_ESTABLISHED;
		if ((p->tcp_flags & TCP_FLAG_FIN) && state != PSV_TCP_CLOSED) {
			flags |= fin;
			state = (flags & PSV_CONN_FIN_BOTH) == PSV_CONN_FIN_BOTH ?
				PSV_TCP_CLOSED : PSV_TCP_FIN_WAIT;
		}
		if (p->tcp_flags & TCP_FLAG_RST)
			state = PSV_TCP_CLOSED;
		if (state != c->tcp_state)
			c->tcp_state = state;
		if (flags != c->flags)
			c->flags = flags;
	}
	touch(&c->last_seen_ns, now);
}

#endif /* PSV_BPF_FLOW_H */
