// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_psvctl.c - runs build/psvctl against maps this test creates, fills
 * and pins the way psvd does, on a bpffs mounted in a private mount
 * namespace (PSV_PIN_ROOT points psvctl there; everything vanishes with
 * the namespace), and against a fake psvd on a control socket
 * (PSV_CONTROL_DIR).  Checks the JSON the contract names, the tables, the
 * exit codes and the errors.
 *
 * Idle times are CLOCK_MONOTONIC minus a timestamp, and a timestamp older
 * than the clock's start cannot exist: on a machine up for less than the
 * idlest fixture (two hours), "now - 7200 s" would wrap.  So the test and
 * every psvctl it runs live in a time namespace whose CLOCK_MONOTONIC is
 * CLOCK_OFFSET_S ahead: the fixtures fit whatever the uptime.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "check.h"
#include "psv.h"

#define IFNAME "veth-t0"
#define CLOCK_OFFSET_S (30 * 86400)	/* far beyond the idlest fixture */

static char base[] = "/tmp/psvctl-test.XXXXXX";
/* Short paths under base: a socket path must fit in 108 bytes. */
static char bpffs[64], rundir[64], pindir[96], out_path[64], err_path[64];
static char psvctl[PATH_MAX];
static char out[1 << 16], err[1 << 12];

