/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ingress.h - the reverse path's decision, shared by the XDP and the TC
 * ingress program: parse, look up, and say what to do with the frame
 * (a reason, stats.h) and which rewrite to apply (nat.h, arp.h).
 * Whatever reaches a virtual address and belongs to no flow psv made is
 * dropped silently, the same way for every virtual address.
 */
#ifndef PSV_BPF_INGRESS_H
#define PSV_BPF_INGRESS_H

/* Back to the host: destination MAC and address become its real ones. */
static __always_inline int in_to_host(const struct psv_config *cfg,
				      const struct psv_pkt *p,
				      struct psv_rewrite *rw)
{
	nat_prepare(rw, p, 0, cfg->host_mac, IPV4_DADDR_OFF, p->daddr,
		    cfg->host_ip);
	frag_note(p, PSV_DIR_INGRESS, p->daddr, false);
	return PSV_REASON(PSV_REWRITE, IN_TRANSLATED);
}

/* To a socket of the identity's own: only the MAC is the identity's. */
static __always_inline int in_to_socket(const struct psv_config *cfg,
					const struct psv_pkt *p,
					struct psv_rewrite *rw)
{
	nat_prepare_mac(rw, 0, cfg->host_mac);
	frag_note(p, PSV_DIR_INGRESS, p->daddr, true);
	return PSV_REASON(PSV_REWRITE, IN_IDENTITY_MAC);
}

/*
 * Whether the socket found for t has the identity's address vip: a
 * connection (any state, TIME_WAIT too) or a listener bound to exactly
 * vip.  A wildcard socket (sshd on 0.0.0.0) is the host's: reaching it
 * through an identity would link the two.  One function per protocol,
 * not inlined: clang would otherwise merge the two reads of src_ip4,
 * and the verifier refuses one load through two kinds of pointer.
 */
static __noinline bool tcp_socket_of(void *ctx, struct bpf_sock_tuple *t,
				     __be32 vip)
{
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, t, sizeof(t->ipv4),
						 BPF_F_CURRENT_NETNS, 0);
	bool ours;

	if (!sk)
		return false;
	ours = sk->src_ip4 == vip;
	bpf_sk_release(sk);
	return ours;
}

static __noinline bool udp_socket_of(void *ctx, struct bpf_sock_tuple *t,
				     __be32 vip)
{
	struct bpf_sock *sk = bpf_sk_lookup_udp(ctx, t, sizeof(t->ipv4),
						BPF_F_CURRENT_NETNS, 0);
	bool ours;

	if (!sk)
		return false;
	ours = sk->src_ip4 == vip;
	bpf_sk_release(sk);
	return ours;
}

/* A socket of vip's own for a TCP or UDP packet raddr:rport -> vip:lport. */
static __always_inline bool in_socket_of(void *ctx, __u8 proto, __be32 raddr,
					 __be16 rport, __be32 vip,
					 __be16 lport)
{
	struct bpf_sock_tuple t = {
		.ipv4 = { .saddr = raddr, .daddr = vip,
			  .sport = rport, .dport = lport },
	};

	if (proto == IPPROTO_TCP)
		return tcp_socket_of(ctx, &t, vip);
	if (proto == IPPROTO_UDP)
		return udp_socket_of(ctx, &t, vip);
	return false;
}

/*
 * An ICMP error about a packet we sent (a router's time exceeded for
 * traceroute, a port unreachable, a PMTU error): the quote holds our
 * outbound packet, from the virtual address.  A translated flow's
 * quote goes back to the host's address too; a bound socket's needs
 * nothing.  The outer source may be any router, not the peer.
 */
static __always_inline int in_icmp_error(void *ctx, void *data,
					 void *data_end,
					 const struct psv_config *cfg,
					 const struct psv_pkt *p,
					 struct psv_rewrite *rw)
{
	struct psv_conn_key k;
	struct psv_conn *c;
	struct psv_pkt q = {};

