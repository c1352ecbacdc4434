/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_fixture.h - the "setup" and "run" steps of the BPF program tests:
 * loads the egress and ingress skeletons so they share their maps (pinned
 * by name under a private bpffs directory, removed again at exit, also
 * when a test dies on a signal), resets the maps to a known state, runs a
 * program through BPF_PROG_TEST_RUN and reports what it did: verdict,
 * output frame, counter deltas and ring buffer events.  Declarations
 * here, bodies in bpf_fixture.c (compiled once, linked into every test
 * and into tests/bench/prog_bench).
 */
#ifndef PSV_TEST_BPF_FIXTURE_H
#define PSV_TEST_BPF_FIXTURE_H

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "psv.h"
#include "egress.skel.h"
#include "ingress.skel.h"
#include "check.h"
#include "pkt.h"

#define FX_MAX_EVENTS 64

/* Verdicts independent of the hook; fx_verdict() maps them per program. */
enum fx_verdict {
	FX_PASS,
	FX_DROP,
	FX_TX,		/* the ARP reply: XDP_TX, or a TC redirect */
};

enum fx_prog {
	FX_EGRESS,
	FX_INGRESS_XDP,
	FX_INGRESS_TC,
};

extern const char *const fx_prog_names[3];
extern const char *const fx_stat_names[PSV_STAT_MAX];

struct fx {
	char dir[64];
	struct egress_bpf *eg;
	struct ingress_bpf *in;
	int prog[3];
	int config, identities, ready, groups, links, conns, host_conns, frags;
	int stats, addrs6, conns6;
	struct ring_buffer *rb;
	struct psv_event ev[FX_MAX_EVENTS];
	int n_ev;
	int ncpu;
};

/*
 * Opens and loads both objects sharing maps through pin_root_path.
 * conns_max, if nonzero, shrinks psv_conns in both (libbpf only reuses a
 * pinned map whose definition matches).  The pins are removed at exit,
 * also when the test dies on a signal.
 */
int fx_open(struct fx *fx, __u32 conns_max);
/* Unpins and frees everything fx_open made. */
void fx_close(struct fx *fx);
/* A map of either object by name. */
int fx_map_fd(struct fx *fx, const char *name);

/* Deletes every entry of a hash map (keys up to 64 bytes). */
int fx_map_clear(int fd, const char *name);
/* Empties every state map, the queue and the ring buffer. */
int fx_clear(struct fx *fx);
/* The ready queue's length, and its head (0 if it is empty). */
int fx_queue_len(struct fx *fx);
__be32 fx_queue_peek(struct fx *fx);
int fx_push_ready(struct fx *fx, __be32 vip);
int fx_set_config(struct fx *fx, const struct psv_config *c);
int fx_set_identity(struct fx *fx, __be32 vip, const __u8 *mac, __u8 state,
		    __u32 id);
/*
 * Gives identity vip the IPv6 address ip6 (psv_addrs6), and makes it
 * the identity's socket address if its DAD is done.
 */
int fx_set_ip6(struct fx *fx, __be32 vip, const __u8 *ip6, bool dad_done);
void fx_drain_events(struct fx *fx);
/* Counters summed over CPUs. */
int fx_read_stats(struct fx *fx, __u64 *out);
/* The program's return code for a verdict. */
__u32 fx_verdict(enum fx_prog prog, enum fx_verdict v);

/* What one program run did. */
struct fx_result {
	int err;			/* bpf_prog_test_run_opts() */
	__u32 retval;
	__u8 out[PKT_MAX];
	__u32 out_len;
	__u64 delta[PSV_STAT_MAX];	/* counter changes */
	int n_ev;			/* events read during this run */
	struct psv_event ev[FX_MAX_EVENTS];
	__u32 duration;
};

/* Runs prog once (or repeat times) on frame; fills r. */
int fx_run(struct fx *fx, enum fx_prog prog, const __u8 *frame, size_t len,
	   int repeat, struct fx_result *r);

/*
 * The test world (the testbed's LAN): the host, its gateway, a remote
 * server, a router, and two identities with random locally administered
 * unicast MACs.  IPv6: the host's global and link-local addresses, the
 * gateway's link-local one, a remote server, and each identity's
 * address (random interface identifiers in the host's prefix).
 */
struct fx_world {
	__u8 host_mac[6], gw_mac[6], vmac[2][6];
	__u32 host_ip, gw_ip, netmask, remote, router, vip[2];
	__u8 host6[16], host_ll[16], gw_ll[16], remote6[16], vip6[2][16];
};

void fx_random_mac(__u8 *mac);
void fx_world_init(struct fx_world *w);
void fx_world_config(const struct fx_world *w, struct psv_config *c);
/*
 * Empties all state, writes the standard config and both identities in
 * state READY with their IPv6 addresses (DAD done); the first n_ready
 * of them are pushed to psv_ready.
 */
int fx_setup(struct fx *fx, const struct fx_world *w, int n_ready);

