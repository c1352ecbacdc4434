// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_attribution.c - the cgroup socket hooks (bpf/attribution.bpf.c)
 * with loader/attribution.c, for real: the test loads them with their maps
 * pinned on a bpffs of a private mount namespace, attaches them to a
 * cgroup of its own (never the root: the machine's sockets stay out of
 * it), moves itself into a cgroup below that one, in a network namespace
 * of its own, and reads what its sockets got from the socket storage and
 * psv_apps.  Rules come from psv.conf text through config.c, so every
 * match kind is resolved the way psvd resolves it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "psvd/attribution.h"
#include "attribution.skel.h"
#include "psvd/config.h"
#include "common/log.h"
#include "psv.h"

static char base[] = "/tmp/psv-attr-test.XXXXXX";
static char pin_dir[PATH_MAX], exe[PATH_MAX];
static char cg_name[64];	/* below the cgroup root */
static int root_fd = -1;	/* the cgroup v2 root */
static struct attribution at;
static int config_fd, sockets_fd, stats_fd;
static __u64 netns;

/*
 * Leaves and removes the test's cgroups and its directory; the namespaces
 * (and the bpffs mounted in the private one) go by themselves.
 */
static void cleanup(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/bpf", base);
	umount2(path, MNT_DETACH);
	rmdir(path);
	rmdir(base);
	if (root_fd < 0)
		return;
	fd = openat(root_fd, "cgroup.procs", O_WRONLY);
	if (fd >= 0) {
		dprintf(fd, "%d\n", getpid());
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/inner", cg_name);
	unlinkat(root_fd, path, AT_REMOVEDIR);
	unlinkat(root_fd, cg_name, AT_REMOVEDIR);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int write_config(__u8 granularity, __u64 cookie)
{
	struct psv_config cfg = { .enabled = 1, .granularity = granularity,
				  .netns_cookie = cookie };
	__u32 key = 0;

	return bpf_map_update_elem(config_fd, &key, &cfg, BPF_ANY);
}

/* Rules from psv.conf text: "[app ...]" sections only. */
static int set_rules(const char *text)
{
	static struct psv_conf conf;
	char err[256];

	if (psv_conf_parse_string(text, "rules.conf", &conf, err, sizeof(err))) {
		printf("# %s\n", err);
		return -1;
	}
	return attribution_set_rules(&at, &conf);
}

static int sock_info(int fd, struct psv_sock *s)
{
	memset(s, 0, sizeof(*s));
	return bpf_map_lookup_elem(sockets_fd, &fd, s);
}

/* What a new socket of type gets from the hooks; the socket is closed. */
static struct psv_sock new_socket(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct psv_sock s;

	sock_info(fd, &s);
	close(fd);
	return s;
}

static int app_info(const struct psv_app_key *k, struct psv_app *a)
{
	memset(a, 0, sizeof(*a));
	return bpf_map_lookup_elem(at.apps_fd, k, a);
}

static __u64 stat_sum(__u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(stats_fd, &idx, vals))
		return ~0ULL;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static void comm_of_self(char comm[16])
{
	memset(comm, 0, 16);
	prctl(PR_GET_NAME, comm);
}

static int setup(void)
{
	char path[PATH_MAX], bpffs[64];
	int fd, n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || !mkdtemp(base))
		return -1;
	exe[n] = '\0';
	snprintf(bpffs, sizeof(bpffs), "%s/bpf", base);
	snprintf(pin_dir, sizeof(pin_dir), "%s/psv", bpffs);
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mkdir(bpffs, 0700) || mount("bpf", bpffs, "bpf", 0, "mode=0700") ||
	    mkdir(pin_dir, 0700)) {
		printf("# setup of %s: %s\n", base, strerror(errno));
		return -1;
	}
	root_fd = attribution_cgroup_open();
	if (root_fd < 0)
		return -1;
	snprintf(cg_name, sizeof(cg_name), "psv-unit-%d", getpid());
	snprintf(path, sizeof(path), "%s/inner", cg_name);
	if (mkdirat(root_fd, cg_name, 0755) || mkdirat(root_fd, path, 0755)) {
		printf("# cannot create cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGABRT, on_signal);
	snprintf(path, sizeof(path), "%s/inner/cgroup.procs", cg_name);
	fd = openat(root_fd, path, O_WRONLY);
	if (fd < 0 || dprintf(fd, "%d\n", getpid()) < 0) {
		printf("# cannot move into cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (attribution_netns_cookie(&netns) || attribution_load(&at, pin_dir))
		return -1;
	config_fd = bpf_map__fd(at.skel->maps.psv_config);
	sockets_fd = bpf_map__fd(at.skel->maps.psv_sockets);
	stats_fd = bpf_map__fd(at.skel->maps.psv_stats);
	return 0;
}

/* Attaches to the test's outer cgroup: the hooks see only this test. */
static int attach(void)
{
	int fd = openat(root_fd, cg_name, O_RDONLY | O_DIRECTORY);
	int err;

	if (fd < 0)
		return -errno;
	err = attribution_attach(&at, fd);
	close(fd);
	return err;
}

static void test_unmatched(void)
{
	struct psv_app_key own = {};
	struct psv_app a, b;
	struct psv_sock s;
	char comm[16];
	struct stat st;
	int fd;

	CHECK_EQ(stat(exe, &st), 0, "stat our executable");
	own.ino = st.st_ino;
	own.dev = major(st.st_dev) << 20 | minor(st.st_dev);
	comm_of_self(comm);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(sock_info(fd, &s), 0, "a new TCP socket has storage");
	CHECK(!memcmp(&s.app_key, &own, sizeof(own)),
	      "no rule: its application is our executable (ino %llu)",
	      (unsigned long long)own.ino);
	CHECK_EQ(s.granularity, PSV_GRAN_FLOW, "... with policy.default's granularity");
	CHECK_EQ(s.uid, getuid(), "... and our uid");
	CHECK_EQ(app_info(&own, &a), 0, "psv_apps has the executable");
	CHECK_EQ(a.id, s.app, "... under the socket's app id");
	CHECK(a.id != 0, "... which is not 0");
	CHECK(!strncmp(a.name, comm, 16), "... named by our comm (%.16s)", a.name);
	CHECK(!strncmp(a.comm, comm, 16), "... comm is ours");
	CHECK_EQ(a.pid, getpid(), "... pid is ours");
	CHECK_EQ(a.sockets, 1, "... one socket");
	CHECK_EQ(a.open, 1, "... open");
	close(fd);
	app_info(&own, &a);
	CHECK_EQ(a.open, 0, "close: none open");

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sock_info(fd, &s);
	app_info(&own, &b);
	CHECK_EQ(s.app, a.id, "a second socket: the same application");
	CHECK_EQ(b.sockets, 2, "... two sockets");
	close(fd);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(sock_info(fd, &s) != 0, "a unix socket is not attributed");
	close(fd);

	/* A dual-stack socket sends IPv4 (v4-mapped) through egress too. */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(fd >= 0 && !sock_info(fd, &s) && s.app == a.id,
	      "an IPv6 socket is attributed to the same application");
	close(fd);
}

/* Each match kind, first match wins, and what a rule's socket gets. */
static void test_rules(void)
{
	char text[PATH_MAX + 512], comm[16];
	struct psv_app_key k = {};
	struct psv_sock s;
	struct psv_app a;
	int fd;

	comm_of_self(comm);
	snprintf(text, sizeof(text),
		 "[app \"other-comm\"]\nmatch = comm=no-such-comm\n"
		 "[app \"other-uid\"]\nmatch = uid=4242\n"
		 "[app \"other-exe\"]\nmatch = exe=/nonexistent/psv\n"
		 "[app \"other-cg\"]\nmatch = cgroup=/%s-sibling\n"
		 "[app \"by-comm\"]\nmatch = comm=%s\ngranularity = uid\n",
		 cg_name, comm);
	CHECK_EQ(set_rules(text), 0, "rules: four that miss, then comm=%s", comm);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sock_info(fd, &s);
	CHECK_EQ(s.app_key.rule, 5, "comm= matches (rule 5)");
	CHECK(s.app_key.ino == 0 && s.app_key.dev == 0, "... a rule's key has no executable");
	CHECK_EQ(s.granularity, PSV_GRAN_UID, "... the rule's granularity");
	k.rule = 5;
	CHECK_EQ(app_info(&k, &a), 0, "... psv_apps has the rule's application");
	CHECK(!strcmp(a.name, "by-comm"), "... named by the section (%.32s)", a.name);
	CHECK_EQ(a.granularity, PSV_GRAN_UID, "... with its granularity");
	close(fd);

	snprintf(text, sizeof(text),
		 "[app \"by-exe\"]\nmatch = exe=%s\ngranularity = host\n"
		 "[app \"by-comm\"]\nmatch = comm=%s\n", exe, comm);
	set_rules(text);
	s = new_socket(SOCK_DGRAM);
	CHECK_EQ(s.app_key.rule, 1, "exe= matches before a later comm=");
	CHECK_EQ(s.granularity, PSV_GRAN_HOST, "... granularity host");

	snprintf(text, sizeof(text),
		 "[app \"by-uid\"]\nmatch = uid=%u\n", getuid());
	set_rules(text);
	s = new_socket(SOCK_STREAM);
	CHECK_EQ(s.app_key.rule, 1, "uid= matches");
	CHECK_EQ(s.granularity, PSV_GRAN_APP, "... granularity app by default");

	/* The outer cgroup matches from the inner one; inner itself too. */
	snprintf(text, sizeof(text),
		 "[app \"outer\"]\nmatch = cgroup=/%s/\n", cg_name);
	set_rules(text);
	CHECK_EQ(new_socket(SOCK_STREAM).app_key.rule, 1,
		 "cgroup= matches a task in a cgroup below it");
	snprintf(text, sizeof(text),
		 "[app \"missing\"]\nmatch = cgroup=/%s/inner/nope\n"
		 "[app \"inner\"]\nmatch = cgroup=/%s/inner\n", cg_name, cg_name);
	set_rules(text);
	CHECK_EQ(new_socket(SOCK_STREAM).app_key.rule, 2,
		 "a missing cgroup matches nothing; the task's own does");
}

static void *thread_socket(void *arg)
{
	prctl(PR_SET_NAME, "psv-worker");
	*(int *)arg = socket(AF_INET, SOCK_DGRAM, 0);
	return NULL;
}

/* comm= names the process: a thread of its own name opens the socket. */
static void test_thread_comm(void)
{
	char text[128], comm[16];
	struct psv_sock s;
	pthread_t t;
	int fd = -1;

	comm_of_self(comm);
	snprintf(text, sizeof(text), "[app \"proc\"]\nmatch = comm=%s\n", comm);
	set_rules(text);
	if (pthread_create(&t, NULL, thread_socket, &fd) || pthread_join(t, NULL)) {
		CHECK(0, "start a thread");
		return;
	}
	CHECK_EQ(sock_info(fd, &s), 0, "a socket from a thread named psv-worker");
	CHECK_EQ(s.app_key.rule, 1, "... matches comm=%s, the process's name", comm);
	close(fd);
}

/* A rule that changes starts a new application; the others keep theirs. */
static void test_reload(void)
{
	struct psv_sock s1, s2, s3, t1;
	int fd1, fd2, fd3;
	char text[512];
	struct psv_app_key k = { .rule = 1 };
	struct psv_app a;

	snprintf(text, sizeof(text),
		 "[app \"keep\"]\nmatch = uid=%u\n[app \"x\"]\nmatch = comm=x\n",
		 getuid());
	set_rules(text);
	fd1 = socket(AF_INET, SOCK_DGRAM, 0);
	sock_info(fd1, &s1);
	set_rules(text);
	fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	sock_info(fd2, &s2);
	CHECK(s1.app && s1.app == s2.app, "the same rules again: the same application");

	snprintf(text, sizeof(text),
		 "[app \"keep\"]\nmatch = uid=%u\ngranularity = flow\n", getuid());
	set_rules(text);
	fd3 = socket(AF_INET, SOCK_DGRAM, 0);
	sock_info(fd3, &s3);
	CHECK(s3.app > s2.app, "a changed rule: a new application, a higher id (%u > %u)",
	      s3.app, s2.app);
	CHECK_EQ(s3.granularity, PSV_GRAN_FLOW, "... with the new granularity");
	sock_info(fd1, &t1);
	CHECK(t1.app == s1.app && t1.granularity == PSV_GRAN_APP,
	      "a socket made before keeps its attribution");
	CHECK_EQ(app_info(&k, &a), 0, "psv_apps has the new application");
	CHECK_EQ(a.id, s3.app, "... under the new id");
	close(fd1);
	close(fd2);
	app_info(&k, &a);
	CHECK_EQ(a.open, 1, "closing sockets of the forgotten one leaves the new count alone");
	close(fd3);
	app_info(&k, &a);
	CHECK_EQ(a.open, 0, "... and its own close counts");
}

/* Sockets made before the hooks: attributed at connect or sendmsg. */
static void test_late(int before_tcp, int before_udp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct psv_sock s;

	CHECK(sock_info(before_tcp, &s) != 0, "a socket made before attach has no storage");
	connect(before_tcp, (struct sockaddr *)&sin, sizeof(sin));
	CHECK_EQ(sock_info(before_tcp, &s), 0, "connect attributes it");
	CHECK(s.app != 0, "... to an application");
	sendto(before_udp, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	CHECK_EQ(sock_info(before_udp, &s), 0, "sendto on an unconnected UDP socket attributes it");
	close(before_tcp);
	close(before_udp);
}

/* Sockets of another network namespace are not psvd's business. */
static void test_other_netns(void)
{
	__u64 before = stat_sum(PSV_STAT_SK_ATTRIBUTED);
	struct psv_sock s;
	int fd;

	write_config(PSV_GRAN_FLOW, netns + 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(sock_info(fd, &s) != 0, "another namespace's socket: no storage");
	CHECK_EQ(stat_sum(PSV_STAT_SK_ATTRIBUTED), before, "... nothing counted");
	close(fd);
	write_config(PSV_GRAN_FLOW, netns);
}

/* A full psv_apps: the socket is attributed, without an application. */
static void test_apps_full(void)
{
	__u64 full = stat_sum(PSV_STAT_SK_APPS_FULL);
	struct psv_app_key k = { .ino = 1 };
	struct psv_app a = { .id = 1000000 };
	char text[64], comm[16];
	struct psv_sock s;
	int fd, n = 0;

	/* A rule that changed: its application is new. */
	comm_of_self(comm);
	snprintf(text, sizeof(text), "[app \"full\"]\nmatch = comm=%s\n", comm);
	set_rules(text);
	for (__u32 dev = 1; !bpf_map_update_elem(at.apps_fd, &k, &a, BPF_NOEXIST);
	     k.dev = ++dev)
		n++;
	CHECK(n > 0 && errno == E2BIG, "filled psv_apps with %d entries", n);
	write_config(PSV_GRAN_APP, netns);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(sock_info(fd, &s), 0, "a socket still gets storage");
	CHECK_EQ(s.app, 0, "... without an application");
	CHECK_EQ(s.granularity, PSV_GRAN_APP, "... with its granularity (egress keeps its flows apart)");
	CHECK_EQ(stat_sum(PSV_STAT_SK_APPS_FULL), full + 1, "sock_apps_full counted");
	close(fd);
	write_config(PSV_GRAN_FLOW, netns);
}

static void test_rule_resolution(void)
{
	struct psv_conf_app app = { .name = "t", .granularity = PSV_GRAN_APP };
	struct psv_app_rule r;

	app.match = PSV_MATCH_COMM;
	strcpy(app.value, "abcdefghijklmno");
	attribution_rule(&app, -1, &r);
	CHECK(!memcmp(r.comm, "abcdefghijklmno\0", 16), "comm: 15 bytes and a NUL");
	app.match = PSV_MATCH_CGROUP;
	strcpy(app.value, "/a//b/c/");
	attribution_rule(&app, -1, &r);
	CHECK(r.ino == 0, "cgroup= without a cgroup tree matches nothing");
	CHECK_EQ(r.cgroup_level, 3, "cgroup /a//b/c/ is at level 3");
	strcpy(app.value, "/");
	attribution_rule(&app, root_fd, &r);
	CHECK_EQ(r.cgroup_level, 0, "cgroup / is at level 0");
	CHECK_EQ(r.ino, 1, "... the root's id is 1");
	app.match = PSV_MATCH_EXE;
	strcpy(app.value, "/nonexistent");
	attribution_rule(&app, root_fd, &r);
	CHECK(r.match == PSV_MATCH_EXE && r.ino == 0,
	      "a missing exe stays a rule that matches nothing");
}

static __u32 hooks_attached(enum bpf_attach_type type)
{
	int fd = openat(root_fd, cg_name, O_RDONLY | O_DIRECTORY);
	__u32 ids[8], n = 8;

	if (fd < 0 || bpf_prog_query(fd, type, 0, NULL, ids, &n))
		n = ~0U;
	if (fd >= 0)
		close(fd);
	return n;
}

/* A restarted psvd takes the pinned links over: no hook twice. */
static void test_takeover(void)
{
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET_SOCK_CREATE), 1, "one sock_create hook");
	attribution_close(&at);
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET4_CONNECT), 1,
		 "psvd gone: the pinned connect4 hook stays");
	CHECK_EQ(attribution_load(&at, pin_dir), 0, "load again (a restart)");
	CHECK_EQ(attach(), 0, "attach again");
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET_SOCK_CREATE), 1, "still one sock_create hook");
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET4_CONNECT), 1, "one connect4 hook");
	CHECK_EQ(hooks_attached(BPF_CGROUP_UDP4_SENDMSG), 1, "one sendmsg4 hook");
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET6_CONNECT), 1, "one connect6 hook");
	CHECK_EQ(hooks_attached(BPF_CGROUP_UDP6_SENDMSG), 1, "one sendmsg6 hook");
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET_SOCK_RELEASE), 1, "one sock_release hook");
}

