// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - psv.conf parsing: the documented example, defaults, every
 * class of error at the line it is on, whitespace and comments, and that a
 * failed load (a SIGHUP reload) leaves the previous config untouched.
 */
#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "psvd/config.h"
#include "common/names.h"

static const char example[] =
	"[pool]\n"
	"source = dhcp            ; dhcp | static\n"
	"static = 192.0.2.150-192.0.2.199\n"
	"ready = 4                ; identities kept leased and ready\n"
	"max = 100                ; most identities at once\n"
	"idle_retire = 300        ; seconds without flows before an identity is retired\n"
	"[policy]\n"
	"default = flow           ; flow | app | uid | host\n"
	"on_exhausted = drop      ; link | drop | reuse | host\n"
	"[app \"browser\"]\n"
	"match = comm=firefox     ; comm= | exe= | uid= | cgroup=\n"
	"granularity = app\n";

/* 192.0.2.150 and .199, computed by hand: 0xc0 0x00 0x02 0x96 / 0xc7. */
#define ADDR_150 htonl(0xc0000296)
#define ADDR_199 htonl(0xc00002c7)

static void test_defaults(void)
{
	struct psv_conf d, c;
	char err[256];

	psv_conf_defaults(&d);
	CHECK(d.source == PSV_SOURCE_DHCP && d.ready == 8 && d.max == 64 &&
	      d.idle_retire == 300 && d.pace_ms == 300 &&
	      d.demand_window == 600, "defaults: pool");
	CHECK(d.granularity == PSV_GRAN_FLOW &&
	      d.on_exhausted == PSV_EXHAUSTED_LINK &&
	      d.ipv6 == PSV_IPV6_VIRTUALIZE, "defaults: policy");
	CHECK(d.ingress == PSV_INGRESS_AUTO && d.max_flows == PSV_MAX_CONNS,
	      "defaults: dataplane");
	CHECK(d.probe && d.probe_wait_ms == 1000 && d.retransmit_ms == 4000 &&
	      d.probe_min_ms == 1000 && d.probe_max_ms == 2000 &&
	      d.announce_wait_ms == 2000,
	      "defaults: dhcp");
	CHECK(!strcmp(d.state_dir, "/var/lib/psv") && d.n_apps == 0 &&
	      d.static_first == 0, "defaults: daemon, no apps, no range");

	memset(&c, 0xaa, sizeof(c));
	CHECK_EQ(psv_conf_parse_string("", "t.conf", &c, err, sizeof(err)), 0,
		 "an empty file parses");
	CHECK(!memcmp(&c, &d, sizeof(c)), "an empty file gives the defaults");
	CHECK_EQ(psv_conf_parse_string("; only a comment\n\n[pool]\n",
				       "t.conf", &c, err, sizeof(err)), 0,
		 "comments and an empty section parse");
	CHECK(!memcmp(&c, &d, sizeof(c)), "... and give the defaults");
}

static void test_example(void)
{
	struct psv_conf c;
	char err[256] = "";
	int ret;

	ret = psv_conf_parse_string(example, "psv.conf", &c, err, sizeof(err));
	CHECK_EQ(ret, 0, "the documented example parses (%s)", err);
	CHECK(c.source == PSV_SOURCE_DHCP, "example: source dhcp");
	CHECK(c.static_first == ADDR_150 && c.static_last == ADDR_199,
	      "example: static range 192.0.2.150-192.0.2.199");
	CHECK(c.ready == 4 && c.max == 100 && c.idle_retire == 300,
	      "example: ready 4, max 100, idle_retire 300");
	CHECK(c.granularity == PSV_GRAN_FLOW &&
	      c.on_exhausted == PSV_EXHAUSTED_DROP,
	      "example: policy flow, on_exhausted drop");
	CHECK_EQ(c.n_apps, 1, "example: one app");
	CHECK(!strcmp(c.apps[0].name, "browser") &&
	      c.apps[0].match == PSV_MATCH_COMM &&
	      !strcmp(c.apps[0].value, "firefox") &&
	      c.apps[0].granularity == PSV_GRAN_APP,
	      "example: app browser matches comm firefox, granularity app");
}

