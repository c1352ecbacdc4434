// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* route_mirror.c - see route_mirror.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "common/log.h"
#include "common/nl.h"
#include "psv.h"
#include "psvd/route_mirror.h"

/*
 * A trie key of either family: psv_route_key and psv_route6_key are its
 * first 4 + 4 or 4 + 16 bytes (psv.h), so one type serves both tries.
 */
struct key {
	uint32_t prefixlen;
	uint8_t addr[16];
};

_Static_assert(sizeof(struct psv_route_key) == 4 + 4 &&
	       sizeof(struct psv_route6_key) == 4 + 16,
	       "trie keys are a prefix length and the address");

/* A route as the trie will hold it. */
struct route {
	struct key key;
	uint32_t metric;
	uint8_t value;		/* PSV_ROUTE_* */
};

/* What differs between IPv4 and IPv6 here. */
struct family {
	uint8_t af;
	size_t addr_len;
	const char *name;	/* for messages */
	const char *map_name;
};

static const struct family families[ROUTE_FAMILIES] = {
	{ AF_INET, 4, "IPv4", PSV_MAP_ROUTES },
	{ AF_INET6, 16, "IPv6", PSV_MAP_ROUTES6 },
};

struct dump {
	struct nl_vec routes;
	const struct family *f;
	int ifindex;
};

/* The trie key's size. */
static size_t key_size(const struct family *f)
{
	return 4 + f->addr_len;
}

static int route_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	switch (type) {
	case RTA_DST:		/* 4 or 16 bytes: checked by family */
		break;
	case RTA_OIF:
	case RTA_TABLE:
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_MULTIPATH:
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/*
 * Parses a route message into tb, its rtmsg into *rtm: 0, or -1 with errno
 * set if it is malformed.
 */
static int parse_route(const struct nlmsghdr *nlh, const struct rtmsg **rtm,
		       const struct nlattr **tb)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(**rtm)) {
		errno = EPROTO;
		return -1;
	}
	*rtm = mnl_nlmsg_get_payload(nlh);
	return mnl_attr_parse(nlh, sizeof(**rtm), route_attr, tb) < 0 ? -1 : 0;
}

/* Whether every next hop of an RTA_MULTIPATH leaves through ifindex. */
static bool nexthops_via(const struct nlattr *mp, int ifindex)
{
	const char *p = mnl_attr_get_payload(mp);
	size_t left = mnl_attr_get_payload_len(mp);
	int n = 0;

	while (left >= sizeof(struct rtnexthop)) {
		const struct rtnexthop *nh = (const void *)p;
		size_t step = RTNH_ALIGN(nh->rtnh_len);

		if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > left ||
		    nh->rtnh_ifindex != ifindex)
			return false;
		n++;
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	return n > 0;
}

/*
 * The main table, and the local table's addresses of the host (and of
 * the identities): a flow to one of the host's own addresses stays on
 * the host, IPv6 ones included (there is no host_ip for them), so its
 * socket must not be bound to an identity.
 */
static bool mirrored(const struct nlmsghdr *nlh, const struct rtmsg *rtm,
		     const struct nlattr *tb[])
{
	uint32_t table = nl_route_table(nlh, tb[RTA_TABLE]);

	return table == RT_TABLE_MAIN ||
	       (table == RT_TABLE_LOCAL && rtm->rtm_type == RTN_LOCAL);
}

static int collect_route(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	struct dump *d = data;
	struct route r = { 0 };
	bool via;

	if (parse_route(nlh, &rtm, tb) < 0)
		return MNL_CB_ERROR;
	if (rtm->rtm_family != d->f->af ||
	    rtm->rtm_dst_len > 8 * d->f->addr_len || !mirrored(nlh, rtm, tb))
		return MNL_CB_OK;
	if (tb[RTA_DST] &&
	    mnl_attr_get_payload_len(tb[RTA_DST]) != d->f->addr_len) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	r.key.prefixlen = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		memcpy(r.key.addr, mnl_attr_get_payload(tb[RTA_DST]),
		       d->f->addr_len);
	r.metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	if (tb[RTA_MULTIPATH])
		via = nexthops_via(tb[RTA_MULTIPATH], d->ifindex);
	else
		via = tb[RTA_OIF] &&
		      (int)mnl_attr_get_u32(tb[RTA_OIF]) == d->ifindex;
	r.value = rtm->rtm_type == RTN_UNICAST && via ? PSV_ROUTE_IFACE :
						       PSV_ROUTE_OTHER;
	return nl_vec_push(&d->routes, &r) ? MNL_CB_ERROR : MNL_CB_OK;
}

/* By prefix, then metric: the first route of each prefix is the one used. */
static int cmp_route(const void *a, const void *b)
{
	const struct route *x = a, *y = b;

	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return 0;
}

