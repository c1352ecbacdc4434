// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* report.c - see report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "psvctl/report.h"
#include "common/array.h"
#include "common/clock.h"
#include "common/names.h"
#include "common/pins.h"

#define EXE_NAME_LEN 48	/* "4095:1048575:" and a 20-digit inode */

struct json_object *json_ip(__be32 addr)
{
	char buf[INET_ADDRSTRLEN];

	return json_object_new_string(inet_ntop(AF_INET, &addr, buf,
						sizeof(buf)));
}

static struct json_object *json_ip6(const void *addr)
{
	char buf[INET6_ADDRSTRLEN];

	return json_object_new_string(inet_ntop(AF_INET6, addr, buf,
						sizeof(buf)));
}

struct json_object *json_mac(const __u8 *m)
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	return json_object_new_string(buf);
}

/*
 * A name from a map: NUL-padded, perhaps without a NUL.  Any user picks
 * their process's comm (prctl PR_SET_NAME), so bytes other than printable
 * ASCII become '?': no escape sequence reaches a terminal, and no invalid
 * UTF-8 the JSON output.
 */
static const char *printable(const char *src, size_t len, char *buf,
			     size_t buflen)
{
	size_t i;

	for (i = 0; i < len && i + 1 < buflen && src[i]; i++)
		buf[i] = (unsigned char)src[i] >= 0x20 &&
			 (unsigned char)src[i] < 0x7f ? src[i] : '?';
	buf[i] = '\0';
	return buf;
}

static struct json_object *json_name(const char *src, size_t len)
{
	char buf[64];

	return json_object_new_string(printable(src, len, buf, sizeof(buf)));
}

/* An executable as MAJOR:MINOR:INODE (dev is a kernel dev_t). */
static const char *exe_name(__u32 dev, __u64 ino, char buf[EXE_NAME_LEN])
{
	snprintf(buf, EXE_NAME_LEN, "%u:%u:%llu", dev >> 20, dev & 0xfffff,
		 (unsigned long long)ino);
	return buf;
}

/* What a rule matches, as far as its map slot tells: "comm=curl". */
static struct json_object *json_match(const struct psv_app_rule *r)
{
	char buf[64], val[EXE_NAME_LEN];

	switch (r->match) {
	case PSV_MATCH_COMM:
		snprintf(buf, sizeof(buf), "comm=%s",
			 printable(r->comm, sizeof(r->comm), val, sizeof(val)));
		break;
	case PSV_MATCH_EXE:
		snprintf(buf, sizeof(buf), "exe=%s",
			 exe_name(r->dev, r->ino, val));
		break;
	case PSV_MATCH_UID:
		snprintf(buf, sizeof(buf), "uid=%u", r->uid);
		break;
	case PSV_MATCH_CGROUP:
		snprintf(buf, sizeof(buf), "cgroup=%llu",
			 (unsigned long long)r->ino);
		break;
	default:
		return json_object_new_string("unknown");
	}
	return json_object_new_string(buf);
}

static int cmp_ident_id(const void *a, const void *b)
{
	const struct ident *x = *(const struct ident *const *)a;
	const struct ident *y = *(const struct ident *const *)b;

	return (x->v.id > y->v.id) - (x->v.id < y->v.id);
}

/* An identity's IPv6 addresses whose DAD passed, the one in use first. */
static struct json_object *json_ipv6_of(const struct ctl *ctl,
					const struct ident *id)
{
	struct json_object *arr = json_object_new_array();
	static const struct psv_addr6 none;

	if (memcmp(&id->v.ip6, &none, sizeof(none)))
		json_object_array_add(arr, json_ip6(&id->v.ip6));
	for (size_t i = 0; i < ctl->n_addrs6; i++) {
		const struct addr6 *a = &ctl->addrs6[i];

		if (a->o.vip == id->vip && a->o.dad_done &&
		    memcmp(&a->a, &id->v.ip6, sizeof(a->a)))
			json_object_array_add(arr, json_ip6(&a->a));
	}
	return arr;
}

