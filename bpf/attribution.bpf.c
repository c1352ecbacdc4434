// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * attribution.bpf.c - cgroup socket hooks: which application owns a
 * socket, and which identity's address its flows use.  A socket is
 * attributed once, when it is created (a socket older than psv: at its
 * first connect or sendmsg), to the first [app] rule that matches the
 * task creating it, else to that task's executable.  The decision lives
 * in the socket's storage.  At connect() the socket's new flow joins its
 * group (lib/group.h) and the socket is bound to the group's identity
 * (bpf_bind, port 0), so the kernel picks the source port, ISN,
 * timestamps and IP IDs from the identity's own address; an unconnected
 * datagram gets the identity's address as its source.  What cannot be
 * bound is left to egress's NAT fallback, counted by why.  IPv6 the
 * same, with the identity's IPv6 address; an IPv6 flow that cannot have
 * one is refused (EPERM), the only refusal here.  Nothing here waits
 * for psvd.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "psv.h"
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/flow.h"
#include "lib/pool.h"
#include "lib/group.h"
#include "lib/ipv6.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SK_ALLOW 1
#define SK_REFUSE 0	/* connect() and sendmsg() fail with EPERM */
#define AF_INET 2
#define AF_INET6 10

/* The task a socket is attributed to. */
struct creator {
	__u64 ino;		/* its executable; 0 for a kernel thread */
	char comm[16];		/* 8-byte aligned for comm_eq */
	__u32 dev;
	__u32 uid;
	__u32 pid;		/* tgid */
};

static __always_inline void creator_get(struct creator *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *exe = task->mm->exe_file->f_inode;
	const __u64 *comm;

	/*
	 * Direct loads through BTF pointers: a NULL on the way (a kernel
	 * thread has no mm) reads as 0, and none costs a helper call.
	 */
	c->ino = exe->i_ino;
	c->dev = exe->i_sb->s_dev;
	c->uid = (__u32)bpf_get_current_uid_gid();
	c->pid = bpf_get_current_pid_tgid() >> 32;
	/*
	 * The process's name, as ps shows it: programs name their threads
	 * (dig's "isc-net-0000", Firefox's "Socket Thread") and open
	 * sockets from them.
	 */
	comm = (const void *)task->group_leader->comm;
	((__u64 *)c->comm)[0] = comm[0];
	((__u64 *)c->comm)[1] = comm[1];
}

