// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* snapshot.c - see snapshot.h. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "psvctl/snapshot.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/control.h"
#include "common/map_walk.h"
#include "common/pins.h"
#include "common/sockets.h"

void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("psvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *vec_reserve(void *arr, size_t n, size_t size)
{
	if (n & (n - 1))
		return arr;
	return reallocarray(arr, n ? n * 2 : 1, size);
}

int snap_open_map(const struct ctl *ctl, const char *name, __u32 type,
		  __u32 key_size, __u32 value_size, __u32 *max_entries)
{
	char err[PATH_MAX + 256];
	int fd;

	fd = psv_pin_open_map(ctl->ifname, name, err, sizeof(err));
	if (fd >= 0 && psv_pin_check_map(fd, name, type, key_size, value_size,
					 max_entries, err, sizeof(err))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fail("%s", err);
	return fd;
}

/* Every entry of the pinned map name, to fn (see map_walk.h). */
static int walk_pinned(struct ctl *ctl, const char *name, __u32 type,
		       __u32 key_size, __u32 value_size, map_walk_fn fn)
{
	__u32 max_entries;
	int fd, err;

	fd = snap_open_map(ctl, name, type, key_size, value_size, &max_entries);
	if (fd < 0)
		return fd;
	err = map_walk(fd, key_size, value_size, fn, ctl);
	if (err)
		fail("cannot read map %s on %s: %s", name, ctl->ifname,
		     strerror(-err));
	close(fd);
	return err;
}

/* Appends a copy of item to *arr of *n items. */
static int push(void *arrp, size_t *n, size_t size, const void *item)
{
	void **arr = arrp;
	char *p = vec_reserve(*arr, *n, size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	memcpy(p + (*n)++ * size, item, size);
	return 0;
}

static int add_ident(void *ctx, const void *key, const void *val)
{
	struct ctl *ctl = ctx;
	struct ident id = { 0 };

	memcpy(&id.vip, key, sizeof(id.vip));
	memcpy(&id.v, val, sizeof(id.v));
	return push(&ctl->ids, &ctl->n_ids, sizeof(id), &id);
}

static int add_conn(void *ctx, const void *key, const void *val)
{
	struct ctl *ctl = ctx;
	struct conn c = { .id = NULL };

	memcpy(&c.k, key, sizeof(c.k));
	memcpy(&c.v, val, sizeof(c.v));
	return push(&ctl->conns, &ctl->n_conns, sizeof(c), &c);
}

static int add_conn6(void *ctx, const void *key, const void *val)
{
	const struct psv_conn6_key *k = key;
	const struct psv_conn6 *v = val;
	struct ctl *ctl = ctx;
	struct conn c = { .ipv6 = true, .raddr6 = k->raddr, .v = v->conn };

	c.k = (struct psv_conn_key){ .lport = k->lport, .rport = k->rport,
				     .proto = k->proto };
	return push(&ctl->conns, &ctl->n_conns, sizeof(c), &c);
}

static int add_addr6(void *ctx, const void *key, const void *val)
{
	struct ctl *ctl = ctx;
	struct addr6 a;

	memcpy(&a.a, key, sizeof(a.a));
	memcpy(&a.o, val, sizeof(a.o));
	return push(&ctl->addrs6, &ctl->n_addrs6, sizeof(a), &a);
}

__be32 addr6_owner(const struct ctl *ctl, const __u8 a[16])
{
	for (size_t i = 0; i < ctl->n_addrs6; i++)
		if (!memcmp(&ctl->addrs6[i].a, a, 16))
			return ctl->addrs6[i].o.vip;
	return 0;
}

static int add_app(void *ctx, const void *key, const void *val)
{
	struct ctl *ctl = ctx;
	struct app a;

	memcpy(&a.k, key, sizeof(a.k));
	memcpy(&a.v, val, sizeof(a.v));
	return push(&ctl->apps, &ctl->n_apps, sizeof(a), &a);
}

/* An array walks in index order: the n-th rule read is slot n. */
static int add_rule(void *ctx, const void *key, const void *val)
{
	struct ctl *ctl = ctx;

	(void)key;
	return push(&ctl->rules, &ctl->n_rules, sizeof(*ctl->rules), val);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

int cmp_vip(const void *a, const void *b)
{
	__u32 x = ntohl(*(const __be32 *)a), y = ntohl(*(const __be32 *)b);

	return (x > y) - (x < y);
}

/* struct ident starts with its vip, so a bare __be32 is a search key. */
static struct ident *find_ident(const struct ctl *ctl, __be32 vip)
{
	return array_find(&vip, ctl->ids, ctl->n_ids, sizeof(*ctl->ids), cmp_vip);
}

/* A bare __u32 is a search key (struct app starts with its id). */
const struct app *find_app(const struct ctl *ctl, __u32 id)
{
	return array_find(&id, ctl->apps, ctl->n_apps, sizeof(*ctl->apps),
		       cmp_u32);
}

const struct psv_app_rule *find_rule(const struct ctl *ctl, __u32 rule)
{
	if (!rule || rule > ctl->n_rules ||
	    ctl->rules[rule - 1].match == PSV_MATCH_NONE)
		return NULL;
	return &ctl->rules[rule - 1];
}

int snap_conns(struct ctl *ctl)
{
	return walk_pinned(ctl, PSV_MAP_CONNS, BPF_MAP_TYPE_HASH,
			   sizeof(struct psv_conn_key), sizeof(struct psv_conn),
			   add_conn) ?:
	       walk_pinned(ctl, PSV_MAP_CONNS6, BPF_MAP_TYPE_HASH,
			   sizeof(struct psv_conn6_key),
			   sizeof(struct psv_conn6), add_conn6);
}

int snap_apps(struct ctl *ctl)
{
	int err = walk_pinned(ctl, PSV_MAP_APPS, BPF_MAP_TYPE_HASH,
			      sizeof(struct psv_app_key),
			      sizeof(struct psv_app), add_app);

	if (!err)
		array_sort(ctl->apps, ctl->n_apps, sizeof(*ctl->apps), cmp_u32);
	return err;
}

int snap_rules(struct ctl *ctl)
{
	return walk_pinned(ctl, PSV_MAP_APP_RULES, BPF_MAP_TYPE_ARRAY,
			   sizeof(__u32), sizeof(struct psv_app_rule),
			   add_rule);
}

/* A socket's TCP state (netinet/tcp.h) as far as psvctl shows it. */
static __u8 tcp_state_of(__u8 state)
{
	switch (state) {
	case TCP_ESTABLISHED:
		return PSV_TCP_ESTABLISHED;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return PSV_TCP_SYN_SENT;
	case TCP_TIME_WAIT:
	case TCP_CLOSE:
		return PSV_TCP_CLOSED;
	default:
		return PSV_TCP_FIN_WAIT;
	}
}

struct sock_walk {
	struct ctl *ctl;
	__u64 now;
};

/*
 * A socket bound to an identity's address is a flow of it (the socket
 * path): the kernel's own connection, with no entry in psv_conns unless
 * egress or sendmsg4 noted it (then it is listed once).
 */
static int add_bound_socket(void *ctx, const struct inet4_sock *s)
{
	struct sock_walk *w = ctx;
	struct psv_conn_key k = { .raddr = s->raddr, .lport = s->lport,
				  .rport = s->rport, .proto = s->proto };
	struct psv_conn v = { .vip = s->laddr, .flags = PSV_CONN_BOUND,
			      .last_seen_ns = w->now };
	const struct psv_sock *ps = (const void *)s->storage;

	if (!s->raddr || !find_ident(w->ctl, s->laddr))
		return 0;	/* a listener, an unconnected socket */
	for (size_t i = 0; i < w->ctl->n_conns; i++)
		if (!memcmp(&w->ctl->conns[i].k, &k, sizeof(k)) &&
		    w->ctl->conns[i].v.vip == v.vip)
			return 0;
	if (s->proto == IPPROTO_TCP)
		v.tcp_state = tcp_state_of(s->state);
	if (s->storage_len == sizeof(*ps))
		v.app = ps->app;
	return add_conn(w->ctl, &k, &v);
}

/* The same for a socket bound to one of an identity's IPv6 addresses. */
static int add_bound_socket6(void *ctx, const struct inet6_sock *s)
{
	static const __u8 none[16];
	struct sock_walk *w = ctx;
	struct conn c = { .ipv6 = true };
	__be32 vip = addr6_owner(w->ctl, s->laddr);

	if (!vip || !memcmp(s->raddr, none, 16))
		return 0;	/* a listener, an unconnected socket */
	memcpy(&c.raddr6, s->raddr, 16);
	c.k = (struct psv_conn_key){ .lport = s->lport, .rport = s->rport,
				     .proto = s->proto };
	for (size_t i = 0; i < w->ctl->n_conns; i++) {
		const struct conn *o = &w->ctl->conns[i];

		if (o->ipv6 && !memcmp(&o->k, &c.k, sizeof(c.k)) &&
		    !memcmp(&o->raddr6, &c.raddr6, 16) && o->v.vip == vip)
			return 0;
	}
	c.v = (struct psv_conn){ .vip = vip, .flags = PSV_CONN_BOUND,
				 .last_seen_ns = w->now };
	if (s->proto == IPPROTO_TCP)
		c.v.tcp_state = tcp_state_of(s->state);
	return push(&w->ctl->conns, &w->ctl->n_conns, sizeof(c), &c);
}

/* The bound sockets, with what the hooks stored of each (TCP only). */
static int load_bound_sockets(struct ctl *ctl)
{
	struct sock_walk w = { .ctl = ctl, .now = clock_now_ns() };
	char err[PATH_MAX + 256];
	int fd, rc;

	fd = psv_pin_open_map(ctl->ifname, PSV_MAP_SOCKETS, err, sizeof(err));
	rc = sockets_walk_storage(fd, add_bound_socket, &w);
	if (fd >= 0)
		close(fd);
	return rc ?: sockets_walk6(add_bound_socket6, &w);
}

int snap_identities(struct ctl *ctl)
{
	int err = walk_pinned(ctl, PSV_MAP_IDENTITIES, BPF_MAP_TYPE_HASH,
			      sizeof(__be32), sizeof(struct psv_identity),
			      add_ident);

	if (!err)
		array_sort(ctl->ids, ctl->n_ids, sizeof(*ctl->ids), cmp_vip);
	return err;
}

int snap_tables(struct ctl *ctl)
{
	int err;

	err = snap_identities(ctl) ?:
	      walk_pinned(ctl, PSV_MAP_ADDRS6, BPF_MAP_TYPE_HASH,
			  sizeof(struct psv_addr6),
			  sizeof(struct psv_addr6_owner), add_addr6) ?:
	      snap_conns(ctl) ?: load_bound_sockets(ctl);
	if (err)
		return err;
	for (size_t i = 0; i < ctl->n_conns; i++) {
		struct ident *id = find_ident(ctl, ctl->conns[i].v.vip);

		ctl->conns[i].id = id;
		if (id)
			id->flows++;
	}
	return 0;
}

int snap_config(struct ctl *ctl)
{
	__u32 key = 0, max_entries;
	int fd, err;

	fd = snap_open_map(ctl, PSV_MAP_CONFIG, BPF_MAP_TYPE_ARRAY,
			   sizeof(key), sizeof(ctl->cfg), &max_entries);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &key, &ctl->cfg) ? -errno : 0;
	close(fd);
	if (err)
		fail("cannot read map %s: %s", PSV_MAP_CONFIG, strerror(-err));
	return err;
}

int snap_stats(struct ctl *ctl)
{
	int ncpus = libbpf_num_possible_cpus(), fd, err = 0;
	__u32 max_entries;
	__u64 *vals;

	if (ncpus < 0) {
		fail("cannot count possible CPUs: %s", strerror(-ncpus));
		return ncpus;
	}
	fd = snap_open_map(ctl, PSV_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
			   sizeof(__u32), sizeof(__u64), &max_entries);
	if (fd < 0)
		return fd;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals || max_entries < PSV_STAT_MAX) {
		fail("map %s: %s", PSV_MAP_STATS, vals ? "fewer entries than "
		     "counters: psvd from another version?" : strerror(ENOMEM));
		free(vals);
		close(fd);
		return -EPROTO;
	}
	for (__u32 i = 0; i < PSV_STAT_MAX; i++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			fail("cannot read %s[%u]: %s", PSV_MAP_STATS, i,
			     strerror(errno));
			break;
		}
		for (int c = 0; c < ncpus; c++)
			sum += vals[c];
		ctl->stats[i] = sum;
	}
	free(vals);
	close(fd);
	return err;
}

static int cmp_json_strings(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
		      json_object_get_string(*(struct json_object *const *)b));
}