struct json_object *build_identities(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	const struct ident **byid = calloc(ctl->n_ids + 1, sizeof(*byid));

	if (!byid)
		return arr;
	for (size_t i = 0; i < ctl->n_ids; i++)
		byid[i] = &ctl->ids[i];
	array_sort(byid, ctl->n_ids, sizeof(*byid), cmp_ident_id);
	for (size_t i = 0; i < ctl->n_ids; i++) {
		const struct ident *id = byid[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id",
				       json_object_new_int64(id->v.id));
		json_object_object_add(o, "mac", json_mac(id->v.mac));
		json_object_object_add(o, "ipv4", json_ip(id->vip));
		json_object_object_add(o, "ipv6", json_ipv6_of(ctl, id));
		json_object_object_add(o, "state", json_object_new_string(
			psv_id_state_name(id->v.state)));
		json_object_object_add(o, "flows",
				       json_object_new_int64(id->flows));
		json_object_object_add(o, "lease_expires", !id->has_lease ?
			NULL : json_object_new_int64(id->lease_expires));
		json_object_array_add(arr, o);
	}
	free(byid);
	return arr;
}

static const char *proto_name(__u8 proto, char buf[4])
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmp6";
	}
	snprintf(buf, 4, "%u", proto);
	return buf;
}

/* By identity (gone ones last), then IPv4 before IPv6, proto, remote
 * end, local port. */
static int cmp_conn(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;
	long long ix = x->id ? x->id->v.id : 1LL << 32;
	long long iy = y->id ? y->id->v.id : 1LL << 32;
	__u32 rx = ntohl(x->k.raddr), ry = ntohl(y->k.raddr);
	int c;

	if (ix != iy)
		return ix < iy ? -1 : 1;
	if (x->ipv6 != y->ipv6)
		return x->ipv6 - y->ipv6;
	if (x->k.proto != y->k.proto)
		return x->k.proto - y->k.proto;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	c = memcmp(&x->raddr6, &y->raddr6, sizeof(x->raddr6));
	if (c)
		return c;
	if (x->k.rport != y->k.rport)
		return ntohs(x->k.rport) - ntohs(y->k.rport);
	return ntohs(x->k.lport) - ntohs(y->k.lport);
}

static struct json_object *json_idle(__u64 now, __u64 last_ns)
{
	return json_object_new_int64(now > last_ns ?
				     (now - last_ns) / 1000000000ULL : 0);
}