/* build/tests/test_psvctl -> build/psvctl */
static void find_psvctl(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	snprintf(psvctl, sizeof(psvctl), "%s/../psvctl", dirname(self));
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Shows a table in the test log, as comments. */
static void show(const char *text)
{
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		printf("#   %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

/* Runs psvctl ARGS; returns its exit code, fills out and err. */
static int run(const char *args)
{
	char cmd[PATH_MAX + 512];
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s >%s 2>%s", psvctl, args, out_path,
		 err_path);
	st = system(cmd);
	read_file(out_path, out, sizeof(out));
	read_file(err_path, err, sizeof(err));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct json_object *run_json(const char *args)
{
	int rc = run(args);

	CHECK_EQ(rc, 0, "psvctl %s exits 0 (%s)", args, err);
	return json_tokener_parse(out);
}

static int make_map(const char *name, enum bpf_map_type type, __u32 ksz,
		    __u32 vsz, __u32 max)
{
	char path[PATH_MAX];
	int fd = bpf_map_create(type, NULL, ksz, vsz, max, NULL);

	snprintf(path, sizeof(path), "%s/%s", pindir, name);
	if (fd < 0 || bpf_obj_pin(fd, path)) {
		printf("# create/pin %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

/*
 * Moves this process, and so every child, into a new time namespace whose
 * CLOCK_MONOTONIC reads CLOCK_OFFSET_S more.  Offsets can only be written
 * before a process lives in the namespace, and unshare() moves only the
 * children, hence the setns() (allowed: we have no threads).
 */
static int enter_old_clock(void)
{
	char offsets[64];
	int fd, len, ok;

	if (unshare(CLONE_NEWTIME)) {
		printf("# unshare(CLONE_NEWTIME): %s (CONFIG_TIME_NS?)\n",
		       strerror(errno));
		return -1;
	}
	len = snprintf(offsets, sizeof(offsets), "monotonic %d 0\n",
		       CLOCK_OFFSET_S);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, offsets, len) == len;
	if (fd >= 0)
		close(fd);
	fd = ok ? open("/proc/self/ns/time_for_children",
		       O_RDONLY | O_CLOEXEC) : -1;
	ok = fd >= 0 && !setns(fd, CLONE_NEWTIME);
	if (fd >= 0)
		close(fd);
	if (!ok)
		printf("# time namespace %+d s: %s\n", CLOCK_OFFSET_S,
		       strerror(errno));
	return ok ? 0 : -1;
}

/* A private bpffs under base, invisible outside this process tree. */
static int setup(void)
{
	char root[80];

	if (enter_old_clock() || !mkdtemp(base))
		return -1;
	snprintf(bpffs, sizeof(bpffs), "%s/bpf", base);
	snprintf(rundir, sizeof(rundir), "%s/run", base);
	snprintf(pindir, sizeof(pindir), "%s/psv/%s", bpffs, IFNAME);
	snprintf(out_path, sizeof(out_path), "%s/out", base);
	snprintf(err_path, sizeof(err_path), "%s/err", base);
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mkdir(bpffs, 0700) || mkdir(rundir, 0700) ||
	    mount("bpf", bpffs, "bpf", 0, "mode=0700")) {
		printf("# setup of %s: %s\n", base, strerror(errno));
		return -1;
	}
	snprintf(root, sizeof(root), "%s/psv", bpffs);
	if (mkdir(root, 0700) || mkdir(pindir, 0700))
		return -1;
	setenv("PSV_PIN_ROOT", root, 1);
	setenv("PSV_CONTROL_DIR", rundir, 1);
	return 0;
}

static void teardown(void)
{
	char sock[128];

	snprintf(sock, sizeof(sock), "%s/%s.sock", rundir, IFNAME);
	unlink(sock);
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	rmdir(rundir);
	unlink(out_path);
	unlink(err_path);
	rmdir(base);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __be32 ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static int ncpus;
static __u64 filled_ns;		/* when the conns' last_seen was set */

/* Value of counter i on cpu c; their sum is computed separately below. */
static __u64 stat_val(__u32 i, int c)
{
	return (__u64)(i + 1) * (c + 1);
}

/* Copies a name into a NUL-padded field, without a NUL if it fills it. */
#define SET_NAME(field, s) memcpy(field, s, strnlen(s, sizeof(field)))

#define EXE_DEV (254 << 20 | 3)	/* a kernel dev_t, major 254 minor 3 */
#define LONG_NAME "abcdefghijklmnopqrstuvwxyz012345" /* 32: no NUL left */

/* [app] sections, in slot order; slot 4 on stays unused. */
static int fill_rules(int fd)
{
	static const struct psv_app_rule rules[] = {
		{ .match = PSV_MATCH_COMM, .granularity = PSV_GRAN_APP,
		  .comm = "curl", .name = "browser" },
		{ .match = PSV_MATCH_UID, .granularity = PSV_GRAN_UID,
		  .uid = 1000, .name = "admin" },
		{ .match = PSV_MATCH_EXE, .granularity = PSV_GRAN_FLOW,
		  .dev = 8 << 20 | 1, .ino = 4242, .name = "tool" },
		{ .match = PSV_MATCH_CGROUP, .granularity = PSV_GRAN_HOST,
		  .ino = 77, .cgroup_level = 2, .name = "svc" },
	};

	for (__u32 i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (bpf_map_update_elem(fd, &i, &rules[i], BPF_ANY))
			return -1;
	return 0;
}

/*
 * Applications, not in id order: two by rule with flows (5) and without
 * (9), one by executable (2), one whose rule slot is now unused (11), one
 * whose name fills its field and whose comm holds an escape (12), one by
 * cgroup (13).  The conns name them, and app 77 that is not here.  App 13
 * was last seen 5 s ahead of psvctl's clock (as a psvctl in a time
 * namespace behind the host's would see it): idle 0, not a wrapped count.
 */
static const struct test_app {
	__u32 id, rule, dev, uid, pid;
	__u64 ino, sockets;
	__s64 open, idle_s;
	__u8 gran;
	const char *name, *comm;
} apps[] = {
	{ .id = 5, .rule = 1, .uid = 1000, .pid = 300, .sockets = 7,
	  .open = 2, .idle_s = 12, .gran = PSV_GRAN_APP, .name = "browser",
	  .comm = "curl" },
	{ .id = 12, .rule = 3, .uid = 0, .pid = 1, .sockets = 1, .idle_s = 3,
	  .gran = PSV_GRAN_FLOW, .name = LONG_NAME, .comm = "\x1b[31mevil" },
	{ .id = 2, .dev = EXE_DEV, .ino = 123456, .uid = 1001, .pid = 400,
	  .sockets = 3, .idle_s = 100, .gran = PSV_GRAN_FLOW,
	  .name = "python3", .comm = "python3" },
	{ .id = 9, .rule = 2, .uid = 1000, .pid = 500, .sockets = 1,
	  .open = 1, .idle_s = 7200, .gran = PSV_GRAN_UID, .name = "admin",
	  .comm = "ssh" },
	{ .id = 11, .rule = 40, .uid = 7, .pid = 600, .sockets = 2,
	  .idle_s = 1, .gran = PSV_GRAN_APP, .name = "old", .comm = "old" },
	{ .id = 13, .rule = 4, .uid = 0, .pid = 700, .sockets = 4,
	  .open = 4, .idle_s = -5, .gran = PSV_GRAN_HOST, .name = "svc",
	  .comm = "svcd" },
};
#define N_APPS (sizeof(apps) / sizeof(apps[0]))

static int fill_apps(int fd, __u64 now)
{
	for (size_t i = 0; i < N_APPS; i++) {
		struct psv_app_key k = {
			.ino = apps[i].ino, .dev = apps[i].dev,
			.rule = apps[i].rule,
		};
		struct psv_app v = {
			.id = apps[i].id, .uid = apps[i].uid,
			.pid = apps[i].pid, .granularity = apps[i].gran,
			.sockets = apps[i].sockets, .open = apps[i].open,
			.last_ns = now - apps[i].idle_s * 1000000000LL,
		};

		SET_NAME(v.name, apps[i].name);
		SET_NAME(v.comm, apps[i].comm);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -1;
	}
	return 0;
}

static int fill_maps(void)
{
	static const struct {
		const char *ip;
		__u32 id;
		__u8 state;
	} ids[] = {
		{ "192.0.2.150", 7, PSV_ID_READY },
		{ "192.0.2.151", 3, PSV_ID_ACTIVE },
		{ "192.0.2.152", 9, PSV_ID_IDLE },
	};
	static const struct {
		__u8 proto;
		const char *raddr;
		__u16 lport, rport;
		const char *vip;
		__u8 tcp_state;
		__u64 idle_s;
		__u32 app;
	} conns[] = {
		{ IPPROTO_TCP, "198.51.100.10", 40001, 80, "192.0.2.151",
		  PSV_TCP_ESTABLISHED, 5, 5 },
		{ IPPROTO_TCP, "198.51.100.10", 40000, 80, "192.0.2.151",
		  PSV_TCP_SYN_SENT, 0, 5 },
		{ IPPROTO_UDP, "198.51.100.53", 5353, 53, "192.0.2.151",
		  PSV_TCP_NONE, 100, 2 },
		{ IPPROTO_ICMP, "198.51.100.20", 77, 0, "192.0.2.152",
		  PSV_TCP_NONE, 30, 5 },
		/* Their identity was retired and deleted already. */
		{ IPPROTO_UDP, "203.0.113.9", 999, 123, "192.0.2.199",
		  PSV_TCP_NONE, 1, 0 },
		{ IPPROTO_TCP, "203.0.113.9", 41000, 443, "192.0.2.199",
		  PSV_TCP_ESTABLISHED, 1, 77 },
	};
	struct psv_config cfg = {
		.host_mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee },
		.on_exhausted = PSV_EXHAUSTED_HOST,
		.granularity = PSV_GRAN_APP,
		.enabled = 1,
	};
	int fid, fconn, fgrp, fstat, fcfg, fapp, frule, faddr6, fconn6;
	__u64 now = mono_ns(), *vals;
	__u32 zero = 0;
	/* Identity 3's addresses: one in use, one more, one in DAD. */
	struct psv_addr6 a6[3];
	struct psv_addr6_owner o6 = { .vip = ip("192.0.2.151"), .dad_done = 1 };
	struct psv_conn6_key k6 = { .lport = htons(42000), .rport = htons(443),
				    .proto = IPPROTO_TCP };
	struct psv_conn6 c6 = { .conn = { .vip = ip("192.0.2.152"),
					  .tcp_state = PSV_TCP_ESTABLISHED,
					  .last_seen_ns = now } };

	filled_ns = now;
	fid = make_map("psv_identities", BPF_MAP_TYPE_HASH, 4,
		       sizeof(struct psv_identity), 64);
	fconn = make_map("psv_conns", BPF_MAP_TYPE_HASH,
			 sizeof(struct psv_conn_key), sizeof(struct psv_conn),
			 64);
	fgrp = make_map("psv_groups", BPF_MAP_TYPE_HASH,
			sizeof(struct psv_group_key), sizeof(struct psv_group),
			64);
	fstat = make_map("psv_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8,
			 PSV_STAT_MAX);
	fcfg = make_map("psv_config", BPF_MAP_TYPE_ARRAY, 4, sizeof(cfg), 1);
	fapp = make_map("psv_apps", BPF_MAP_TYPE_HASH,
			sizeof(struct psv_app_key), sizeof(struct psv_app), 64);
	frule = make_map("psv_app_rules", BPF_MAP_TYPE_ARRAY, 4,
			 sizeof(struct psv_app_rule), PSV_MAX_APP_RULES);
	faddr6 = make_map("psv_addrs6", BPF_MAP_TYPE_HASH,
			  sizeof(struct psv_addr6),
			  sizeof(struct psv_addr6_owner), 64);
	fconn6 = make_map("psv_conns6", BPF_MAP_TYPE_HASH,
			  sizeof(struct psv_conn6_key), sizeof(struct psv_conn6),
			  64);
	if (fid < 0 || fconn < 0 || fgrp < 0 || fstat < 0 || fcfg < 0 ||
	    fapp < 0 || frule < 0 || faddr6 < 0 || fconn6 < 0 ||
	    fill_apps(fapp, now) || fill_rules(frule))
		return -1;
	inet_pton(AF_INET6, "2001:db8:1:0:1111:2222:3333:4444", &a6[0]);
	inet_pton(AF_INET6, "2001:db8:2:0:5555:6666:7777:8888", &a6[1]);
	inet_pton(AF_INET6, "2001:db8:1:0:9999:aaaa:bbbb:cccc", &a6[2]);
	inet_pton(AF_INET6, "2001:db8:99::1", &k6.raddr);
	for (int i = 0; i < 3; i++) {
		o6.dad_done = i < 2;
		if (bpf_map_update_elem(faddr6, &a6[i], &o6, BPF_ANY))
			return -1;
	}
	if (bpf_map_update_elem(fconn6, &k6, &c6, BPF_ANY))
		return -1;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct psv_identity v = {
			.mac = { 0x02, 0, 0, 0, 0, ids[i].id },
			.state = ids[i].state,
			.id = ids[i].id,
		};
		__be32 k = ip(ids[i].ip);

		if (ids[i].id == 3)
			v.ip6 = a6[1];
		if (bpf_map_update_elem(fid, &k, &v, BPF_ANY))
			return -1;
	}
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		struct psv_conn_key k = {
			.raddr = ip(conns[i].raddr),
			.lport = htons(conns[i].lport),
			.rport = htons(conns[i].rport),
			.proto = conns[i].proto,
		};
		struct psv_conn v = {
			.vip = ip(conns[i].vip),
			.app = conns[i].app,
			.tcp_state = conns[i].tcp_state,
			.last_seen_ns = now - conns[i].idle_s * 1000000000ULL,
		};

		if (bpf_map_update_elem(fconn, &k, &v, BPF_ANY))
			return -1;
	}
	for (__u32 i = 0; i < 2; i++) {
		struct psv_group_key k = { .daddr = i + 1, .proto = 6 };
		struct psv_group v = { .vip = ip("192.0.2.151") };

		if (bpf_map_update_elem(fgrp, &k, &v, BPF_ANY))
			return -1;
	}
	vals = calloc(ncpus, sizeof(*vals));
	for (__u32 i = 0; vals && i < PSV_STAT_MAX; i++) {
		for (int c = 0; c < ncpus; c++)
			vals[c] = stat_val(i, c);
		if (bpf_map_update_elem(fstat, &i, vals, BPF_ANY))
			return -1;
	}
	free(vals);
	cfg.host_ip = ip("192.0.2.10");
	if (bpf_map_update_elem(fcfg, &zero, &cfg, BPF_ANY))
		return -1;
	close(fid);
	close(fconn);
	close(fgrp);
	close(fstat);
	close(fcfg);
	close(fapp);
	close(frule);
	close(faddr6);
	close(fconn6);
	return 0;
}

/* The fake psvd: answers one client with reply (NULL: never), then exits. */
static pid_t fake_psvd(const char *reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[64];
	pid_t pid;
	int lfd, fd;
	ssize_t n;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", rundir,
		 IFNAME);
	unlink(sun.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(lfd, 1))
		return -1;
	pid = fork();
	if (pid) {
		close(lfd);
		return pid;
	}
	alarm(10);
	fd = accept(lfd, NULL, NULL);
	n = fd < 0 ? -1 : read(fd, line, sizeof(line) - 1);
	/* Exit code 3: the client did not say "leases\n". */
	if (n != 7 || memcmp(line, "leases\n", 7))
		_exit(3);
	if (!reply) {
		sleep(4);
		_exit(0);
	}
	if (write(fd, reply, strlen(reply)) != (ssize_t)strlen(reply))
		_exit(4);
	_exit(0);
}

static int reap(pid_t pid)
{
	int st;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "(not a string)";
}

static long long num(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_int) ?
	       json_object_get_int64(v) : -12345;
}

/* Whether o has key with the value null (not absent). */
static bool is_null(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL) && !get(o, key);
}

