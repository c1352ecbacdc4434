// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * prog_bench - what each psv BPF program costs per packet, measured by
 * the kernel through BPF_PROG_TEST_RUN (its duration: ns per run, taken
 * with ktime around the run loop).
 *
 * How, honestly: the kernel runs repeats on ONE buffer, for XDP and for
 * skb programs alike (checked here at start: a TC repeat of an egress
 * rewrite translates once, then sees its own output).  So:
 *  - frames a program leaves unchanged (a drop, a pass) are measured
 *    with one call of --repeat runs (default 1,000,000), median of 5;
 *  - the socket path and ingress's reverse NAT are measured the same
 *    way with an identity that is the host itself (virtual address =
 *    host_ip, virtual MAC = host MAC): the program takes the very same
 *    path (the same lookups, helper calls and checksum updates) but
 *    writes back the values it read, so every repeat sees the original
 *    frame.  For egress such a frame (from an identity's address) is the
 *    socket path, so egress NAT has no repeat case, only repeat 1.  The
 *    socket path of ingress needs a socket of the identity's address:
 *    prog_bench runs in a network namespace of its own (socket lookups
 *    of BPF_PROG_TEST_RUN look in the caller's), with host_ip and the
 *    remote's address as local routes, a connection host_ip:41000 ->
 *    remote:8080 and a listener on host_ip:8443.  IPv6 likewise: the
 *    host-mapped identity gets an IPv6 address (self6) for egress's
 *    socket path;
 *  - as a cross-check, and for the ARP reply (which turns the request
 *    into a reply), --runs calls of repeat 1 on a real identity
 *    (default 1,000,000), each on the original frame.  A repeat-1
 *    duration also holds the fixed cost of the timer (a ktime read and
 *    the loop's entry), so that cost is calibrated per program as
 *    (repeat-1 mean - repeat-N median) of a frame the program passes at
 *    its first checks (an EtherType psv does not parse) and subtracted;
 *    the raw mean is printed.
 *    What remains still includes the cache misses of a first run after
 *    a syscall: an upper bound, not the steady-state cost;
 *  - a new flow needs a new group per run: UDP datagrams with distinct
 *    source ports, in batches as large as the identity pool below, the
 *    maps reset and the ready queue refilled between batches (untimed),
 *    corrected like the repeat-1 cases.
 * Every case is checked to take the path it names: the counter of that
 * path must move exactly once per timed run, or the case is reported
 * invalid and the exit status is 1.
 *
 * Nanoseconds differ threefold between machines, so every case is also
 * judged against its hook's floor: a bare program of the same type
 * (floor.bpf.c: TC egress and TC ingress return TC_ACT_OK, XDP returns
 * XDP_PASS) measured right after the case, the same way (same frame,
 * method, repeat and timer correction).  Each case reports its ns, the
 * floor's, the difference and the ratio.
 *
 * The cases are one table, one row each (bench_cases[]): a new case is a
 * frame function and a row.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpf_fixture.h"
#include "bench/floor.skel.h"

#define BENCH_ROUNDS 5
#define BENCH_POOL 230		/* identities 192.0.2.20 .. 192.0.2.249 */

enum bench_method {
	BENCH_REPEAT,		/* unchanged frame: one call, many runs */
	BENCH_SINGLE,		/* rewritten frame: calls of one run */
	BENCH_NEW_FLOW,		/* a new group per run */
};

/* Which of psv's paths a case measures, for report.py's goals. */
enum bench_path {
	BENCH_OTHER,
	BENCH_NAT,		/* L2+L3+L4 rewrite (NAT fallback) */
	BENCH_SOCKET,		/* socket bound to an identity: MAC only */
};

static const char *const path_names[] = {
	[BENCH_OTHER] = "other",
	[BENCH_NAT] = "nat",
	[BENCH_SOCKET] = "socket",
};

struct bench_case {
	const char *metric;
	enum fx_prog prog;
	struct pkt_frame (*frame)(void); /* unused by BENCH_NEW_FLOW */
	enum fx_verdict verdict;
	enum psv_stat stat;	/* the counter of the path measured */
	enum bench_method method;
	enum bench_path path;
	bool self;		/* the flow's identity is the host's own */
	const char *what;
};

struct bench_result {
	double ns;		/* per packet, timer overhead removed */
	double raw;		/* repeat-1 mean before the correction */
	double floor;		/* the hook's bare program, measured alike */
	bool valid;
};

static struct fx fx;
static struct floor_bpf *floor_skel;
static int floor_prog[3];	/* by enum fx_prog: the same hook, bare */
/* The fixed cost of a repeat-1 call (see bench_calibrate), by program. */
static double overhead[3], floor_overhead[3];
static struct fx_world w;
static __u8 self6[16];		/* the host-mapped identity's IPv6 address */
static struct fx_result res;
static __u8 frame_buf[PKT_MAX];

static const char *const hook_names[] = {
	[FX_EGRESS] = "tc_egress",
	[FX_INGRESS_XDP] = "xdp",
	[FX_INGRESS_TC] = "tc_ingress",
};

/* One test run of program fd on frame; duration and retval out. */
static int bench_call(int fd, const __u8 *frame, size_t len, int repeat,
		      __u32 *duration, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = repeat);
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int err;

	err = bpf_prog_test_run_opts(fd, &opts);
	if (err) {
		err = -errno;
		bpf_obj_get_info_by_fd(fd, &info, &info_len);
		fprintf(stderr, "test run of %s: %s\n", info.name,
			strerror(-err));
		return err;
	}
	*duration = opts.duration;
	*retval = opts.retval;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median over BENCH_ROUNDS calls of repeat runs each. */
static int bench_repeat(int fd, const __u8 *frame, size_t len, int repeat,
			double *ns)
{
	__u32 d[BENCH_ROUNDS], retval;
	int i, err;

	for (i = 0; i < BENCH_ROUNDS; i++) {
		err = bench_call(fd, frame, len, repeat, &d[i], &retval);
		if (err)
			return err;
	}
	qsort(d, BENCH_ROUNDS, sizeof(d[0]), cmp_u32);
	*ns = d[BENCH_ROUNDS / 2];
	return 0;
}

/* Mean over runs calls of one run each. */
static int bench_single(int fd, const __u8 *frame, size_t len, long runs,
			double *ns)
{
	__u32 d, retval;
	double sum = 0;
	long i;
	int err;

	for (i = 0; i < runs; i++) {
		err = bench_call(fd, frame, len, 1, &d, &retval);
		if (err)
			return err;
		sum += d;
	}
	*ns = sum / (double)runs;
	return 0;
}

static __u32 pool_vip(int i)
{
	return PKT_IP4(192, 0, 2, 20 + i);
}

/*
 * Fresh state: identities 0 and 1 as in the unit tests (with their IPv6
 * addresses), and a TCP connection to the remote's port 80 from port
 * 40000, of identity 0 or, with self, of an identity that is the host's
 * own address and MAC, with IPv6 address self6.
 */
static int bench_setup(bool self)
{
	struct psv_conn_key k = {
		.raddr = htonl(w.remote), .lport = htons(40000),
		.rport = htons(80), .proto = PKT_IP_PROTO_TCP,
	};
	__u32 vip = self ? w.host_ip : w.vip[0];
	struct psv_conn c = { .vip = htonl(vip),
			      .tcp_state = PSV_TCP_ESTABLISHED };
	int err;

	err = fx_setup(&fx, &w, 0) ?:
	      fx_set_identity(&fx, htonl(vip), self ? w.host_mac : w.vmac[0],
			      PSV_ID_ACTIVE, 1) ?:
	      (self ? fx_set_ip6(&fx, htonl(vip), self6, true) : 0);
	if (err)
		return err;
	c.group.proto = PKT_IP_PROTO_TCP;
	c.group.daddr = k.raddr;
	c.group.dport = k.rport;
	if (bpf_map_update_elem(fx.conns, &k, &c, BPF_ANY)) {
		fprintf(stderr, "update psv_conns: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A full ready queue of BENCH_POOL identities, and no flows. */
static int bench_pool_refill(void)
{
	__u8 mac[6] = { 0x02, 0xbe, 0x0c, 0, 0, 0 };
	int i, err;

	err = fx_setup(&fx, &w, 0);
	for (i = 0; i < BENCH_POOL && !err; i++) {
		mac[5] = (__u8)i;
		err = fx_set_identity(&fx, htonl(pool_vip(i)), mac,
				      PSV_ID_READY, 100 + (__u32)i) ?:
		      fx_push_ready(&fx, htonl(pool_vip(i)));
	}
	return err;
}

/* UDP from the host, one new group per source port (not DNS, grouped per
 * application and resolver). */
static struct pkt_frame new_flow_frame(int i)
{
	struct pkt_frame f = { .ip = {
		.proto = PKT_IP_PROTO_UDP, .saddr = w.host_ip,
		.daddr = w.remote, .sport = (__u16)(20000 + i), .dport = 7,
		.payload_len = 32 } };

	memcpy(f.dst, w.gw_mac, 6);
	memcpy(f.src, w.host_mac, 6);
	return f;
}

static int bench_new_flow(int fd, long runs, double *ns)
{
	static __u8 frames[BENCH_POOL][128];
	size_t lens[BENCH_POOL];
	struct pkt_frame f;
	__u32 d, retval;
	double sum = 0;
	long done = 0;
	int i, err;

	for (i = 0; i < BENCH_POOL; i++) {
		f = new_flow_frame(i);
		lens[i] = pkt_build(&f, frames[i], sizeof(frames[i]));
	}
	while (done < runs) {
		err = bench_pool_refill();
		if (err)
			return err;
		for (i = 0; i < BENCH_POOL && done < runs; i++, done++) {
			err = bench_call(fd, frames[i], lens[i], 1, &d,
					 &retval);
			if (err)
				return err;
			sum += d;
		}
	}
	*ns = sum / (double)runs;
	return 0;
}

static __u64 stat_now(enum psv_stat s)
{
	__u64 v[PSV_STAT_MAX];

	return fx_read_stats(&fx, v) ? 0 : v[s];
}

/* ns per run of program fd on frame_buf (len), by method, uncorrected. */
static int bench_measure(int fd, enum bench_method method, size_t len,
			 long runs, int repeat, double *ns)
{
	switch (method) {
	case BENCH_REPEAT:
		return bench_repeat(fd, frame_buf, len, repeat, ns);
	case BENCH_SINGLE:
		return bench_single(fd, frame_buf, len, runs, ns);
	default:
		return bench_new_flow(fd, runs, ns);
	}
}

/*
 * One validation run (verdict and counter), then the measurement, then
 * the counter again: it must have moved once per timed run.  Then the
 * hook's floor, on the same frame the same way, with the same correction.
 */
static int bench_one(const struct bench_case *c, long runs, int repeat,
		     struct bench_result *out)
{
	bool timed_once = c->method != BENCH_REPEAT;
	__u64 before, expect = c->method == BENCH_REPEAT ?
			       (__u64)repeat * BENCH_ROUNDS : (__u64)runs;
	struct pkt_frame f;
	size_t len = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = c->method == BENCH_NEW_FLOW ? bench_pool_refill() :
					    bench_setup(c->self);
	if (err)
		return err;
	if (c->method != BENCH_NEW_FLOW) {
		f = c->frame();
		len = pkt_build(&f, frame_buf, sizeof(frame_buf));
		err = fx_run(&fx, c->prog, frame_buf, len, 1, &res);
		if (err)
			return err;
		if (res.retval != fx_verdict(c->prog, c->verdict) ||
		    res.delta[c->stat] != 1) {
			fprintf(stderr, "%s %s: verdict %u and %s +%llu, not "
				"the path to measure\n", fx_prog_names[c->prog],
				c->what, res.retval, fx_stat_names[c->stat],
				(unsigned long long)res.delta[c->stat]);
			return 0;
		}
		/* Repeats share the buffer: only an unchanged frame is fair. */
		if (c->method == BENCH_REPEAT &&
		    (res.out_len != len || memcmp(res.out, frame_buf, len))) {
			fprintf(stderr, "%s %s: the program changes the frame, "
				"its repeats would not see the same one\n",
				fx_prog_names[c->prog], c->what);
			return 0;
		}
	}
	before = stat_now(c->stat);
	err = bench_measure(fx.prog[c->prog], c->method, len, runs, repeat,
			    &out->raw);
	if (err)
		return err;
	out->valid = stat_now(c->stat) - before == expect;
	if (!out->valid)
		fprintf(stderr, "%s %s: %s moved %llu times in %llu runs\n",
			fx_prog_names[c->prog], c->what, fx_stat_names[c->stat],
			(unsigned long long)(stat_now(c->stat) - before),
			(unsigned long long)expect);
	err = bench_measure(floor_prog[c->prog], c->method, len, runs, repeat,
			    &out->floor);
	out->ns = out->raw - (timed_once ? overhead[c->prog] : 0);
	out->floor -= timed_once ? floor_overhead[c->prog] : 0;
	return err;
}

/*
 * Runs prog on an unchanged frame for about a second: the first numbers
 * of a run measured a cold CPU (egress 101 ns where a warm one takes 56).
 */
static int bench_warm_up(int fd, const struct pkt_frame *f)
{
	size_t len = pkt_build(f, frame_buf, sizeof(frame_buf));
	__u32 ns, retval;
	__u64 total = 0;
	int err = 0;

	while (!err && total < 1000000000ULL) {
		err = bench_call(fd, frame_buf, len, 1000000, &ns, &retval);
		total += (__u64)ns * 1000000;
	}
	return err;
}

/*
 * The fixed cost a repeat-1 duration carries, per program: the same
 * unchanged frame, passed at the program's first check, timed both ways.
 * For psv's program (fd fx.prog[prog]) and its hook's floor alike, each
 * corrected by its own: a floor corrected by psv's would go below zero.
 */
static int bench_calibrate(int fd, const struct pkt_frame *f, long runs,
			   int repeat, double *overhead)
{
	size_t len = pkt_build(f, frame_buf, sizeof(frame_buf));
	double one, many;
	int err;

	err = bench_setup(false) ?:
	      bench_single(fd, frame_buf, len, runs, &one) ?:
	      bench_repeat(fd, frame_buf, len, repeat, &many);
	if (err)
		return err;
	*overhead = one - many;
	return 0;
}

static struct pkt_frame host_tcp(__u16 sport, __u8 flags)
{
	struct pkt_frame f = { .ip = {
		.proto = PKT_IP_PROTO_TCP, .saddr = w.host_ip,
		.daddr = w.remote, .sport = sport, .dport = 80, .df = true,
		.tcp_flags = flags, .seq = 1, .ack_seq = 2 } };

	memcpy(f.dst, w.gw_mac, 6);
	memcpy(f.src, w.host_mac, 6);
	return f;
}

/* From the remote's port 80 to identity 0, or to the host with self. */
static struct pkt_frame remote_tcp(__u16 dport, __u8 flags, bool self)
{
	struct pkt_frame f = { .ip = {
		.proto = PKT_IP_PROTO_TCP, .saddr = w.remote,
		.daddr = self ? w.host_ip : w.vip[0], .sport = 80,
		.dport = dport, .df = true, .tcp_flags = flags, .seq = 3,
		.ack_seq = 4 } };

	memcpy(f.dst, self ? w.host_mac : w.vmac[0], 6);
	memcpy(f.src, w.gw_mac, 6);
	return f;
}

static struct pkt_frame arp_who_has(__u32 tpa)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_ARP, .min_len = 60 };

	memset(f.dst, 0xff, 6);
	memcpy(f.src, w.gw_mac, 6);
	f.arp.op = 1;
	memcpy(f.arp.sha, w.gw_mac, 6);
	f.arp.spa = w.gw_ip;
	f.arp.tpa = tpa;
	return f;
}

/*
 * The ingress socket path's world: a network namespace of prog_bench's
 * own, host_ip and the remote's address local in it, a connection of the
 * host-mapped identity (host_ip:41000 -> remote:8080) and a listener on
 * host_ip:8443.  The fds stay open until exit.
 */
#define SOCK_CONN_PORT 41000
#define SOCK_PEER_PORT 8080
#define SOCK_LISTEN_PORT 8443

static int bench_net(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(w.remote),
				 .sin_port = htons(SOCK_PEER_PORT) };
	int peer, cli, srv, lis;

	if (fx_netns_local((const __u32[]){ w.host_ip, w.remote }, 2))
		return -1;
	peer = fx_socket(SOCK_STREAM, w.remote, SOCK_PEER_PORT, true);
	cli = fx_socket(SOCK_STREAM, w.host_ip, SOCK_CONN_PORT, false);
	lis = fx_socket(SOCK_STREAM, w.host_ip, SOCK_LISTEN_PORT, true);
	if (peer < 0 || cli < 0 || lis < 0 ||
	    connect(cli, (struct sockaddr *)&a, sizeof(a)) ||
	    (srv = accept(peer, NULL, NULL)) < 0) {
		fprintf(stderr, "sockets of the host-mapped identity: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * For the timer's calibration: a frame of an EtherType psv does not parse
 * (LLDP), which every program passes at its first checks.
 */
static struct pkt_frame unparsed_frame(bool from_host)
{
	static const __u8 body[46];
	struct pkt_frame f = { .proto = 0x88cc, .raw = body,
			       .raw_len = sizeof(body) };

	memcpy(f.dst, from_host ? w.gw_mac : w.host_mac, 6);
	memcpy(f.src, from_host ? w.host_mac : w.gw_mac, 6);
	return f;
}

/* IPv6 TCP between the remote and addr (an identity's), with the MACs. */
static struct pkt_frame tcp6(const __u8 *addr, bool out, const __u8 *mac,
			     __u16 lport, __u16 rport, __u8 flags)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = PKT_IP_PROTO_TCP,
					.tcp_flags = flags, .seq = 1,
					.ack_seq = 2 } };

	memcpy(out ? f.ip6.saddr : f.ip6.daddr, addr, 16);
	memcpy(out ? f.ip6.daddr : f.ip6.saddr, w.remote6, 16);
	f.ip6.sport = out ? lport : rport;
	f.ip6.dport = out ? rport : lport;
	memcpy(out ? f.src : f.dst, mac, 6);
	memcpy(out ? f.dst : f.src, w.gw_mac, 6);
	return f;
}

/* The frames of the cases, by what they are; w holds the addresses. */
static struct pkt_frame fr_flow_ack(void)	/* the flow of bench_setup */
{
	return host_tcp(40000, PKT_TCP_ACK);
}

static struct pkt_frame fr_unknown_ack(void)
{
	return host_tcp(40001, PKT_TCP_ACK);
}

static struct pkt_frame fr_reply_self(void)	/* to the host-mapped identity */
{
	return remote_tcp(40000, PKT_TCP_ACK, true);
}

/* The socket path: to the connection of bench_net, and to its listener. */
static struct pkt_frame fr_to_socket_conn(void)
{
	struct pkt_frame f = remote_tcp(SOCK_CONN_PORT, PKT_TCP_ACK, true);

	f.ip.sport = SOCK_PEER_PORT;
	return f;
}

static struct pkt_frame fr_to_socket_listener(void)
{
	struct pkt_frame f = remote_tcp(SOCK_LISTEN_PORT, PKT_TCP_SYN, true);

	f.ip.sport = 50000;
	return f;
}

static struct pkt_frame fr_reply(void)		/* to identity 0 */
{
	return remote_tcp(40000, PKT_TCP_ACK, false);
}

static struct pkt_frame fr_arp_request(void)	/* who has identity 1? */
{
	return arp_who_has(w.vip[1]);
}

static struct pkt_frame fr_unsolicited_syn(void)
{
	struct pkt_frame f = remote_tcp(22, PKT_TCP_SYN, false);

	f.ip.sport = 40000;
	return f;
}

/* IPv6: from the host-mapped identity's address (the socket path). */
static struct pkt_frame fr_flow6_ack(void)
{
	return tcp6(self6, true, w.host_mac, 40000, 80, PKT_TCP_ACK);
}

static struct pkt_frame fr_unsolicited_syn6(void)	/* to identity 0 */
{
	return tcp6(w.vip6[0], false, w.vmac[0], 22, 40000, PKT_TCP_SYN);
}

/* The gateway asks who has identity 1's IPv6 address. */
static struct pkt_frame fr_ns6(void)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = PKT_IP_PROTO_ICMPV6,
					.hop_limit = 255,
					.icmp_type = PKT_ICMPV6_NS,
					.lla_type = PKT_ND_OPT_SLLA } };
	const __u8 *t = w.vip6[1];

	memcpy(f.dst, (__u8[6]){ 0x33, 0x33, 0xff, t[13], t[14], t[15] }, 6);
	memcpy(f.src, w.gw_mac, 6);
	memcpy(f.ip6.saddr, w.gw_ll, 16);
	inet_pton(AF_INET6, "ff02::1:ff00:0", f.ip6.daddr);
	memcpy(f.ip6.daddr + 13, t + 13, 3);
	memcpy(f.ip6.target, t, 16);
	memcpy(f.ip6.lla, w.gw_mac, 6);
	return f;
}

