// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress.bpf.c - TC egress: give each flow the host sends its own
 * identity.  A frame whose source address is an identity's comes from a
 * socket the cgroup hooks bound to it (the socket path) and gets that
 * identity's MAC, nothing else; so does an ARP frame the kernel sends in
 * an identity's name.  A frame from the host's real address is the NAT
 * fallback: a known connection keeps its identity; a new one gets its
 * group's, or a fresh one from the ready queue; then the source MAC and
 * IPv4 address are rewritten with their checksums.  When in doubt about
 * a frame from the host, drop it: a virtualized flow must never leave on
 * the real identity.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "psv.h"
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/nat.h"
#include "lib/flow.h"
#include "lib/pool.h"
#include "lib/group.h"
#include "lib/arp.h"
#include "lib/ipv6.h"
#include "lib/ndp.h"
#include "lib/chatter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Source MAC and address become those of identity vip. */
static __always_inline int eg_to_identity(const struct psv_config *cfg,
					  const struct psv_pkt *p, __be32 vip,
					  struct psv_rewrite *rw)
{
	struct psv_identity *id = bpf_map_lookup_elem(&psv_identities, &vip);

	/* A retired identity's lease is released: never send on it. */
	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	nat_prepare(rw, p, ETH_ALEN, id->mac, IPV4_SADDR_OFF, cfg->host_ip,
		    vip);
	return 0;
}

/* What the cgroup hooks recorded of the socket sending, if anything. */
static __always_inline const struct psv_sock *eg_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	return sk ? bpf_sk_storage_get(&psv_sockets, sk, NULL, 0) : NULL;
}

/*
 * The connection k of a new flow f of a socket no hook could bind (a
 * first SYN, a UDP datagram or an echo request), created in conns
 * (psv_conns, or psv_conns6 with c->host filled in) with its group's
 * identity, returned in *vip; counted by why.  An IPv6 flow needs an
 * identity with an IPv6 address: else it is dropped before any state
 * is made (block-like, as connect6 refuses).
 */
static __always_inline int eg_conn_new(struct __sk_buff *skb,
				       const struct psv_config *cfg,
				       const struct psv_new_flow *f,
				       void *conns, const void *k,
				       struct psv_conn6 *c, __be32 *vip)
{
	const struct psv_sock *s = eg_sock(skb);
	const struct psv_identity *id;
	struct psv_conn *theirs;
	int err;

	if (group_key(cfg, s, f, &c->conn.group) == PSV_GRAN_HOST)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	/* psvd is ending the virtualized flows before it detaches. */
	if (cfg->stopping)
		return PSV_REASON(PSV_DROP, EG_DROP_STOPPING);
	c->conn.app = s ? s->app : 0;
	err = group_identity(cfg, s, f, &c->conn.group, false, vip);
	if (err)
		return err;
	if (f->ipv6) {
		id = bpf_map_lookup_elem(&psv_identities, vip);
		if (!id || addr6_is_zero(&id->ip6))
			return PSV_REASON(PSV_DROP, EG_DROP_IPV6);
	}
	c->conn.vip = *vip;
	c->conn.tcp_state = f->proto == IPPROTO_TCP ? PSV_TCP_SYN_SENT :
						      PSV_TCP_NONE;
	c->conn.last_seen_ns = flow_now();
	err = bpf_map_update_elem(conns, k, c, BPF_NOEXIST);
	if (!err) {
		stat_inc(PSV_STAT_EG_NEW_CONN);
		stat_inc(s ? PSV_STAT_EG_NAT_UNBOUND : PSV_STAT_EG_NAT_UNHOOKED);
		return 0;
	}
	/* Another CPU created it first: follow its choice. */
	theirs = err == -EEXIST ? bpf_map_lookup_elem(conns, k) : NULL;
	if (!theirs)
		return PSV_REASON(PSV_DROP, EG_DROP_TABLE_FULL);
	*vip = theirs->vip;
	return 0;
}

