// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_fixture.c - the bodies of bpf_fixture.h, compiled once and linked
 * into every BPF program test and into tests/bench/prog_bench.
 */
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpf_fixture.h"
#include "psvd/local_routes.h"

#define FX_BPFFS "/sys/fs/bpf"
#define FX_BPF_FS_MAGIC 0xcafe4a11
#define FX_MAX_PINS 64

const char *const fx_prog_names[3] = {
	[FX_EGRESS] = "egress",
	[FX_INGRESS_XDP] = "ingress_xdp",
	[FX_INGRESS_TC] = "ingress_tc",
};

/*
 * Pins to remove when the process ends, however it ends.  Plain arrays so
 * the signal handler only calls unlink() and rmdir(), which are
 * async-signal-safe.
 */
static char fx_pins[FX_MAX_PINS][128];
static int fx_n_pins;
static char fx_dirs[4][64];
static int fx_n_dirs;

static void fx_unpin_all(void)
{
	int i;

	for (i = 0; i < fx_n_pins; i++)
		if (fx_pins[i][0])
			unlink(fx_pins[i]);
	for (i = 0; i < fx_n_dirs; i++)
		if (fx_dirs[i][0])
			rmdir(fx_dirs[i]);
}

static void fx_on_signal(int sig)
{
	fx_unpin_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fx_install_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS,
				    SIGABRT, SIGFPE, SIGILL, SIGPIPE };
	static int installed;
	size_t i;

	if (installed++)
		return;
	atexit(fx_unpin_all);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], fx_on_signal);
}

static int fx_mount_bpffs(void)
{
	struct statfs st;

	if (!statfs(FX_BPFFS, &st) && st.f_type == FX_BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", FX_BPFFS, "bpf", 0, NULL)) {
		fprintf(stderr, "mount bpffs on %s: %s\n", FX_BPFFS,
			strerror(errno));
		return -errno;
	}
	return 0;
}

int fx_map_fd(struct fx *fx, const char *name)
{
	struct bpf_map *m;

	m = bpf_object__find_map_by_name(fx->eg->obj, name);
	if (!m)
		m = bpf_object__find_map_by_name(fx->in->obj, name);
	if (!m) {
		fprintf(stderr, "map %s: in neither object\n", name);
		return -ENOENT;
	}
	return bpf_map__fd(m);
}

/* Remembers the pins of one object for the exit-time cleanup. */
static void fx_track_pins(struct bpf_object *obj)
{
	struct bpf_map *m;
	const char *path;
	int i;

	bpf_object__for_each_map(m, obj) {
		path = bpf_map__pin_path(m);
		if (!path || !bpf_map__is_pinned(m))
			continue;
		for (i = 0; i < fx_n_pins; i++)
			if (!strcmp(fx_pins[i], path))
				break;
		if (i == fx_n_pins && fx_n_pins < FX_MAX_PINS)
			snprintf(fx_pins[fx_n_pins++], sizeof(fx_pins[0]),
				 "%s", path);
	}
}

static int fx_event_cb(void *ctx, void *data, size_t size)
{
	struct fx *fx = ctx;

	if (size < sizeof(struct psv_event) || fx->n_ev >= FX_MAX_EVENTS)
		return 0;
	memcpy(&fx->ev[fx->n_ev++], data, sizeof(struct psv_event));
	return 0;
}

/*
 * Opens and loads both objects sharing maps through pin_root_path.
 * conns_max, if nonzero, shrinks psv_conns in both (libbpf only reuses a
 * pinned map whose definition matches).
 */
