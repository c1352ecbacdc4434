// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_psvctl.c - runs build/psvctl against maps this test creates, fills
 * and pins the way psvd does, on a bpffs mounted in a private mount
 * namespace (PSV_PIN_ROOT points psvctl there; everything vanishes with
 * the namespace), and against a fake psvd on a control socket
 * (PSV_CONTROL_DIR).  Checks the JSON the contract names, the tables, the
 * exit codes and the errors.
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

/* A private bpffs under base, invisible outside this process tree. */
static int setup(void)
{
	char root[80];

	if (!mkdtemp(base))
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
	} conns[] = {
		{ IPPROTO_TCP, "198.51.100.10", 40001, 80, "192.0.2.151",
		  PSV_TCP_ESTABLISHED, 5 },
		{ IPPROTO_TCP, "198.51.100.10", 40000, 80, "192.0.2.151",
		  PSV_TCP_SYN_SENT, 0 },
		{ IPPROTO_UDP, "198.51.100.53", 5353, 53, "192.0.2.151",
		  PSV_TCP_NONE, 100 },
		{ IPPROTO_ICMP, "198.51.100.20", 77, 0, "192.0.2.152",
		  PSV_TCP_NONE, 30 },
		/* Its identity was retired and deleted already. */
		{ IPPROTO_UDP, "203.0.113.9", 999, 123, "192.0.2.199",
		  PSV_TCP_NONE, 1 },
	};
	struct psv_config cfg = {
		.host_mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee },
		.on_exhausted = PSV_EXHAUSTED_HOST,
		.granularity = PSV_GRAN_APP,
		.enabled = 1,
	};
	int fid, fconn, fgrp, fstat, fcfg;
	__u64 now = mono_ns(), *vals;
	__u32 zero = 0;

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
	if (fid < 0 || fconn < 0 || fgrp < 0 || fstat < 0 || fcfg < 0)
		return -1;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct psv_identity v = {
			.mac = { 0x02, 0, 0, 0, 0, ids[i].id },
			.state = ids[i].state,
			.id = ids[i].id,
		};
		__be32 k = ip(ids[i].ip);

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
	CHECK_EQ(json_object_array_length(arr), 5, "flows --json: 5 flows");
	if (json_object_array_length(arr) != 5)
		return;
	for (size_t i = 0; i < 5; i++)
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
	      !strcmp(str(o, "ipv4"), "192.0.2.151") && is_null(o, "app") &&
	      !strcmp(str(o, "state"), "syn_sent"),
	      "first flow: tcp 40000 -> 198.51.100.10:80 on identity 3");
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
	o = json_object_array_get_idx(arr, 3);
	CHECK(!strcmp(str(o, "proto"), "icmp") && num(o, "identity") == 9 &&
	      num(o, "local_port") == 77, "fourth: icmp echo id 77, identity 9");
	o = json_object_array_get_idx(arr, 4);
	CHECK(is_null(o, "identity") && is_null(o, "mac") &&
	      !strcmp(str(o, "ipv4"), "192.0.2.199"),
	      "a flow whose identity is gone: identity and mac null");
	json_object_put(arr);
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

static void test_status(void)
{
	struct json_object *o, *ids, *p;
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
	CHECK(num(o, "flows") == 5 && num(o, "groups") == 2,
	      "status: 5 flows, 2 groups");
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

	CHECK_EQ(run("status"), 0, "status (table) exits 0");
	show(out);
	CHECK(strstr(out, "identities  3 (acquiring 0, ready 1, active 1, "
		     "idle 1, retired 0)") != NULL,
	      "status table counts identities");
	CHECK(strstr(out, "programs    prog_egress prog_ingress_tc\n") != NULL,
	      "status table lists the programs");
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
	CHECK(!strncmp(out, "PROTO", 5) && rows == 5,
	      "flows table: a header and 5 rows");
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
	CHECK_EQ(run("apps"), 1, "apps: exit 1");
	CHECK(strstr(err, "not available in this version") && !out[0],
	      "apps says attribution is not available, prints no table");
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
	test_stats();
	test_status();
	test_tables();
	test_errors();
	teardown();
	return check_exit();
}