	if (parse_quote(data, data_end, p, &q) || q.saddr != p->daddr)
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (in_socket_of(ctx, q.proto, q.daddr, q.dport, q.saddr, q.sport))
		return in_to_socket(cfg, p, rw);
	conn_key_egress(&k, &q);
	c = bpf_map_lookup_elem(&psv_conns, &k);
	if (!c || c->vip != p->daddr)
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (c->flags & PSV_CONN_BOUND)
		return in_to_socket(cfg, p, rw);
	nat_prepare(rw, p, 0, cfg->host_mac, IPV4_DADDR_OFF, p->daddr,
		    cfg->host_ip);
	nat_prepare_quote(rw, p, &q, q.l3_off + offsetof(struct iphdr, saddr));
	return PSV_REASON(PSV_REWRITE, IN_ICMP_ERROR);
}

/*
 * Traffic to a virtual address: only flows of its sockets, or flows
 * psv translated, get through; everything else is dropped the same way
 * for every identity address.
 */
static __always_inline int in_virtual(void *ctx, void *data, void *data_end,
				      const struct psv_config *cfg,
				      const struct psv_pkt *p,
				      struct psv_rewrite *rw)
{
	struct psv_conn_key k;
	struct psv_conn *c;
	struct psv_frag *f;

	if (p->frag == PSV_FRAG_LATER) {
		f = frag_find(p, PSV_DIR_INGRESS);
		if (!f || f->vip != p->daddr)
			return PSV_REASON(PSV_DROP, IN_DROP_FRAG);
		return f->bound ? in_to_socket(cfg, p, rw) :
				  in_to_host(cfg, p, rw);
	}
	if (p->proto == IPPROTO_ICMP && is_icmp_error(p->icmp_type))
		return in_icmp_error(ctx, data, data_end, cfg, p, rw);
	if ((p->proto == IPPROTO_ICMP && p->icmp_type != ICMP_ECHOREPLY) ||
	    (p->proto != IPPROTO_ICMP && p->proto != IPPROTO_TCP &&
	     p->proto != IPPROTO_UDP))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (in_socket_of(ctx, p->proto, p->saddr, p->sport, p->daddr, p->dport))
		return in_to_socket(cfg, p, rw);
	conn_key_ingress(&k, p);
	c = bpf_map_lookup_elem(&psv_conns, &k);
	if (!c || c->vip != p->daddr)
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	conn_seen(c, p, false, flow_now());
	if (c->flags & PSV_CONN_BOUND)
		return in_to_socket(cfg, p, rw);
	return in_to_host(cfg, p, rw);
}

/*
 * Traffic to the host's own address.  A peer opening a flow to it is
 * noted, so egress leaves the replies on the real identity (UDP has no
 * SYN to tell).  A packet that names a virtualized flow is a probe of
 * the link between identity and host: the flow's socket would take it
 * and answer as the identity.  Dropped like any unsolicited packet.
 */
/*
 * Whether a UDP socket of the host would take this datagram.  Only then
 * is it a flow a peer opened to the host: a spoofed datagram to a port
 * nobody listens on must not make a later query of the host's from that
 * port leave on the real identity.
 */
static __always_inline bool udp_socket_for(void *ctx, const struct psv_pkt *p)
{
	struct bpf_sock_tuple t = {
		.ipv4 = { .saddr = p->saddr, .daddr = p->daddr,
			  .sport = p->sport, .dport = p->dport },
	};
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_udp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	bpf_sk_release(sk);
	return true;
}

static __always_inline int in_host(void *ctx, void *data, void *data_end,
				   const struct psv_pkt *p)
{
	struct psv_conn_key k;
	struct psv_pkt q = {};
	__u64 now;

	/*
	 * An ICMP error quoting a virtualized flow would reach the flow's
	 * socket just the same (a PMTU error shrinks its segments).
	 */
	if (p->proto == IPPROTO_ICMP && is_icmp_error(p->icmp_type) &&
	    p->frag != PSV_FRAG_LATER) {
		if (parse_quote(data, data_end, p, &q) || q.saddr != p->daddr)
			return PSV_REASON(PSV_PASS, IN_PASS);
		conn_key_egress(&k, &q);
		if (bpf_map_lookup_elem(&psv_conns, &k))
			return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
		return PSV_REASON(PSV_PASS, IN_PASS);
	}

	if (p->frag == PSV_FRAG_LATER ||
	    !(p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	      (p->proto == IPPROTO_ICMP && p->icmp_type == ICMP_ECHOREPLY)))
		return PSV_REASON(PSV_PASS, IN_PASS);
	conn_key_ingress(&k, p);
	if (bpf_map_lookup_elem(&psv_conns, &k))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (!is_pure_syn(p) && p->proto != IPPROTO_UDP)
		return PSV_REASON(PSV_PASS, IN_PASS);
	if (p->proto == IPPROTO_UDP && !udp_socket_for(ctx, p))
		return PSV_REASON(PSV_PASS, IN_PASS);
	now = flow_now();
	if (bpf_map_update_elem(&psv_host_conns, &k, &now, BPF_ANY))
		return PSV_REASON(PSV_PASS, IN_PASS);
	return PSV_REASON(PSV_PASS, IN_HOST_CONN);
}