/* What a fixture expects of one run. */
#define FX_S(id) (1ULL << PSV_STAT_##id)
_Static_assert(PSV_STAT_MAX <= 64, "counters fit the fixtures' bit masks");
#define FX_PASS_STATS (FX_S(EG_PASS_HOST) | FX_S(EG_PASS_NOT_OURS) |	\
		       FX_S(IN_PASS) | FX_S(IN_HOST_CONN))

struct fx_expect {
	enum fx_verdict verdict;
	const struct pkt_frame *out;	/* NULL: the input, unchanged */
	__u64 moved;			/* counters that move by one */
	__u64 ignore;			/* counters that may move */
};

/*
 * Checks the counters: those in moved by one, none other except the
 * informational pass counters (unless named) and those in ignore.
 * Returns how many are off; with print, says which.
 */
int fx_check_stats(const struct fx_result *r, __u64 moved, __u64 ignore,
		   bool print);
/*
 * Whether the kernel's test run refuses this frame before the program
 * (TC needs a whole L3 header, XDP an Ethernet header).
 */
bool fx_kernel_refuses(enum fx_prog prog, const __u8 *frame, size_t len);
/*
 * One fixture (katran style): builds in, runs prog, and checks verdict,
 * output bytes against the expected frame built from scratch, the
 * output's checksums, and the counters.  Prints one line per aspect.
 * Returns true if all held; r keeps the run for further checks.
 */
bool fx_case(struct fx *fx, enum fx_prog prog, const char *desc,
	     const struct pkt_frame *in, const struct fx_expect *e,
	     struct fx_result *r);

/*
 * A fixture table's row: a stateless case at a glance, the input frame,
 * the verdict, the counters (as in struct fx_expect) and the expected
 * output.  An out left all zero means the input comes out unchanged (a
 * drop's output is not looked at).
 */
struct fx_row {
	const char *desc;
	struct pkt_frame in;
	enum fx_verdict verdict;
	__u64 moved;			/* counters that move by one */
	struct pkt_frame out;		/* all zero: the input, unchanged */
	__u64 ignore;			/* counters that may move */
};

/* A row: FX_ROW(desc, in, verdict, moved[, .out = ...][, .ignore = ...]). */
#define FX_ROW(d, i, v, m, ...)						\
	{ .desc = (d), .in = (i), .verdict = (v), .moved = (m), __VA_ARGS__ }

/* One row through fx_case. */
bool fx_row_case(struct fx *fx, enum fx_prog prog, const struct fx_row *row,
		 struct fx_result *r);
/* Every row of a table through fx_case, in order; true if all held. */
bool fx_table(struct fx *fx, enum fx_prog prog, const struct fx_row *rows,
	      size_t n, struct fx_result *r);
#define FX_ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Verdicts any frame may get: pass or drop, never an ARP reply. */
bool fx_pass_or_drop(enum fx_prog prog, __u32 retval);
/*
 * Every prefix of frame f from an Ethernet header on: the program runs,
 * passes or drops, and translates or answers none of them.  With
 * must_drop, every prefix holding a whole IPv4 header is dropped (fail
 * closed: its addresses are known, its rest is not there).
 */
void fx_sweep(struct fx *fx, enum fx_prog prog, struct fx_result *r,
	      const char *what, const struct pkt_frame *f, bool must_drop);
/*
 * Random bytes under each EtherType the programs parse (a third of them
 * with a plausible IPv4 or IPv6 first byte and, if src is given, from that MAC
 * and IPv4 source so egress parses further): the program runs and
 * passes or drops.  Seeded, so a failure repeats.
 */
void fx_random_frames(struct fx *fx, enum fx_prog prog, struct fx_result *r,
		      const __u8 *src, __u32 saddr);
/*
 * n mutants of frame f, each with one to four random bytes changed in
 * its first 80 (the headers): the program runs and passes, drops, or
 * (tx_ok, for ARP) replies.  Seeded, so a failure repeats.
 */
void fx_mutants(struct fx *fx, enum fx_prog prog, struct fx_result *r,
		const char *what, const struct pkt_frame *f, int n, bool tx_ok);

/* Events of one type in a run, the first one copied to *ev if not NULL. */
int fx_events(const struct fx_result *r, __u32 type, struct psv_event *ev);
/* Prints a hash map's entries as TAP comments, to show what a lookup missed. */
void fx_dump_map(int fd, const char *name, size_t key_size,
		 size_t value_size);
/* The number of entries of a hash map. */
int fx_map_count(int fd);

/*
 * A network namespace of the test's own whose loopback is up, with
 * addresses (host order) local to it as psvd makes identities local:
 * socket lookups of the programs under test look there.  0 or -1.
 */
int fx_netns_local(const __u32 *addrs, int n);
/* A socket of type on addr:port (host order), listening if asked. */
int fx_socket(int type, __u32 addr, __u16 port, bool listening);

#endif /* PSV_TEST_BPF_FIXTURE_H */
