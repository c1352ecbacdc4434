// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockets.c - see sockets.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "common/log.h"
#include "common/nl.h"
#include "common/sockets.h"

struct dump {
	struct nl_vec socks;	/* inet4_sock, or inet6_sock with ipv6 */
	bool ipv6;		/* IPv6 proper, not IPv4 (mapped or not) */
	uint8_t proto;
	int storage_fd;		/* -1: none asked for */
};

static bool v4_mapped(const __be32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

/*
 * The one storage value asked for: INET_DIAG_SK_BPF_STORAGES holds an
 * SK_DIAG_BPF_STORAGE per map, with the map's id and its value.  The
 * kernel (6.18) adds it to TCP sockets only, not to UDP ones.
 */
static void storage_of(const struct nlmsghdr *nlh, struct inet4_sock *s)
{
	const struct nlattr *a, *st, *f;

	mnl_attr_for_each(a, nlh, sizeof(struct inet_diag_msg)) {
		if (mnl_attr_get_type(a) != INET_DIAG_SK_BPF_STORAGES)
			continue;
		mnl_attr_for_each_nested(st, a) {
			if (mnl_attr_get_type(st) != SK_DIAG_BPF_STORAGE)
				continue;
			mnl_attr_for_each_nested(f, st) {
				uint16_t len = mnl_attr_get_payload_len(f);

				if (mnl_attr_get_type(f) !=
					    SK_DIAG_BPF_STORAGE_MAP_VALUE ||
				    len > sizeof(s->storage))
					continue;
				memcpy(s->storage, mnl_attr_get_payload(f), len);
				s->storage_len = len;
				return;
			}
		}
	}
}

static uint64_t cookie_of(const struct inet_diag_msg *m)
{
	return (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
}

static int collect_sock6(const struct inet_diag_msg *m, struct dump *d)
{
	struct inet6_sock s = { 0 };

	if (m->idiag_family != AF_INET6 || v4_mapped(m->id.idiag_src))
		return MNL_CB_OK;
	s.proto = d->proto;
	s.state = m->idiag_state;
	memcpy(s.laddr, m->id.idiag_src, 16);
	memcpy(s.raddr, m->id.idiag_dst, 16);
	s.lport = m->id.idiag_sport;
	s.rport = m->id.idiag_dport;
	s.ifindex = m->id.idiag_if;
	s.cookie = cookie_of(m);
	return nl_vec_push(&d->socks, &s) ? MNL_CB_ERROR : MNL_CB_OK;
}

static int collect_sock(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct inet4_sock s = { 0 };
	struct dump *d = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (d->ipv6)
		return collect_sock6(m, d);
	s.family = m->idiag_family;
	if (m->idiag_family == AF_INET) {
		s.laddr = m->id.idiag_src[0];
		s.raddr = m->id.idiag_dst[0];
	} else if (m->idiag_family == AF_INET6 && v4_mapped(m->id.idiag_src)) {
		s.laddr = m->id.idiag_src[3];
		s.raddr = v4_mapped(m->id.idiag_dst) ? m->id.idiag_dst[3] : 0;
	} else {
		return MNL_CB_OK;	/* IPv6 proper */
	}
	s.proto = d->proto;
	s.state = m->idiag_state;
	s.lport = m->id.idiag_sport;
	s.rport = m->id.idiag_dport;
	s.ifindex = m->id.idiag_if;
	s.cookie = cookie_of(m);
	storage_of(nlh, &s);
	return nl_vec_push(&d->socks, &s) ? MNL_CB_ERROR : MNL_CB_OK;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : "UDP";
}

/* Dumps the sockets of one family and protocol into d. */
static int dump_sockets(struct mnl_socket *nl, uint8_t family, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh = nl_dump_header(buf, SOCK_DIAG_BY_FAMILY,
					      sizeof(*req), (void **)&req);
	int err;

	req->sdiag_family = family;
	req->sdiag_protocol = d->proto;
	req->idiag_states = ~0u;	/* TIME_WAIT and listeners too */
	if (d->storage_fd >= 0) {
		struct nlattr *nest;

		nest = mnl_attr_nest_start(nlh, INET_DIAG_REQ_SK_BPF_STORAGES);
		mnl_attr_put_u32(nlh, SK_DIAG_BPF_STORAGE_REQ_MAP_FD,
				 d->storage_fd);
		mnl_attr_nest_end(nlh, nest);
	}
	err = nl_request(nl, nlh, collect_sock, d);
	if (err)
		log_err("cannot list the %s %s sockets: %s",
			proto_name(d->proto),
			family == AF_INET ? "IPv4" : "IPv6", strerror(-err));
	return err;
}

int sockets_walk(int (*cb)(void *ctx, const struct inet4_sock *s), void *ctx)
{
	return sockets_walk_storage(-1, cb, ctx);
}

/* Collects d's sockets: TCP and UDP of AF_INET and AF_INET6. */
static int collect(struct dump *d)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct mnl_socket *nl;
	int err;

	err = nl_open(&nl, NETLINK_SOCK_DIAG, 0, 0, "listing sockets");
	if (err)
		return err;
	for (int i = 0; i < 4 && !err; i++) {
		d->proto = protos[i / 2];
		/* IPv6 proper lives in AF_INET6 sockets only. */
		if (!d->ipv6 || families[i % 2] == AF_INET6)
			err = dump_sockets(nl, families[i % 2], d);
	}
	mnl_socket_close(nl);
	return err;
}

int sockets_walk_storage(int map_fd,
			 int (*cb)(void *ctx, const struct inet4_sock *s),
			 void *ctx)
{
	struct dump d = { .socks.size = sizeof(struct inet4_sock),
			  .storage_fd = map_fd };
	int err = collect(&d);

	for (size_t i = 0; i < d.socks.len && !err; i++)
		err = cb(ctx, (struct inet4_sock *)d.socks.items + i);
	nl_vec_free(&d.socks);
	return err;
}

int sockets_walk6(int (*cb)(void *ctx, const struct inet6_sock *s), void *ctx)
{
	struct dump d = { .socks.size = sizeof(struct inet6_sock),
			  .ipv6 = true, .storage_fd = -1 };
	int err = collect(&d);

	for (size_t i = 0; i < d.socks.len && !err; i++)
		err = cb(ctx, (struct inet6_sock *)d.socks.items + i);
	nl_vec_free(&d.socks);
	return err;
}

/* An inet_diag address: IPv4, or IPv4-mapped for an AF_INET6 socket. */
static void diag_addr(__be32 out[4], uint8_t family, uint32_t ip)
{
	if (family == AF_INET6) {
		out[2] = htonl(0xffff);
		out[3] = ip;
	} else {
		out[0] = ip;
	}
}

/* A socket as SOCK_DESTROY names it, and how a failure describes it. */
struct victim {
	uint8_t family, proto;
	__be32 src[4], dst[4];
	uint16_t lport, rport;
	uint32_t ifindex;
	uint64_t cookie;
};

static int destroy(const struct victim *v)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl;
	bool v4 = v->family == AF_INET || v4_mapped(v->src);
	int err;

	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = v->family;
	req->sdiag_protocol = v->proto;
	req->id.idiag_sport = v->lport;
	req->id.idiag_dport = v->rport;
	memcpy(req->id.idiag_src, v->src, 16);
	memcpy(req->id.idiag_dst, v->dst, 16);
	/* A socket bound to a device is found only with its ifindex. */
	req->id.idiag_if = v->ifindex;
	req->id.idiag_cookie[0] = (uint32_t)v->cookie;
	req->id.idiag_cookie[1] = v->cookie >> 32;

	err = nl_open(&nl, NETLINK_SOCK_DIAG, 0, 0, "destroying a socket");
	if (err)
		return err;
	err = nl_request(nl, nlh, NULL, NULL);
	mnl_socket_close(nl);
	/* ENOENT also when the address and ports now name another socket. */
	if (err == -ENOENT)
		return 0;
	if (err)
		log_err("cannot destroy the %s socket %s:%u -> %s:%u: %s",
			proto_name(v->proto),
			inet_ntop(v4 ? AF_INET : AF_INET6,
				  v4 ? &v->src[v->family == AF_INET ? 0 : 3] :
				       (const void *)v->src, l, sizeof(l)),
			ntohs(v->lport),
			inet_ntop(v4 ? AF_INET : AF_INET6,
				  v4 ? &v->dst[v->family == AF_INET ? 0 : 3] :
				       (const void *)v->dst, r, sizeof(r)),
			ntohs(v->rport), strerror(-err));
	return err;
}

int sockets_destroy(const struct inet4_sock *s)
{
	struct victim v = { .family = s->family, .proto = s->proto,
			    .lport = s->lport, .rport = s->rport,
			    .ifindex = s->ifindex, .cookie = s->cookie };

	diag_addr(v.src, s->family, s->laddr);
	diag_addr(v.dst, s->family, s->raddr);
	return destroy(&v);
}

int sockets_destroy6(const struct inet6_sock *s)
{
	struct victim v = { .family = AF_INET6, .proto = s->proto,
			    .lport = s->lport, .rport = s->rport,
			    .ifindex = s->ifindex, .cookie = s->cookie };

	memcpy(v.src, s->laddr, 16);
	memcpy(v.dst, s->raddr, 16);
	return destroy(&v);
}