static void test_identities(void)
{
	static const char reply[] =
		"{\"pid\": 4242, \"started\": 1764050000, \"source\": \"dhcp\","
		" \"leases\": [{\"ipv4\": \"192.0.2.151\", \"lease_expires\": "
		"1764060000, \"server\": \"192.0.2.1\"}, {\"ipv4\": "
		"\"192.0.2.150\", \"lease_expires\": null, \"server\": null}]}\n";
	struct json_object *arr, *o;
	pid_t pid;

	arr = run_json("--iface " IFNAME " identities --json");
	CHECK(json_object_is_type(arr, json_type_array) &&
	      json_object_array_length(arr) == 3,
	      "identities --json: a list of 3");
	if (json_object_array_length(arr) != 3)
		return;
	CHECK(num(json_object_array_get_idx(arr, 0), "id") == 3 &&
	      num(json_object_array_get_idx(arr, 1), "id") == 7 &&
	      num(json_object_array_get_idx(arr, 2), "id") == 9,
	      "identities sorted by id");
	o = json_object_array_get_idx(arr, 0);
	CHECK(!strcmp(str(o, "mac"), "02:00:00:00:00:03") &&
	      !strcmp(str(o, "ipv4"), "192.0.2.151") &&
	      !strcmp(str(o, "state"), "active"),
	      "identity 3: mac, ipv4, state active");
	CHECK_EQ(num(o, "flows"), 3, "identity 3 carries 3 flows");
	CHECK_EQ(num(json_object_array_get_idx(arr, 1), "flows"), 0,
		 "identity 7 carries none");
	CHECK(json_object_array_length(get(o, "ipv6")) == 2 &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(
		      get(o, "ipv6"), 0)), "2001:db8:2:0:5555:6666:7777:8888") &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(
		      get(o, "ipv6"), 1)), "2001:db8:1:0:1111:2222:3333:4444"),
	      "identity 3: its two IPv6 addresses, the one in use first, "
	      "not the one in DAD");
	CHECK(json_object_is_type(get(json_object_array_get_idx(arr, 1), "ipv6"),
				  json_type_array) &&
	      !json_object_array_length(get(json_object_array_get_idx(arr, 1),
					    "ipv6")),
	      "identity 7: ipv6 is an empty list");
	CHECK(!strcmp(str(json_object_array_get_idx(arr, 1), "state"), "ready") &&
	      !strcmp(str(json_object_array_get_idx(arr, 2), "state"), "idle"),
	      "states ready and idle");
	CHECK(is_null(o, "lease_expires"), "lease_expires null without psvd");
	CHECK(strstr(err, "psvd does not answer") != NULL,
	      "a note says psvd does not answer: %s", err);
	json_object_put(arr);

	pid = fake_psvd(reply);
	arr = run_json("identities --json");
	CHECK_EQ(reap(pid), 0, "psvctl asked the fake psvd for \"leases\"");
	o = json_object_array_get_idx(arr, 0);
	CHECK_EQ(num(o, "lease_expires"), 1764060000,
		 "lease_expires merged from psvd by ipv4");
	CHECK(is_null(json_object_array_get_idx(arr, 1), "lease_expires") &&
	      is_null(json_object_array_get_idx(arr, 2), "lease_expires"),
	      "null when psvd says null or nothing");
	json_object_put(arr);

	pid = fake_psvd("{\"pid\": 1, \"leases\": [{\"ipv4\": \"1.2.3\"}]}");
	arr = run_json("identities --json");
	reap(pid);
	CHECK(strstr(err, "malformed reply") &&
	      is_null(json_object_array_get_idx(arr, 0), "lease_expires"),
	      "a malformed reply is reported and ignored: %s", err);
	json_object_put(arr);

	pid = fake_psvd(NULL);
	arr = run_json("identities --json");
	CHECK(strstr(err, "no answer within 2 s") &&
	      json_object_array_length(arr) == 3,
	      "a psvd that does not answer is given up on: %s", err);
	reap(pid);
	json_object_put(arr);
}

