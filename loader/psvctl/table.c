// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* table.c - see table.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "psvctl/table.h"
#include "psvctl/snapshot.h"

/* A table: cells row by row, the first row the header. */
struct table {
	unsigned int ncols;
	char **cells;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void table_add(struct table *t, const char *fmt, ...)
{
	char **cells = vec_reserve(t->cells, t->n, sizeof(*cells));
	va_list ap;
	int ret = -1;

	/* A missing cell would shift every one after it: give up instead. */
	if (cells) {
		t->cells = cells;
		va_start(ap, fmt);
		ret = vasprintf(&cells[t->n++], fmt, ap);
		va_end(ap);
	}
	if (ret < 0) {
		fail("out of memory");
		exit(EXIT_RUNTIME);
	}
}

/* Prints the table with its columns aligned, and frees it. */
static void table_print(struct table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width)), i, col;

	for (i = 0; width && i < t->n; i++) {
		size_t len = strlen(t->cells[i]);

		col = i % t->ncols;
		if (len > width[col])
			width[col] = len;
	}
	for (i = 0; i < t->n; i++) {
		const char *cell = t->cells[i];

		col = i % t->ncols;
		if (col == t->ncols - 1)
			printf("%s\n", cell);
		else
			printf("%-*s  ", width ? (int)width[col] : 0, cell);
		free(t->cells[i]);
	}
	free(t->cells);
	free(width);
}

static const char *duration(long long s, char buf[24])
{
	if (s < 60)
		snprintf(buf, 24, "%llds", s);
	else if (s < 3600)
		snprintf(buf, 24, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, 24, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, 24, "%lldd%02lldh", s / 86400, s / 3600 % 24);
	return buf;
}

/* One row holds an app's identities however many: the first, +N more. */
static void table_add_list(struct table *t, struct json_object *v)
{
	size_t len = json_object_is_type(v, json_type_array) ?
		     json_object_array_length(v) : 0;
	const char *first = !len ? "-" :
		json_object_get_string(json_object_array_get_idx(v, 0));

	if (len > 1)
		table_add(t, "%s +%zu", first, len - 1);
	else
		table_add(t, "%s", first);
}

static void table_add_json(struct table *t, struct json_object *v,
			   enum col_kind kind, time_t now)
{
	long long n = json_object_get_int64(v);
	char buf[24];

	if (kind == COL_LIST)
		table_add_list(t, v);
	else if (!v)
		table_add(t, "-");
	else if (kind == COL_EXPIRES)
		table_add(t, n < now ? "expired" : "in %s",
			  duration(n - now, buf));
	else if (kind == COL_SECONDS)
		table_add(t, "%s", duration(n, buf));
	else
		table_add(t, "%s", json_object_get_string(v));
}

/* A list of objects, one row each, with the given columns. */
void print_rows(struct json_object *arr, const struct column *cols,
		       unsigned int ncols)
{
	struct table t = { .ncols = ncols };
	time_t now = time(NULL);
	struct json_object *v;

	for (unsigned int c = 0; c < ncols; c++)
		table_add(&t, "%s", cols[c].head);
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		for (unsigned int c = 0; c < ncols; c++) {
			if (!json_object_object_get_ex(
				    json_object_array_get_idx(arr, i),
				    cols[c].key, &v))
				v = NULL;
			table_add_json(&t, v, cols[c].kind, now);
		}
	table_print(&t);
}

void print_stats(struct json_object *stats)
{
	struct table t = { .ncols = 2 };

	table_add(&t, "COUNTER");
	table_add(&t, "VALUE");
	json_object_object_foreach(stats, name, val) {
		table_add(&t, "%s", name);
		table_add(&t, "%s", json_object_get_string(val));
	}
	table_print(&t);
}

static const char *join_strings(struct json_object *arr, char *buf,
				size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(arr) && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "",
			      json_object_get_string(
				      json_object_array_get_idx(arr, i)));
	return buf;
}