/* A new IPv4 flow's connection, then translated. */
static __always_inline int eg_new_conn(struct __sk_buff *skb,
				       const struct psv_config *cfg,
				       const struct psv_pkt *p,
				       const struct psv_conn_key *k,
				       struct psv_rewrite *rw)
{
	struct psv_new_flow f = {
		.daddr = p->daddr, .sport = p->sport, .dport = p->dport,
		.uid = bpf_get_socket_uid(skb), .proto = p->proto,
	};
	struct psv_conn6 c = {};
	__be32 vip;
	int err;

	err = eg_conn_new(skb, cfg, &f, &psv_conns, k, &c, &vip);
	return err ?: eg_to_identity(cfg, p, vip, rw);
}

/*
 * An ICMP error the host sends quotes a packet it received: from the
 * peer to the host's address, already reverse-translated by ingress.
 * If that packet belongs to a virtualized flow, the error leaves on the
 * flow's identity, and the quote shows the virtual address it was sent
 * to.  Errors never create an identity.
 */
static __always_inline int eg_icmp_error(struct __sk_buff *skb,
					 const struct psv_config *cfg,
					 const struct psv_pkt *p,
					 struct psv_rewrite *rw)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct psv_conn_key k;
	struct psv_conn *c;
	struct psv_pkt q = {};
	int err;

	/* The kernel always quotes enough; anything else fails closed. */
	err = parse_quote(data, data_end, p, &q);
	if (err == -PSV_E_SHORT)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (err || q.daddr != cfg->host_ip)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	conn_key_ingress(&k, &q);
	c = bpf_map_lookup_elem(&psv_conns, &k);
	if (!c)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	err = eg_to_identity(cfg, p, c->vip, rw);
	if (err)
		return err;
	nat_prepare_quote(rw, p, &q, q.l3_off + offsetof(struct iphdr, daddr));
	return PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
}

/* A TCP/UDP/ICMP packet from the host with its L4 header. */
static __always_inline int eg_flow(struct __sk_buff *skb,
				   const struct psv_config *cfg,
				   const struct psv_pkt *p,
				   struct psv_rewrite *rw)
{
	struct psv_conn_key k;
	struct psv_conn *c;
	__u64 *seen;
	int err;

	if (p->proto == IPPROTO_ICMP && is_icmp_error(p->icmp_type))
		return eg_icmp_error(skb, cfg, p, rw);
	/*
	 * Of the other ICMP only the host's own pings are virtualized.  An
	 * echo reply answers a ping to the real address (ingress drops those
	 * to virtual ones): matched to a ping psv made, it would confirm the
	 * link to a peer that pinged the host with that ping's id.
	 */
	if (p->proto == IPPROTO_ICMP && p->icmp_type != ICMP_ECHO)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	conn_key_egress(&k, p);
	c = bpf_map_lookup_elem(&psv_conns, &k);
	if (c) {
		conn_seen(c, p, true, flow_now());
		err = eg_to_identity(cfg, p, c->vip, rw);
		return err ?: PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
	}
	/*
	 * Replies of a flow a peer opened to the host's own address.  A
	 * pure SYN opens a connection and answers none: a SYN a peer sent
	 * earlier on the tuple must not take it off its identity.
	 */
	seen = is_pure_syn(p) ? NULL :
				bpf_map_lookup_elem(&psv_host_conns, &k);
	if (seen) {
		touch(seen, flow_now());
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	}
	/* Connections older than psv keep working on the real identity. */
	if (p->proto == IPPROTO_TCP && !is_pure_syn(p))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	err = eg_new_conn(skb, cfg, p, &k, rw);
	return err ?: PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
}

/* A later fragment follows the identity its first fragment got. */
static __always_inline int eg_frag(const struct psv_config *cfg,
				   const struct psv_pkt *p,
				   struct psv_rewrite *rw)
{
	struct psv_frag *f = frag_find(p, PSV_DIR_EGRESS);
	int err;

	if (!f)
		return PSV_REASON(PSV_DROP, EG_DROP_FRAG);
	if (!f->vip)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	err = eg_to_identity(cfg, p, f->vip, rw);
	return err ?: PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
}

/*
 * The first frame from a held identity's address (a connected UDP
 * socket's, pool_hold): the identity is used from now on.  Its group is
 * not known here; psvd heard it when the socket held it.
 */