static void test_detach(void)
{
	struct psv_sock s;
	int fd;

	attribution_detach(&at);
	CHECK_EQ(hooks_attached(BPF_CGROUP_INET_SOCK_CREATE), 0, "detached: no hook left");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(sock_info(fd, &s) != 0, "... a new socket has no storage");
	close(fd);
}

/*
 * The socket path's world, in the test's network namespace: psv's
 * interface psv0 (192.0.2.10/24, default route via .1, whose MAC is
 * known so frames leave at once) with a peer psv1 to capture on, an
 * interface psvo0 for 203.0.113.0/24, local routes for two identities,
 * psv_routes as psvd mirrors them, both identities ready.
 */
#define BIND_HOST "192.0.2.10"
#define BIND_VIP1 "192.0.2.200"
#define BIND_VIP2 "192.0.2.201"
#define BIND_SERVER "198.51.100.10"
#define BIND_HOST6 "2001:db8:1::10"
#define BIND_VIP6 "2001:db8:1::3a5c:91d2:7e01"
#define BIND_VIP6B "2001:db8:1::c17:40aa:95e3"
#define BIND_SERVER6 "2001:db8:2::10"

static int pinned(const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return bpf_obj_get(path);
}

static int route_entry(int fd, const char *prefix, __u32 len, __u8 via)
{
	struct psv_route_key k = { .prefixlen = len };

	inet_pton(AF_INET, prefix, &k.addr);
	return bpf_map_update_elem(fd, &k, &via, BPF_ANY);
}