static void test_flows(void)
{
	struct json_object *arr, *o;
	long long idle;
	static const char *const fields[] = {
		"proto", "local_port", "remote_ip", "remote_port", "identity",
		"mac", "ipv4", "app", "state", "idle_seconds",
	};
	bool all = true;

	arr = run_json("flows --json");
	CHECK_EQ(json_object_array_length(arr), 7, "flows --json: 7 flows");
	if (json_object_array_length(arr) != 7)
		return;
	for (size_t i = 0; i < 7; i++)
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			all &= json_object_object_get_ex(
				json_object_array_get_idx(arr, i), fields[f],
				NULL);
	CHECK(all, "every flow has every field");
	/* Sorted by identity, proto, remote, local port. */
	o = json_object_array_get_idx(arr, 0);
	CHECK(!strcmp(str(o, "proto"), "tcp") && num(o, "local_port") == 40000 &&
	      !strcmp(str(o, "remote_ip"), "198.51.100.10") &&
	      num(o, "remote_port") == 80 && num(o, "identity") == 3 &&
	      !strcmp(str(o, "mac"), "02:00:00:00:00:03") &&
	      !strcmp(str(o, "ipv4"), "192.0.2.151") &&
	      !strcmp(str(o, "state"), "syn_sent"),
	      "first flow: tcp 40000 -> 198.51.100.10:80 on identity 3");
	CHECK(!strcmp(str(o, "app"), "browser"),
	      "first flow: app browser (matched by a rule): %s", str(o, "app"));
	/* Seen 5 s before filled_ns; psvctl looked between then and now. */
	idle = 5 + (mono_ns() - filled_ns) / 1000000000;
	o = json_object_array_get_idx(arr, 1);
	CHECK(num(o, "local_port") == 40001 &&
	      !strcmp(str(o, "state"), "established") &&
	      num(o, "idle_seconds") >= idle - 1 && num(o, "idle_seconds") <= idle,
	      "second: established, idle %lld s (got %lld)", idle,
	      num(o, "idle_seconds"));
	o = json_object_array_get_idx(arr, 2);
	CHECK(!strcmp(str(o, "proto"), "udp") && is_null(o, "state") &&
	      num(o, "remote_port") == 53, "third: udp to port 53, no state");
	CHECK(!strcmp(str(o, "app"), "python3"),
	      "third: app python3 (by executable)");
	o = json_object_array_get_idx(arr, 3);
	CHECK(!strcmp(str(o, "proto"), "icmp") && num(o, "identity") == 9 &&
	      num(o, "local_port") == 77, "fourth: icmp echo id 77, identity 9");
	o = json_object_array_get_idx(arr, 4);
	CHECK(!strcmp(str(o, "proto"), "tcp") && num(o, "identity") == 9 &&
	      !strcmp(str(o, "remote_ip"), "2001:db8:99::1") &&
	      num(o, "remote_port") == 443 && num(o, "local_port") == 42000,
	      "fifth: an IPv6 flow of identity 9 (psv_conns6), after its IPv4 one");
	o = json_object_array_get_idx(arr, 5);
	CHECK(is_null(o, "identity") && is_null(o, "mac") &&
	      !strcmp(str(o, "ipv4"), "192.0.2.199"),
	      "a flow whose identity is gone: identity and mac null");
	CHECK(num(o, "local_port") == 41000 && is_null(o, "app"),
	      "sixth: app null for an app id not in psv_apps");
	o = json_object_array_get_idx(arr, 6);
	CHECK(num(o, "local_port") == 999 && is_null(o, "app"),
	      "seventh: app null for app 0 (unattributed)");
	json_object_put(arr);
}