static __always_inline void eg_first_use(struct __sk_buff *skb,
					 struct psv_identity *id, __be32 vip)
{
	const struct psv_sock *s = eg_sock(skb);
	struct psv_owner o = { .app = s ? s->app : 0,
			       .uid = s ? s->uid : bpf_get_socket_uid(skb) };
	struct psv_group_key none = {};

	if (id->state == PSV_ID_READY)
		pool_use(id, vip, &none, &o);
}

/*
 * The socket path: the kernel sent this from identity id's address, so
 * only the source MAC is the host's.  Every frame of the address gets
 * it, whatever its protocol or fragment.  An echo request is noted: no
 * socket lookup finds the ping socket its reply is for.
 */
static __always_inline int eg_from_identity(struct __sk_buff *skb,
					    const struct psv_pkt *p, bool parsed,
					    struct psv_identity *id,
					    struct psv_rewrite *rw)
{
	const struct psv_sock *s;
	struct psv_conn_key k;

	if (id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	eg_first_use(skb, id, p->saddr);
	if (parsed && p->proto == IPPROTO_ICMP && p->frag != PSV_FRAG_LATER &&
	    p->icmp_type == ICMP_ECHO) {
		s = eg_sock(skb);
		conn_key_egress(&k, p);
		conn_note_bound(&k, p->saddr, NULL, s ? s->app : 0);
	}
	nat_prepare_mac(rw, ETH_ALEN, id->mac);
	return PSV_REASON(PSV_REWRITE, EG_IDENTITY_MAC);
}

/*
 * The host's own ARP request (the kernel resolving the gateway for a
 * translated flow, or for one of the host's own) would name the host
 * right before the flow's first packet.  It goes out in the name of the
 * identity a new flow takes next (the ready queue's head: most often
 * the very flow that waits for the answer), or of the one psvd reuses;
 * the reply reaches the kernel through ingress, which learns the
 * gateway's MAC all the same.  With neither, it is dropped and the
 * kernel asks again.  Announcements of the host's address stay its own.
 */
static __always_inline int eg_arp_host(const struct psv_config *cfg,
				       struct psv_arp *arp, __be32 spa,
				       struct psv_rewrite *rw)
{
	struct psv_identity *id;
	__be32 tpa, vip;

	__builtin_memcpy(&tpa, arp->tpa, sizeof(tpa));
	if (spa != cfg->host_ip || tpa == spa ||
	    arp->op != bpf_htons(ARPOP_REQUEST))
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	if (bpf_map_peek_elem(&psv_ready, &vip))
		vip = cfg->reuse_vip;
	id = vip ? bpf_map_lookup_elem(&psv_identities, &vip) : NULL;
	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_ARP);
	nat_prepare_mac(rw, ETH_ALEN, id->mac);
	rw->mac2_off = ETH_HLEN + offsetof(struct psv_arp, sha);
	rw->addr_off = ETH_HLEN + offsetof(struct psv_arp, spa);
	rw->new_addr = vip;
	rw->arp = 1;
	return PSV_REASON(PSV_REWRITE, EG_ARP_HOST);
}

/*
 * The kernel's own ARP: in the name of an identity address that a bound
 * socket made it use (a request for an on-link peer, a reply), sender
 * and source MAC become the identity's; in the host's name, see above.
 * A retired identity sends nothing, ARP included (the RSTs of its
 * ended sockets make the kernel ask in its name).
 */
static __always_inline int eg_arp(const struct psv_config *cfg, void *data,
				  void *data_end, struct psv_rewrite *rw)
{
	struct psv_arp *arp = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*arp));
	struct psv_identity *id;
	__be32 spa;

	if (!arp || !arp_is_ipv4(arp))
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	__builtin_memcpy(&spa, arp->spa, sizeof(spa));
	id = bpf_map_lookup_elem(&psv_identities, &spa);
	if (!id)
		return eg_arp_host(cfg, arp, spa, rw);
	if (id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_ARP);
	nat_prepare_mac(rw, ETH_ALEN, id->mac);
	rw->mac2_off = ETH_HLEN + offsetof(struct psv_arp, sha);
	return PSV_REASON(PSV_REWRITE, EG_ARP_IDENTITY);
}

/*
 * The socket path for IPv6: the kernel sent this from an identity's
 * IPv6 address, so only the MAC is the host's.  An echo request is
 * noted as for IPv4; the kernel's neighbour discovery in the address's
 * name gets the identity's MAC in its link-layer address option too.
 */