struct json_object *build_flows(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	__u64 now = clock_now_ns();
	char pbuf[4];

	array_sort(ctl->conns, ctl->n_conns, sizeof(*ctl->conns), cmp_conn);
	for (size_t i = 0; i < ctl->n_conns; i++) {
		const struct conn *c = &ctl->conns[i];
		const struct app *a = c->v.app ? find_app(ctl, c->v.app) : NULL;
		struct json_object *o = json_object_new_object();
		__u8 ts = c->v.tcp_state;

		json_object_object_add(o, "proto", json_object_new_string(
			proto_name(c->k.proto, pbuf)));
		json_object_object_add(o, "local_port",
				       json_object_new_int(ntohs(c->k.lport)));
		json_object_object_add(o, "remote_ip", c->ipv6 ?
				       json_ip6(&c->raddr6) : json_ip(c->k.raddr));
		json_object_object_add(o, "remote_port",
				       json_object_new_int(ntohs(c->k.rport)));
		json_object_object_add(o, "identity", !c->id ? NULL :
				       json_object_new_int64(c->id->v.id));
		json_object_object_add(o, "mac", !c->id ? NULL :
				       json_mac(c->id->v.mac));
		json_object_object_add(o, "ipv4", json_ip(c->v.vip));
		json_object_object_add(o, "app", !a ? NULL :
				       json_name(a->v.name, sizeof(a->v.name)));
		/* socket: the kernel uses the identity's address itself;
		 * nat: egress translates the host's. */
		json_object_object_add(o, "path", json_object_new_string(
			c->v.flags & PSV_CONN_BOUND ? "socket" : "nat"));
		json_object_object_add(o, "state",
			psv_tcp_state_name(ts) ?
			json_object_new_string(psv_tcp_state_name(ts)) : NULL);
		json_object_object_add(o, "idle_seconds",
				       json_idle(now, c->v.last_seen_ns));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* By application, then identity: each app's flows are one run. */
static int cmp_conn_app(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	if (x->v.app != y->v.app)
		return x->v.app < y->v.app ? -1 : 1;
	return cmp_vip(&x->v.vip, &y->v.vip);
}

/* The distinct identities of n connections sorted by identity. */
static struct json_object *json_vips(const struct conn *c, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		if (!i || c[i].v.vip != c[i - 1].v.vip)
			json_object_array_add(arr, json_ip(c[i].v.vip));
	return arr;
}

struct json_object *build_apps(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	__u64 now = clock_now_ns();
	size_t first = 0, end;
	char buf[EXE_NAME_LEN];

	array_sort(ctl->conns, ctl->n_conns, sizeof(*ctl->conns), cmp_conn_app);
	for (size_t i = 0; i < ctl->n_apps; i++) {
		const struct app *a = &ctl->apps[i];
		const struct psv_app_rule *r = find_rule(ctl, a->k.rule);
		struct json_object *o = json_object_new_object();

		/* Apps and conns both ascend by app id: merge them. */
		while (first < ctl->n_conns &&
		       ctl->conns[first].v.app < a->v.id)
			first++;
		end = first;
		while (end < ctl->n_conns && ctl->conns[end].v.app == a->v.id)
			end++;
		json_object_object_add(o, "id", json_object_new_int64(a->v.id));
		json_object_object_add(o, "name",
				       json_name(a->v.name, sizeof(a->v.name)));
		json_object_object_add(o, "rule", !r ? NULL :
				       json_name(r->name, sizeof(r->name)));
		json_object_object_add(o, "match", r ? json_match(r) : NULL);
		json_object_object_add(o, "exe", a->k.rule ? NULL :
			json_object_new_string(exe_name(a->k.dev, a->k.ino,
							buf)));
		json_object_object_add(o, "granularity", json_object_new_string(
			psv_granularity_name(a->v.granularity)));
		json_object_object_add(o, "uid",
				       json_object_new_int64(a->v.uid));
		json_object_object_add(o, "pid",
				       json_object_new_int64(a->v.pid));
		json_object_object_add(o, "comm",
				       json_name(a->v.comm, sizeof(a->v.comm)));
		json_object_object_add(o, "sockets",
				       json_object_new_uint64(a->v.sockets));
		json_object_object_add(o, "open_sockets",
				       json_object_new_int64(a->v.open));
		json_object_object_add(o, "flows",
				       json_object_new_int64(end - first));
		json_object_object_add(o, "identities",
				       json_vips(&ctl->conns[first],
						 end - first));
		json_object_object_add(o, "idle_seconds",
				       json_idle(now, a->v.last_ns));
		json_object_array_add(arr, o);
		first = end;
	}
	return arr;
}


int build_stats(struct ctl *ctl, struct json_object **out)
{
	int err = snap_stats(ctl);

	if (err)
		return err;
	*out = json_object_new_object();
	for (__u32 i = 0; i < PSV_STAT_MAX; i++)
		json_object_object_add(*out, psv_stat_name(i),
				       json_object_new_uint64(ctl->stats[i]));
	return 0;
}

void merge_daemon_counters(struct ctl *ctl, struct json_object *doc)
{
	struct json_object *counters;

	if (!ctl->psvd ||
	    !json_object_object_get_ex(ctl->psvd, "counters", &counters) ||
	    !json_object_is_type(counters, json_type_object))
		return;
	json_object_object_foreach(counters, name, val)
		if (json_object_is_type(val, json_type_int))
			json_object_object_add(doc, name, json_object_get(val));
}

static struct json_object *psvd_status(const struct ctl *ctl)
{
	struct json_object *o = json_object_new_object(), *v;
	static const char *const keys[] = { "pid", "started", "source",
					    "host_ipv6_eui64", "supply",
					    "tables" };

	json_object_object_add(o, "running",
			       json_object_new_boolean(ctl->psvd != NULL));
	if (!ctl->psvd) {
		json_object_object_add(o, "error",
				       json_object_new_string(ctl->psvd_err));
		return o;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(ctl->psvd, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
	/* What psvd knows of IPv6 on the link (control.h). */
	if (json_object_object_get_ex(ctl->psvd, "ipv6", &v) &&
	    json_object_is_type(v, json_type_object))
		json_object_object_add(o, "ipv6", json_object_get(v));
	return o;
}

/*
 * A count of psvd's last expiry pass (control.h "tables"), null when
 * psvd does not answer or has not counted yet: status reads no table
 * of connections itself (100,000 entries would keep it waiting).
 */
static struct json_object *psvd_count(const struct ctl *ctl, const char *key)
{
	struct json_object *tables, *v;

	if (!ctl->psvd ||
	    !json_object_object_get_ex(ctl->psvd, "tables", &tables) ||
	    !json_object_object_get_ex(tables, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return NULL;
	return json_object_get(v);
}

int build_status(struct ctl *ctl, struct json_object **out)
{
	unsigned int by_state[PSV_ID_STATE_COUNT] = { 0 };
	struct json_object *o, *ids;
	char dir[PATH_MAX];
	int err;

	err = snap_identities(ctl) ?: snap_config(ctl) ?: snap_stats(ctl);
	if (err)
		return err;
	snap_psvd(ctl);
	for (size_t i = 0; i < ctl->n_ids; i++)
		if (ctl->ids[i].v.state < PSV_ID_STATE_COUNT)
			by_state[ctl->ids[i].v.state]++;

	o = json_object_new_object();
	psv_pin_dir(dir, sizeof(dir), ctl->ifname);
	json_object_object_add(o, "interface",
			       json_object_new_string(ctl->ifname));
	json_object_object_add(o, "pin_dir", json_object_new_string(dir));
	json_object_object_add(o, "psvd", psvd_status(ctl));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(ctl->cfg.enabled));
	json_object_object_add(o, "host_mac", json_mac(ctl->cfg.host_mac));
	json_object_object_add(o, "host_ip", json_ip(ctl->cfg.host_ip));
	json_object_object_add(o, "granularity", json_object_new_string(
		psv_granularity_name(ctl->cfg.granularity)));
	json_object_object_add(o, "on_exhausted", json_object_new_string(
		psv_exhausted_name(ctl->cfg.on_exhausted)));
	json_object_object_add(o, "ipv6", json_object_new_string(
		ctl->cfg.ipv6 == PSV_IPV6_HOST ? "host (not protected)" :
		psv_ipv6_name(ctl->cfg.ipv6)));
	json_object_object_add(o, "programs", snap_programs(ctl));
	ids = json_object_new_object();
	json_object_object_add(ids, "total", json_object_new_int64(ctl->n_ids));
	for (size_t s = 1; s < PSV_ID_STATE_COUNT; s++)
		json_object_object_add(ids, psv_id_state_name(s),
				       json_object_new_int64(by_state[s]));
	json_object_object_add(o, "identities", ids);
	json_object_object_add(o, "flows", psvd_count(ctl, "connections"));
	json_object_object_add(o, "groups", psvd_count(ctl, "groups"));
	json_object_object_add(o, "apps", psvd_count(ctl, "apps"));
	/* New groups that joined an identity in use: the pool ran dry. */
	json_object_object_add(o, "linked_by_exhaustion", json_object_new_uint64(
		ctl->stats[PSV_STAT_LINKED_BY_EXHAUSTION]));
	*out = o;
	return 0;
}