/*
 * IPv6.  Whether the socket found for t (an IPv6 tuple to an identity
 * address) is bound to exactly that address, as tcp_socket_of above.
 */
static __noinline bool tcp_socket_of6(void *ctx, struct bpf_sock_tuple *t)
{
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, t, sizeof(t->ipv6),
						 BPF_F_CURRENT_NETNS, 0);
	bool ours;

	if (!sk)
		return false;
	ours = sk->src_ip6[0] == t->ipv6.daddr[0] &&
	       sk->src_ip6[1] == t->ipv6.daddr[1] &&
	       sk->src_ip6[2] == t->ipv6.daddr[2] &&
	       sk->src_ip6[3] == t->ipv6.daddr[3];
	bpf_sk_release(sk);
	return ours;
}

static __noinline bool udp_socket_of6(void *ctx, struct bpf_sock_tuple *t)
{
	struct bpf_sock *sk = bpf_sk_lookup_udp(ctx, t, sizeof(t->ipv6),
						BPF_F_CURRENT_NETNS, 0);
	bool ours;

	if (!sk)
		return false;
	ours = sk->src_ip6[0] == t->ipv6.daddr[0] &&
	       sk->src_ip6[1] == t->ipv6.daddr[1] &&
	       sk->src_ip6[2] == t->ipv6.daddr[2] &&
	       sk->src_ip6[3] == t->ipv6.daddr[3];
	bpf_sk_release(sk);
	return ours;
}

/* A socket of identity address local, for raddr:rport -> local:lport. */
static __always_inline bool in_socket_of6(void *ctx, __u8 proto,
					  const struct psv_addr6 *raddr,
					  __be16 rport,
					  const struct psv_addr6 *local,
					  __be16 lport)
{
	struct bpf_sock_tuple t = {};

	__builtin_memcpy(t.ipv6.saddr, raddr, 16);
	__builtin_memcpy(t.ipv6.daddr, local, 16);
	t.ipv6.sport = rport;
	t.ipv6.dport = lport;
	if (proto == IPPROTO_TCP)
		return tcp_socket_of6(ctx, &t);
	if (proto == IPPROTO_UDP)
		return udp_socket_of6(ctx, &t);
	return false;
}

/* To the identity's own socket: only the MAC was the identity's. */
static __always_inline int in_to_socket6(const struct psv_config *cfg,
					 struct psv_rewrite *rw)
{
	nat_prepare_mac(rw, 0, cfg->host_mac);
	return PSV_REASON(PSV_REWRITE, IN_IDENTITY_MAC);
}

/*
 * An ICMPv6 error (packet too big, time exceeded, unreachable, parameter
 * problem) about a packet identity address local sent: it reaches the
 * flow's socket if the flow is the identity's own (a bound socket, or
 * a noted flow), or goes back to the host's address if psv translated
 * the flow, quote included.  The outer source may be any router.
 */
static __always_inline int in_icmp6_error(void *ctx, void *data,
					  void *data_end,
					  const struct psv_config *cfg,
					  const struct psv_pkt6 *p6,
					  __be32 vip, struct psv_rewrite *rw)
{
	struct psv_conn6_key k;
	struct psv_conn6 *c;
	struct psv_pkt6 q = {};

	if (parse_quote6(data, data_end, &p6->p, &q) ||
	    !addr6_eq(&q.saddr, &p6->daddr))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (in_socket_of6(ctx, q.p.proto, &q.daddr, q.p.dport, &q.saddr,
			  q.p.sport))
		return in_to_socket6(cfg, rw);
	conn6_key_egress(&k, &q.p, &q.daddr);
	c = bpf_map_lookup_elem(&psv_conns6, &k);
	if (!c || c->conn.vip != vip)
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (c->conn.flags & PSV_CONN_BOUND)
		return in_to_socket6(cfg, rw);
	nat_prepare6(rw, &p6->p, 0, cfg->host_mac, IPV6_DADDR_OFF, &p6->daddr,
		     &c->host);
	nat_prepare_quote6(rw, &p6->p, &q.p,
			   q.p.l3_off + offsetof(struct ipv6hdr, saddr),
			   &p6->daddr, &c->host);
	return PSV_REASON(PSV_REWRITE, IN_ICMP_ERROR);
}