/* Both NUL-padded to 16 bytes (the kernel pads comm). */
static __always_inline bool comm_eq(const char *a, const char *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline bool rule_matches(const struct psv_app_rule *r,
					 const struct creator *c)
{
	switch (r->match) {
	case PSV_MATCH_COMM:
		return comm_eq(r->comm, c->comm);
	case PSV_MATCH_EXE:
		return c->ino && r->ino == c->ino && r->dev == c->dev;
	case PSV_MATCH_UID:
		return r->uid == c->uid;
	case PSV_MATCH_CGROUP:
		/* The cgroup itself or any below it (0: above the task's). */
		return r->ino && bpf_get_current_ancestor_cgroup_id(
					 r->cgroup_level) == r->ino;
	}
	return false;
}

/* The first rule that matches, with its index in *idx; NULL if none. */
static __always_inline const struct psv_app_rule *
rule_find(const struct creator *c, __u32 *idx)
{
	const struct psv_app_rule *r;

	for (__u32 i = 0; i < PSV_MAX_APP_RULES; i++) {
		r = bpf_map_lookup_elem(&psv_app_rules, &i);
		/* psvd fills the slots in file order: a free one ends them. */
		if (!r || r->match == PSV_MATCH_NONE)
			return NULL;
		if (rule_matches(r, c)) {
			*idx = i;
			return r;
		}
	}
	return NULL;
}

/* The application's entry, created with a fresh id if it is new. */
static __always_inline struct psv_app *app_get(const struct psv_app_key *k,
					       const struct psv_app_rule *rule,
					       const struct creator *c,
					       __u8 granularity)
{
	struct psv_app *a = bpf_map_lookup_elem(&psv_apps, k);
	struct psv_app fresh = {};
	__u32 zero = 0, *seq;

	if (a)
		return a;
	seq = bpf_map_lookup_elem(&psv_app_seq, &zero);
	if (!seq)
		return NULL;
	fresh.id = __sync_fetch_and_add(seq, 1) + 1;
	fresh.granularity = granularity;
	if (rule)
		__builtin_memcpy(fresh.name, rule->name, sizeof(fresh.name));
	else
		__builtin_memcpy(fresh.name, c->comm, sizeof(c->comm));
	/* Another CPU may have added it meanwhile: then use its entry. */
	bpf_map_update_elem(&psv_apps, k, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&psv_apps, k);
}

static __always_inline void attribute(struct psv_sock *s,
				      const struct psv_config *cfg)
{
	const struct psv_app_rule *rule;
	struct psv_app_key key = {};
	struct creator c = {};	/* comm_eq reads the padding */
	struct psv_app *a;
	__u32 idx = 0;

	creator_get(&c);
	rule = rule_find(&c, &idx);
	if (rule) {
		key.rule = idx + 1;
		s->granularity = rule->granularity;
	} else {
		key.ino = c.ino;
		key.dev = c.dev;
		s->granularity = cfg->granularity;
	}
	s->app_key = key;
	s->uid = c.uid;
	stat_inc(PSV_STAT_SK_ATTRIBUTED);
	a = app_get(&key, rule, &c, s->granularity);
	if (!a) {
		/* Egress groups an unattributed socket's flows apart. */
		stat_inc(PSV_STAT_SK_APPS_FULL);
		return;
	}
	s->app = a->id;
	/* policy.default may have changed since (SIGHUP). */
	if (a->granularity != s->granularity)
		a->granularity = s->granularity;
	a->uid = c.uid;
	a->pid = c.pid;
	a->last_ns = bpf_ktime_get_coarse_ns();
	__builtin_memcpy(a->comm, c.comm, sizeof(a->comm));
	__sync_fetch_and_add(&a->sockets, 1);
	__sync_fetch_and_add(&a->open, 1);
}

/*
 * Only sockets of psvd's network namespace can send on its interface;
 * the hooks run for the whole cgroup tree.
 */
static __always_inline const struct psv_config *config_here(__u64 netns)
{
	const struct psv_config *cfg = config_get();

	return cfg && cfg->netns_cookie == netns ? cfg : NULL;
}

/* Gives sk its storage and attributes it; returns the storage. */
static __always_inline struct psv_sock *attribute_new(void *sk,
						      const struct psv_config *cfg)
{
	struct psv_sock *s = bpf_sk_storage_get(&psv_sockets, sk, NULL,
						BPF_SK_STORAGE_GET_F_CREATE);

	if (s)
		attribute(s, cfg);
	else
		stat_inc(PSV_STAT_SK_NO_STORAGE);
	return s;
}

SEC("cgroup/sock_create")
int psv_sock_create(struct bpf_sock *ctx)
{
	const struct psv_config *cfg = config_here(bpf_get_netns_cookie(ctx));

	if (cfg)
		attribute_new(ctx, cfg);
	return SK_ALLOW;
}

/*
 * The socket's storage; a socket psv has not seen created is attributed
 * to who uses it first.
 */
static __always_inline struct psv_sock *sock_get(struct bpf_sock *sk,
						 const struct psv_config *cfg)
{
	struct psv_sock *s = bpf_sk_storage_get(&psv_sockets, sk, NULL, 0);

	return s ?: attribute_new(sk, cfg);
}

/*
 * Whether a flow to daddr may leave from an identity's address: only
 * unicast that leaves through psv's interface.  Loopback, the host's
 * own and the identities' addresses, or a route through another
 * interface (a VPN, a bridge) keep the kernel's choice.
 */
static __always_inline int route_check(const struct psv_config *cfg,
				       __be32 daddr)
{
	struct psv_route_key k = { .prefixlen = 32, .addr = daddr };
	__u8 *via;

	if (not_unicast(cfg, daddr) || daddr == cfg->host_ip ||
	    (daddr & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000) ||
	    bpf_map_lookup_elem(&psv_identities, &daddr))
		return PSV_REASON(PSV_PASS, SK_UNBOUND_LOCAL);
	via = bpf_map_lookup_elem(&psv_routes, &k);
	if (!via || *via != PSV_ROUTE_IFACE)
		return PSV_REASON(PSV_PASS, SK_UNBOUND_ROUTE);
	return 0;
}

/*
 * The same for IPv6: link-local and multicast destinations (see
 * ipv6_not_virtualized), the identities' own addresses and routes
 * through other interfaces keep the kernel's choice.
 */
static __always_inline int route_check6(const __be32 daddr[4])
{
	struct psv_route6_key k = { .prefixlen = 128 };
	__u8 *via;

	__builtin_memcpy(&k.addr, daddr, sizeof(k.addr));
	if (ipv6_not_virtualized(daddr) ||
	    bpf_map_lookup_elem(&psv_addrs6, &k.addr))
		return PSV_REASON(PSV_PASS, SK_UNBOUND_LOCAL);
	via = bpf_map_lookup_elem(&psv_routes6, &k);
	if (!via || *via != PSV_ROUTE_IFACE)
		return PSV_REASON(PSV_PASS, SK_UNBOUND_ROUTE);
	return 0;
}

/*
 * The identity a new flow f of the socket (its destination filled in,
 * the rest from ctx) wears, in *vip, with its group in *gk; else a
 * reason.  A socket with a source of its own (own_source: bind(),
 * IP_PKTINFO) keeps it: rebinding is not possible, and the NAT fallback
 * translates it.  A UDP socket being connected only holds a ready
 * identity (group_identity): connect() sends nothing, and a route probe
 * never will.
 */
static __always_inline int sock_identity(struct bpf_sock_addr *ctx,
					 const struct psv_config *cfg,
					 bool own_source, bool connecting,
					 struct psv_new_flow *f,
					 struct psv_group_key *gk, __be32 *vip)
{
	struct bpf_sock *sk = ctx->sk;
	const struct psv_sock *s;
	int err;

	if (!sk)
		return PSV_REASON(PSV_PASS, SK_BIND_FAILED);
	f->dport = (__be16)ctx->user_port;
	f->uid = (__u32)bpf_get_current_uid_gid();
	f->proto = ctx->protocol;
	s = sock_get(sk, cfg);
	if (own_source || (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP &&
			   f->proto != IPPROTO_ICMP &&
			   f->proto != IPPROTO_ICMPV6))
		return PSV_REASON(PSV_PASS, SK_UNBOUND_PORT);
	/* connect4 runs before autobind: a UDP socket may have no port. */
	f->sport = bpf_htons(sk->src_port);
	err = f->ipv6 ? route_check6(f->daddr6) : route_check(cfg, f->daddr);
	if (err)
		return err;
	if (group_key(cfg, s, f, gk) == PSV_GRAN_HOST)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	return group_identity(cfg, s, f, gk,
			      connecting && f->proto == IPPROTO_UDP, vip);
}

/*
 * Counts why a socket was not bound: its own reasons (sock_unbound_*).
 * A policy or pool outcome (host, no identity ready) is counted by
 * egress, which decides again when the flow's first packet leaves.
 */
static __always_inline void sock_count(int err)
{
	__u32 stat = reason_stat(err);

	if (stat >= PSV_STAT_SK_BOUND && stat <= PSV_STAT_SK_BIND_FAILED)
		stat_inc(stat);
}

SEC("cgroup/connect4")
int psv_connect4(struct bpf_sock_addr *ctx)
{
	const struct psv_config *cfg = config_here(bpf_get_netns_cookie(ctx));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct bpf_sock *sk = ctx->sk;
	struct psv_new_flow f = {};
	struct psv_group_key gk;
	__be32 vip;
	int err;

	if (!cfg || !sk)
		return SK_ALLOW;
	f.daddr = ctx->user_ip4;
	err = sock_identity(ctx, cfg, sk->src_ip4 || sk->src_port, true, &f,
			    &gk, &vip);
	if (err) {
		sock_count(err);
		return SK_ALLOW;
	}
	/* Port 0: the kernel picks it at connect, from vip's hash state. */
	sin.sin_addr.s_addr = vip;
	if (bpf_bind(ctx, (struct sockaddr *)&sin, sizeof(sin)))
		stat_inc(PSV_STAT_SK_BIND_FAILED);
	else
		stat_inc(PSV_STAT_SK_BOUND);
	return SK_ALLOW;
}

/*
 * Unconnected UDP (sendto) passes here, not through connect4: this
 * datagram leaves from the identity's address, and its flow is noted so
 * the replies reach the socket, which is bound to no address.
 */
SEC("cgroup/sendmsg4")
int psv_sendmsg4(struct bpf_sock_addr *ctx)
{
	const struct psv_config *cfg = config_here(bpf_get_netns_cookie(ctx));
	struct bpf_sock *sk = ctx->sk;
	struct psv_new_flow f = {};
	const struct psv_sock *s;
	struct psv_group_key gk;
	struct psv_conn_key k;
	__be32 vip;
	int err;

	if (!cfg || !sk)
		return SK_ALLOW;
	f.daddr = ctx->user_ip4;
	err = sock_identity(ctx, cfg, ctx->msg_src_ip4 || sk->src_ip4, false,
			    &f, &gk, &vip);
	if (err) {
		sock_count(err);
		return SK_ALLOW;
	}
	ctx->msg_src_ip4 = vip;
	if (ctx->protocol == IPPROTO_UDP) {
		s = bpf_sk_storage_get(&psv_sockets, sk, NULL, 0);
		conn_key_fill(&k, IPPROTO_UDP, ctx->user_ip4,
			      bpf_htons(sk->src_port), (__be16)ctx->user_port);
		conn_note_bound(&k, vip, &gk, s ? s->app : 0);
	}
	stat_inc(PSV_STAT_SK_SRC_SET);
	return SK_ALLOW;
}

static __always_inline bool sock_has_source6(const struct bpf_sock *sk)
{
	return sk->src_ip6[0] || sk->src_ip6[1] || sk->src_ip6[2] ||
	       sk->src_ip6[3];
}

/*
 * A dual-stack (AF_INET6) socket connecting to an IPv4-mapped address
 * takes the IPv4 path inside the kernel, past connect4: it is bound to
 * its identity here, as ::ffff:A.  (Its unconnected datagrams pass
 * sendmsg4 anyway.)
 */
static __always_inline int connect_mapped(struct bpf_sock_addr *ctx,
					  const struct psv_config *cfg)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct bpf_sock *sk = ctx->sk;
	struct psv_new_flow f = {};
	struct psv_group_key gk;
	__be32 vip;
	int err;

	f.daddr = ctx->user_ip6[3];
	err = sock_identity(ctx, cfg, sock_has_source6(sk) || sk->src_port,
			    true, &f, &gk, &vip);
	if (err) {
		sock_count(err);
		return SK_ALLOW;
	}
	sin6.sin6_addr.in6_u.u6_addr32[2] = bpf_htonl(0xffff);
	sin6.sin6_addr.in6_u.u6_addr32[3] = vip;
	if (bpf_bind(ctx, (struct sockaddr *)&sin6, sizeof(sin6)))
		stat_inc(PSV_STAT_SK_BIND_FAILED);
	else
		stat_inc(PSV_STAT_SK_BOUND);
	return SK_ALLOW;
}