/* Whether o[key] is the string want, or null if want is NULL. */
static bool str_is(struct json_object *o, const char *key, const char *want)
{
	return want ? !strcmp(str(o, key), want) : is_null(o, key);
}

/* What apps --json says of each app of fill_apps, in id order. */
static const struct {
	long long id, uid, pid, sockets, open, flows, idle_s;
	const char *name, *rule, *match, *exe, *gran, *comm;
	const char *ids[2];
} want_apps[] = {
	{ 2, 1001, 400, 3, 0, 1, 100, "python3", NULL, NULL, "254:3:123456",
	  "flow", "python3", { "192.0.2.151" } },
	{ 5, 1000, 300, 7, 2, 3, 12, "browser", "browser", "comm=curl", NULL,
	  "app", "curl", { "192.0.2.151", "192.0.2.152" } },
	{ 9, 1000, 500, 1, 1, 0, 7200, "admin", "admin", "uid=1000", NULL,
	  "uid", "ssh", { NULL } },
	{ 11, 7, 600, 2, 0, 0, 1, "old", NULL, NULL, NULL, "app", "old",
	  { NULL } },
	{ 12, 0, 1, 1, 0, 0, 3, LONG_NAME, "tool", "exe=8:1:4242", NULL,
	  "flow", "?[31mevil", { NULL } },
	{ 13, 0, 700, 4, 4, 0, 0, "svc", "svc", "cgroup=77", NULL, "host",
	  "svcd", { NULL } },
};
#define N_WANT_APPS (sizeof(want_apps) / sizeof(want_apps[0]))

/* Whether arr is exactly the list of strings want (NULL-terminated). */
static bool strings_are(struct json_object *arr, const char *const *want,
			size_t max)
{
	size_t n = 0;

	while (n < max && want[n])
		n++;
	if (!json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_object_get_string(
				   json_object_array_get_idx(arr, i)), want[i]))
			return false;
	return true;
}