/*
 * Whether repeats share the buffer for skb programs too: with repeat 2
 * an egress rewrite must translate once and then see a frame that is no
 * longer the host's.
 */
static int bench_check_reuse(FILE *note)
{
	struct pkt_frame f = fr_flow_ack();
	size_t len = pkt_build(&f, frame_buf, sizeof(frame_buf));
	int err;

	err = bench_setup(false) ?:
	      fx_run(&fx, FX_EGRESS, frame_buf, len, 2, &res);
	if (err)
		return err;
	fprintf(note, "# TC repeat 2 of an egress rewrite: %llu translated, "
		"%llu passed as not the host's: repeats %s one buffer\n",
		(unsigned long long)res.delta[PSV_STAT_EG_TRANSLATED],
		(unsigned long long)res.delta[PSV_STAT_EG_PASS_NOT_OURS],
		res.delta[PSV_STAT_EG_TRANSLATED] == 1 ? "share" :
		"do not share");
	return 0;
}

#define REPEAT BENCH_REPEAT
#define SINGLE BENCH_SINGLE
#define NEW_FLOW BENCH_NEW_FLOW
#define NAT BENCH_NAT
#define SOCKET BENCH_SOCKET
#define OTHER BENCH_OTHER
#define SELF true

/*
 * One row per case: metric, program, frame, expected verdict, the
 * counter of its path, method, path (what report.py judges against the
 * floor: socket <= 1.5x, NAT beside it), whether the flow's identity is
 * the host's own (so a rewrite leaves the frame unchanged for repeats),
 * and what it is, in words.
 */