static int route6_entry(const char *prefix, __u32 len, __u8 via)
{
	struct psv_route6_key k = { .prefixlen = len };
	int fd = pinned(PSV_MAP_ROUTES6), err;

	inet_pton(AF_INET6, prefix, &k.addr);
	err = fd < 0 || bpf_map_update_elem(fd, &k, &via, BPF_ANY);
	if (fd >= 0)
		close(fd);
	return err;
}

static int bind_world(void)
{
	static const char *const cmds[] = {
		"sysctl -qw net.ipv6.conf.default.accept_dad=0",
		"ip link add psv0 type veth peer name psv1",
		"ip link add psvo0 type veth peer name psvo1",
		"ip addr add " BIND_HOST "/24 dev psv0",
		"ip addr add 203.0.113.10/24 dev psvo0",
		"ip link set psv0 up", "ip link set psv1 up",
		"ip link set psvo0 up", "ip link set psvo1 up",
		"ip link set lo up",
		"ip route add default via 192.0.2.1",
		"ip neigh add 192.0.2.1 lladdr 02:00:00:00:00:fe dev psv0",
		"ip route add local " BIND_VIP1 "/32 dev lo",
		"ip route add local " BIND_VIP2 "/32 dev lo",
		"sysctl -qw net.ipv4.ping_group_range='0 2147483647'",
		"ip -6 addr add " BIND_HOST6 "/64 dev psv0",
		"ip -6 addr add 2001:db8:3::10/64 dev psvo0",
		"ip -6 route add default via fe80::1 dev psv0",
		"ip -6 neigh add fe80::1 lladdr 02:00:00:00:00:fe dev psv0",
		"ip -6 addr add " BIND_VIP6 "/128 dev lo nodad preferred_lft 0",
		"ip -6 addr add " BIND_VIP6B "/128 dev lo nodad preferred_lft 0",
	};
	struct psv_config cfg = { .enabled = 1, .granularity = PSV_GRAN_FLOW,
				  .netns_cookie = netns,
				  .on_exhausted = PSV_EXHAUSTED_DROP };
	struct psv_identity id = { .state = PSV_ID_READY, .mac = { 2, 1 } };
	int ids = pinned(PSV_MAP_IDENTITIES), ready = pinned(PSV_MAP_READY);
	int routes = pinned(PSV_MAP_ROUTES);
	const char *vips[] = { BIND_VIP1, BIND_VIP2 };
	__u32 key = 0, vip;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (system(cmds[i])) {
			printf("# failed: %s\n", cmds[i]);
			return -1;
		}
	inet_pton(AF_INET, BIND_HOST, &cfg.host_ip);
	cfg.netmask = htonl(0xffffff00);
	if (ids < 0 || ready < 0 || routes < 0 ||
	    bpf_map_update_elem(config_fd, &key, &cfg, BPF_ANY) ||
	    route_entry(routes, "0.0.0.0", 0, PSV_ROUTE_IFACE) ||
	    route_entry(routes, "192.0.2.0", 24, PSV_ROUTE_IFACE) ||
	    route_entry(routes, "203.0.113.0", 24, PSV_ROUTE_OTHER) ||
	    route6_entry("::", 0, PSV_ROUTE_IFACE) ||
	    route6_entry("2001:db8:1::", 64, PSV_ROUTE_IFACE) ||
	    route6_entry("2001:db8:3::", 64, PSV_ROUTE_OTHER))
		return -1;
	for (i = 0; i < 2; i++) {
		inet_pton(AF_INET, vips[i], &vip);
		id.id = i + 1;
		if (bpf_map_update_elem(ids, &vip, &id, BPF_ANY) ||
		    bpf_map_update_elem(ready, NULL, &vip, BPF_ANY))
			return -1;
	}
	close(ids);
	close(ready);
	close(routes);
	return 0;
}

