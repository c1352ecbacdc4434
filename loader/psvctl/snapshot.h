/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * snapshot.h - what psvctl reads: the maps psvd pinned (identities,
 * connections, applications, rules, groups, config, counters), the
 * sockets bound to identity addresses, and psvd's answer on its control
 * socket (leases, its own counters).  Each loader fills its part of
 * struct ctl and says on stderr what failed; report.c turns it into JSON.
 */
#ifndef PSVCTL_SNAPSHOT_H
#define PSVCTL_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

#include "psv.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct json_object;

struct ident {
	__be32 vip;
	struct psv_identity v;
	unsigned int flows;
	bool has_lease;
	long long lease_expires;	/* unix time, from psvd */
};

/* A flow; an IPv6 one (ipv6) has its remote address in raddr6 and
 * k.raddr 0. */
struct conn {
	struct psv_conn_key k;
	struct psv_conn v;
	const struct ident *id;		/* NULL: its identity is gone */
	bool ipv6;
	struct psv_addr6 raddr6;
};

/* An entry of psv_addrs6: an identity's IPv6 address. */
struct addr6 {
	struct psv_addr6 a;
	struct psv_addr6_owner o;
};

/* struct app starts with its psv_app, which starts with its id. */
struct app {
	struct psv_app v;
	struct psv_app_key k;
};

struct ctl {
	const char *ifname;
	char ifbuf[IF_NAMESIZE];
	bool json;
	int seconds;			/* audit: how long to watch */
	struct ident *ids;		/* sorted by vip */
	size_t n_ids;
	struct conn *conns;
	size_t n_conns;
	struct addr6 *addrs6;
	size_t n_addrs6;
	struct app *apps;		/* sorted by id */
	size_t n_apps;
	struct psv_app_rule *rules;	/* rules[i] is slot i */
	size_t n_rules;
	struct psv_config cfg;
	__u64 stats[PSV_STAT_MAX];	/* summed over CPUs */
	struct json_object *psvd;	/* psvd's reply, NULL if none */
	char psvd_err[PATH_MAX + 128];	/* why there is none */
};

/* "psvctl: " and the message, on stderr. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Makes room for element n of an array that doubles at every power of
 * two; returns the array, perhaps moved, or NULL if out of memory.
 */
void *vec_reserve(void *arr, size_t n, size_t size);

/*
 * Opens the map psvd pinned as name and checks it has the layout psv.h
 * describes: an fd, or -1 with the reason printed.
 */
int snap_open_map(const struct ctl *ctl, const char *name, __u32 type,
		  __u32 key_size, __u32 value_size, __u32 *max_entries);

/* Loaders: 0, or -errno with the reason printed. */
int snap_identities(struct ctl *ctl);	/* sorted by vip */
/* Identities, their IPv6 addresses and connections of both families
 * (bound sockets included), linked. */
int snap_tables(struct ctl *ctl);
int snap_conns(struct ctl *ctl);
int snap_apps(struct ctl *ctl);		/* sorted by id */
int snap_rules(struct ctl *ctl);
int snap_config(struct ctl *ctl);
int snap_stats(struct ctl *ctl);
/* The programs and links pinned next to the maps: a sorted JSON array. */
struct json_object *snap_programs(const struct ctl *ctl);
/* Asks psvd; without an answer ctl->psvd is NULL and psvd_err says why. */
void snap_psvd(struct ctl *ctl);
/* psvd's lease times into the identities (after snap_tables, snap_psvd). */
void snap_merge_leases(struct ctl *ctl);

int cmp_vip(const void *a, const void *b);
/* The identity (vip) owning an IPv6 address, 0 if none. */
__be32 addr6_owner(const struct ctl *ctl, const __u8 a[16]);
const struct app *find_app(const struct ctl *ctl, __u32 id);
/* The [app] section that matched an application, if psvd still has it. */
const struct psv_app_rule *find_rule(const struct ctl *ctl, __u32 rule);

void ctl_free(struct ctl *ctl);

#endif