static const struct bench_case bench_cases[] = {
	/* From an identity's address (the host's own): MAC only. */
	{ "egress_socket_path", FX_EGRESS, fr_flow_ack, FX_PASS,
	  PSV_STAT_EG_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "socket path (MAC only)" },
	{ "egress_socket_path_repeat1", FX_EGRESS, fr_flow_ack, FX_PASS,
	  PSV_STAT_EG_IDENTITY_MAC, SINGLE, SOCKET, SELF,
	  "socket path (MAC only)" },
	/* Only repeat 1: a self frame would take the socket path. */
	{ "egress_existing_flow_repeat1", FX_EGRESS, fr_flow_ack, FX_PASS,
	  PSV_STAT_EG_TRANSLATED, SINGLE, NAT, 0, "existing flow (NAT)" },
	{ "egress_socket_path_v6", FX_EGRESS, fr_flow6_ack, FX_PASS,
	  PSV_STAT_EG_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "IPv6 socket path (MAC only)" },
	{ "egress_new_flow", FX_EGRESS, NULL, FX_PASS,
	  PSV_STAT_EG_NEW_GROUP, NEW_FLOW, OTHER, 0, "new flow (group+conn)" },
	{ "egress_pass_host", FX_EGRESS, fr_unknown_ack, FX_PASS,
	  PSV_STAT_EG_PASS_HOST, REPEAT, OTHER, 0, "unknown TCP ACK (pass)" },
	{ "ingress_xdp_socket_conn", FX_INGRESS_XDP, fr_to_socket_conn,
	  FX_PASS, PSV_STAT_IN_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "socket path, connection" },
	{ "ingress_xdp_socket_listener", FX_INGRESS_XDP, fr_to_socket_listener,
	  FX_PASS, PSV_STAT_IN_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "socket path, listener" },
	{ "ingress_xdp_reverse_nat", FX_INGRESS_XDP, fr_reply_self, FX_PASS,
	  PSV_STAT_IN_TRANSLATED, REPEAT, NAT, SELF, "reverse NAT" },
	{ "ingress_xdp_reverse_nat_repeat1", FX_INGRESS_XDP, fr_reply, FX_PASS,
	  PSV_STAT_IN_TRANSLATED, SINGLE, NAT, 0, "reverse NAT" },
	{ "ingress_xdp_arp_reply", FX_INGRESS_XDP, fr_arp_request, FX_TX,
	  PSV_STAT_IN_ARP_REPLIED, SINGLE, OTHER, 0, "ARP reply" },
	{ "ingress_xdp_unsolicited_drop", FX_INGRESS_XDP, fr_unsolicited_syn,
	  FX_DROP, PSV_STAT_IN_DROP_UNSOLICITED, REPEAT, OTHER, 0,
	  "unsolicited drop" },
	{ "ingress_xdp_ndp_reply", FX_INGRESS_XDP, fr_ns6, FX_TX,
	  PSV_STAT_IN_NDP_REPLIED, SINGLE, OTHER, 0, "IPv6 NS -> NA" },
	{ "ingress_xdp_unsolicited_drop_v6", FX_INGRESS_XDP, fr_unsolicited_syn6,
	  FX_DROP, PSV_STAT_IN_DROP_UNSOLICITED, REPEAT, OTHER, 0,
	  "IPv6 unsolicited drop" },
	{ "ingress_tc_socket_conn", FX_INGRESS_TC, fr_to_socket_conn,
	  FX_PASS, PSV_STAT_IN_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "socket path, connection" },
	{ "ingress_tc_socket_listener", FX_INGRESS_TC, fr_to_socket_listener,
	  FX_PASS, PSV_STAT_IN_IDENTITY_MAC, REPEAT, SOCKET, SELF,
	  "socket path, listener" },
	{ "ingress_tc_reverse_nat", FX_INGRESS_TC, fr_reply_self, FX_PASS,
	  PSV_STAT_IN_TRANSLATED, REPEAT, NAT, SELF, "reverse NAT" },
	{ "ingress_tc_reverse_nat_repeat1", FX_INGRESS_TC, fr_reply, FX_PASS,
	  PSV_STAT_IN_TRANSLATED, SINGLE, NAT, 0, "reverse NAT" },
	{ "ingress_tc_arp_reply", FX_INGRESS_TC, fr_arp_request, FX_TX,
	  PSV_STAT_IN_ARP_REPLIED, SINGLE, OTHER, 0, "ARP reply" },
	{ "ingress_tc_unsolicited_drop", FX_INGRESS_TC, fr_unsolicited_syn,
	  FX_DROP, PSV_STAT_IN_DROP_UNSOLICITED, REPEAT, OTHER, 0,
	  "unsolicited drop" },
	{ "ingress_tc_ndp_reply", FX_INGRESS_TC, fr_ns6, FX_TX,
	  PSV_STAT_IN_NDP_REPLIED, SINGLE, OTHER, 0, "IPv6 NS -> NA" },
	{ "ingress_tc_unsolicited_drop_v6", FX_INGRESS_TC, fr_unsolicited_syn6,
	  FX_DROP, PSV_STAT_IN_DROP_UNSOLICITED, REPEAT, OTHER, 0,
	  "IPv6 unsolicited drop" },
};
#define BENCH_CASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