/* The local address the kernel gave fd, as text. */
static const char *local_addr(int fd, char buf[INET_ADDRSTRLEN])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return "(getsockname failed)";
	return inet_ntop(AF_INET, &a.sin_addr, buf, INET_ADDRSTRLEN);
}

/* A non-blocking socket of type and protocol, connected to dst:port. */
static int connected(int type, int proto, const char *dst, __u16 port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK, proto);

	inet_pton(AF_INET, dst, &a.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		printf("# connect to %s:%u: %s\n", dst, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The source address of the next IPv4 frame of protocol proto on psv1. */
static const char *wire_source(int pfd, __u8 proto, char buf[INET_ADDRSTRLEN])
{
	unsigned char f[256];

	for (int i = 0; i < 50; i++) {
		ssize_t n = recv(pfd, f, sizeof(f), MSG_DONTWAIT);

		if (n >= 34 && f[12] == 0x08 && f[13] == 0 && f[23] == proto)
			return inet_ntop(AF_INET, f + 26, buf, INET_ADDRSTRLEN);
		if (n < 0)
			usleep(10000);
	}
	return "(nothing on the wire)";
}

/*
 * The socket path: connect() binds a socket to its group's identity, so
 * its packets leave from the identity's address as the kernel made
 * them; sendto() gives one datagram that address.  What cannot or must
 * not be bound keeps the kernel's choice, counted by why.
 */
static void test_bind(void)
{
	__u64 bound = stat_sum(PSV_STAT_SK_BOUND);
	__u64 src_set = stat_sum(PSV_STAT_SK_SRC_SET);
	__u64 route = stat_sum(PSV_STAT_SK_UNBOUND_ROUTE);
	__u64 local = stat_sum(PSV_STAT_SK_UNBOUND_LOCAL);
	__u64 port = stat_sum(PSV_STAT_SK_UNBOUND_PORT);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	char buf[INET_ADDRSTRLEN], buf2[INET_ADDRSTRLEN];
	int pfd, t1, t2, u, u2, other, lo, own, fixed, conns;
	struct psv_conn_key k = { .proto = IPPROTO_UDP, .rport = htons(53) };
	struct psv_conn c;
	socklen_t len = sizeof(a);

	if (bind_world()) {
		CHECK(0, "the socket path's world (veths, routes, maps)");
		return;
	}
	pfd = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
	{
		struct sockaddr_ll ll = { .sll_family = AF_PACKET,
					  .sll_protocol = htons(0x0800),
					  .sll_ifindex = if_nametoindex("psv1") };

		if (pfd < 0 || bind(pfd, (struct sockaddr *)&ll, sizeof(ll)))
			CHECK(0, "capture on psv1: %s", strerror(errno));
	}

	t1 = connected(SOCK_STREAM, 0, BIND_SERVER, 80);
	CHECK_STR(local_addr(t1, buf), BIND_VIP1,
		  "connect: the TCP socket has the identity's address");
	CHECK_STR(wire_source(pfd, IPPROTO_TCP, buf), BIND_VIP1,
		  "... and its SYN leaves from it, as the kernel made it");
	t2 = connected(SOCK_STREAM, 0, BIND_SERVER, 80);
	CHECK_STR(local_addr(t2, buf), BIND_VIP1,
		  "a second connection of the group: the same identity");
	CHECK_EQ(stat_sum(PSV_STAT_SK_BOUND) - bound, 2, "sock_bound counts both");

	u = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, BIND_SERVER, &a.sin_addr);
	CHECK_EQ(sendto(u, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1,
		 "sendto on an unconnected UDP socket");
	CHECK_STR(wire_source(pfd, IPPROTO_UDP, buf), BIND_VIP2,
		  "... leaves from the next identity (a group of its own)");
	CHECK_STR(local_addr(u, buf2), "0.0.0.0",
		  "... while the socket stays bound to no address");
	CHECK_EQ(stat_sum(PSV_STAT_SK_SRC_SET) - src_set, 1, "sock_src_set counts it");
	u2 = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(sendto(u2, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1,
		 "a second lookup to :53 from another socket (another port)");
	CHECK_STR(wire_source(pfd, IPPROTO_UDP, buf), BIND_VIP2,
		  "... leaves from the same identity (DNS: per application "
		  "and resolver)");
	close(u2);
	getsockname(u, (struct sockaddr *)&a, &len);
	inet_pton(AF_INET, BIND_SERVER, &k.raddr);
	k.lport = a.sin_port;
	conns = pinned(PSV_MAP_CONNS);
	CHECK(!bpf_map_lookup_elem(conns, &k, &c) &&
	      (c.flags & PSV_CONN_BOUND) && c.vip == inet_addr(BIND_VIP2),
	      "... and its flow is noted for the replies, untranslated");
	close(conns);

	other = connected(SOCK_STREAM, 0, "203.0.113.5", 80);
	CHECK_STR(local_addr(other, buf), "203.0.113.10",
		  "a destination through another interface: not bound");
	CHECK_EQ(stat_sum(PSV_STAT_SK_UNBOUND_ROUTE) - route, 1,
		 "sock_unbound_route counts it");
	lo = connected(SOCK_STREAM, 0, "127.0.0.1", 9);
	CHECK_STR(local_addr(lo, buf), "127.0.0.1", "loopback: not bound");
	own = connected(SOCK_STREAM, 0, BIND_VIP1, 9);
	CHECK_STR(local_addr(own, buf), BIND_VIP1,
		  "an identity's own address as destination: the kernel's choice");
	CHECK_EQ(stat_sum(PSV_STAT_SK_UNBOUND_LOCAL) - local, 2,
		 "sock_unbound_local counts both");

	fixed = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a = (struct sockaddr_in){ .sin_family = AF_INET,
				  .sin_port = htons(40999) };
	bind(fixed, (struct sockaddr *)&a, sizeof(a));
	inet_pton(AF_INET, BIND_SERVER, &a.sin_addr);
	a.sin_port = htons(80);
	connect(fixed, (struct sockaddr *)&a, sizeof(a));
	CHECK_STR(local_addr(fixed, buf), BIND_HOST,
		  "a socket bound to a port first keeps the kernel's address "
		  "(the NAT fallback translates it)");
	CHECK_EQ(stat_sum(PSV_STAT_SK_UNBOUND_PORT) - port, 1,
		 "sock_unbound_port counts it");

	close(t1);
	close(t2);
	close(u);
	close(other);
	close(lo);
	close(own);
	close(fixed);
	close(pfd);
}

/*
 * ICMP ping sockets pass connect4 too (the kernel runs it for them).  An
 * unconnected ping socket's sendto (iputils ping) passes no hook (6.18
 * runs sendmsg4 for UDP only): the NAT fallback translates it.
 */
static void test_bind_ping(void)
{
	char buf[INET_ADDRSTRLEN];
	int fd = connected(SOCK_DGRAM, IPPROTO_ICMP, BIND_SERVER, 0);

	CHECK(fd >= 0, "a ping socket connects");
	/* The queue is empty now: refill one identity for its group. */
	{
		int ready = pinned(PSV_MAP_READY);
		__u32 vip = inet_addr(BIND_VIP1);

		close(fd);
		bpf_map_update_elem(ready, NULL, &vip, BPF_ANY);
		close(ready);
		fd = connected(SOCK_DGRAM, IPPROTO_ICMP, BIND_SERVER, 0);
	}
	CHECK_STR(local_addr(fd, buf), BIND_VIP1,
		  "a connected ping socket has the identity's address");
	close(fd);
}

/*
 * A dual-stack socket connecting to an IPv4-mapped address goes the IPv4
 * way past connect4: connect6 binds it as ::ffff:identity.
 */
static void test_bind_mapped(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(80) };
	__u64 bound = stat_sum(PSV_STAT_SK_BOUND);
	char buf[INET6_ADDRSTRLEN];
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET6, "::ffff:" BIND_SERVER, &a.sin6_addr);
	CHECK(fd >= 0 && (!connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
			  errno == EINPROGRESS),
	      "a dual-stack socket connects to ::ffff:" BIND_SERVER);
	getsockname(fd, (struct sockaddr *)&a, &len);
	CHECK_STR(inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf)),
		  "::ffff:" BIND_VIP1,
		  "... bound to its group's identity, IPv4-mapped");
	CHECK_EQ(stat_sum(PSV_STAT_SK_BOUND) - bound, 1, "sock_bound counts it");
	close(fd);
}