static void test_every_key(void)
{
	static const char text[] =
		"[pool]\nsource = static\nstatic = 198.51.100.7\nready = 0\n"
		"max = 4096\nidle_retire = 86400\npace_ms = 60000\n"
		"[policy]\ndefault = uid\non_exhausted = reuse\nipv6 = host\n"
		"[dataplane]\ningress = tc\nmax_flows = 1000000\n"
		"[dhcp]\nprobe = no\nprobe_wait_ms = 0\nretransmit_ms = 64000\n"
		"probe_min_ms = 0\nprobe_max_ms = 10000\nannounce_wait_ms = 10000\n"
		"[daemon]\nstate_dir = /srv/psv state\n"
		"[app \"a-1.x_y\"]\nmatch = uid=1000\ngranularity = host\n"
		"[app \"ssh\"]\nmatch = exe = /usr/bin/ssh\n"
		"[app \"web\"]\nmatch=cgroup=/user.slice/web\ngranularity=flow\n"
		"[app \"tab\"]\nmatch = comm=Web Content\n";
	struct psv_conf c;
	char err[256] = "";

	CHECK_EQ(psv_conf_parse_string(text, "t.conf", &c, err, sizeof(err)),
		 0, "every key at its limit parses (%s)", err);
	CHECK(c.source == PSV_SOURCE_STATIC &&
	      c.static_first == htonl(0xc6336407) &&
	      c.static_last == c.static_first,
	      "a single static address is a range of one");
	CHECK(c.ready == 0 && c.max == PSV_MAX_IDENTITIES &&
	      c.idle_retire == 86400 && c.pace_ms == 60000, "pool limits");
	CHECK(c.granularity == PSV_GRAN_UID &&
	      c.on_exhausted == PSV_EXHAUSTED_REUSE && c.ipv6 == PSV_IPV6_HOST,
	      "policy uid, reuse, ipv6 host");
	CHECK(c.ingress == PSV_INGRESS_TC && c.max_flows == 1000000,
	      "dataplane tc, 1000000 flows");
	CHECK(!c.probe && c.probe_wait_ms == 0 && c.retransmit_ms == 64000 &&
	      c.probe_min_ms == 0 && c.probe_max_ms == 10000 &&
	      c.announce_wait_ms == 10000,
	      "dhcp probe no, waits");
	CHECK(!strcmp(c.state_dir, "/srv/psv state"), "state_dir with a space");
	CHECK_EQ(c.n_apps, 4, "four apps");
	CHECK(!strcmp(c.apps[0].name, "a-1.x_y") &&
	      c.apps[0].match == PSV_MATCH_UID && c.apps[0].uid == 1000 &&
	      c.apps[0].granularity == PSV_GRAN_HOST, "uid match, host");
	CHECK(c.apps[1].match == PSV_MATCH_EXE &&
	      !strcmp(c.apps[1].value, "/usr/bin/ssh") &&
	      c.apps[1].granularity == PSV_GRAN_APP,
	      "exe match with blanks around '='");
	CHECK(c.apps[2].match == PSV_MATCH_CGROUP &&
	      !strcmp(c.apps[2].value, "/user.slice/web") &&
	      c.apps[2].granularity == PSV_GRAN_FLOW, "cgroup match, flow");
	CHECK(c.apps[3].match == PSV_MATCH_COMM &&
	      !strcmp(c.apps[3].value, "Web Content"), "comm with a space");
}

static void test_whitespace(void)
{
	static const char text[] =
		"\xEF\xBB\xBF# byte order mark, hash comment\r\n"
		"\r\n"
		"   [pool]   ; indented header, comment\r\n"
		"\tready=7\r\n"
		"    max   =   9   ; indented, blanks around '='\r\n"
		"; a comment line\n"
		"[ policy ]\n"
		"on_exhausted=host\n"
		"[app   \"x\"]\n"
		"  match = comm=a;b\n";
	struct psv_conf c;
	char err[256] = "";

	CHECK_EQ(psv_conf_parse_string(text, "t.conf", &c, err, sizeof(err)),
		 0, "BOM, CRLF, indentation, comments parse (%s)", err);
	CHECK(c.ready == 7 && c.max == 9, "indented keys are keys, not "
	      "continuation lines");
	CHECK(c.on_exhausted == PSV_EXHAUSTED_HOST, "[ policy ] with blanks");
	CHECK(!strcmp(c.apps[0].value, "a;b"),
	      "';' without a blank before it is not a comment");
}