/*
 * IPv6 (enum psv_ipv6): the identity of a new flow to ctx's destination,
 * whose IPv6 address goes into *ip6; else a reason.  A flow that would
 * be virtualized but cannot have an identity's IPv6 address (ipv6 =
 * block, the identity has none yet, no identity at all) is refused
 * (SK_REFUSE below): never the host's address, and the application
 * falls back to IPv4 at once (Happy Eyeballs) instead of waiting for a
 * SYN egress drops.  Counted here: egress never sees the flow.
 */
static __always_inline int sock_identity6(struct bpf_sock_addr *ctx,
					  const struct psv_config *cfg,
					  bool own_source, bool connecting,
					  struct psv_group_key *gk, __be32 *vip,
					  struct psv_addr6 *ip6)
{
	struct psv_new_flow f = { .ipv6 = 1 };
	const struct psv_identity *id;
	int err;

	if (cfg->ipv6 == PSV_IPV6_HOST)
		return PSV_REASON(PSV_PASS, EG_PASS_HOST);
	f.daddr6[0] = ctx->user_ip6[0];
	f.daddr6[1] = ctx->user_ip6[1];
	f.daddr6[2] = ctx->user_ip6[2];
	f.daddr6[3] = ctx->user_ip6[3];
	if (cfg->ipv6 == PSV_IPV6_BLOCK && !own_source) {
		/* Blocked unless it stays on the host: no identity taken. */
		err = route_check6(f.daddr6);
		if (err)
			return err;
		if (group_key(cfg, sock_get(ctx->sk, cfg), &f, gk) ==
		    PSV_GRAN_HOST)
			return PSV_REASON(PSV_PASS, EG_PASS_HOST);
		return PSV_REASON(PSV_DROP, SK_IPV6_REFUSED);
	}
	err = sock_identity(ctx, cfg, own_source, connecting, &f, gk, vip);
	if (err)
		return err;
	id = bpf_map_lookup_elem(&psv_identities, vip);
	if (!id || addr6_is_zero(&id->ip6))
		return PSV_REASON(PSV_DROP, SK_IPV6_NO_ADDR);
	*ip6 = id->ip6;
	return 0;
}