/* The state psv_identities has for vip. */
static int id_state(const char *vip)
{
	int ids = pinned(PSV_MAP_IDENTITIES);
	struct psv_identity id = { .state = 0xff };
	__u32 v = inet_addr(vip);

	bpf_map_lookup_elem(ids, &v, &id);
	close(ids);
	return id.state;
}

/*
 * connect() on a UDP socket sends nothing, and a route probe never
 * will: the socket is bound to a ready identity it only holds (READY,
 * not a new group yet, psvd told).  The first flow of the group that
 * sends makes it a new group: here a lookup by sendto() to the same
 * resolver (DNS: one group per application and resolver); egress does
 * the same for the held socket's own first frame (test_egress).
 */
static void test_bind_udp_hold(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	__u64 held = stat_sum(PSV_STAT_SK_HELD);
	__u64 groups = stat_sum(PSV_STAT_EG_NEW_GROUP);
	int ids = pinned(PSV_MAP_IDENTITIES), ready = pinned(PSV_MAP_READY);
	struct psv_identity id;
	char buf[INET_ADDRSTRLEN];
	__u32 vip = inet_addr(BIND_VIP2);
	int u1, u2, u3;

	while (!bpf_map_lookup_and_delete_elem(ready, NULL, &id))
		;
	if (bpf_map_lookup_elem(ids, &vip, &id)) {
		CHECK(0, "hold: identity " BIND_VIP2 " in the map");
		return;
	}
	id.state = PSV_ID_READY;
	bpf_map_update_elem(ids, &vip, &id, BPF_ANY);
	bpf_map_update_elem(ready, NULL, &vip, BPF_ANY);
	close(ids);
	close(ready);

	u1 = connected(SOCK_DGRAM, 0, BIND_SERVER, 53);
	CHECK_STR(local_addr(u1, buf), BIND_VIP2,
		  "hold: a connected UDP socket has the identity's address");
	CHECK_EQ(id_state(BIND_VIP2), PSV_ID_READY, "... which stays ready");
	CHECK_EQ(stat_sum(PSV_STAT_SK_HELD) - held, 1, "... held: sock_held");
	CHECK_EQ(stat_sum(PSV_STAT_EG_NEW_GROUP) - groups, 0,
		 "... not a new group yet");
	u2 = connected(SOCK_DGRAM, 0, BIND_SERVER, 53);
	CHECK_STR(local_addr(u2, buf), BIND_VIP2,
		  "hold: a second one of the group: the same identity, held");
	CHECK_EQ(id_state(BIND_VIP2), PSV_ID_READY, "... still ready");

	u3 = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, BIND_SERVER, &a.sin_addr);
	CHECK_EQ(sendto(u3, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1,
		 "hold: a lookup of the group sent with sendto");
	CHECK_EQ(id_state(BIND_VIP2), PSV_ID_ACTIVE, "... makes it active");
	CHECK_EQ(stat_sum(PSV_STAT_EG_NEW_GROUP) - groups, 1,
		 "... one new group, counted once");
	CHECK_EQ(stat_sum(PSV_STAT_SK_HELD) - held, 2, "sock_held counted two");
	close(u1);
	close(u2);
	close(u3);
}