int fx_open(struct fx *fx, __u32 conns_max)
{
	static int seq;
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	int err, fd;

	memset(fx, 0, sizeof(*fx));
	fx_install_cleanup();
	err = fx_mount_bpffs();
	if (err)
		return err;
	snprintf(fx->dir, sizeof(fx->dir), FX_BPFFS "/psv-test-%d-%d",
		 (int)getpid(), seq++);
	if (mkdir(fx->dir, 0700) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "mkdir %s: %s\n", fx->dir, strerror(errno));
		return err;
	}
	if (fx_n_dirs < 4)
		snprintf(fx_dirs[fx_n_dirs++], sizeof(fx_dirs[0]), "%s",
			 fx->dir);
	opts.pin_root_path = fx->dir;

	fx->eg = egress_bpf__open_opts(&opts);
	fx->in = ingress_bpf__open_opts(&opts);
	if (!fx->eg || !fx->in) {
		err = -errno;
		fprintf(stderr, "open skeletons: %s\n", strerror(errno));
		goto fail;
	}
	if (conns_max) {
		err = bpf_map__set_max_entries(fx->eg->maps.psv_conns,
					       conns_max);
		if (!err)
			err = bpf_map__set_max_entries(fx->in->maps.psv_conns,
						       conns_max);
		if (err) {
			fprintf(stderr, "psv_conns max_entries: %s\n",
				strerror(-err));
			goto fail;
		}
	}
	err = egress_bpf__load(fx->eg);
	fx_track_pins(fx->eg->obj);
	if (err) {
		fprintf(stderr, "load egress: %s\n", strerror(-err));
		goto fail;
	}
	err = ingress_bpf__load(fx->in);
	fx_track_pins(fx->in->obj);
	if (err) {
		fprintf(stderr, "load ingress: %s\n", strerror(-err));
		goto fail;
	}

	fx->prog[FX_EGRESS] = bpf_program__fd(fx->eg->progs.psv_egress);
	fx->prog[FX_INGRESS_XDP] =
		bpf_program__fd(fx->in->progs.psv_ingress_xdp);
	fx->prog[FX_INGRESS_TC] = bpf_program__fd(fx->in->progs.psv_ingress_tc);
	fx->config = fx_map_fd(fx, PSV_MAP_CONFIG);
	fx->identities = fx_map_fd(fx, PSV_MAP_IDENTITIES);
	fx->ready = fx_map_fd(fx, PSV_MAP_READY);
	fx->groups = fx_map_fd(fx, PSV_MAP_GROUPS);
	fx->links = fx_map_fd(fx, PSV_MAP_LINKS);
	fx->conns = fx_map_fd(fx, PSV_MAP_CONNS);
	fx->host_conns = fx_map_fd(fx, PSV_MAP_HOST_CONNS);
	fx->frags = fx_map_fd(fx, PSV_MAP_FRAGS);
	fx->stats = fx_map_fd(fx, PSV_MAP_STATS);
	fx->addrs6 = fx_map_fd(fx, PSV_MAP_ADDRS6);
	fx->conns6 = fx_map_fd(fx, PSV_MAP_CONNS6);
	fd = fx_map_fd(fx, PSV_MAP_EVENTS);
	if (fx->config < 0 || fx->identities < 0 || fx->ready < 0 ||
	    fx->groups < 0 || fx->links < 0 || fx->conns < 0 ||
	    fx->host_conns < 0 || fx->frags < 0 || fx->stats < 0 ||
	    fx->addrs6 < 0 || fx->conns6 < 0 || fd < 0) {
		err = -ENOENT;
		goto fail;
	}
	fx->rb = ring_buffer__new(fd, fx_event_cb, fx, NULL);
	if (!fx->rb) {
		err = -errno;
		fprintf(stderr, "ring_buffer__new(psv_events): %s\n",
			strerror(errno));
		goto fail;
	}
	fx->ncpu = libbpf_num_possible_cpus();
	if (fx->ncpu <= 0) {
		err = fx->ncpu ? fx->ncpu : -EINVAL;
		fprintf(stderr, "possible CPUs: %s\n", strerror(-err));
		goto fail;
	}
	return 0;
fail:
	fx_close(fx);
	return err;
}

/* Unpins and frees everything fx_open made. */
void fx_close(struct fx *fx)
{
	struct bpf_map *m;
	int i;

	ring_buffer__free(fx->rb);
	fx->rb = NULL;
	if (fx->eg)
		bpf_object__for_each_map(m, fx->eg->obj)
			if (bpf_map__is_pinned(m))
				bpf_map__unpin(m, NULL);
	if (fx->in)
		bpf_object__for_each_map(m, fx->in->obj)
			if (bpf_map__is_pinned(m))
				bpf_map__unpin(m, NULL);
	egress_bpf__destroy(fx->eg);
	ingress_bpf__destroy(fx->in);
	fx->eg = NULL;
	fx->in = NULL;
	if (fx->dir[0] && rmdir(fx->dir) && errno != ENOENT)
		fprintf(stderr, "rmdir %s: %s\n", fx->dir, strerror(errno));
	for (i = 0; i < fx_n_dirs; i++)
		if (!strcmp(fx_dirs[i], fx->dir))
			fx_dirs[i][0] = '\0';
	fx->dir[0] = '\0';
}