struct bad_case {
	const char *what;
	const char *text;
	const char *want;	/* the whole message */
};

static const struct bad_case bad_cases[] = {
	{ "unknown section", "[pool]\nready = 1\n\n[fast]\n",
	  "t.conf:4: unknown section [fast] (pool, policy, dataplane, dhcp, "
	  "daemon, app \"NAME\")" },
	{ "unknown key", "[pool]\nready = 1\nspeed = 3\n",
	  "t.conf:3: unknown key 'speed' in [pool]" },
	{ "key of another section", "[policy]\nready = 1\n",
	  "t.conf:2: unknown key 'ready' in [policy]" },
	{ "unknown enum value",
	  "[pool]\n\n[policy]\ndefault = flow\n\n\non_exhausted = fast\n",
	  "t.conf:7: unknown value 'fast' for policy.on_exhausted "
	  "(drop|reuse|host|link)" },
	{ "unknown ipv6 policy", "[policy]\nipv6 = yes\n",
	  "t.conf:2: unknown value 'yes' for policy.ipv6 "
	  "(virtualize|block|host)" },
	{ "unknown granularity in an app",
	  "[app \"b\"]\nmatch = uid=1\ngranularity = tab\n",
	  "t.conf:3: unknown value 'tab' for app \"b\".granularity "
	  "(flow|app|uid|host)" },
	{ "case matters in values", "[dataplane]\ningress = XDP\n",
	  "t.conf:2: unknown value 'XDP' for dataplane.ingress (auto|xdp|tc)" },
	{ "bad bool", "[dhcp]\nprobe = true\n",
	  "t.conf:2: unknown value 'true' for dhcp.probe (yes|no)" },
	{ "number with a suffix", "[pool]\nidle_retire = 5m\n",
	  "t.conf:2: bad number '5m' for pool.idle_retire" },
	{ "negative number", "[pool]\nready = -1\n",
	  "t.conf:2: bad number '-1' for pool.ready" },
	{ "number with a sign", "[pool]\nready = +1\n",
	  "t.conf:2: bad number '+1' for pool.ready" },
	{ "hex number", "[pool]\nmax = 0x10\n",
	  "t.conf:2: bad number '0x10' for pool.max" },
	{ "empty number", "[pool]\nmax =\n",
	  "t.conf:2: bad number '' for pool.max" },
	{ "number beyond 64 bits", "[pool]\nmax = 99999999999999999999999\n",
	  "t.conf:2: pool.max = 99999999999999999999999 is out of range "
	  "(1..4096)" },
	{ "number beyond 32 bits", "[pool]\nmax = 4294967296\n",
	  "t.conf:2: pool.max = 4294967296 is out of range (1..4096)" },
	{ "max above PSV_MAX_IDENTITIES", "[pool]\nmax = 4097\n",
	  "t.conf:2: pool.max = 4097 is out of range (1..4096)" },
	{ "max zero", "[pool]\nmax = 0\n",
	  "t.conf:2: pool.max = 0 is out of range (1..4096)" },
	{ "max_flows above a million", "[dataplane]\nmax_flows = 1000001\n",
	  "t.conf:2: dataplane.max_flows = 1000001 is out of range "
	  "(1024..1000000)" },
	{ "probe min above max", "[dhcp]\nprobe_max_ms = 10\nprobe_min_ms = 20\n",
	  "t.conf:3: dhcp.probe_min_ms = 20 exceeds dhcp.probe_max_ms = 10" },
	{ "retransmit below a second", "[dhcp]\nretransmit_ms = 999\n",
	  "t.conf:2: dhcp.retransmit_ms = 999 is out of range (1000..64000)" },
	{ "range with a bad address", "[pool]\nstatic = 192.0.2.1-192.0.2.256\n",
	  "t.conf:2: bad address range '192.0.2.1-192.0.2.256' for "
	  "pool.static (FIRST-LAST, unicast IPv4 addresses)" },
	{ "range with three octets", "[pool]\nstatic = 192.0.2-192.0.2.9\n",
	  "t.conf:2: bad address range '192.0.2-192.0.2.9' for pool.static "
	  "(FIRST-LAST, unicast IPv4 addresses)" },
	{ "range of multicast", "[pool]\nstatic = 224.0.0.1-224.0.0.9\n",
	  "t.conf:2: bad address range '224.0.0.1-224.0.0.9' for pool.static "
	  "(FIRST-LAST, unicast IPv4 addresses)" },
	{ "range with an empty end", "[pool]\nstatic = 192.0.2.1-\n",
	  "t.conf:2: bad address range '192.0.2.1-' for pool.static "
	  "(FIRST-LAST, unicast IPv4 addresses)" },
	{ "range backwards", "[pool]\nstatic = 192.0.2.9 - 192.0.2.8\n",
	  "t.conf:2: address range '192.0.2.9 - 192.0.2.8' for pool.static "
	  "ends before it starts" },
	{ "relative state_dir", "[daemon]\nstate_dir = var/lib/psv\n",
	  "t.conf:2: bad path 'var/lib/psv' for daemon.state_dir (an absolute "
	  "path, shorter than 256 bytes)" },
	{ "static source without a range", "[pool]\nmax = 5\nsource = static\n",
	  "t.conf:3: pool.source = static needs a pool.static address range" },
	{ "ready above max: the later line", "[pool]\nready = 50\nmax = 10\n",
	  "t.conf:3: pool.ready = 50 exceeds pool.max = 10" },
	{ "ready above the default max", "\n[pool]\nready = 65\n",
	  "t.conf:3: pool.ready = 65 exceeds pool.max = 64" },
	{ "duplicate key", "[pool]\nready = 1\n[policy]\n[pool]\nready = 2\n",
	  "t.conf:5: duplicate key pool.ready (first set on line 2)" },
	{ "duplicate app key",
	  "[app \"a\"]\nmatch = uid=1\nmatch = uid=2\n",
	  "t.conf:3: duplicate key app \"a\".match (first set on line 2)" },
	{ "duplicate app",
	  "[app \"a\"]\nmatch = uid=1\n[app \"b\"]\nmatch = uid=2\n"
	  "[app \"a\"]\n",
	  "t.conf:5: duplicate [app \"a\"] (first on line 1)" },
	{ "app without a name", "[pool]\n[app]\n",
	  "t.conf:2: bad app section name '' (want [app \"NAME\"], NAME of "
	  "1-31 letters, digits, '_', '.', '-')" },
	{ "app name unquoted", "[app browser]\n",
	  "t.conf:1: bad app section name 'browser' (want [app \"NAME\"], NAME "
	  "of 1-31 letters, digits, '_', '.', '-')" },
	{ "app name with a slash", "[app \"a/b\"]\n",
	  "t.conf:1: bad app section name '\"a/b\"' (want [app \"NAME\"], NAME "
	  "of 1-31 letters, digits, '_', '.', '-')" },
	{ "app name too long",
	  "[app \"abcdefghijklmnopqrstuvwxyz012345\"]\n",
	  "t.conf:1: bad app section name '\"abcdefghijklmnopqrstuvwxyz012345\"'"
	  " (want [app \"NAME\"], NAME of 1-31 letters, digits, '_', '.', "
	  "'-')" },
	{ "app without match",
	  "[app \"a\"]\nmatch = uid=1\n[app \"b\"]\ngranularity = flow\n",
	  "t.conf:3: [app \"b\"] has no match = key" },
	{ "match without '='", "[app \"a\"]\nmatch = firefox\n",
	  "t.conf:2: bad match 'firefox' for app \"a\".match "
	  "(comm|exe|uid|cgroup=VALUE)" },
	{ "match of an unknown kind", "[app \"a\"]\nmatch = pid=1\n",
	  "t.conf:2: bad match 'pid=1' for app \"a\".match "
	  "(comm|exe|uid|cgroup=VALUE)" },
	{ "match with an empty value", "[app \"a\"]\nmatch = comm=\n",
	  "t.conf:2: bad comm value in match 'comm=' for app \"a\".match" },
	{ "comm longer than the kernel keeps",
	  "[app \"a\"]\nmatch = comm=0123456789abcdef\n",
	  "t.conf:2: comm '0123456789abcdef' for app \"a\".match is longer "
	  "than the kernel's 15 bytes" },
	{ "uid -1", "[app \"a\"]\nmatch = uid=4294967295\n",
	  "t.conf:2: bad uid '4294967295' for app \"a\".match" },
	{ "uid not a number", "[app \"a\"]\nmatch = uid=root\n",
	  "t.conf:2: bad uid 'root' for app \"a\".match" },
	{ "relative exe", "[app \"a\"]\nmatch = exe=firefox\n",
	  "t.conf:2: exe 'firefox' for app \"a\".match is not an absolute "
	  "path" },
	{ "key before any section", "ready = 4\n[pool]\n",
	  "t.conf:1: key 'ready' before any [section]" },
	{ "line without '='", "[pool]\nready 4\n",
	  "t.conf:2: syntax error (want [section], key = value, or a ; "
	  "comment)" },
	{ "header without ']'", "[pool]\nready = 4\n[policy\n",
	  "t.conf:3: syntax error (want [section], key = value, or a ; "
	  "comment)" },
	{ "syntax error before a bad value", "[pool]\nready\nmax = x\n",
	  "t.conf:2: syntax error (want [section], key = value, or a ; "
	  "comment)" },
	{ "bad value before a syntax error", "[pool]\nmax = x\nready\n",
	  "t.conf:2: bad number 'x' for pool.max" },
	{ "text after a header", "[pool] ready = 4\n",
	  "t.conf:1: text after section header: 'ready = 4'" },
	{ "keys of a bad section are skipped, the first error stays",
	  "[nope]\nfoo = 1\n",
	  "t.conf:1: unknown section [nope] (pool, policy, dataplane, dhcp, "
	  "daemon, app \"NAME\")" },
	{ "control bytes are not echoed", "[pool]\nsource = \x1b[2J\n",
	  "t.conf:2: unknown value '?[2J' for pool.source (dhcp|static)" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct psv_conf c;
		char err[512] = "";
		int ret;

		ret = psv_conf_parse_string(b->text, "t.conf", &c, err,
					    sizeof(err));
		CHECK(ret == -1 && !strcmp(err, b->want), "rejects %s", b->what);
		if (strcmp(err, b->want))
			printf("#   got  \"%s\"\n#   want \"%s\"\n", err, b->want);
	}
}