/* psvd's view of IPv6 (status.psvd.ipv6), when it runs virtualize. */
static void print_ipv6(struct table *t, struct json_object *v6)
{
	struct json_object *prefixes = json_object_object_get(v6, "prefixes");
	char line[768], buf[24];
	size_t n = 0;

	if (!v6 || strcmp(json_object_get_string(
			json_object_object_get(v6, "policy")), "virtualize"))
		return;
	table_add(t, "IPv6");
	if (json_object_get_boolean(json_object_object_get(v6, "dhcpv6_only"))) {
		table_add(t, "blocked: this network offers addresses over "
			  "DHCPv6 only, which psvd does not run");
		return;
	}
	if (!json_object_array_length(prefixes)) {
		table_add(t, json_object_get_boolean(json_object_object_get(
				  v6, "router_seen")) ?
			  "blocked: the router advertises no SLAAC prefix" :
			  "blocked: no router advertisement yet");
		return;
	}
	n += snprintf(line, sizeof(line), "%s addresses, %s in DAD; prefixes",
		      json_object_get_string(json_object_object_get(v6,
								  "addresses")),
		      json_object_get_string(json_object_object_get(
			      v6, "addresses_in_dad")));
	for (size_t i = 0; i < json_object_array_length(prefixes) &&
			   n < sizeof(line); i++) {
		struct json_object *p = json_object_array_get_idx(prefixes, i);
		struct json_object *valid = json_object_object_get(p, "valid_s");
		struct json_object *pref = json_object_object_get(p,
								  "preferred_s");

		n += snprintf(line + n, sizeof(line) - n, " %s%s valid %s",
			      json_object_get_string(json_object_object_get(
				      p, "prefix")),
			      json_object_get_boolean(json_object_object_get(
				      p, "slaac")) ? "" : " (no SLAAC)",
			      valid ? duration(json_object_get_int64(valid),
					       buf) : "forever");
		if (n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n,
				      " preferred %s", pref ? duration(
				      json_object_get_int64(pref), buf) :
				      "forever");
	}
	table_add(t, "%s", line);
}

/* A count psvd made at its last expiry pass (status), or why none. */
static const char *psvd_count(struct json_object *st, const char *key,
			      bool running)
{
	struct json_object *v = json_object_object_get(st, key);

	if (v)
		return json_object_get_string(v);
	return running ? "not counted yet (psvd counts at each expiry pass)" :
			 "unknown (psvd counts them; it does not answer)";
}

void print_status(struct json_object *st)
{
	struct json_object *p = json_object_object_get(st, "psvd");
	struct json_object *ids = json_object_object_get(st, "identities");
	struct json_object *progs = json_object_object_get(st, "programs");
	struct json_object *sup = json_object_object_get(p, "supply");
	bool running = json_object_get_boolean(json_object_object_get(p,
								   "running"));
	struct table t = { .ncols = 2 };
	char buf[24], list[512];

#define GET(o, key) json_object_get_string(json_object_object_get(o, key))
	table_add(&t, "interface");
	table_add(&t, "%s (pins in %s)", GET(st, "interface"),
		  GET(st, "pin_dir"));
	table_add(&t, "psvd");
	if (running)
		table_add(&t, "running, pid %s, up %s, %s pool", GET(p, "pid"),
			  duration(time(NULL) - json_object_get_int64(
				  json_object_object_get(p, "started")), buf),
			  GET(p, "source"));
	else
		table_add(&t, "not answering (%s)", GET(p, "error"));
	if (json_object_get_int(json_object_object_get(p, "host_ipv6_eui64")) > 0) {
		table_add(&t, "host IPv6");
		table_add(&t, "its own address contains its MAC (EUI-64): see "
			  "psv.conf(5) for stable-privacy addresses");
	}
	table_add(&t, "dataplane");
	table_add(&t, "%s, host %s %s, policy %s, on_exhausted %s, ipv6 %s",
		  json_object_get_boolean(json_object_object_get(st,
								 "enabled")) ?
		  "enabled" : "disabled (passes everything)",
		  GET(st, "host_mac"), GET(st, "host_ip"),
		  GET(st, "granularity"), GET(st, "on_exhausted"),
		  GET(st, "ipv6"));
	print_ipv6(&t, json_object_object_get(p, "ipv6"));
	table_add(&t, "programs");
	if (!json_object_array_length(progs))
		table_add(&t, "none pinned");
	else
		table_add(&t, "%s", join_strings(progs, list, sizeof(list)));
	table_add(&t, "identities");
	table_add(&t, "%s (acquiring %s, ready %s, active %s, idle %s, "
		  "retired %s)", GET(ids, "total"), GET(ids, "acquiring"),
		  GET(ids, "ready"), GET(ids, "active"), GET(ids, "idle"),
		  GET(ids, "retired"));
	table_add(&t, "flows");
	table_add(&t, "%s", psvd_count(st, "flows", running));
	table_add(&t, "groups");
	table_add(&t, "%s", psvd_count(st, "groups", running));
	table_add(&t, "apps");
	table_add(&t, "%s", psvd_count(st, "apps", running));
	if (sup) {
		table_add(&t, "supply");
		table_add(&t, "ready target %s (floor %s), demand %.2f/s",
			  GET(sup, "ready_target"), GET(sup, "ready_floor"),
			  json_object_get_double(json_object_object_get(
				  sup, "demand_per_s")));
		table_add(&t, "leases");
		table_add(&t, "%s held of %s; last hour %s acquired, %s "
			  "released", GET(sup, "leases_held"),
			  GET(sup, "lease_budget"),
			  GET(sup, "leases_acquired_last_hour"),
			  GET(sup, "leases_released_last_hour"));
	}
	table_add(&t, "linked");
	table_add(&t, "%s new groups joined an identity in use "
		  "(linked_by_exhaustion)", GET(st, "linked_by_exhaustion"));
#undef GET
	table_print(&t);
}

