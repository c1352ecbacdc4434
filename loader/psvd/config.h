/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - psv.conf, the daemon's configuration (INI, parsed by libinih;
 * every key, default and range is documented in docs/psv.conf.5).
 *
 * A load parses into a private struct and copies it out only when the whole
 * file is valid, so a failed SIGHUP reload leaves the running config as it
 * was.  Errors read "FILE:LINE: what is wrong".
 */
#ifndef PSV_CONFIG_H
#define PSV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "psv.h"

#define PSV_CONF_DEFAULT_PATH "/etc/psv/psv.conf"

#define PSV_CONF_MAX_APPS PSV_MAX_APP_RULES	/* [app "NAME"] sections */
#define PSV_CONF_APP_NAME_MAX 31	/* [A-Za-z0-9_.-], without the NUL */
#define PSV_CONF_COMM_MAX 15		/* TASK_COMM_LEN - 1 */
#define PSV_CONF_PATH_MAX 256		/* exe=, cgroup=, state_dir (+ NUL) */
#define PSV_CONF_MAX_FLOWS 1000000	/* dataplane.max_flows upper bound */

enum psv_pool_source {
	PSV_SOURCE_DHCP = 0,
	PSV_SOURCE_STATIC = 1,
};

struct psv_conf_app {
	char name[PSV_CONF_APP_NAME_MAX + 1];
	enum psv_app_match match;	/* psv.h; never NONE once parsed */
	char value[PSV_CONF_PATH_MAX];	/* COMM, EXE, CGROUP; UID: "" */
	uint32_t uid;			/* UID only */
	enum psv_granularity granularity;	/* default PSV_GRAN_APP */
};

struct psv_conf {
	/* [pool] */
	enum psv_pool_source source;
	uint32_t static_first;		/* network order; 0 if unset */
	uint32_t static_last;		/* network byte order, >= first */
	uint32_t ready;			/* <= max */
	uint32_t max;			/* 1..PSV_MAX_IDENTITIES */
	uint32_t idle_retire;		/* seconds, 1..86400 */
	uint32_t pace_ms;		/* most random delay between two
					 * acquisitions, 0..60000 */
	uint32_t demand_window;		/* seconds a burst of demand keeps
					 * the ready target up, 0..86400 */
	/* [policy] */
	enum psv_granularity granularity;	/* policy.default */
	enum psv_exhausted on_exhausted;
	enum psv_ipv6 ipv6;		/* default VIRTUALIZE (blocks for now) */
	enum psv_chatter chatter;	/* default DROP */
	/* [dataplane] */
	enum psv_ingress_mode ingress;
	uint32_t max_flows;		/* psv_conns size, 1024..1000000 */
	/* [dhcp] */
	bool probe;			/* RFC 5227 ARP probe before use */
	uint32_t probe_wait_ms;		/* 0..10000 */
	uint32_t probe_min_ms;		/* 0..10000, <= probe_max_ms */
	uint32_t probe_max_ms;		/* 0..10000 */
	uint32_t announce_wait_ms;	/* 0..10000 */
	uint32_t retransmit_ms;		/* first timeout, 1000..64000 */
	/* [daemon] */
	char state_dir[PSV_CONF_PATH_MAX];	/* absolute path */
	/* [app "NAME"] sections, in file order */
	unsigned int n_apps;
	struct psv_conf_app apps[PSV_CONF_MAX_APPS];
};

/* The built-in values, also what a key left out of the file keeps. */
void psv_conf_defaults(struct psv_conf *conf);

/*
 * Parses the file at path into *out.  Returns 0, or -1 with err set to
 * "path:LINE: message" (or "cannot read path: strerror") and *out untouched.
 */
int psv_conf_load(const char *path, struct psv_conf *out, char *err,
		  size_t errlen);

/* Same for text in memory; name stands for the file name in errors. */
int psv_conf_parse_string(const char *text, const char *name,
			  struct psv_conf *out, char *err, size_t errlen);

#endif