static void test_limits(void)
{
	char *text = malloc(PSV_CONF_MAX_APPS * 40 + 1024), *p = text;
	char line[300], err[256] = "";
	struct psv_conf c;
	int i;

	for (i = 0; i < PSV_CONF_MAX_APPS; i++)
		p += sprintf(p, "[app \"a%d\"]\nmatch = uid=%d\n", i, i);
	CHECK_EQ(psv_conf_parse_string(text, "t.conf", &c, err, sizeof(err)),
		 0, "%d apps parse", PSV_CONF_MAX_APPS);
	CHECK(c.n_apps == PSV_CONF_MAX_APPS &&
	      c.apps[PSV_CONF_MAX_APPS - 1].uid == PSV_CONF_MAX_APPS - 1,
	      "... all of them, in order");
	sprintf(p, "[app \"one_more\"]\n");
	psv_conf_parse_string(text, "t.conf", &c, err, sizeof(err));
	snprintf(line, sizeof(line), "t.conf:%d: more than %d [app] sections",
		 2 * PSV_CONF_MAX_APPS + 1, PSV_CONF_MAX_APPS);
	CHECK(!strcmp(err, line), "app %d is too many: %s",
	      PSV_CONF_MAX_APPS + 1, err);

	/* libinih's line buffer is 200 bytes: 199 fit, 200 do not. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "[pool]\nready=1", 14);
	line[7 + 199] = '\0';
	CHECK_EQ(psv_conf_parse_string(line, "t.conf", &c, err, sizeof(err)),
		 0, "a 199-byte line parses (%s)", err);
	line[7 + 199] = ' ';
	line[7 + 200] = '\0';
	CHECK_EQ(psv_conf_parse_string(line, "t.conf", &c, err, sizeof(err)),
		 -1, "a 200-byte line is rejected");
	CHECK(!strcmp(err, "t.conf:2: line longer than 199 bytes"),
	      "... naming its line: %s", err);

	/* A message longer than the buffer is cut, and still terminated. */
	memset(err, 'x', sizeof(err));
	psv_conf_parse_string("[pool]\nmax = 0\n", "t.conf", &c, err, 12);
	CHECK(!strcmp(err, "t.conf:2: p"), "a short error buffer is cut: %s",
	      err);
	free(text);
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The SIGHUP reload: a bad file must not touch what the daemon runs on. */
static void test_reload(void)
{
	char path[] = "/tmp/psv-test-conf-XXXXXX", err[256] = "", want[300];
	struct psv_conf running, before, fromstr;
	static const char bad[] = "[pool]\nready = 2\nmax = 1\n";
	static const char nul[] = "[pool]\nready = 2\n[po\0ol]\n";
	int fd = mkstemp(path);

	if (fd < 0) {
		CHECK(0, "mkstemp %s", path);
		return;
	}
	close(fd);
	CHECK_EQ(write_file(path, example, strlen(example)), 0, "write %s",
		 path);
	CHECK_EQ(psv_conf_load(path, &running, err, sizeof(err)), 0,
		 "load the example from a file (%s)", err);
	psv_conf_parse_string(example, path, &fromstr, err, sizeof(err));
	CHECK(!memcmp(&running, &fromstr, sizeof(running)),
	      "a file and a string parse alike");
	before = running;

	/* The bad file sets ready and max before its cross-check fails. */
	write_file(path, bad, strlen(bad));
	CHECK_EQ(psv_conf_load(path, &running, err, sizeof(err)), -1,
		 "a reload with ready > max fails");
	snprintf(want, sizeof(want), "%s:3: pool.ready = 2 exceeds pool.max "
		 "= 1", path);
	CHECK(!strcmp(err, want), "... naming file and line: %s", err);
	CHECK(!memcmp(&running, &before, sizeof(running)),
	      "... and leaves the running config untouched");

	write_file(path, nul, sizeof(nul) - 1);
	CHECK_EQ(psv_conf_load(path, &running, err, sizeof(err)), -1,
		 "a file with a NUL byte fails");
	snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
	CHECK(!strcmp(err, want), "... at its line: %s", err);
	CHECK(!memcmp(&running, &before, sizeof(running)),
	      "... and leaves the running config untouched");

	unlink(path);
	CHECK_EQ(psv_conf_load(path, &running, err, sizeof(err)), -1,
		 "a missing file fails");
	snprintf(want, sizeof(want), "cannot open %s: No such file or "
		 "directory", path);
	CHECK(!strcmp(err, want), "... saying so: %s", err);
	CHECK(!memcmp(&running, &before, sizeof(running)),
	      "... and leaves the running config untouched");
}

static void test_names(void)
{
	CHECK(!strcmp(psv_granularity_name(PSV_GRAN_FLOW), "flow") &&
	      !strcmp(psv_granularity_name(PSV_GRAN_HOST), "host") &&
	      !strcmp(psv_granularity_name(PSV_GRAN_HOST + 1), "?"),
	      "granularity names, '?' past the end");
	CHECK(!strcmp(psv_exhausted_name(PSV_EXHAUSTED_DROP), "drop") &&
	      !strcmp(psv_exhausted_name(PSV_EXHAUSTED_HOST), "host") &&
	      !strcmp(psv_exhausted_name(PSV_EXHAUSTED_LINK), "link") &&
	      !strcmp(psv_exhausted_name(255), "?"),
	      "on_exhausted names, '?' past the end");
}

/* docs/psv.conf.example claims to show every default: hold it to that. */
static void test_doc_example(void)
{
	/* PSV_SRC_DIR: the source tree, from the Makefile. */
	const char *path = PSV_SRC_DIR "/docs/psv.conf.example";
	struct psv_conf c, d;
	char err[256] = "";

	CHECK_EQ(psv_conf_load(path, &c, err, sizeof(err)), 0,
		 "docs/psv.conf.example parses (%s)", err);
	psv_conf_defaults(&d);
	CHECK(!memcmp(&c, &d, sizeof(c)),
	      "docs/psv.conf.example shows exactly the defaults");
}

int main(void)
{
	test_names();
	test_defaults();
	test_example();
	test_every_key();
	test_whitespace();
	test_errors();
	test_limits();
	test_reload();
	test_doc_example();
	return check_exit();
}
