// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * psvctl - shows what psv does on an interface: its identities, the flows
 * wearing them, the applications that made them, the dataplane's counters.
 * It reads the maps psvd pinned, so it works while psvd is down, and asks
 * psvd's control socket only for what no map holds: the DHCP leases.
 * Every command builds one JSON document; --json prints it, otherwise it
 * is rendered as a table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "psvctl/audit.h"
#include "psvctl/report.h"
#include "psvctl/snapshot.h"
#include "psvctl/table.h"
#include "common/pins.h"

#define MAX_IFACES 16

static void usage(FILE *f)
{
	fputs("usage: psvctl [--iface IF] COMMAND [--json] | psvctl --version\n"
	      "commands:\n"
	      "  audit        watch what the interface sends (--seconds N, "
	      "default 10):\n"
	      "               every frame with the host's real MAC or "
	      "address, by why\n"
	      "  status       psvd, the dataplane and counts at a glance\n"
	      "  identities   every identity: id, MAC, IPv4, IPv6, state, flows, "
	      "lease\n"
	      "  flows        every virtualized connection and its identity\n"
	      "  apps         every application seen: its rule, sockets, "
	      "flows, identities\n"
	      "  stats        the dataplane's counters, summed over CPUs\n"
	      "options:\n"
	      "  -i, --iface IF   interface psvd runs on (default: the only "
	      "one pinned)\n"
	      "  -j, --json       JSON instead of a table\n"
	      "  -s, --seconds N  audit: watch N seconds\n"
	      "  -h, --help       this text\n", f);
}

static void print_json(struct json_object *doc)
{
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/*
 * The end of every command: doc as JSON, or for people as a table of
 * cols (print NULL) or by print; then doc is freed.
 */
static int emit(const struct ctl *ctl, struct json_object *doc,
		void (*print)(struct json_object *doc),
		const struct column *cols, size_t ncols)
{
	if (ctl->json)
		print_json(doc);
	else if (print)
		print(doc);
	else
		print_rows(doc, cols, ncols);
	json_object_put(doc);
	return 0;
}

static int cmd_identities(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "ID", "id", COL_VALUE }, { "MAC", "mac", COL_VALUE },
		{ "IPV4", "ipv4", COL_VALUE }, { "IPV6", "ipv6", COL_LIST },
		{ "STATE", "state", COL_VALUE },
		{ "FLOWS", "flows", COL_VALUE },
		{ "LEASE", "lease_expires", COL_EXPIRES },
	};
	if (snap_tables(ctl))
		return EXIT_RUNTIME;
	snap_psvd(ctl);
	snap_merge_leases(ctl);
	return emit(ctl, build_identities(ctl), NULL, COLS(cols));
}

static int cmd_flows(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "PROTO", "proto", COL_VALUE },
		{ "LPORT", "local_port", COL_VALUE },
		{ "REMOTE", "remote_ip", COL_VALUE },
		{ "RPORT", "remote_port", COL_VALUE },
		{ "ID", "identity", COL_VALUE }, { "MAC", "mac", COL_VALUE },
		{ "IPV4", "ipv4", COL_VALUE }, { "STATE", "state", COL_VALUE },
		{ "IDLE", "idle_seconds", COL_SECONDS },
		{ "APP", "app", COL_VALUE },
	};
	if (snap_tables(ctl) || snap_apps(ctl))
		return EXIT_RUNTIME;
	return emit(ctl, build_flows(ctl), NULL, COLS(cols));
}

/* psvd's own counters (DHCP, the packet socket), when it answers. */
static int cmd_stats(struct ctl *ctl)
{
	struct json_object *doc;

	if (build_stats(ctl, &doc))
		return EXIT_RUNTIME;
	snap_psvd(ctl);
	merge_daemon_counters(ctl, doc);
	return emit(ctl, doc, print_stats, NULL, 0);
}