static int cmp_key(const void *key, const void *elem)
{
	const struct route *r = elem;

	return memcmp(key, &r->key, sizeof(r->key));
}

/*
 * Sorts the routes and keeps the lowest metric of each prefix, as the
 * kernel's lookup does; returns how many are left.
 */
static size_t unique_routes(struct route *r, size_t n)
{
	size_t kept = 0;

	array_sort(r, n, sizeof(*r), cmp_route);
	for (size_t i = 0; i < n; i++)
		if (!kept || cmp_key(&r[i].key, &r[kept - 1]))
			r[kept++] = r[i];
	return kept;
}

/*
 * Writes the routes, then deletes the keys no route has any more.  The
 * map's keys are the first key_size() bytes of struct key, the rest 0.
 */
static int write_map(int map_fd, const struct family *f, const struct route *r,
		     size_t n)
{
	struct nl_vec stale = { .size = sizeof(struct key) };
	struct key key = { 0 }, next = { 0 };
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(map_fd, &r[i].key, &r[i].value,
					BPF_ANY)) {
			err = -errno;
			log_err("cannot write route %zu of %zu to %s: %s",
				i + 1, n, f->map_name, strerror(-err));
			return err;
		}
	}
	/* Deleting while walking would restart the walk: collect first. */
	for (int ret = bpf_map_get_next_key(map_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(map_fd, &key, &next)) {
		memcpy(&key, &next, key_size(f));
		if (!array_find(&key, r, n, sizeof(*r), cmp_key) &&
		    nl_vec_push(&stale, &key)) {
			log_err("cannot list the stale routes of %s: %s",
				f->map_name, strerror(ENOMEM));
			err = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < stale.len; i++) {
		struct key *k = stale.items;

		if (bpf_map_delete_elem(map_fd, &k[i]) && errno != ENOENT) {
			err = -errno;
			log_err("cannot delete a stale route from %s: %s",
				f->map_name, strerror(-err));
			break;
		}
	}
out:
	nl_vec_free(&stale);
	return err;
}

/* Whether a rule is one of those every setup starts with (IPv6 has no
 * 32767 one). */
static bool default_rule(const struct nlmsghdr *nlh)
{
	static const struct {
		uint32_t prio, table;
	} defaults[] = {
		{ 0, RT_TABLE_LOCAL },
		{ 32766, RT_TABLE_MAIN },
		{ 32767, RT_TABLE_DEFAULT },
	};
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	uint32_t prio = 0, table = frh->table;	/* no FRA_PRIORITY: 0 */
	const struct nlattr *attr;

	if (frh->src_len || frh->dst_len || frh->tos ||
	    frh->action != FR_ACT_TO_TBL)
		return false;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		switch (mnl_attr_get_type(attr)) {
		case FRA_PRIORITY:
		case FRA_TABLE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				return false;
			if (mnl_attr_get_type(attr) == FRA_PRIORITY)
				prio = mnl_attr_get_u32(attr);
			else
				table = mnl_attr_get_u32(attr);
			break;
		case FRA_PROTOCOL:
		case FRA_SUPPRESS_PREFIXLEN:
			break;
		default:	/* a selector: fwmark, iif, uid range... */
			return false;
		}
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (defaults[i].prio == prio && defaults[i].table == table)
			return true;
	return false;
}

struct rules {
	uint32_t hash;		/* FNV-1a of the other rules' messages */
	int others;
};

static int hash_rule(const struct nlmsghdr *nlh, void *data)
{
	const unsigned char *p = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	struct rules *r = data;

	if (len < sizeof(struct fib_rule_hdr)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (default_rule(nlh))
		return MNL_CB_OK;
	r->others++;
	for (size_t i = 0; i < len; i++)
		r->hash = (r->hash ^ p[i]) * 16777619;
	return MNL_CB_OK;
}

/*
 * Warns once per change of the rules if there are others than the
 * defaults: only the main table is mirrored.
 */
static int check_rules(struct route_mirror *rm, unsigned int fi)
{
	const struct family *f = &families[fi];
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rules r = { .hash = 2166136261u };
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh = nl_dump_header(buf, RTM_GETRULE, sizeof(*frh),
					      (void **)&frh);
	uint32_t sig;
	int err;

	frh->family = f->af;
	err = nl_request(rm->dump, nlh, hash_rule, &r);
	if (err) {
		log_err("cannot dump the %s routing rules: %s", f->name,
			strerror(-err));
		return err;
	}
	sig = r.others ? r.hash | 1 : 0;	/* 0: the defaults only */
	if (sig != rm->rules[fi] && r.others)
		log_warn("%d %s routing rule(s) besides the defaults "
			 "(ip rule): sockets are bound to identities by the "
			 "main table only, so flows other rules route "
			 "elsewhere (a VPN's) may be bound to an identity's "
			 "address", r.others, f->name);
	else if (sig != rm->rules[fi])
		log_info("the %s routing rules are the defaults again",
			 f->name);
	rm->rules[fi] = sig;
	return 0;
}

static int sync_family(struct route_mirror *rm, unsigned int fi)
{
	const struct family *f = &families[fi];
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump d = { .routes.size = sizeof(struct route), .f = f,
			  .ifindex = rm->ifindex };
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = nl_dump_header(buf, RTM_GETROUTE, sizeof(*rtm),
					      (void **)&rtm);
	size_t n;
	int err;

	rtm->rtm_family = f->af;
	err = nl_request(rm->dump, nlh, collect_route, &d);
	if (err) {
		log_err("cannot dump the %s routes: %s", f->name,
			strerror(-err));
	} else {
		n = unique_routes(d.routes.items, d.routes.len);
		err = write_map(rm->map_fd[fi], f, d.routes.items, n);
	}
	nl_vec_free(&d.routes);
	return err ? err : check_rules(rm, fi);
}

/* Mirrors the families whose bit is set in which (1 << index). */
static int sync_routes(struct route_mirror *rm, unsigned int which)
{
	int err = 0, e;

	for (unsigned int fi = 0; fi < ROUTE_FAMILIES; fi++) {
		if (!(which & 1u << fi) || rm->map_fd[fi] < 0)
			continue;
		e = sync_family(rm, fi);
		err = err ?: e;
	}
	return err;
}

int route_mirror_open(struct route_mirror *rm, int map_fd, int map6_fd,
		      int ifindex)
{
	/* Addresses and links too: their routes go without a notification. */
	unsigned int groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_RULE |
			      RTMGRP_IPV4_IFADDR | RTMGRP_LINK |
			      RTMGRP_IPV6_ROUTE | RTMGRP_IPV6_IFADDR |
			      1u << (RTNLGRP_IPV6_RULE - 1);
	int err;

	memset(rm, 0, sizeof(*rm));
	rm->map_fd[0] = map_fd;
	rm->map_fd[1] = map6_fd;
	rm->ifindex = ifindex;
	/* Subscribed before the first dump: no change falls in between. */
	err = nl_open(&rm->events, NETLINK_ROUTE, SOCK_NONBLOCK, groups,
		      "route notifications");
	if (!err)
		err = nl_open(&rm->dump, NETLINK_ROUTE, 0, 0, "route dumps");
	if (!err)
		err = sync_routes(rm, ROUTE_ALL);
	if (err)
		route_mirror_close(rm);
	return err;
}

int route_mirror_fd(const struct route_mirror *rm)
{
	return mnl_socket_get_fd(rm->events);
}

/* The family bit of a message's first byte (rtmsg, fib_rule_hdr and
 * ifaddrmsg all start with it); every family if it is neither. */
static unsigned int family_bit(const struct nlmsghdr *nlh)
{
	const uint8_t *af = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < 1)
		return ROUTE_ALL;
	for (unsigned int fi = 0; fi < ROUTE_FAMILIES; fi++)
		if (*af == families[fi].af)
			return 1u << fi;
	return ROUTE_ALL;
}

/* Adds to *changed the families a notification may change. */
static int note_change(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	unsigned int *changed = data;

	if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
		*changed = ROUTE_ALL;
	else if (nlh->nlmsg_type != RTM_NEWROUTE &&
		 nlh->nlmsg_type != RTM_DELROUTE)
		*changed |= family_bit(nlh);	/* a rule, an address */
	else if (parse_route(nlh, &rtm, tb) < 0)
		*changed = ROUTE_ALL;
	else if (nl_route_table(nlh, tb[RTA_TABLE]) == RT_TABLE_MAIN)
		*changed |= family_bit(nlh);	/* psv's local routes are not */
	return MNL_CB_OK;
}

int route_mirror_read(struct route_mirror *rm)
{
	char buf[NL_BUF_SIZE];
	unsigned int changed = 0;
	ssize_t n;
	int err;

	for (;;) {
		n = mnl_socket_recvfrom(rm->events, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) {
			/* The socket overflowed: what was lost is unknown. */
			changed = ROUTE_ALL;
			continue;
		}
		if (n < 0 && errno != EINTR) {
			err = -errno;
			log_err("cannot read route notifications: %s",
				strerror(-err));
			return err;
		}
		/* A datagram that does not parse may have been anything. */
		if (n > 0 &&
		    mnl_cb_run(buf, n, 0, 0, note_change, &changed) < 0)
			changed = ROUTE_ALL;
	}
	return changed ? sync_routes(rm, changed) : 0;
}

void route_mirror_close(struct route_mirror *rm)
{
	if (rm->events)
		mnl_socket_close(rm->events);
	if (rm->dump)
		mnl_socket_close(rm->dump);
	rm->events = rm->dump = NULL;
}
