/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.h - psvd's control socket, /run/psv/IF.sock (mode 0600), for
 * what the maps do not hold (leases, psvd's own counters): the server
 * (psvd), the client (psvctl) and the reply's schema, all here.  A client
 * writes one line, "leases", and reads one JSON document:
 *   {"pid":N,"started":UNIX,"source":"dhcp|static",
 *    "leases":[{"ipv4":"A.B.C.D","lease_expires":UNIX|null,"server":..}],
 *    "supply":{"ready_target":N,"ready_floor":N,"demand_per_s":X,
 *              "leases_held":N,"lease_budget":N,
 *              "leases_acquired_last_hour":N,
 *              "leases_released_last_hour":N},
 *    "ipv6":{"policy":"virtualize|block|host","router_seen":B,
 *            "dhcpv6_only":B,"addresses":N,"addresses_in_dad":N,
 *            "prefixes":[{"prefix":"P/LEN","slaac":B,"onlink":B,
 *                         "valid_s":N|null,"preferred_s":N|null}]},
 *    "tables":{"connections":N,"groups":N,"host_connections":N,
 *              "apps":N,"counted":UNIX}|null,
 *    "counters":{"NAME":N,...}}
 * (lifetimes: seconds left, null for infinite; tables: the dataplane's
 * live entries at the end of psvd's last expiry pass, null before the
 * first, so psvctl status counts 100,000 flows without reading them).
 */
#ifndef PSV_CONTROL_H
#define PSV_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct json_object;

#define PSV_CONTROL_DIR "/run/psv"

/* dir/ifname.sock, dir being $PSV_CONTROL_DIR (tests) or PSV_CONTROL_DIR;
 * -ENAMETOOLONG if it does not fit a unix socket address. */
int control_path(char *buf, size_t len, const char *ifname);

/* Builds the reply to a command; returns a malloc'ed string or NULL. */
typedef char *(*control_handler)(void *ctx, const char *command);

/* Listening socket at control_path(); -errno on failure. */
int control_open(const char *ifname, char *path, size_t pathlen);
/* Serves one client waiting on listen_fd (call when it is readable). */
void control_serve(int listen_fd, control_handler handler, void *ctx);
void control_close(int listen_fd, const char *path);

/* The reply to "leases", as psvd knows it. */
struct control_lease {
	uint32_t ip;		/* network order */
	int64_t expires;	/* unix seconds; 0: none (static) */
	uint32_t server;	/* network order; 0: none */
};

struct control_counter {
	const char *name;
	uint64_t value;
};

/* The pool's supply of identities (psv.conf(5), SUPPLY). */
struct control_supply {
	unsigned int ready_target;	/* what the pool keeps ready now */
	unsigned int ready_floor;	/* pool.ready */
	double demand_per_s;		/* recent new groups per second */
	unsigned int leases_held;
	unsigned int lease_budget;	/* pool.max */
	uint32_t acquired_hour, released_hour;
};

/* A prefix a router advertised (status "ipv6"). */
struct control_prefix6 {
	uint8_t prefix[16];
	uint8_t len;
	bool slaac, onlink;
	int64_t valid_s, preferred_s;	/* seconds left; -1: infinite */
};

/* What psvd knows of IPv6 on the link. */
struct control_ipv6 {
	const char *policy;	/* psv_ipv6_name() */
	bool router_seen;	/* an RA came */
	bool dhcpv6_only;	/* M, no SLAAC prefix: IPv6 flows blocked */
	unsigned int addresses;	/* identity addresses DAD passed */
	unsigned int in_dad;
	const struct control_prefix6 *prefixes;
	size_t n_prefixes;
};

/* What psvd's last expiry pass left in the dataplane's tables. */
struct control_tables {
	time_t counted;			/* unix seconds; 0: no pass yet */
	unsigned int connections;	/* psv_conns and psv_conns6 */
	unsigned int groups, host_connections, apps;
};

struct control_status {
	pid_t pid;
	time_t started;
	const char *source;	/* "dhcp" or "static" */
	int host_eui64;		/* the host's IPv6 addresses with its MAC */
	const struct control_ipv6 *ipv6;
	const struct control_lease *leases;
	size_t n_leases;
	struct control_supply supply;
	struct control_tables tables;
	const struct control_counter *counters;
	size_t n_counters;
};

/* The reply line (malloc'ed, NULL if out of memory). */
char *control_reply_status(const struct control_status *st);
/* The reply to a command psvd does not know. */
char *control_reply_unknown(void);

/*
 * The client: asks psvd on ifname for its status and returns the reply,
 * checked against the schema above (json-c object, json_object_put it),
 * or NULL with err saying why (no socket, no answer within 2 s, a
 * malformed reply).
 */
struct json_object *control_query(const char *ifname, char *err,
				  size_t errlen);

#endif