/* The address a TCP connect() to BIND_SERVER:port gets; fd kept in *fd. */
static const char *link_connect(__u16 port, int *fd, char buf[INET_ADDRSTRLEN])
{
	*fd = connected(SOCK_STREAM, 0, BIND_SERVER, port);
	return *fd >= 0 ? local_addr(*fd, buf) : "(no socket)";
}

static int link_hint(int links, __u8 kind, __u32 owner, const char *vip)
{
	struct psv_group_key k = { .kind = kind, .owner = owner };
	__be32 v;

	if (!vip)
		return bpf_map_delete_elem(links, &k);
	v = inet_addr(vip);
	return bpf_map_update_elem(links, &k, &v, BPF_ANY);
}

/*
 * on_exhausted = link at connect(): with the ready queue empty, a new
 * group joins the identity its application took last, else its user's,
 * else psvd's reuse_vip; with none in use it is not bound (egress then
 * drops it).  Never the host's address for a linked flow.
 */
static void test_bind_link(void)
{
	int cfd = pinned(PSV_MAP_CONFIG), ids = pinned(PSV_MAP_IDENTITIES);
	int ready = pinned(PSV_MAP_READY), links = pinned(PSV_MAP_LINKS);
	__u64 linked = stat_sum(PSV_STAT_LINKED_BY_EXHAUSTION);
	struct psv_identity id = { .state = PSV_ID_ACTIVE, .mac = { 2, 1 } };
	char buf[INET_ADDRSTRLEN];
	struct psv_group_key k;
	struct psv_app_key ak;
	struct psv_config cfg;
	struct psv_sock s;
	__u32 key = 0, vip, app, uid = getuid();
	int fd[6];

	if (cfd < 0 || ids < 0 || ready < 0 || links < 0 ||
	    bpf_map_lookup_elem(cfd, &key, &cfg)) {
		CHECK(0, "open the maps for on_exhausted = link");
		return;
	}
	/* test_apps_full left psv_apps full: sockets get applications again. */
	set_rules("");
	while (!bpf_map_get_next_key(at.apps_fd, NULL, &ak) &&
	       !bpf_map_delete_elem(at.apps_fd, &ak))
		;
	cfg.on_exhausted = PSV_EXHAUSTED_LINK;
	cfg.reuse_vip = 0;
	bpf_map_update_elem(cfd, &key, &cfg, BPF_ANY);
	while (!bpf_map_lookup_and_delete_elem(ready, NULL, &vip))
		;
	while (!bpf_map_get_next_key(links, NULL, &k) &&
	       !bpf_map_delete_elem(links, &k))
		;

	/* Ready in the queue; its group's first flow makes it active. */
	vip = inet_addr(BIND_VIP2);
	id.state = PSV_ID_READY;
	bpf_map_update_elem(ids, &vip, &id, BPF_ANY);
	id.state = PSV_ID_ACTIVE;
	bpf_map_update_elem(ready, NULL, &vip, BPF_ANY);
	CHECK_STR(link_connect(91, &fd[0], buf), BIND_VIP2,
		  "link: a new group takes the last ready identity");
	CHECK(!sock_info(fd[0], &s) && s.app, "link: the socket's application");
	app = s.app;
	CHECK_STR(link_connect(92, &fd[1], buf), BIND_VIP2,
		  "link: queue empty, a new group joins its application's");
	CHECK_EQ(stat_sum(PSV_STAT_LINKED_BY_EXHAUSTION) - linked, 1,
		 "linked_by_exhaustion counts it");
	CHECK_STR(link_connect(92, &fd[2], buf), BIND_VIP2,
		  "link: the linked group's second connection, the same");
	CHECK_EQ(stat_sum(PSV_STAT_LINKED_BY_EXHAUSTION) - linked, 1,
		 "... found in its group, not counted again");

	vip = inet_addr(BIND_VIP1);
	bpf_map_update_elem(ids, &vip, &id, BPF_ANY);
	link_hint(links, PSV_GRAN_UID, uid, BIND_VIP1);
	CHECK_STR(link_connect(93, &fd[3], buf), BIND_VIP2,
		  "link: the application's identity before the user's");
	link_hint(links, PSV_GRAN_APP, app, NULL);
	CHECK_STR(link_connect(94, &fd[4], buf), BIND_VIP1,
		  "link: no application hint, the user's identity");
	link_hint(links, PSV_GRAN_UID, uid, NULL);
	cfg.reuse_vip = inet_addr(BIND_VIP2);
	bpf_map_update_elem(cfd, &key, &cfg, BPF_ANY);
	CHECK_STR(link_connect(95, &fd[5], buf), BIND_VIP2,
		  "link: no hint, psvd's least recently used identity");
	close(fd[5]);

	cfg.reuse_vip = 0;
	bpf_map_update_elem(cfd, &key, &cfg, BPF_ANY);
	CHECK_STR(link_connect(96, &fd[5], buf), BIND_HOST,
		  "link: nothing in use to join, not bound (egress drops it)");
	CHECK_EQ(stat_sum(PSV_STAT_LINKED_BY_EXHAUSTION) - linked, 4,
		 "linked_by_exhaustion counted each join, not the failure");
	for (int i = 0; i < 6; i++)
		close(fd[i]);
	close(cfd);
	close(ids);
	close(ready);
	close(links);
}