static __always_inline int eg_from_identity6(struct __sk_buff *skb,
					     void *data, void *data_end,
					     const struct psv_pkt6 *p6,
					     bool parsed, __be32 vip,
					     struct psv_rewrite *rw)
{
	struct psv_identity *id = bpf_map_lookup_elem(&psv_identities, &vip);
	const struct psv_pkt *p = &p6->p;
	const struct psv_sock *s;
	struct psv_conn6_key k;
	bool nd;

	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	nat_prepare_mac(rw, ETH_ALEN, id->mac);
	/* Neighbour discovery is the address's presence, not its use. */
	nd = parsed && p->proto == IPPROTO_ICMPV6 &&
	     p->frag != PSV_FRAG_LATER &&
	     (p->icmp_type == ICMPV6_NEIGH_SOLICIT ||
	      p->icmp_type == ICMPV6_NEIGH_ADVERT);
	if (!nd)
		eg_first_use(skb, id, vip);
	if (!parsed || p->proto != IPPROTO_ICMPV6 || p->frag == PSV_FRAG_LATER)
		return PSV_REASON(PSV_REWRITE, EG_IDENTITY_MAC);
	if (p->icmp_type == ICMPV6_ECHO_REQUEST) {
		s = eg_sock(skb);
		conn6_key_egress(&k, p, &p6->daddr);
		conn6_note_bound(&k, vip, NULL, s ? s->app : 0);
	}
	if (p->icmp_type != ICMPV6_NEIGH_SOLICIT &&
	    p->icmp_type != ICMPV6_NEIGH_ADVERT)
		return PSV_REASON(PSV_REWRITE, EG_IDENTITY_MAC);
	if (ndp_prepare_lladdr(data, data_end, p, id->mac, rw))
		return PSV_REASON(PSV_DROP, EG_DROP_NDP);
	return PSV_REASON(PSV_REWRITE, EG_NDP_IDENTITY);
}

/*
 * The identity the host's neighbour solicitations go out as: the ready
 * queue's head, else the one psvd reuses, if it has an IPv6 address.
 */
static __always_inline const struct psv_identity *
ndp_identity(const struct psv_config *cfg)
{
	const struct psv_identity *id;
	__be32 vip;

	if (!bpf_map_peek_elem(&psv_ready, &vip)) {
		id = bpf_map_lookup_elem(&psv_identities, &vip);
		if (id && id->state != PSV_ID_RETIRED &&
		    !addr6_is_zero(&id->ip6))
			return id;
	}
	vip = cfg->reuse_vip;
	id = vip ? bpf_map_lookup_elem(&psv_identities, &vip) : NULL;
	if (id && id->state != PSV_ID_RETIRED && !addr6_is_zero(&id->ip6))
		return id;
	return NULL;
}

/*
 * The host's own neighbour discovery and MLD.  What is the host's
 * presence on the link leaves as the host: its router solicitations,
 * MLD reports, the advertisements it answers for its own addresses
 * (and redirects, router advertisements of a routing host), and the
 * solicitations of its DAD (unspecified source).  A solicitation from
 * one of its addresses resolves or probes a neighbour (the gateway, an
 * on-link peer) for whatever flow needs it, a virtualized one included
 * (the kernel solicits from the host's link-local address even for a
 * bound socket's packet: identity addresses live on lo).  As the
 * host's ARP requests (eg_arp_host), it goes out in the name of the
 * identity the next new flow takes: source address, MAC and source
 * link-layer address option; the advertisement comes back to that
 * identity and ingress hands it to the kernel, which learns the
 * neighbour all the same.  With no such identity it is dropped and the
 * kernel asks again.  With ipv6 = block no virtualized IPv6 flow
 * exists that it could serve: it stays the host's.
 */
static __always_inline int eg_ndp_host(const struct psv_config *cfg,
				       void *data, void *data_end,
				       const struct psv_pkt6 *p6,
				       struct psv_rewrite *rw)
{
	const struct psv_identity *id;