static const char *const method_names[] = {
	[BENCH_REPEAT] = "repeat",
	[BENCH_SINGLE] = "calls of repeat 1",
	[BENCH_NEW_FLOW] = "new groups, repeat 1",
};

/* The bare program of each hook (floor.bpf.c), for floor_prog[]. */
static int floor_open(void)
{
	int err;

	floor_skel = floor_bpf__open_and_load();
	if (!floor_skel) {
		err = -errno;
		fprintf(stderr, "load floor.bpf.o: %s\n", strerror(-err));
		return err;
	}
	floor_prog[FX_EGRESS] =
		bpf_program__fd(floor_skel->progs.floor_tc_egress);
	floor_prog[FX_INGRESS_XDP] =
		bpf_program__fd(floor_skel->progs.floor_xdp);
	floor_prog[FX_INGRESS_TC] =
		bpf_program__fd(floor_skel->progs.floor_tc_ingress);
	return 0;
}

/* Above a floor this small a ratio says nothing: JSON null, "-". */
static double floor_ratio(const struct bench_result *r)
{
	return r->floor >= 0.5 ? r->ns / r->floor : NAN;
}

static void print_json(const struct bench_case *c,
		       const struct bench_result *r)
{
	double x = floor_ratio(r);
	char ratio[32];

	if (isnan(x))
		snprintf(ratio, sizeof(ratio), "null");
	else
		snprintf(ratio, sizeof(ratio), "%.2f", x);
	printf("{\"metric\": \"%s\", \"value\": %.1f, \"unit\": \"ns\", "
	       "\"program\": \"%s\", \"hook\": \"%s\", \"path\": \"%s\", "
	       "\"method\": \"%s\", \"floor\": %.1f, \"above_floor\": %.1f, "
	       "\"floor_ratio\": %s}\n", c->metric, r->ns,
	       fx_prog_names[c->prog], hook_names[c->prog],
	       path_names[c->path], method_names[c->method], r->floor,
	       r->ns - r->floor, ratio);
}