/*
 * IPv6 to an identity address of identity vip, sent to its MAC: only
 * flows of its sockets, and noted flows, get through (MAC only: the
 * address is the socket's own), flows psv translated go back to the
 * host's address they came from; so do advertisements answering the
 * solicitations the host sent in its name.  Everything else, echo
 * requests included, is dropped the same way for every identity
 * address.  A later fragment carries no ports: it passes with the MAC
 * rewritten, as the kernel reassembles it only with a first fragment
 * that was judged here (alone it times out silently: RFC 8200 4.5
 * sends no error without the first fragment); so a translated flow's
 * fragmented datagrams are lost (their first fragment is dropped,
 * counted).
 */
static __always_inline int in_virtual6(void *ctx, void *data,
				       void *data_end,
				       const struct psv_config *cfg,
				       const struct psv_pkt6 *p6, __be32 vip,
				       struct psv_rewrite *rw)
{
	const struct psv_pkt *p = &p6->p;
	struct psv_conn6_key k;
	struct psv_conn6 *c;

	if (p->frag == PSV_FRAG_LATER)
		return in_to_socket6(cfg, rw);
	if (p->proto == IPPROTO_ICMPV6) {
		if (p->icmp_type == ICMPV6_NEIGH_ADVERT)
			return in_to_socket6(cfg, rw);
		if (is_icmp6_error(p->icmp_type))
			return in_icmp6_error(ctx, data, data_end, cfg, p6, vip,
					      rw);
		if (p->icmp_type != ICMPV6_ECHO_REPLY)
			return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	} else if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) {
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	}
	if (in_socket_of6(ctx, p->proto, &p6->saddr, p->sport, &p6->daddr,
			  p->dport))
		return in_to_socket6(cfg, rw);
	conn6_key_ingress(&k, p, &p6->saddr);
	c = bpf_map_lookup_elem(&psv_conns6, &k);
	if (!c || c->conn.vip != vip)
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (c->conn.flags & PSV_CONN_BOUND) {
		conn_seen(&c->conn, p, false, flow_now());
		return in_to_socket6(cfg, rw);
	}
	/* A translated flow's fragments could not follow the first. */
	if (p->frag != PSV_FRAG_NONE)
		return PSV_REASON(PSV_DROP, IN_DROP_FRAG);
	conn_seen(&c->conn, p, false, flow_now());
	nat_prepare6(rw, p, 0, cfg->host_mac, IPV6_DADDR_OFF, &p6->daddr,
		     &c->host);
	return PSV_REASON(PSV_REWRITE, IN_TRANSLATED);
}

/*
 * IPv6 to the host's own addresses.  A packet that names a translated
 * flow of that address is a probe of the link between identity and
 * host (the flow's socket would answer as the identity): dropped like
 * any unsolicited packet, as in_host does for IPv4.
 */
static __always_inline int in_host6(const struct psv_pkt6 *p6)
{
	const struct psv_pkt *p = &p6->p;
	struct psv_conn6_key k;
	struct psv_conn6 *c;

	if (p->frag == PSV_FRAG_LATER ||
	    !(p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	      (p->proto == IPPROTO_ICMPV6 &&
	       p->icmp_type == ICMPV6_ECHO_REPLY)))
		return PSV_REASON(PSV_PASS, IN_PASS);
	conn6_key_ingress(&k, p, &p6->saddr);
	c = bpf_map_lookup_elem(&psv_conns6, &k);
	if (c && !(c->conn.flags & PSV_CONN_BOUND) &&
	    addr6_eq(&c->host, &p6->daddr))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	return PSV_REASON(PSV_PASS, IN_PASS);
}