	if (p6->p.icmp_type != ICMPV6_NEIGH_SOLICIT ||
	    addr6_is_zero(&p6->saddr) || cfg->ipv6 == PSV_IPV6_BLOCK)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	id = ndp_identity(cfg);
	if (!id)
		return PSV_REASON(PSV_DROP, EG_DROP_NDP);
	nat_prepare6(rw, &p6->p, ETH_ALEN, id->mac, IPV6_SADDR_OFF,
		     &p6->saddr, &id->ip6);
	if (ndp_prepare_lladdr(data, data_end, &p6->p, id->mac, rw))
		return PSV_REASON(PSV_DROP, EG_DROP_NDP);
	return PSV_REASON(PSV_REWRITE, EG_NDP_HOST);
}

/*
 * IPv6 NAT fallback: the host's source address and MAC become identity
 * vip's, with the L4 checksum (IPv6 has no header checksum).
 */
static __always_inline int eg_to_identity6(const struct psv_pkt6 *p6,
					   __be32 vip, struct psv_rewrite *rw)
{
	struct psv_identity *id = bpf_map_lookup_elem(&psv_identities, &vip);

	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	if (addr6_is_zero(&id->ip6))
		return PSV_REASON(PSV_DROP, EG_DROP_IPV6);
	nat_prepare6(rw, &p6->p, ETH_ALEN, id->mac, IPV6_SADDR_OFF,
		     &p6->saddr, &id->ip6);
	return 0;
}

/*
 * An ICMPv6 error the host sends about a packet of a translated flow
 * (ingress gave it the host's address): it leaves on the flow's
 * identity, and the quote shows the identity's address.  Any other
 * ICMPv6 error, and echo replies, answer packets sent to the host's own
 * address: its own.
 */
static __always_inline int eg_icmp6_error(void *data, void *data_end,
					  const struct psv_pkt6 *p6,
					  struct psv_rewrite *rw)
{
	struct psv_conn6_key k;
	struct psv_conn6 *c;
	struct psv_pkt6 q = {};
	int err;

	err = parse_quote6(data, data_end, &p6->p, &q);
	if (err == -PSV_E_SHORT)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (err || !addr6_eq(&q.daddr, &p6->saddr))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	conn6_key_ingress(&k, &q.p, &q.saddr);
	c = bpf_map_lookup_elem(&psv_conns6, &k);
	if (!c || (c->conn.flags & PSV_CONN_BOUND))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	err = eg_to_identity6(p6, c->conn.vip, rw);
	if (err)
		return err;
	nat_prepare_quote6(rw, &p6->p, &q.p,
			   q.p.l3_off + offsetof(struct ipv6hdr, daddr),
			   &p6->saddr, &rw->new_addr6);
	return PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
}

/*
 * A TCP, UDP or ICMPv6 echo packet from the host's own IPv6 address to
 * a destination an identity may reach.  A translated connection keeps
 * its identity; policy host, connections older than psv and DHCPv6
 * stay the host's; a new flow gets its group's identity (the NAT
 * fallback, for what connect6 could not bind: a socket bound to the
 * host's address or a port, a raw socket, an unconnected ping socket).
 * Fragments cannot follow a translated flow (IPv6 fragments carry no
 * ports and psv keeps no IPv6 fragment state): dropped, counted.
 */
static __always_inline int eg_flow6(struct __sk_buff *skb,
				    const struct psv_config *cfg,
				    const struct psv_pkt6 *p6,
				    struct psv_rewrite *rw)
{
	const struct psv_pkt *p = &p6->p;
	struct psv_new_flow f = { .ipv6 = 1 };
	const struct psv_sock *s;
	struct psv_conn6_key k;
	struct psv_conn6 *c, fresh = {};
	__be32 vip;
	int err;