static int cmd_status(struct ctl *ctl)
{
	struct json_object *doc;

	if (build_status(ctl, &doc))
		return EXIT_RUNTIME;
	return emit(ctl, doc, print_status, NULL, 0);
}

static int cmd_apps(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "ID", "id", COL_VALUE }, { "NAME", "name", COL_VALUE },
		{ "RULE", "rule", COL_VALUE }, { "MATCH", "match", COL_VALUE },
		{ "GRAN", "granularity", COL_VALUE },
		{ "UID", "uid", COL_VALUE }, { "PID", "pid", COL_VALUE },
		{ "COMM", "comm", COL_VALUE },
		{ "SOCKETS", "sockets", COL_VALUE },
		{ "OPEN", "open_sockets", COL_VALUE },
		{ "FLOWS", "flows", COL_VALUE },
		{ "IDENTITIES", "identities", COL_LIST },
		{ "IDLE", "idle_seconds", COL_SECONDS },
	};
	if (snap_apps(ctl) || snap_rules(ctl) || snap_conns(ctl))
		return EXIT_RUNTIME;
	return emit(ctl, build_apps(ctl), NULL, COLS(cols));
}

/* Exit status 1 if anything unexpected left with the real identity. */
static int cmd_audit(struct ctl *ctl)
{
	struct json_object *doc;
	bool ok;

	if (build_audit(ctl, &doc))
		return EXIT_RUNTIME;
	ok = json_object_get_boolean(json_object_object_get(doc, "ok"));
	emit(ctl, doc, print_audit, NULL, 0);
	return ok ? 0 : EXIT_RUNTIME;
}

static const struct command {
	const char *name;
	int (*run)(struct ctl *ctl);
} commands[] = {
	{ "status", cmd_status },
	{ "identities", cmd_identities },
	{ "flows", cmd_flows },
	{ "apps", cmd_apps },
	{ "stats", cmd_stats },
	{ "audit", cmd_audit },
};

/* Without --iface: the one interface that has pins. */
static int pick_iface(struct ctl *ctl)
{
	char names[MAX_IFACES][IF_NAMESIZE], err[PATH_MAX + 64];
	int n = psv_pin_list_ifaces(names, MAX_IFACES, err, sizeof(err));

	if (n < 0) {
		fail("%s", err);
		return -1;
	}
	if (n == 0) {
		fail("no interface has psv pins under %s - is psvd running?",
		     psv_pin_root());
		return -1;
	}
	if (n > 1) {
		fprintf(stderr, "psvctl: psv runs on %d interfaces, choose one "
			"with --iface:", n);
		for (int i = 0; i < n && i < MAX_IFACES; i++)
			fprintf(stderr, " %s", names[i]);
		fputs(n > MAX_IFACES ? " ...\n" : "\n", stderr);
		return -1;
	}
	strcpy(ctl->ifbuf, names[0]);
	ctl->ifname = ctl->ifbuf;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	struct ctl ctl = { .seconds = 10 };
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "i:js:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ctl.ifname = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 's':
			errno = 0;
			ctl.seconds = strtol(optarg, &end, 10);
			if (errno || *end || ctl.seconds < 1 ||
			    ctl.seconds > 86400) {
				fail("--seconds wants 1..86400, not '%s'",
				     optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("psvctl %s\n", PSV_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fail("no command given");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd || optind + 1 < argc) {
		fail("%s '%s'", cmd ? "unexpected argument" : "unknown command",
		     argv[cmd ? optind + 1 : optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ctl.ifname && !psv_pin_ifname_ok(ctl.ifname)) {
		fail("bad interface name '%s'", ctl.ifname);
		return EXIT_USAGE;
	}
	/* Our messages say what failed; libbpf's would repeat them. */
	libbpf_set_print(NULL);
	if (!ctl.ifname && pick_iface(&ctl))
		return EXIT_RUNTIME;
	ret = cmd->run(&ctl);
	ctl_free(&ctl);
	if (fflush(stdout) || ferror(stdout)) {
		fail("cannot write output: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return ret;
}