/*
 * IPv6 arriving.  A neighbour solicitation is judged by its target
 * (ndp.h).  Traffic to an identity address must come to that
 * identity's MAC (to the host's, it would link the two) and belong to
 * one of its flows (in_virtual6).  The rest is the host's.
 */
static __always_inline int ingress_ipv6(void *ctx,
					const struct psv_config *cfg,
					const struct ethhdr *eth, void *data,
					void *data_end, __u32 frame_len,
					struct psv_rewrite *rw)
{
	struct psv_addr6_owner *o;
	struct psv_identity *id;
	struct psv_pkt6 p6 = {};
	int err;

	err = parse_ipv6(data, data_end, frame_len, &p6);
	if (err == -PSV_E_SHORT)
		return PSV_REASON(PSV_PASS, IN_DROP_PARSE);
	if (!err && p6.p.proto == IPPROTO_ICMPV6 &&
	    p6.p.frag == PSV_FRAG_NONE &&
	    p6.p.icmp_type == ICMPV6_NEIGH_SOLICIT)
		return ndp_decide(data, data_end, &p6, rw);
	o = bpf_map_lookup_elem(&psv_addrs6, &p6.daddr);
	if (!o)
		return err ? PSV_REASON(PSV_PASS, IN_DROP_PARSE) :
			     in_host6(&p6);
	if (err == -PSV_E_EXT)
		return PSV_REASON(PSV_DROP, IN_DROP_EXTHDR);
	if (err)
		return PSV_REASON(PSV_DROP, IN_DROP_PARSE);
	id = bpf_map_lookup_elem(&psv_identities, &o->vip);
	if (!id || !mac_eq(eth->h_dest, id->mac))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	return in_virtual6(ctx, data, data_end, cfg, &p6, o->vip, rw);
}

/*
 * The decision for one frame, psv being enabled.  ctx: the program's
 * context (XDP or TC), for socket lookups.  data/data_end: its
 * linear part; frame_len: all of it.  Returns a reason; with PSV_REWRITE
 * or PSV_REPLY, rw holds what to apply.
 */
static __always_inline int ingress_decide(void *ctx,
					  const struct psv_config *cfg,
					  void *data, void *data_end,
					  __u32 frame_len,
					  struct psv_rewrite *rw)
{
	struct psv_pkt p = {};
	struct ethhdr *eth;
	struct psv_identity *id;
	int err;

	eth = pkt_ptr(data, data_end, 0, sizeof(*eth));
	if (!eth)
		return PSV_REASON(PSV_PASS, IN_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return arp_decide(cfg, eth, data, data_end, rw);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return ingress_ipv6(ctx, cfg, eth, data, data_end, frame_len,
				    rw);
	/* VLAN-tagged frames belong to other L2 networks: out of scope. */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PSV_REASON(PSV_PASS, IN_PASS);
	err = parse_ipv4(data, data_end, frame_len, &p);
	if (err == -PSV_E_SHORT)
		return PSV_REASON(PSV_PASS, IN_DROP_PARSE);
	id = bpf_map_lookup_elem(&psv_identities, &p.daddr);
	/* Malformed: the host's own traffic is the kernel's business. */
	if (err)
		return id ? PSV_REASON(PSV_DROP, IN_DROP_PARSE) :
			    PSV_REASON(PSV_PASS, IN_DROP_PARSE);
	/* DHCP replies reach psvd's AF_PACKET sockets, virtual MACs too. */
	if (is_udp_ports(&p, DHCP_SERVER_PORT, DHCP_CLIENT_PORT))
		return PSV_REASON(PSV_PASS, IN_PASS);
	/*
	 * Sent to the identity's address but not to its MAC (the host's
	 * own, say): admitting it would link the two.
	 */
	if (id && !mac_eq(eth->h_dest, id->mac))
		return PSV_REASON(PSV_DROP, IN_DROP_UNSOLICITED);
	if (id)
		return in_virtual(ctx, data, data_end, cfg, &p, rw);
	if (p.daddr == cfg->host_ip)
		return in_host(ctx, data, data_end, &p);
	return PSV_REASON(PSV_PASS, IN_PASS);
}

#endif /* PSV_BPF_INGRESS_H */