static void test_apps(void)
{
	struct json_object *arr = run_json("apps --json"), *o;
	long long late = (mono_ns() - filled_ns) / 1000000000;

	CHECK_EQ(json_object_array_length(arr), N_WANT_APPS,
		 "apps --json: one object per psv_apps entry");
	if (json_object_array_length(arr) != N_WANT_APPS)
		return;
	for (size_t i = 0; i < N_WANT_APPS; i++) {
		o = json_object_array_get_idx(arr, i);
		CHECK(num(o, "id") == want_apps[i].id &&
		      str_is(o, "name", want_apps[i].name) &&
		      str_is(o, "rule", want_apps[i].rule) &&
		      str_is(o, "match", want_apps[i].match) &&
		      str_is(o, "exe", want_apps[i].exe),
		      "app #%zu: id %lld, its name, rule, match and exe", i,
		      want_apps[i].id);
		CHECK(str_is(o, "granularity", want_apps[i].gran) &&
		      num(o, "uid") == want_apps[i].uid &&
		      num(o, "pid") == want_apps[i].pid &&
		      str_is(o, "comm", want_apps[i].comm) &&
		      num(o, "sockets") == want_apps[i].sockets &&
		      num(o, "open_sockets") == want_apps[i].open,
		      "app %lld: granularity, uid, pid, comm, sockets, open",
		      want_apps[i].id);
		CHECK(num(o, "flows") == want_apps[i].flows &&
		      strings_are(get(o, "identities"), want_apps[i].ids, 2),
		      "app %lld: %lld flows, its distinct identities: %s",
		      want_apps[i].id, want_apps[i].flows,
		      json_object_get_string(get(o, "identities")));
		CHECK(num(o, "idle_seconds") >= want_apps[i].idle_s &&
		      num(o, "idle_seconds") <= want_apps[i].idle_s + late,
		      "app %lld: idle %lld s (got %lld)", want_apps[i].id,
		      want_apps[i].idle_s, num(o, "idle_seconds"));
	}
	json_object_put(arr);
}

/* The table: sorted by id, the NAME column aligned, nothing unprintable. */
static void test_apps_table(void)
{
	const char *line, *hdr;
	size_t col, row = 0;
	bool aligned = true;

	CHECK_EQ(run("apps"), 0, "apps (table) exits 0");
	show(out);
	hdr = strstr(out, "NAME");
	CHECK(!strncmp(out, "ID ", 3) && hdr && strstr(out, "IDENTITIES"),
	      "header ID NAME ... IDENTITIES");
	if (!hdr)
		return;
	col = hdr - out;
	for (line = strchr(out, '\n'); line; line = strchr(line, '\n')) {
		line++;
		aligned &= row < N_WANT_APPS && strlen(line) > col &&
			   !strncmp(line + col, want_apps[row].name,
				    strlen(want_apps[row].name));
		row++;
	}
	CHECK(row == N_WANT_APPS && aligned,
	      "%zu rows in id order, NAME column aligned", N_WANT_APPS);
	CHECK(strstr(out, " 192.0.2.151 +1 ") && strstr(out, " comm=curl "),
	      "identities as the first and +N more; the rule's match");
	CHECK(!strchr(out, '\x1b') && strstr(out, " ?[31mevil "),
	      "an escape in a comm is shown as ?");
	CHECK(strstr(out, " 2h00m\n") != NULL, "an app idle two hours: 2h00m");
}

/* A psv_apps pin missing, then empty. */
static void test_apps_pin(void)
{
	char path[PATH_MAX], aside[PATH_MAX];
	struct json_object *arr;
	int fd;

	snprintf(path, sizeof(path), "%s/psv_apps", pindir);
	snprintf(aside, sizeof(aside), "%s/psv_apps_aside", pindir);
	CHECK(!rename(path, aside), "move the psv_apps pin aside");
	CHECK_EQ(run("apps"), 1, "apps without psv_apps: exit 1");
	CHECK(strstr(err, "/psv/" IFNAME "/psv_apps: No such file or "
		     "directory - is psvd running on " IFNAME "?") && !out[0],
	      "... naming the pin and asking about psvd: %s", err);

	fd = make_map("psv_apps", BPF_MAP_TYPE_HASH,
		      sizeof(struct psv_app_key), sizeof(struct psv_app), 64);
	arr = run_json("apps --json");
	CHECK(json_object_is_type(arr, json_type_array) &&
	      !json_object_array_length(arr), "no apps: --json prints []");
	json_object_put(arr);
	CHECK_EQ(run("apps"), 0, "no apps: the table exits 0");
	CHECK(!strncmp(out, "ID ", 3) && !strchr(out, '\n'),
	      "no apps: the table is its header only: %s", out);
	close(fd);
	CHECK(!unlink(path) && !rename(aside, path), "put psv_apps back");
}

#define STAT_NAME(id, name) name,
static const char *const stat_names[] = { PSV_STATS(STAT_NAME) };
#undef STAT_NAME

static void test_stats(void)
{
	struct json_object *o = run_json("stats --json");
	bool all = true;

	CHECK_EQ(json_object_object_length(o), PSV_STAT_MAX,
		 "stats --json: one value per counter");
	for (__u32 i = 0; i < PSV_STAT_MAX; i++) {
		/* sum over c of (i+1)(c+1) = (i+1) n(n+1)/2 */
		long long want = (long long)(i + 1) * ncpus * (ncpus + 1) / 2;

		if (num(o, stat_names[i]) != want) {
			printf("#   %s = %lld, want %lld\n", stat_names[i],
			       num(o, stat_names[i]), want);
			all = false;
		}
	}
	CHECK(all, "every counter is the sum over %d CPUs", ncpus);
	json_object_put(o);

	CHECK_EQ(run("stats"), 0, "stats (table) exits 0");
	show(out);
	CHECK(!strncmp(out, "COUNTER", 7) && strstr(out, "\negress_translated "),
	      "stats table has a header and the counters");
}

/* Pins a do-nothing program as prog_NAME, as psvd pins its programs. */
static int pin_prog(const char *name)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char path[PATH_MAX];
	int fd, ret;

	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2,
			   NULL);
	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", pindir, name);
	ret = bpf_obj_pin(fd, path);
	close(fd);
	return ret;
}