/*
 * The verdict for an IPv6 socket whose flow got no identity address:
 * what stays on the host goes on (loopback, link-local, multicast,
 * policy host, the NAT fallback for a socket with its own source),
 * counted as for IPv4; a refusal is counted by its reason.
 */
static __always_inline int sock_verdict6(int err)
{
	if (reason_what(err) == PSV_DROP) {
		stat_inc(reason_stat(err));
		return SK_REFUSE;
	}
	sock_count(err);
	return SK_ALLOW;
}

/*
 * connect6: bound to the identity's IPv6 address, port 0, as connect4
 * does with its IPv4 address.  IPv4-mapped destinations take the IPv4
 * path (connect_mapped).
 */
SEC("cgroup/connect6")
int psv_connect6(struct bpf_sock_addr *ctx)
{
	const struct psv_config *cfg = config_here(bpf_get_netns_cookie(ctx));
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct bpf_sock *sk = ctx->sk;
	struct psv_group_key gk;
	struct psv_addr6 ip6;
	__be32 vip;
	int err;

	if (!cfg || !sk)
		return SK_ALLOW;
	if (!ctx->user_ip6[0] && !ctx->user_ip6[1] &&
	    ctx->user_ip6[2] == bpf_htonl(0xffff))
		return connect_mapped(ctx, cfg);
	err = sock_identity6(ctx, cfg, sock_has_source6(sk) || sk->src_port,
			     true, &gk, &vip, &ip6);
	if (err)
		return sock_verdict6(err);
	__builtin_memcpy(&sin6.sin6_addr, &ip6, sizeof(ip6));
	if (bpf_bind(ctx, (struct sockaddr *)&sin6, sizeof(sin6)))
		stat_inc(PSV_STAT_SK_BIND_FAILED);
	else
		stat_inc(PSV_STAT_SK_BOUND);
	return SK_ALLOW;
}