	conn6_key_egress(&k, p, &p6->daddr);
	c = p->frag == PSV_FRAG_LATER ? NULL :
					bpf_map_lookup_elem(&psv_conns6, &k);
	if (c && !(c->conn.flags & PSV_CONN_BOUND)) {
		if (p->frag != PSV_FRAG_NONE)
			return PSV_REASON(PSV_DROP, EG_DROP_FRAG);
		conn_seen(&c->conn, p, true, flow_now());
		err = eg_to_identity6(p6, c->conn.vip, rw);
		return err ?: PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
	}
	/*
	 * Policy host; connections older than psv (as for IPv4); the host's
	 * own DHCPv6 client (its lease is the real identity's).
	 */
	s = eg_sock(skb);
	if ((s ? s->granularity : cfg->granularity) == PSV_GRAN_HOST ||
	    ipv6_tcp_not_syn(p) ||
	    is_udp_ports(p, DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	if (cfg->ipv6 == PSV_IPV6_BLOCK)
		return PSV_REASON(PSV_DROP, EG_DROP_IPV6);
	if (p->frag != PSV_FRAG_NONE)
		return PSV_REASON(PSV_DROP, EG_DROP_FRAG);
	__builtin_memcpy(f.daddr6, &p6->daddr, sizeof(f.daddr6));
	f.sport = p->sport;
	f.dport = p->dport;
	f.uid = bpf_get_socket_uid(skb);
	f.proto = p->proto;
	fresh.host = p6->saddr;
	err = eg_conn_new(skb, cfg, &f, &psv_conns6, &k, &fresh, &vip);
	if (err)
		return err;
	err = eg_to_identity6(p6, vip, rw);
	return err ?: PSV_REASON(PSV_REWRITE, EG_TRANSLATED);
}

/*
 * IPv6 from the host.  From an identity's address: the socket path
 * (MAC only).  From the host's own: what is its own leaves as it is
 * (ipv6 = host, its neighbour discovery and MLD (eg_ndp_host),
 * link-local and multicast destinations, protocols other than TCP, UDP
 * and ICMPv6, its ICMPv6 errors and echo replies); TCP, UDP and echo
 * requests take eg_flow6.
 */
static __always_inline int eg_ipv6(struct __sk_buff *skb,
				   const struct psv_config *cfg, void *data,
				   void *data_end, struct psv_rewrite *rw)
{
	struct psv_addr6_owner *o;
	struct psv_pkt6 p6 = {};
	int r;

	if (cfg->ipv6 == PSV_IPV6_HOST)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	r = parse_ipv6(data, data_end, skb->len, &p6);
	if (r == -PSV_E_SHORT)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	o = bpf_map_lookup_elem(&psv_addrs6, &p6.saddr);
	if (o)
		return eg_from_identity6(skb, data, data_end, &p6, !r, o->vip,
					 rw);
	if (r == -PSV_E_EXT)
		return PSV_REASON(PSV_DROP, EG_DROP_EXTHDR);
	if (r)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (p6.p.proto == IPPROTO_ICMPV6 && p6.p.frag != PSV_FRAG_LATER &&
	    is_ndp_or_mld(p6.p.icmp_type))
		return eg_ndp_host(cfg, data, data_end, &p6, rw);
	if (ipv6_not_virtualized(p6.daddr.a) ||
	    (p6.p.proto != IPPROTO_TCP && p6.p.proto != IPPROTO_UDP &&
	     p6.p.proto != IPPROTO_ICMPV6))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	if (p6.p.proto == IPPROTO_ICMPV6 && p6.p.frag != PSV_FRAG_LATER &&
	    p6.p.icmp_type != ICMPV6_ECHO_REQUEST)
		return is_icmp6_error(p6.p.icmp_type) ?
		       eg_icmp6_error(data, data_end, &p6, rw) :
		       PSV_REASON(PSV_PASS, EG_PASS_HOST);
	return eg_flow6(skb, cfg, &p6, rw);
}

static __always_inline int egress_decide(struct __sk_buff *skb,
					 const struct psv_config *cfg,
					 struct psv_rewrite *rw)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct psv_identity *id;
	struct psv_pkt p = {};
	struct ethhdr *eth;
	int r;

	/*
	 * psvd's own DHCP and ARP leave from virtual MACs: not ours.  VLANs
	 * (an offloaded tag, or one in the frame) are other L2 networks.
	 */
	eth = pkt_ptr(data, data_end, 0, sizeof(*eth));
	if (!eth || skb->vlan_present || !mac_eq(eth->h_source, cfg->host_mac))
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	if (cfg->chatter == PSV_CHATTER_DROP && is_chatter(data, data_end, eth))
		return PSV_REASON(PSV_DROP, EG_DROP_CHATTER);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return eg_arp(cfg, data, data_end, rw);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return eg_ipv6(skb, cfg, data, data_end, rw);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	r = parse_ipv4(data, data_end, skb->len, &p);
	if (r == -PSV_E_SHORT)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	id = bpf_map_lookup_elem(&psv_identities, &p.saddr);
	if (id)
		return eg_from_identity(skb, &p, !r, id, rw);
	if (p.saddr != cfg->host_ip)
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	if (r)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (not_unicast(cfg, p.daddr) ||
	    (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP &&
	     p.proto != IPPROTO_ICMP))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	if (p.frag == PSV_FRAG_LATER)
		return eg_frag(cfg, &p, rw);
	/* The host's own DHCP client: its lease is the real identity's. */
	if (is_udp_ports(&p, DHCP_CLIENT_PORT, DHCP_SERVER_PORT))
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	r = eg_flow(skb, cfg, &p, rw);
	if (reason_what(r) == PSV_REWRITE)
		frag_note(&p, PSV_DIR_EGRESS, rw->new_addr, false);
	else if (reason_what(r) == PSV_PASS)
		frag_note(&p, PSV_DIR_EGRESS, 0, false);
	return r;
}

/*
 * The socket path's common case, ahead of any parsing: an IPv4 frame from
 * the host's MAC whose source is an identity's address gets the
 * identity's MAC, and that is all.  What it does not settle (ICMP, whose
 * echo requests are noted; headers not linear; anything else) takes the
 * full decision, which would do the same for such a frame.
 */
static __always_inline bool eg_identity_fast(struct __sk_buff *skb,
					     const struct psv_config *cfg)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct psv_identity *id;
	__be32 saddr;

