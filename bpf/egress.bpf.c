// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress.bpf.c - TC egress: give each flow the host sends its own
 * identity.  A known connection keeps its identity; a new one gets its
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Limited and subnet broadcast, and multicast (224.0.0.0/4). */
static __always_inline bool eg_not_unicast(const struct psv_config *cfg,
					   __be32 daddr)
{
	return daddr == 0xffffffff || daddr == (cfg->host_ip | ~cfg->netmask) ||
	       (daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000);
}

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
 * The group a new flow joins, by its socket's policy (or policy.default
 * for a socket the hooks did not see); returns the granularity used.
 */
static __always_inline __u8 eg_group_key(struct __sk_buff *skb,
					 const struct psv_config *cfg,
					 const struct psv_pkt *p,
					 const struct psv_sock *s,
					 struct psv_group_key *gk)
{
	__u8 gran = s ? s->granularity : cfg->granularity;

	__builtin_memset(gk, 0, sizeof(*gk));
	switch (gran) {
	case PSV_GRAN_HOST:
		return gran;
	case PSV_GRAN_UID:
		gk->kind = gran;
		gk->owner = s ? s->uid : bpf_get_socket_uid(skb);
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
	gk->proto = p->proto;
	gk->daddr = p->daddr;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)
		gk->dport = p->dport;
	if (p->proto == IPPROTO_UDP)
		gk->sport = p->sport;
	return PSV_GRAN_FLOW;
}

/* A first SYN, a UDP datagram or an echo request with no connection. */
static __always_inline int eg_new_conn(struct __sk_buff *skb,
				       const struct psv_config *cfg,
				       const struct psv_pkt *p,
				       const struct psv_conn_key *k,
				       struct psv_rewrite *rw)
{
	const struct psv_sock *s = eg_sock(skb);
	struct psv_conn c = {};
	struct psv_conn *theirs;
	struct psv_identity *id;
	__be32 vip;
	int err;

	if (eg_group_key(skb, cfg, p, s, &c.group) == PSV_GRAN_HOST)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	c.app = s ? s->app : 0;
	err = pool_take(cfg, &c.group, &vip);
	if (err)
		return err;
	id = bpf_map_lookup_elem(&psv_identities, &vip);
	if (!id || id->state == PSV_ID_RETIRED)
		return PSV_REASON(PSV_DROP, EG_DROP_NO_IDENTITY);
	if (id->state != PSV_ID_ACTIVE)
		id->state = PSV_ID_ACTIVE;
	c.vip = vip;
	c.tcp_state = p->proto == IPPROTO_TCP ? PSV_TCP_SYN_SENT : PSV_TCP_NONE;
	c.last_seen_ns = flow_now();
	err = bpf_map_update_elem(&psv_conns, k, &c, BPF_NOEXIST);
	if (!err) {
		stat_inc(PSV_STAT_EG_NEW_CONN);
	} else {
		/* Another CPU created it first: follow its choice. */
		theirs = err == -EEXIST ? bpf_map_lookup_elem(&psv_conns, k) :
					  NULL;
		if (!theirs)
			return PSV_REASON(PSV_DROP, EG_DROP_TABLE_FULL);
		vip = theirs->vip;
	}
	return eg_to_identity(cfg, p, vip, rw);
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

static __always_inline int egress_decide(struct __sk_buff *skb,
					 const struct psv_config *cfg,
					 struct psv_rewrite *rw)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct psv_pkt p = {};
	struct ethhdr *eth;
	int r;

	/*
	 * psvd's own DHCP and ARP leave from virtual MACs: not ours.  VLANs
	 * (an offloaded tag, or one in the frame) are other L2 networks.
	 */
	eth = pkt_ptr(data, data_end, 0, sizeof(*eth));
	if (!eth || skb->vlan_present ||
	    !mac_eq(eth->h_source, cfg->host_mac) ||
	    eth->h_proto != bpf_htons(ETH_P_IP))
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	r = parse_ipv4(data, data_end, skb->len, &p);
	if (r == -PSV_E_SHORT)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (p.saddr != cfg->host_ip)
		return PSV_REASON(PSV_PASS, EG_PASS_NOT_OURS);
	if (r)
		return PSV_REASON(PSV_DROP, EG_DROP_PARSE);
	if (eg_not_unicast(cfg, p.daddr) ||
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
		frag_note(&p, PSV_DIR_EGRESS, rw->new_addr);
	else if (reason_what(r) == PSV_PASS)
		frag_note(&p, PSV_DIR_EGRESS, 0);
	return r;
}

SEC("tc")
int psv_egress(struct __sk_buff *skb)
{
	const struct psv_config *cfg = config_get();
	struct psv_rewrite rw;
	int action = TC_ACT_OK;
	__u32 stat;
	int r;

	if (!cfg) {
		stat_inc(PSV_STAT_EG_PASS_NOT_OURS);
		return TC_ACT_OK;
	}
	tc_pull_headers(skb);
	barrier_var(skb);
	r = egress_decide(skb, cfg, &rw);
	stat = reason_stat(r);
	switch (reason_what(r)) {
	case PSV_DROP:
		action = TC_ACT_SHOT;
		break;
	case PSV_REWRITE:
		if (nat_apply_tc(skb, &rw)) {
			stat = PSV_STAT_EG_DROP_CSUM;
			action = TC_ACT_SHOT;
		}
		break;
	}
	stat_inc(stat);
	return action;
}