/* errno of a non-blocking connect() (or sendto) of a fresh socket to addr. */
static int v6_errno(int type, const char *addr, bool send)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(80) };
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK, 0), rc;

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	if (!strncmp(addr, "fe80:", 5))
		a.sin6_scope_id = if_nametoindex("psv0");
	rc = send ? sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) :
		    connect(fd, (struct sockaddr *)&a, sizeof(a));
	rc = rc < 0 && errno != EINPROGRESS ? errno : 0;
	close(fd);
	return rc;
}

/* A fresh IPv6 socket of type connected to addr:port; -1 if refused. */
static int connected6(int type, const char *addr, __u16 port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	if (!strncmp(addr, "fe80:", 5))
		a.sin6_scope_id = if_nametoindex("psv0");
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		printf("# connect to [%s]:%u: %s\n", addr, port,
		       strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static const char *local_addr6(int fd, char buf[INET6_ADDRSTRLEN])
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&a, &len))
		return "(no socket)";
	return inet_ntop(AF_INET6, &a.sin6_addr, buf, INET6_ADDRSTRLEN);
}

/* The source address of the next IPv6 frame of protocol proto on psv1. */
static const char *wire_source6(int pfd, __u8 proto,
				char buf[INET6_ADDRSTRLEN])
{
	unsigned char f[256];

	for (int i = 0; i < 50; i++) {
		ssize_t n = recv(pfd, f, sizeof(f), MSG_DONTWAIT);

		if (n >= 54 && f[12] == 0x86 && f[13] == 0xdd && f[20] == proto)
			return inet_ntop(AF_INET6, f + 22, buf,
					 INET6_ADDRSTRLEN);
		if (n < 0)
			usleep(10000);
	}
	return "(nothing on the wire)";
}

/* Identity vip gets IPv6 address addr (its DAD done, or not yet). */
static int identity_ip6(const char *vip, const char *addr, bool dad_done)
{
	int ids = pinned(PSV_MAP_IDENTITIES), addrs = pinned(PSV_MAP_ADDRS6);
	struct psv_addr6_owner o = { .vip = inet_addr(vip),
				     .dad_done = dad_done };
	struct psv_identity id;
	struct psv_addr6 a;
	int err;

	inet_pton(AF_INET6, addr, &a);
	err = ids < 0 || addrs < 0 ||
	      bpf_map_lookup_elem(ids, &o.vip, &id);
	if (!err) {
		memset(&id.ip6, 0, sizeof(id.ip6));
		if (dad_done)
			id.ip6 = a;
		err = bpf_map_update_elem(ids, &o.vip, &id, BPF_ANY) ||
		      bpf_map_update_elem(addrs, &a, &o, BPF_ANY);
	}
	if (ids >= 0)
		close(ids);
	if (addrs >= 0)
		close(addrs);
	return err;
}

static int push_ready(const char *vip)
{
	int ready = pinned(PSV_MAP_READY), err;
	__u32 v = inet_addr(vip);

	err = ready < 0 || bpf_map_update_elem(ready, NULL, &v, BPF_ANY);
	if (ready >= 0)
		close(ready);
	return err;
}

static int set_ipv6_policy(__u8 ipv6, __u8 granularity)
{
	struct psv_config cfg;
	__u32 key = 0;

	if (bpf_map_lookup_elem(config_fd, &key, &cfg))
		return -1;
	cfg.ipv6 = ipv6;
	cfg.granularity = granularity;
	return bpf_map_update_elem(config_fd, &key, &cfg, BPF_ANY);
}

/*
 * IPv6, the socket path: connect6 binds a socket to its group's
 * identity's IPv6 address, sendmsg6 gives a datagram that address and
 * notes its flow.  A virtualized flow whose identity has no IPv6
 * address yet is refused (EPERM: applications fall back to IPv4 at
 * once), as is every one with ipv6 = block; loopback, link-local,
 * multicast, IPv4-mapped, routes through other interfaces, identity
 * addresses and ipv6 = host keep the kernel's choice.  Runs in the
 * socket path's world (test_bind), whose queue is empty by now.
 */