/*
 * Unconnected IPv6 datagrams, as sendmsg4: this one leaves from the
 * identity's IPv6 address, and a UDP flow is noted in psv_conns6 so its
 * replies reach the socket.
 */
SEC("cgroup/sendmsg6")
int psv_sendmsg6(struct bpf_sock_addr *ctx)
{
	const struct psv_config *cfg = config_here(bpf_get_netns_cookie(ctx));
	struct bpf_sock *sk = ctx->sk;
	const struct psv_sock *s;
	struct psv_group_key gk;
	struct psv_conn6_key k;
	struct psv_addr6 ip6, raddr;
	__be32 vip;
	int err;

	if (!cfg || !sk)
		return SK_ALLOW;
	err = sock_identity6(ctx, cfg,
			     ctx->msg_src_ip6[0] || ctx->msg_src_ip6[1] ||
			     ctx->msg_src_ip6[2] || ctx->msg_src_ip6[3] ||
			     sock_has_source6(sk), false, &gk, &vip, &ip6);
	if (err)
		return sock_verdict6(err);
	ctx->msg_src_ip6[0] = ip6.a[0];
	ctx->msg_src_ip6[1] = ip6.a[1];
	ctx->msg_src_ip6[2] = ip6.a[2];
	ctx->msg_src_ip6[3] = ip6.a[3];
	if (ctx->protocol == IPPROTO_UDP) {
		s = bpf_sk_storage_get(&psv_sockets, sk, NULL, 0);
		raddr.a[0] = ctx->user_ip6[0];
		raddr.a[1] = ctx->user_ip6[1];
		raddr.a[2] = ctx->user_ip6[2];
		raddr.a[3] = ctx->user_ip6[3];
		conn6_key_fill(&k, IPPROTO_UDP, &raddr, bpf_htons(sk->src_port),
			       (__be16)ctx->user_port);
		conn6_note_bound(&k, vip, &gk, s ? s->app : 0);
	}
	stat_inc(PSV_STAT_SK_SRC_SET);
	return SK_ALLOW;
}

SEC("cgroup/sock_release")
int psv_sock_release(struct bpf_sock *ctx)
{
	struct psv_sock *s = bpf_sk_storage_get(&psv_sockets, ctx, NULL, 0);
	struct psv_app *a;

	if (!s || !s->app)
		return SK_ALLOW;
	a = bpf_map_lookup_elem(&psv_apps, &s->app_key);
	/* The entry may have been replaced since (a config reload). */
	if (a && a->id == s->app)
		__sync_fetch_and_add(&a->open, -1);
	return SK_ALLOW;
}