/* psvd's reply with its supply (psvctl status). */
static const char supply_reply[] =
	"{\"pid\": 4242, \"started\": 1764050000, \"source\": \"dhcp\","
	" \"leases\": [], \"supply\": {\"ready_target\": 14, "
	"\"ready_floor\": 8, \"demand_per_s\": 0.5, \"leases_held\": 20, "
	"\"lease_budget\": 64, \"leases_acquired_last_hour\": 30, "
	"\"leases_released_last_hour\": 10}, \"tables\": {\"connections\": "
	"100000, \"groups\": 12, \"host_connections\": 3, \"apps\": 5, "
	"\"counted\": 1764050100}}";

static void test_status(void)
{
	/* The counter as the fake maps hold it, summed over the CPUs. */
	long long linked = (long long)(PSV_STAT_LINKED_BY_EXHAUSTION + 1) *
			   ncpus * (ncpus + 1) / 2;
	struct json_object *o, *ids, *p;
	char want[128];
	pid_t pid;

	CHECK(!pin_prog("prog_egress") && !pin_prog("prog_ingress_tc"),
	      "pin two programs");
	o = run_json("status --json");
	ids = get(o, "identities");
	CHECK(!strcmp(str(o, "interface"), IFNAME), "status: interface");
	CHECK(num(ids, "total") == 3 && num(ids, "ready") == 1 &&
	      num(ids, "active") == 1 && num(ids, "idle") == 1 &&
	      num(ids, "acquiring") == 0 && num(ids, "retired") == 0,
	      "status: identities by state");
	CHECK(!get(o, "flows") && !get(o, "groups") && !get(o, "apps"),
	      "status: flows, groups and apps unknown: psvd counts them, "
	      "and does not answer");
	CHECK(!strcmp(str(o, "granularity"), "app") &&
	      !strcmp(str(o, "on_exhausted"), "host") &&
	      !strcmp(str(o, "host_ip"), "192.0.2.10") &&
	      !strcmp(str(o, "host_mac"), "02:aa:bb:cc:dd:ee") &&
	      json_object_get_boolean(get(o, "enabled")),
	      "status: the dataplane's config");
	p = get(o, "psvd");
	CHECK(!json_object_get_boolean(get(p, "running")) &&
	      strstr(str(p, "error"), IFNAME ".sock"),
	      "status: psvd not running, and why: %s", str(p, "error"));
	p = get(o, "programs");
	CHECK(json_object_array_length(p) == 2 &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(p, 0)),
		      "prog_egress") &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(p, 1)),
		      "prog_ingress_tc"), "status: the pinned programs, sorted");
	json_object_put(o);

	pid = fake_psvd("{\"pid\": 4242, \"started\": 1764050000, "
			"\"source\": \"static\", \"leases\": []}");
	o = run_json("status --json");
	reap(pid);
	p = get(o, "psvd");
	CHECK(json_object_get_boolean(get(p, "running")) &&
	      num(p, "pid") == 4242 && !strcmp(str(p, "source"), "static"),
	      "status: psvd running, pid 4242, static source");
	json_object_put(o);

	/* psvd's IPv6 view passes through, and the table says it. */
	pid = fake_psvd("{\"pid\": 4242, \"started\": 1764050000, "
			"\"source\": \"dhcp\", \"leases\": [], \"ipv6\": "
			"{\"policy\": \"virtualize\", \"router_seen\": true, "
			"\"dhcpv6_only\": false, \"addresses\": 2, "
			"\"addresses_in_dad\": 1, \"prefixes\": [{\"prefix\": "
			"\"2001:db8:1::/64\", \"slaac\": true, \"onlink\": true, "
			"\"valid_s\": 3600, \"preferred_s\": null}]}}");
	o = run_json("status --json");
	reap(pid);
	p = get(get(o, "psvd"), "ipv6");
	CHECK(p && num(p, "addresses") == 2 && num(p, "addresses_in_dad") == 1 &&
	      !strcmp(str(json_object_array_get_idx(get(p, "prefixes"), 0),
			  "prefix"), "2001:db8:1::/64"),
	      "status: psvd.ipv6 with addresses and prefixes");
	json_object_put(o);
	pid = fake_psvd("{\"pid\": 4242, \"started\": 1764050000, "
			"\"source\": \"dhcp\", \"leases\": [], \"ipv6\": "
			"{\"policy\": \"virtualize\", \"router_seen\": true, "
			"\"dhcpv6_only\": true, \"addresses\": 0, "
			"\"addresses_in_dad\": 0, \"prefixes\": []}}");
	CHECK_EQ(run("status"), 0, "status (table), DHCPv6-only network");
	reap(pid);
	CHECK(strstr(out, "IPv6        blocked: this network offers addresses "
		     "over DHCPv6 only") != NULL,
	      "status table: IPv6 blocked on a DHCPv6-only network");

	CHECK_EQ(run("status"), 0, "status (table) exits 0");
	show(out);
	CHECK(strstr(out, "identities  3 (acquiring 0, ready 1, active 1, "
		     "idle 1, retired 0)") != NULL,
	      "status table counts identities");
	CHECK(strstr(out, "programs    prog_egress prog_ingress_tc\n") != NULL,
	      "status table lists the programs");
	CHECK(strstr(out, "\napps        unknown (psvd counts them; it does "
		     "not answer)") != NULL,
	      "status table: apps unknown without psvd");
	snprintf(want, sizeof(want), "\nlinked      %lld new groups joined an "
		 "identity in use (linked_by_exhaustion)", linked);
	CHECK(strstr(out, want) != NULL,
	      "status table shows linked_by_exhaustion");

	pid = fake_psvd(supply_reply);
	o = run_json("status --json");
	reap(pid);
	p = get(get(o, "psvd"), "supply");
	CHECK(num(p, "ready_target") == 14 && num(p, "lease_budget") == 64 &&
	      num(p, "leases_released_last_hour") == 10,
	      "status --json: psvd's supply as it said");
	CHECK(num(o, "flows") == 100000 && num(o, "groups") == 12 &&
	      num(o, "apps") == 5 &&
	      num(get(get(o, "psvd"), "tables"), "counted") == 1764050100,
	      "status --json: flows, groups and apps as psvd counted them");
	CHECK_EQ(num(o, "linked_by_exhaustion"), linked,
		 "status --json: linked_by_exhaustion from the counters");
	json_object_put(o);
	pid = fake_psvd(supply_reply);
	CHECK_EQ(run("status"), 0, "status (table) with psvd's supply exits 0");
	reap(pid);
	show(out);
	CHECK(strstr(out, "supply      ready target 14 (floor 8), demand "
		     "0.50/s\n") != NULL, "status table: the ready target");
	CHECK(strstr(out, "leases      20 held of 64; last hour 30 acquired, "
		     "10 released\n") != NULL, "status table: the leases");
	CHECK(strstr(out, "\nflows       100000\n") != NULL,
	      "status table: the flows psvd counted");
}