struct json_object *snap_programs(const struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (psv_pin_dir(dir, sizeof(dir), ctl->ifname) || !(d = opendir(dir)))
		return arr;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "prog_", 5) ||
		    !strncmp(de->d_name, "link_", 5))
			json_object_array_add(
				arr, json_object_new_string(de->d_name));
	closedir(d);
	json_object_array_sort(arr, cmp_json_strings);
	return arr;
}

void snap_psvd(struct ctl *ctl)
{
	ctl->psvd = control_query(ctl->ifname, ctl->psvd_err,
				  sizeof(ctl->psvd_err));
}

void snap_merge_leases(struct ctl *ctl)
{
	struct json_object *leases, *ip, *exp;
	struct ident *id;
	struct in_addr a;

	if (!ctl->psvd) {
		fail("lease times unknown: psvd does not answer (%s)",
		     ctl->psvd_err);
		return;
	}
	json_object_object_get_ex(ctl->psvd, "leases", &leases);
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		struct json_object *l = json_object_array_get_idx(leases, i);

		json_object_object_get_ex(l, "ipv4", &ip);
		json_object_object_get_ex(l, "lease_expires", &exp);
		inet_pton(AF_INET, json_object_get_string(ip), &a);
		id = find_ident(ctl, a.s_addr);
		if (id && exp) {
			id->has_lease = true;
			id->lease_expires = json_object_get_int64(exp);
		}
	}
}

void ctl_free(struct ctl *ctl)
{
	free(ctl->ids);
	free(ctl->conns);
	free(ctl->addrs6);
	free(ctl->apps);
	free(ctl->rules);
	json_object_put(ctl->psvd);
}