	if ((void *)(ip + 1) > data_end || skb->vlan_present ||
	    eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol == IPPROTO_ICMP ||
	    !mac_eq(eth->h_source, cfg->host_mac))
		return false;
	saddr = ip->saddr;
	id = bpf_map_lookup_elem(&psv_identities, &saddr);
	/* A held identity's first frame: eg_from_identity. */
	if (!id || id->state != PSV_ID_ACTIVE)
		return false;
	__builtin_memcpy(eth->h_source, id->mac, ETH_ALEN);
	stat_inc(PSV_STAT_EG_IDENTITY_MAC);
	return true;
}

/*
 * The same for IPv6: a frame whose source is an identity's IPv6 address
 * gets its MAC.  ICMPv6 (echo requests are noted, neighbour discovery
 * carries the MAC in an option too) takes the full decision.
 */
static __always_inline bool eg_identity6_fast(struct __sk_buff *skb,
					      const struct psv_config *cfg)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct psv_addr6_owner *o;
	struct psv_identity *id;
	struct psv_addr6 saddr;

	if ((void *)(ip6 + 1) > data_end || skb->vlan_present ||
	    eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    ip6->nexthdr == IPPROTO_ICMPV6 ||
	    !mac_eq(eth->h_source, cfg->host_mac))
		return false;
	addr6_load(&saddr, &ip6->saddr);
	o = bpf_map_lookup_elem(&psv_addrs6, &saddr);
	id = o ? bpf_map_lookup_elem(&psv_identities, &o->vip) : NULL;
	if (!id || id->state != PSV_ID_ACTIVE)
		return false;
	__builtin_memcpy(eth->h_source, id->mac, ETH_ALEN);
	stat_inc(PSV_STAT_EG_IDENTITY_MAC);
	return true;
}

SEC("tc")
int psv_egress(struct __sk_buff *skb)
{
	const struct psv_config *cfg = config_get();
	struct psv_rewrite rw;
	int action;
	__u32 stat;
	int r;

	if (!cfg) {
		stat_inc(PSV_STAT_EG_PASS_NOT_OURS);
		return TC_ACT_OK;
	}
	if (eg_identity_fast(skb, cfg) || eg_identity6_fast(skb, cfg))
		return TC_ACT_OK;
	tc_pull_headers(skb);
	barrier_var(skb);
	r = egress_decide(skb, cfg, &rw);
	action = nat_verdict_tc(skb, r, &rw, PSV_STAT_EG_DROP_CSUM, &stat);
	stat_inc(stat);
	return action;
}