static void print_row(const struct bench_case *c,
		      const struct bench_result *r, long runs, int repeat)
{
	double x = floor_ratio(r);
	char ratio[16] = "-";

	if (!isnan(x))
		snprintf(ratio, sizeof(ratio), "%.1f", x);
	printf("%-12s %-26s %7.1f %6.1f %6.1f %6s  %-6s ",
	       fx_prog_names[c->prog], c->what, r->ns, r->floor,
	       r->ns - r->floor, ratio, path_names[c->path]);
	if (c->method == BENCH_REPEAT)
		printf("%s %d, median of %d%s\n", method_names[c->method],
		       repeat, BENCH_ROUNDS,
		       c->self ? ", host-mapped identity" : "");
	else
		printf("%ld %s (raw %.1f - timer %.1f; floor's %.1f), "
		       "upper bound\n", runs, method_names[c->method], r->raw,
		       overhead[c->prog], floor_overhead[c->prog]);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--json] [--runs N] [--repeat N]\n"
		"  --runs N    repeat-1 calls for rewriting cases (1000000)\n"
		"  --repeat N  runs per call for unchanged frames (1000000)\n"
		"  --json      JSON lines {\"metric\", \"value\", \"unit\", "
		"\"floor\", ...}\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "runs", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench_result br[BENCH_CASES];
	struct pkt_frame cal_out, cal_in;
	double load[1];
	long runs = 1000000;
	int repeat = 1000000, opt, i, failed = 0;
	bool json = false;
	size_t n;
	FILE *note;

	while ((opt = getopt_long(argc, argv, "jn:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'n':
			runs = strtol(optarg, NULL, 10);
			break;
		case 'r':
			repeat = (int)strtol(optarg, NULL, 10);
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (runs < 1 || repeat < 1) {
		usage(argv[0]);
		return 2;
	}

	fx_world_init(&w);
	memcpy(self6, w.vip6[0], 16);
	self6[15] ^= 0x5a;	/* in the identities' prefix, nobody's */
	/* JSON lines only on stdout with --json: notes go to stderr. */
	note = json ? stderr : stdout;
	if (bench_net()) {
		fprintf(stderr, "cannot set up the socket path's namespace\n");
		return 1;
	}
	cal_out = unparsed_frame(true);
	cal_in = unparsed_frame(false);
	if (fx_open(&fx, 0) || floor_open()) {
		fprintf(stderr, "cannot load the psv or floor objects\n");
		goto fail;
	}
	for (i = 0; i < 3; i++)
		if (bench_warm_up(fx.prog[i], i ? &cal_in : &cal_out) ||
		    bench_warm_up(floor_prog[i], i ? &cal_in : &cal_out))
			goto fail;
	if (bench_check_reuse(note))
		goto fail;
	for (i = 0; i < 3; i++)
		if (bench_calibrate(fx.prog[i], i ? &cal_in : &cal_out, runs,
				    repeat, &overhead[i]) ||
		    bench_calibrate(floor_prog[i], i ? &cal_in : &cal_out, runs,
				    repeat, &floor_overhead[i]))
			goto fail;
	for (n = 0; n < BENCH_CASES; n++) {
		if (bench_one(&bench_cases[n], runs, repeat, &br[n]))
			goto fail;
		failed += !br[n].valid;
	}
	floor_bpf__destroy(floor_skel);
	fx_close(&fx);

	/* Other work on the machine shows up in every number. */
	if (getloadavg(load, 1) == 1)
		fprintf(note, "# load average %.2f on %ld CPUs\n", load[0],
		       sysconf(_SC_NPROCESSORS_ONLN));
	if (!json)
		printf("%-12s %-26s %7s %6s %6s %6s  %-6s %s\n", "program",
		       "case", "ns/pkt", "floor", "above", "x", "path",
		       "method");
	for (n = 0; n < BENCH_CASES; n++) {
		if (!br[n].valid)
			fprintf(note, "# %s: invalid, not reported\n",
				bench_cases[n].metric);
		else if (json)
			print_json(&bench_cases[n], &br[n]);
		else
			print_row(&bench_cases[n], &br[n], runs, repeat);
	}
	return failed ? 1 : 0;
fail:
	floor_bpf__destroy(floor_skel);
	fx_close(&fx);
	return 1;
}