/* In an aligned table every header starts where its column starts. */
static void test_tables(void)
{
	const char *line, *hdr_ipv4;
	size_t col;
	int rows = 0;
	bool aligned = true;

	CHECK_EQ(run("identities"), 0, "identities (table) exits 0");
	show(out);
	hdr_ipv4 = strstr(out, "IPV4");
	CHECK(!strncmp(out, "ID ", 3) && hdr_ipv4, "header ID ... IPV4");
	if (!hdr_ipv4)
		return;
	col = hdr_ipv4 - out;
	for (line = strchr(out, '\n'); line && line[1]; line = strchr(line, '\n')) {
		line++;
		rows++;
		aligned &= strlen(line) > col && !strncmp(line + col, "192.0.2.", 8);
	}
	CHECK(rows == 3 && aligned, "3 rows, IPv4 column aligned");
	CHECK(strstr(out, "active") && strstr(out, " -\n"),
	      "state names; a missing lease shows as -");

	CHECK_EQ(run("flows"), 0, "flows (table) exits 0");
	show(out);
	rows = 0;
	for (line = out; (line = strchr(line, '\n')); line++)
		rows++;
	CHECK(!strncmp(out, "PROTO", 5) && rows == 7,
	      "flows table: a header and 7 rows");
	CHECK(strstr(out, " browser\n") && strstr(out, " python3\n") &&
	      strstr(out, " -\n"), "flows table: an APP column, - for none");
}

static void test_errors(void)
{
	char path[PATH_MAX];
	int fd;

	CHECK_EQ(run("--iface nope status"), 1, "unknown interface: exit 1");
	CHECK(strstr(err, "/psv/nope/psv_identities: No such file or "
		     "directory - is psvd running on nope?") != NULL,
	      "... naming the pin and asking about psvd: %s", err);
	CHECK_EQ(run("identities --json --bogus"), 2, "unknown option: exit 2");
	CHECK_EQ(run("reboot"), 2, "unknown command: exit 2");
	CHECK(strstr(err, "unknown command 'reboot'") && strstr(err, "usage:"),
	      "... with a usage message");
	CHECK_EQ(run("status flows"), 2, "two commands: exit 2");
	CHECK_EQ(run(""), 2, "no command: exit 2");
	CHECK_EQ(run("--iface ../x status"), 2, "a path as interface: exit 2");
	CHECK_EQ(run("--help"), 0, "--help: exit 0");
	CHECK(!strncmp(out, "usage: psvctl", 13), "--help prints usage");

	/* A second interface whose psv_conns has another layout. */
	snprintf(path, sizeof(path), "%s/psv/eth9", bpffs);
	mkdir(path, 0700);
	CHECK_EQ(run("flows"), 1, "two interfaces, no --iface: exit 1");
	CHECK(strstr(err, "choose one with --iface: eth9 " IFNAME) != NULL,
	      "... listing them: %s", err);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 4, 4, NULL);
	snprintf(path, sizeof(path), "%s/psv/eth9/psv_identities", bpffs);
	CHECK(fd >= 0 && !bpf_obj_pin(fd, path), "pin a foreign map");
	CHECK_EQ(run("--iface eth9 identities"), 1,
		 "a map of another layout: exit 1");
	CHECK(strstr(err, "different versions") != NULL,
	      "... saying the versions differ: %s", err);
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/psv/eth9", bpffs);
	rmdir(path);
}

int main(void)
{
	find_psvctl();
	if (access(psvctl, X_OK)) {
		CHECK(0, "%s exists (make build/psvctl)", psvctl);
		return check_exit();
	}
	ncpus = libbpf_num_possible_cpus();
	if (setup() || fill_maps()) {
		CHECK(0, "set up pinned maps on a private bpffs in %s", base);
		teardown();
		return check_exit();
	}
	test_identities();
	test_flows();
	test_apps();
	test_apps_table();
	test_stats();
	test_status();
	test_tables();
	test_apps_pin();
	test_errors();
	teardown();
	return check_exit();
}