static void test_ipv6(void)
{
	__u64 bound = stat_sum(PSV_STAT_SK_BOUND);
	__u64 no_addr = stat_sum(PSV_STAT_SK_IPV6_NO_ADDR);
	__u64 refused = stat_sum(PSV_STAT_SK_IPV6_REFUSED);
	__u64 route = stat_sum(PSV_STAT_SK_UNBOUND_ROUTE);
	__u64 local = stat_sum(PSV_STAT_SK_UNBOUND_LOCAL);
	__u64 empty = stat_sum(PSV_STAT_EG_POOL_EMPTY);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(53) };
	char buf[INET6_ADDRSTRLEN];
	struct psv_conn6_key k = { .proto = IPPROTO_UDP, .rport = htons(53) };
	struct psv_conn6 c;
	socklen_t len = sizeof(a);
	int pfd, t1, t2, u, fd, conns;

	pfd = socket(AF_PACKET, SOCK_RAW, htons(0x86dd));
	{
		struct sockaddr_ll ll = { .sll_family = AF_PACKET,
					  .sll_protocol = htons(0x86dd),
					  .sll_ifindex = if_nametoindex("psv1") };

		if (pfd < 0 || bind(pfd, (struct sockaddr *)&ll, sizeof(ll)))
			CHECK(0, "capture IPv6 on psv1: %s", strerror(errno));
	}
	/* Earlier tests' rules would decide the sockets' policy. */
	if (set_rules("") || identity_ip6(BIND_VIP1, BIND_VIP6, true) ||
	    identity_ip6(BIND_VIP2, BIND_VIP6B, false) ||
	    push_ready(BIND_VIP1) || push_ready(BIND_VIP2)) {
		CHECK(0, "identities' IPv6 addresses and the ready queue");
		return;
	}

	t1 = connected6(SOCK_STREAM, BIND_SERVER6, 80);
	CHECK_STR(local_addr6(t1, buf), BIND_VIP6,
		  "connect6: the TCP socket has the identity's IPv6 address");
	CHECK_STR(wire_source6(pfd, IPPROTO_TCP, buf), BIND_VIP6,
		  "... and its SYN leaves from it");
	t2 = connected6(SOCK_STREAM, BIND_SERVER6, 80);
	CHECK_STR(local_addr6(t2, buf), BIND_VIP6,
		  "a second IPv6 connection of the group: the same address");
	CHECK_EQ(stat_sum(PSV_STAT_SK_BOUND) - bound, 2,
		 "sock_bound counts both");

	CHECK_EQ(v6_errno(SOCK_DGRAM, BIND_SERVER6, true), EPERM,
		 "sendto of a group whose identity has no IPv6 address yet: "
		 "EPERM");
	CHECK_EQ(stat_sum(PSV_STAT_SK_IPV6_NO_ADDR) - no_addr, 1,
		 "sock_ipv6_no_addr counts it");
	CHECK_EQ(v6_errno(SOCK_STREAM, "2001:db8:2::11", false), EPERM,
		 "connect6 with no identity ready: EPERM");
	CHECK_EQ(stat_sum(PSV_STAT_EG_POOL_EMPTY) - empty, 1,
		 "egress_pool_empty counts it");

	/* Its DAD done: a new group's datagram leaves from it. */
	if (identity_ip6(BIND_VIP2, BIND_VIP6B, true) || push_ready(BIND_VIP2))
		return;
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	inet_pton(AF_INET6, BIND_SERVER6, &a.sin6_addr);
	CHECK_EQ(sendto(u, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1,
		 "sendto on an unconnected IPv6 UDP socket");
	CHECK_STR(wire_source6(pfd, IPPROTO_UDP, buf), BIND_VIP6B,
		  "... leaves from its identity's IPv6 address");
	getsockname(u, (struct sockaddr *)&a, &len);
	CHECK_STR(inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf)), "::",
		  "... while the socket stays bound to no address");
	inet_pton(AF_INET6, BIND_SERVER6, &k.raddr);
	k.lport = a.sin6_port;
	conns = pinned(PSV_MAP_CONNS6);
	CHECK(!bpf_map_lookup_elem(conns, &k, &c) &&
	      (c.conn.flags & PSV_CONN_BOUND) &&
	      c.conn.vip == inet_addr(BIND_VIP2) && c.conn.group.ipv6,
	      "... and its flow is noted in psv_conns6, untranslated");
	close(conns);

	fd = connected6(SOCK_STREAM, "2001:db8:3::5", 80);
	CHECK_STR(local_addr6(fd, buf), "2001:db8:3::10",
		  "IPv6 through another interface: not bound");
	close(fd);
	CHECK_EQ(stat_sum(PSV_STAT_SK_UNBOUND_ROUTE) - route, 1,
		 "sock_unbound_route counts it");
	fd = connected6(SOCK_STREAM, "::1", 9);
	CHECK_STR(local_addr6(fd, buf), "::1", "IPv6 loopback: not bound");
	close(fd);
	fd = connected6(SOCK_STREAM, "fe80::1", 9);
	CHECK(strncmp(local_addr6(fd, buf), "fe80:", 5) == 0,
	      "a link-local peer: the host's link-local address (%s)", buf);
	close(fd);
	fd = connected6(SOCK_STREAM, BIND_VIP6, 9);
	CHECK_STR(local_addr6(fd, buf), BIND_VIP6,
		  "an identity's IPv6 address as destination: not bound");
	close(fd);
	CHECK_EQ(stat_sum(PSV_STAT_SK_UNBOUND_LOCAL) - local, 3,
		 "sock_unbound_local counts the three");
	CHECK(v6_errno(SOCK_DGRAM, "ff02::fb", true) != EPERM,
	      "IPv6 multicast is not refused");
	CHECK(v6_errno(SOCK_STREAM, "::ffff:198.51.100.10", false) != EPERM,
	      "an IPv4-mapped destination is not refused");

	set_ipv6_policy(PSV_IPV6_BLOCK, PSV_GRAN_FLOW);
	CHECK_EQ(v6_errno(SOCK_STREAM, BIND_SERVER6, false), EPERM,
		 "ipv6 = block: connect6 to a global address: EPERM");
	CHECK_EQ(v6_errno(SOCK_DGRAM, BIND_SERVER6, true), EPERM,
		 "ipv6 = block: sendto: EPERM");
	CHECK_EQ(stat_sum(PSV_STAT_SK_IPV6_REFUSED) - refused, 2,
		 "sock_ipv6_refused counts them");
	CHECK(v6_errno(SOCK_STREAM, "fe80::1", false) != EPERM,
	      "ipv6 = block: a link-local peer is not refused");
	set_ipv6_policy(PSV_IPV6_BLOCK, PSV_GRAN_HOST);
	fd = connected6(SOCK_STREAM, BIND_SERVER6, 80);
	CHECK_STR(local_addr6(fd, buf), BIND_HOST6,
		  "ipv6 = block, policy host: the host's address");
	close(fd);
	set_ipv6_policy(PSV_IPV6_HOST, PSV_GRAN_FLOW);
	fd = connected6(SOCK_STREAM, BIND_SERVER6, 80);
	CHECK_STR(local_addr6(fd, buf), BIND_HOST6,
		  "ipv6 = host: the host's address");
	close(fd);
	set_ipv6_policy(PSV_IPV6_VIRTUALIZE, PSV_GRAN_FLOW);

	close(t1);
	close(t2);
	close(u);
	close(pfd);
}

int main(void)
{
	int before_tcp, before_udp;

	log_init("test_attribution", false, LOG_LVL_ERROR);
	if (setup()) {
		CHECK(0, "setup");
		return check_exit();
	}
	CHECK_EQ(write_config(PSV_GRAN_FLOW, netns), 0, "write psv_config");
	before_tcp = socket(AF_INET, SOCK_STREAM, 0);
	before_udp = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(attach(), 0, "attach the hooks to the test's cgroup");
	test_unmatched();
	test_rules();
	test_thread_comm();
	test_reload();
	test_late(before_tcp, before_udp);
	test_other_netns();
	test_rule_resolution();
	test_apps_full();
	test_bind();
	test_bind_ping();
	test_bind_mapped();
	test_bind_udp_hold();
	test_bind_link();
	test_ipv6();
	test_takeover();
	test_detach();
	attribution_close(&at);
	return check_exit();
}