/* Deletes every entry of a hash map (keys up to 64 bytes). */
int fx_map_clear(int fd, const char *name)
{
	__u8 key[64];

	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key)) {
			fprintf(stderr, "clear %s: %s\n", name,
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int fx_queue_len(struct fx *fx)
{
	__be32 vips[PSV_MAX_IDENTITIES];
	int n = 0, i;

	while (n < PSV_MAX_IDENTITIES &&
	       !bpf_map_lookup_and_delete_elem(fx->ready, NULL, &vips[n]))
		n++;
	for (i = 0; i < n; i++)
		bpf_map_update_elem(fx->ready, NULL, &vips[i], BPF_ANY);
	return n;
}

/* The identity at the head of the ready queue, 0 if it is empty. */
__be32 fx_queue_peek(struct fx *fx)
{
	__be32 vip = 0;

	if (bpf_map_lookup_elem(fx->ready, NULL, &vip))
		return 0;
	return vip;
}

int fx_push_ready(struct fx *fx, __be32 vip)
{
	if (bpf_map_update_elem(fx->ready, NULL, &vip, BPF_ANY)) {
		fprintf(stderr, "push psv_ready: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int fx_set_config(struct fx *fx, const struct psv_config *c)
{
	__u32 key = 0;

	if (bpf_map_update_elem(fx->config, &key, c, BPF_ANY)) {
		fprintf(stderr, "update psv_config: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

int fx_set_identity(struct fx *fx, __be32 vip, const __u8 *mac,
		    __u8 state, __u32 id)
{
	struct psv_identity v = { 0 };

	/* A state change keeps the identity's IPv6 address. */
	bpf_map_lookup_elem(fx->identities, &vip, &v);
	v.state = state;
	v.id = id;
	memcpy(v.mac, mac, 6);
	if (bpf_map_update_elem(fx->identities, &vip, &v, BPF_ANY)) {
		fprintf(stderr, "update psv_identities: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

void fx_drain_events(struct fx *fx)
{
	ring_buffer__consume(fx->rb);
}

/* Empties every state map, the queue and the ring buffer. */
int fx_clear(struct fx *fx)
{
	__be32 vip;
	int err;

	err = fx_map_clear(fx->identities, PSV_MAP_IDENTITIES) ?:
	      fx_map_clear(fx->groups, PSV_MAP_GROUPS) ?:
	      fx_map_clear(fx->links, PSV_MAP_LINKS) ?:
	      fx_map_clear(fx->conns, PSV_MAP_CONNS) ?:
	      fx_map_clear(fx->host_conns, PSV_MAP_HOST_CONNS) ?:
	      fx_map_clear(fx->frags, PSV_MAP_FRAGS) ?:
	      fx_map_clear(fx->addrs6, PSV_MAP_ADDRS6) ?:
	      fx_map_clear(fx->conns6, PSV_MAP_CONNS6);
	while (!bpf_map_lookup_and_delete_elem(fx->ready, NULL, &vip))
		;
	fx_drain_events(fx);
	fx->n_ev = 0;
	return err;
}

/* Counters summed over CPUs. */
int fx_read_stats(struct fx *fx, __u64 *out)
{
	__u64 vals[fx->ncpu];
	__u32 k;
	int c;

	for (k = 0; k < PSV_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(fx->stats, &k, vals)) {
			fprintf(stderr, "read psv_stats[%u]: %s\n", k,
				strerror(errno));
			return -errno;
		}
		out[k] = 0;
		for (c = 0; c < fx->ncpu; c++)
			out[k] += vals[c];
	}
	return 0;
}

#define PSV_STAT_NAME(id, name) [PSV_STAT_##id] = #id,
const char *const fx_stat_names[PSV_STAT_MAX] = {
	PSV_STATS(PSV_STAT_NAME)
};
#undef PSV_STAT_NAME

__u32 fx_verdict(enum fx_prog prog, enum fx_verdict v)
{
	static const __u32 tc[] = { [FX_PASS] = 0, [FX_DROP] = 2,
				    [FX_TX] = 7 };
	static const __u32 xdp[] = { [FX_PASS] = 2, [FX_DROP] = 1,
				     [FX_TX] = 3 };

	return prog == FX_INGRESS_XDP ? xdp[v] : tc[v];
}

/* Runs prog once (or repeat times) on frame; fills r. */
int fx_run(struct fx *fx, enum fx_prog prog, const __u8 *frame,
	   size_t len, int repeat, struct fx_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	__u64 before[PSV_STAT_MAX], after[PSV_STAT_MAX];
	int k, err;

	memset(r, 0, offsetof(struct fx_result, out));
	fx_drain_events(fx);
	fx->n_ev = 0;
	err = fx_read_stats(fx, before);
	if (err)
		return r->err = err;
	opts.data_in = frame;
	opts.data_size_in = (__u32)len;
	opts.data_out = r->out;
	opts.data_size_out = sizeof(r->out);
	opts.repeat = repeat;
	r->err = bpf_prog_test_run_opts(fx->prog[prog], &opts);
	if (r->err)
		r->err = -errno;
	r->retval = opts.retval;
	r->out_len = opts.data_size_out;
	r->duration = opts.duration;
	err = fx_read_stats(fx, after);
	if (err)
		return r->err = err;
	for (k = 0; k < PSV_STAT_MAX; k++)
		r->delta[k] = after[k] - before[k];
	fx_drain_events(fx);
	r->n_ev = fx->n_ev;
	memcpy(r->ev, fx->ev, sizeof(fx->ev[0]) * (size_t)fx->n_ev);
	return r->err;
}

void fx_random_mac(__u8 *mac)
{
	if (getrandom(mac, 6, 0) != 6)
		memcpy(mac, "\x0a\x5e\x11\x22\x33\x44", 6);
	mac[0] = (mac[0] & 0xfc) | 0x02;	/* LAA, unicast */
}

void fx_world_init(struct fx_world *w)
{
	static const __u8 host_mac[6] = { 2, 0, 0, 0, 0, 1 };
	static const __u8 gw_mac[6] = { 2, 0, 0, 0, 0, 0xfe };

	memcpy(w->host_mac, host_mac, 6);
	memcpy(w->gw_mac, gw_mac, 6);
	fx_random_mac(w->vmac[0]);
	do
		fx_random_mac(w->vmac[1]);
	while (!memcmp(w->vmac[0], w->vmac[1], 6));
	w->host_ip = PKT_IP4(192, 0, 2, 10);
	w->gw_ip = PKT_IP4(192, 0, 2, 1);
	w->netmask = PKT_IP4(255, 255, 255, 0);
	w->remote = PKT_IP4(198, 51, 100, 10);
	w->router = PKT_IP4(203, 0, 113, 2);
	w->vip[0] = PKT_IP4(192, 0, 2, 200);
	w->vip[1] = PKT_IP4(192, 0, 2, 201);
	inet_pton(AF_INET6, "2001:db8:1::10", w->host6);
	inet_pton(AF_INET6, "fe80::10", w->host_ll);
	inet_pton(AF_INET6, "fe80::1", w->gw_ll);
	inet_pton(AF_INET6, "2001:db8:2::10", w->remote6);
	inet_pton(AF_INET6, "2001:db8:1::3a5c:91d2:7e01:b4f0", w->vip6[0]);
	inet_pton(AF_INET6, "2001:db8:1::c17:40aa:95e3:2d6b", w->vip6[1]);
}

int fx_set_ip6(struct fx *fx, __be32 vip, const __u8 *ip6, bool dad_done)
{
	struct psv_addr6_owner o = { .vip = vip, .dad_done = dad_done };
	struct psv_identity v;

	if (bpf_map_lookup_elem(fx->identities, &vip, &v)) {
		fprintf(stderr, "no identity for its IPv6 address\n");
		return -ENOENT;
	}
	memset(&v.ip6, 0, sizeof(v.ip6));
	if (dad_done)
		memcpy(&v.ip6, ip6, 16);
	if (bpf_map_update_elem(fx->identities, &vip, &v, BPF_ANY) ||
	    bpf_map_update_elem(fx->addrs6, ip6, &o, BPF_ANY)) {
		fprintf(stderr, "update psv_addrs6: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

void fx_world_config(const struct fx_world *w, struct psv_config *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->host_mac, w->host_mac, 6);
	c->host_ip = htonl(w->host_ip);
	c->netmask = htonl(w->netmask);
	c->ifindex = 1;
	c->enabled = 1;
	c->on_exhausted = PSV_EXHAUSTED_DROP;
	c->granularity = PSV_GRAN_FLOW;
}

/*
 * Empties all state, writes the standard config and both identities in
 * state READY with their IPv6 addresses (DAD done); the first n_ready
 * of them are pushed to psv_ready.
 */
int fx_setup(struct fx *fx, const struct fx_world *w, int n_ready)
{
	struct psv_config c;
	int i, err;

	fx_world_config(w, &c);
	err = fx_clear(fx) ?: fx_set_config(fx, &c);
	for (i = 0; i < 2 && !err; i++)
		err = fx_set_identity(fx, htonl(w->vip[i]), w->vmac[i],
				      PSV_ID_READY, (__u32)i + 1) ?:
		      fx_set_ip6(fx, htonl(w->vip[i]), w->vip6[i], true);
	for (i = 0; i < n_ready && !err; i++)
		err = fx_push_ready(fx, htonl(w->vip[i]));
	return err;
}

/*
 * Checks the counters: those in moved by one, none other except the
 * informational pass counters (unless named) and those in ignore.
 */
int fx_check_stats(const struct fx_result *r, __u64 moved,
		   __u64 ignore, bool print)
{
	__u64 may = ignore | (FX_PASS_STATS & ~moved);
	int k, bad = 0;

	for (k = 0; k < PSV_STAT_MAX; k++) {
		__u64 want = (moved >> k) & 1;

		if (r->delta[k] == want || (!want && (may >> k) & 1))
			continue;
		bad++;
		if (!print)
			continue;
		printf("#   counter %s moved by %llu, want %llu\n",
		       fx_stat_names[k], (unsigned long long)r->delta[k],
		       (unsigned long long)want);
	}
	return bad;
}

/*
 * BPF_PROG_TEST_RUN builds an skb for TC programs only around a whole
 * L3 header (measured on 6.18: an IPv4 EtherType needs 34 bytes, IPv6
 * 54) and refuses shorter frames with EINVAL before the program runs.
 * XDP takes any frame of at least an Ethernet header.
 */
bool fx_kernel_refuses(enum fx_prog prog, const __u8 *frame, size_t len)
{
	__u16 proto = len >= 14 ? pkt_get16(frame + 12) : 0;

	if (prog == FX_INGRESS_XDP)
		return len < 14;
	return len < 14 || (proto == PKT_ETH_P_IP && len < 14 + 20) ||
	       (proto == PKT_ETH_P_IPV6 && len < 14 + 40);
}

/*
 * One fixture (katran style): builds in, runs prog, and checks verdict,
 * output bytes against the expected frame built from scratch, the
 * output's checksums, and the counters.  Prints one line per aspect.
 * Returns true if all held; r keeps the run for further checks.
 */
bool fx_case(struct fx *fx, enum fx_prog prog, const char *desc,
	     const struct pkt_frame *in,
	     const struct fx_expect *e, struct fx_result *r)
{
	static __u8 frame[PKT_MAX], want[PKT_MAX];
	size_t len, want_len;
	char why[128];
	int fails = check_failures, bad;

	len = pkt_build(in, frame, sizeof(frame));
	if (!len) {
		CHECK(0, "%s %s: input frame builds", fx_prog_names[prog],
		      desc);
		return false;
	}
	fx_run(fx, prog, frame, len, 1, r);
	if (r->err == -EINVAL && fx_kernel_refuses(prog, frame, len)) {
		/* Checked, not skipped: such a frame cannot reach the
		 * program through the kernel's test run at all. */
		printf("ok - %s %s: the kernel's test run refuses a "
		       "%zu-byte frame of this EtherType before the program\n",
		       fx_prog_names[prog], desc, len);
		return true;
	}
	CHECK(r->err == 0, "%s %s: runs", fx_prog_names[prog], desc);
	if (r->err) {
		printf("#   bpf_prog_test_run_opts: %s\n", strerror(-r->err));
		return false;
	}
	CHECK_EQ(r->retval, fx_verdict(prog, e->verdict), "%s %s: verdict",
		 fx_prog_names[prog], desc);
	if (e->verdict != FX_DROP) {
		want_len = pkt_build(e->out ? e->out : in, want, sizeof(want));
		bad = r->out_len != want_len || memcmp(r->out, want, want_len);
		CHECK(!bad && want_len, "%s %s: output %s", fx_prog_names[prog],
		      desc, e->out ? "as expected" : "unchanged");
		if (bad)
			pkt_diff(r->out, r->out_len, want, want_len);
		if (e->out) {
			bad = pkt_verify_csums(r->out, r->out_len, why,
					       sizeof(why));
			CHECK(!bad, "%s %s: %s", fx_prog_names[prog], desc,
			      why);
		}
	}
	bad = fx_check_stats(r, e->moved, e->ignore, false);
	CHECK(!bad, "%s %s: counters", fx_prog_names[prog], desc);
	if (bad)
		fx_check_stats(r, e->moved, e->ignore, true);
	return check_failures == fails;
}

/* Verdicts any frame may get: pass or drop, never an ARP reply. */
bool fx_pass_or_drop(enum fx_prog prog, __u32 retval)
{
	return retval == fx_verdict(prog, FX_PASS) ||
	       retval == fx_verdict(prog, FX_DROP);
}

/*
 * Every prefix of frame f from an Ethernet header on: the program runs,
 * passes or drops, and translates or answers none of them.  With
 * must_drop, every prefix holding a whole IPv4 header is dropped (fail
 * closed: its addresses are known, its rest is not there).
 */
void fx_sweep(struct fx *fx, enum fx_prog prog,
	      struct fx_result *r, const char *what,
	      const struct pkt_frame *f, bool must_drop)
{
	static __u8 frame[PKT_MAX];
	size_t len = pkt_build(f, frame, sizeof(frame)), n;
	int bad = 0;

	for (n = 14; n < len; n++) {
		if (fx_run(fx, prog, frame, n, 1, r) == -EINVAL &&
		    fx_kernel_refuses(prog, frame, n))
			continue;
		if (r->err || !fx_pass_or_drop(prog, r->retval) ||
		    (must_drop && n >= 14 + 20 &&
		     r->retval != fx_verdict(prog, FX_DROP)) ||
		    r->delta[PSV_STAT_EG_TRANSLATED] ||
		    r->delta[PSV_STAT_IN_TRANSLATED] ||
		    r->delta[PSV_STAT_IN_ICMP_ERROR] ||
		    r->delta[PSV_STAT_IN_ARP_REPLIED] ||
		    r->delta[PSV_STAT_IN_NDP_REPLIED]) {
			printf("#   %zu bytes: err %d verdict %u\n", n, r->err,
			       r->retval);
			bad++;
		}
	}
	CHECK(!bad && len, "%s every truncation of %s: %s",
	      fx_prog_names[prog], what,
	      must_drop ? "dropped" : "pass or drop only");
}

/*
 * Random bytes under each EtherType the programs parse (a third of them
 * with a plausible IPv4 or IPv6 first byte and, if src is given, from that MAC
 * and IPv4 source so egress parses further): the program runs and
 * passes or drops.  Seeded, so a failure repeats.
 */
void fx_random_frames(struct fx *fx, enum fx_prog prog,
		      struct fx_result *r, const __u8 *src,
		      __u32 saddr)
{
	static const __u16 types[] = { PKT_ETH_P_IP, PKT_ETH_P_ARP,
				       PKT_ETH_P_IPV6, PKT_ETH_P_8021Q,
				       0x88a8 };
	__u8 junk[256];
	size_t n, j;
	int k, bad = 0;

	srand(1);
	for (k = 0; k < 600; k++) {
		n = 14 + (size_t)(rand() % 200);
		for (j = 0; j < n; j++)
			junk[j] = (__u8)rand();
		pkt_put16(junk + 12, types[k % 5]);
		if (src)
			memcpy(junk + 6, src, 6);
		if (k % 3 == 0) {
			junk[14] = types[k % 5] == PKT_ETH_P_IPV6 ? 0x60 : 0x45;
			if (src && n >= 30)
				pkt_put32(junk + 26, saddr);
		}
		if (fx_run(fx, prog, junk, n, 1, r) == -EINVAL &&
		    fx_kernel_refuses(prog, junk, n))
			continue;
		if (r->err || !fx_pass_or_drop(prog, r->retval))
			bad++;
	}
	CHECK(!bad, "%s 600 random frames: run, pass or drop (%d bad)",
	      fx_prog_names[prog], bad);
}

/*
 * n mutants of frame f, each with one to four random bytes changed in
 * its first 80 (the headers): the program runs and passes, drops, or
 * (tx_ok, for ARP) replies.  Seeded, so a failure repeats.
 */
void fx_mutants(struct fx *fx, enum fx_prog prog,
		struct fx_result *r, const char *what,
		const struct pkt_frame *f, int n, bool tx_ok)
{
	static __u8 orig[PKT_MAX], frame[PKT_MAX];
	size_t len = pkt_build(f, orig, sizeof(orig)), span;
	int k, j, bad = 0;

	span = len < 80 ? len : 80;
	srand(2);
	for (k = 0; k < n && span; k++) {
		memcpy(frame, orig, len);
		for (j = 0; j <= rand() % 4; j++)
			frame[(size_t)rand() % span] = (__u8)rand();
		if (fx_run(fx, prog, frame, len, 1, r) == -EINVAL &&
		    fx_kernel_refuses(prog, frame, len))
			continue;
		if (r->err || !(fx_pass_or_drop(prog, r->retval) ||
				(tx_ok && r->retval == fx_verdict(prog, FX_TX))))
			bad++;
	}
	CHECK(!bad && span, "%s %d mutants of %s: run, %s (%d bad)",
	      fx_prog_names[prog], n, what,
	      tx_ok ? "pass, drop or reply" : "pass or drop", bad);
}

/* Events of one type in a run, the first one copied to *ev if not NULL. */
int fx_events(const struct fx_result *r, __u32 type, struct psv_event *ev)
{
	int i, n = 0;

	for (i = 0; i < r->n_ev; i++) {
		if (r->ev[i].type != type)
			continue;
		if (!n++ && ev)
			*ev = r->ev[i];
	}
	return n;
}

/* Prints a hash map's entries as TAP comments, to show what a lookup missed. */
void fx_dump_map(int fd, const char *name, size_t key_size, size_t value_size)
{
	__u8 key[64], next[64], value[256];
	void *prev = NULL;
	int n = 0;

	if (key_size > sizeof(key) || value_size > sizeof(value))
		return;
	printf("#   %s holds:\n", name);
	while (n < 16 && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		printf("#     key ");
		pkt_hex(key, key_size);
		if (!bpf_map_lookup_elem(fd, key, value)) {
			printf(" value ");
			pkt_hex(value, value_size);
		}
		printf("\n");
		n++;
	}
	if (!n)
		printf("#     (nothing)\n");
}

int fx_map_count(int fd)
{
	__u8 key[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

bool fx_row_case(struct fx *fx, enum fx_prog prog, const struct fx_row *row,
		 struct fx_result *r)
{
	static const struct pkt_frame unchanged;
	const struct fx_expect e = {
		.verdict = row->verdict,
		.out = memcmp(&row->out, &unchanged, sizeof(unchanged)) ?
		       &row->out : NULL,
		.moved = row->moved,
		.ignore = row->ignore,
	};

	return fx_case(fx, prog, row->desc, &row->in, &e, r);
}

bool fx_table(struct fx *fx, enum fx_prog prog, const struct fx_row *rows,
	      size_t n, struct fx_result *r)
{
	bool all = true;
	size_t i;

	for (i = 0; i < n; i++)
		all &= fx_row_case(fx, prog, &rows[i], r);
	return all;
}

int fx_netns_local(const __u32 *addrs, int n)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	if (system("ip link set lo up"))
		return -1;
	for (int i = 0; i < n; i++)
		if (local_route_add(htonl(addrs[i])))
			return -1;
	return 0;
}

int fx_socket(int type, __u32 addr, __u16 port, bool listening)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(addr),
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (listening && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	return fd;
}
