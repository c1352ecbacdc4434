// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_egress - psv_egress (TC) through BPF_PROG_TEST_RUN.  Each scenario
 * is pktgen -> setup -> check: a frame described with pkt.h, the maps put
 * in a known state, then the verdict, the output bytes against a frame
 * built from scratch (so every checksum is compared with an independent
 * RFC 1071 computation), the map side effects and the counters.
 */
#include <time.h>

#include "bpf_fixture.h"

static struct fx fx;
static struct fx_world w;
static struct fx_result r;

/* A frame the host sends from its real identity to the remote server. */
static struct pkt_frame host_frame(__u8 proto, __u16 sport, __u16 dport)
{
	struct pkt_frame f = { .ip = { .proto = proto, .sport = sport,
				       .dport = dport } };

	memcpy(f.dst, w.gw_mac, 6);
	memcpy(f.src, w.host_mac, 6);
	f.ip.saddr = w.host_ip;
	f.ip.daddr = w.remote;
	f.ip.id = 0x1000 + sport;
	f.ip.df = proto == PKT_IP_PROTO_TCP;
	f.ip.seq = 0x11223344;
	f.ip.tcp_flags = proto == PKT_IP_PROTO_TCP ? PKT_TCP_SYN : 0;
	f.ip.payload_len = proto == PKT_IP_PROTO_TCP ? 0 : 32;
	return f;
}

static struct pkt_frame tcp_frame(__u16 sport, __u16 dport, __u8 flags)
{
	struct pkt_frame f = host_frame(PKT_IP_PROTO_TCP, sport, dport);

	f.ip.tcp_flags = flags;
	if (flags & PKT_TCP_ACK)
		f.ip.ack_seq = 0x55667788;
	return f;
}

static struct pkt_frame echo_frame(__u16 id)
{
	struct pkt_frame f = host_frame(PKT_IP_PROTO_ICMP, 0, 0);

	f.ip.icmp_type = PKT_ICMP_ECHO;
	f.ip.icmp_id = id;
	f.ip.icmp_seq = 1;
	return f;
}

/* The same frame as identity i puts it on the wire. */
static struct pkt_frame as_identity(const struct pkt_frame *f, int i)
{
	struct pkt_frame g = *f;

	memcpy(g.src, w.vmac[i], 6);
	g.ip.saddr = w.vip[i];
	return g;
}

static struct psv_group_key group_key(__u8 proto, __u16 sport, __u16 dport)
{
	struct psv_group_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.daddr = htonl(w.remote);
	k.sport = htons(sport);
	k.dport = htons(dport);
	return k;
}

static struct psv_conn_key conn_key(__u8 proto, __u16 lport, __u16 rport)
{
	struct psv_conn_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.raddr = htonl(w.remote);
	k.lport = htons(lport);
	k.rport = htons(rport);
	return k;
}

static const struct fx_expect pass = { .verdict = FX_PASS };
static const struct fx_expect pass_host = {
	.verdict = FX_PASS, .moved = FX_S(EG_PASS_HOST),
};

/* Translated with state created for a new group, a new conn, or neither. */
static struct fx_expect translated(const struct pkt_frame *out, bool group,
				   bool conn)
{
	struct fx_expect e = { .verdict = FX_PASS, .out = out,
			       .moved = FX_S(EG_TRANSLATED) };

	if (group)
		e.moved |= FX_S(EG_NEW_GROUP);
	/* The test runs have no socket: no hook saw one. */
	if (conn)
		e.moved |= FX_S(EG_NEW_CONN) | FX_S(EG_NAT_UNHOOKED);
	return e;
}

static void check_group(const char *what, struct psv_group_key k, int i)
{
	struct psv_group g;
	int err;

	err = bpf_map_lookup_elem(fx.groups, &k, &g);
	CHECK(!err, "%s: psv_groups has the group", what);
	if (err) {
		fx_dump_map(fx.groups, PSV_MAP_GROUPS, sizeof(k), sizeof(g));
		return;
	}
	CHECK_EQ(ntohl(g.vip), w.vip[i], "%s: group's identity", what);
}

/* Checks the conn entry; tcp_state < 0 means not checked. */
static void check_conn(const char *what, struct psv_conn_key k, int i,
		       int tcp_state)
{
	struct psv_conn c;
	int err;

	err = bpf_map_lookup_elem(fx.conns, &k, &c);
	CHECK(!err, "%s: psv_conns has the connection", what);
	if (err) {
		fx_dump_map(fx.conns, PSV_MAP_CONNS, sizeof(k), sizeof(c));
		return;
	}
	CHECK_EQ(ntohl(c.vip), w.vip[i], "%s: connection's identity", what);
	if (tcp_state >= 0)
		CHECK_EQ(c.tcp_state, tcp_state, "%s: connection's TCP state",
			 what);
}

static void check_no_conn(const char *what, struct psv_conn_key k)
{
	struct psv_conn c;

	CHECK(bpf_map_lookup_elem(fx.conns, &k, &c) && errno == ENOENT,
	      "%s: no connection created", what);
}

static void check_identity_state(const char *what, int i, int state)
{
	struct psv_identity id;
	__be32 vip = htonl(w.vip[i]);

	CHECK(!bpf_map_lookup_elem(fx.identities, &vip, &id),
	      "%s: identity %d exists", what, i);
	CHECK_EQ(id.state, state, "%s: identity %d state", what, i);
}

/* The queue still holds exactly the identities from first on. */
static void check_queue(const char *what, int first)
{
	int n = 2 - first;

	CHECK_EQ(fx_queue_len(&fx), n, "%s: ready queue length", what);
	if (n)
		CHECK_EQ(ntohl(fx_queue_peek(&fx)), w.vip[first],
			 "%s: ready queue head", what);
}

static void check_untouched(const char *what, int queue_first)
{
	check_queue(what, queue_first);
	CHECK_EQ(r.n_ev, 0, "%s: no event", what);
}

static void test_tcp(void)
{
	static __u8 payload[40];
	const char *what = "TCP SYN, new group";
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);
	struct psv_group_key gk = group_key(PKT_IP_PROTO_TCP, 0, 80);
	struct psv_event ev = { 0 };

	if (fx_setup(&fx, &w, 2))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, gk, 0);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40000, 80), 0,
		   PSV_TCP_SYN_SENT);
	check_identity_state(what, 0, PSV_ID_ACTIVE);
	check_identity_state(what, 1, PSV_ID_READY);
	check_queue(what, 1);
	CHECK_EQ(fx_events(&r, PSV_EV_IDENTITY_TAKEN, &ev), 1,
		 "%s: one IDENTITY_TAKEN event", what);
	CHECK_EQ(r.n_ev, 1, "%s: no other event", what);
	CHECK_EQ(ntohl(ev.vip), w.vip[0], "%s: event names the identity",
		 what);
	CHECK(!memcmp(&ev.group, &gk, sizeof(gk)),
	      "%s: event names the group", what);

	what = "TCP SYN, same group, other port";
	in = tcp_frame(40001, 80, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40001, 80), 0, -1);
	check_untouched(what, 1);

	what = "TCP ACK of a known connection";
	in = tcp_frame(40000, 80, PKT_TCP_ACK);
	out = as_identity(&in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_untouched(what, 1);

	/* Kernel-made replies keep the connection's identity. */
	what = "TCP RST of a known connection";
	in = tcp_frame(40001, 80, PKT_TCP_RST | PKT_TCP_ACK);
	out = as_identity(&in, 0);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_untouched(what, 1);

	what = "TCP ACK whose new checksum computes to zero";
	in = tcp_frame(40000, 80, PKT_TCP_ACK);
	in.ip.payload = payload;
	in.ip.payload_len = sizeof(payload);
	out = as_identity(&in, 0);
	pkt_zero_csum(&out.ip, payload);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK(r.out_len >= 52 && pkt_get16(r.out + 50) == 0,
	      "%s: TCP checksum 0x0000", what);

	what = "TCP ACK whose old checksum computed to zero";
	pkt_zero_csum(&in.ip, payload);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "TCP ACK, unknown connection, known group";
	in = tcp_frame(40002, 80, PKT_TCP_ACK);
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40002, 80));
	check_untouched(what, 1);

	what = "TCP ACK, unknown connection, unknown group";
	in = tcp_frame(40003, 443, PKT_TCP_ACK);
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40003, 443));
	check_untouched(what, 1);

	/* IPv4 options shift L4 to ihl * 4. */
	what = "TCP SYN with IPv4 options (IHL 6)";
	in = tcp_frame(40010, 80, PKT_TCP_SYN);
	in.ip.optlen = 4;
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40010, 80), 0, -1);

	what = "TCP SYN with IPv4 options (IHL 7)";
	in = tcp_frame(40011, 80, PKT_TCP_SYN);
	in.ip.optlen = 8;
	out = as_identity(&in, 0);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40011, 80), 0, -1);
	check_untouched(what, 1);

	/* On-link unicast is virtualized like the rest. */
	what = "UDP to an on-link peer";
	in = host_frame(PKT_IP_PROTO_UDP, 40020, 53);
	in.ip.daddr = w.gw_ip;
	out = as_identity(&in, 1);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	/* A retired identity's lease is released: its flows must not leave. */
	what = "TCP ACK of a connection whose identity retired";
	if (fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_RETIRED,
			    1))
		return;
	in = tcp_frame(40000, 80, PKT_TCP_ACK);
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_NO_IDENTITY) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
}

static void test_udp(void)
{
	static __u8 payload[32];
	const char *what = "UDP to :123, new group";
	struct pkt_frame in = host_frame(PKT_IP_PROTO_UDP, 40000, 123);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);

	if (fx_setup(&fx, &w, 2))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, group_key(PKT_IP_PROTO_UDP, 40000, 123), 0);
	check_conn(what, conn_key(PKT_IP_PROTO_UDP, 40000, 123), 0,
		   PSV_TCP_NONE);
	check_queue(what, 1);
	CHECK_EQ(fx_events(&r, PSV_EV_IDENTITY_TAKEN, NULL), 1,
		 "%s: IDENTITY_TAKEN event", what);

	/* RFC 768: zero means no checksum and must stay zero. */
	what = "UDP without checksum, same flow";
	in.ip.udp_csum_zero = true;
	out = as_identity(&in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK(r.out_len >= 42 && !pkt_get16(r.out + 40),
	      "%s: UDP checksum still zero", what);
	check_untouched(what, 1);

	/* RFC 1624 section 3: a checksum that becomes, or was, zero. */
	what = "UDP whose new checksum computes to zero";
	in.ip.udp_csum_zero = false;
	in.ip.payload = payload;
	out = as_identity(&in, 0);
	pkt_zero_csum(&out.ip, payload);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK(r.out_len >= 42 && pkt_get16(r.out + 40) == 0xffff,
	      "%s: sent as 0xffff (RFC 768)", what);

	what = "UDP whose old checksum computed to zero";
	pkt_zero_csum(&in.ip, payload);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "UDP from another source port, new group";
	in = host_frame(PKT_IP_PROTO_UDP, 40001, 123);
	out = as_identity(&in, 1);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, group_key(PKT_IP_PROTO_UDP, 40001, 123), 1);
	check_conn(what, conn_key(PKT_IP_PROTO_UDP, 40001, 123), 1, -1);
	check_identity_state(what, 1, PSV_ID_ACTIVE);
	check_queue(what, 2);
}

/*
 * DNS: lookups from new source ports share one identity per application
 * and resolver (an unattributed test run: application 0); another
 * resolver is another group.
 */
static void test_dns(void)
{
	const char *what = "DNS lookup, new group";
	struct pkt_frame in = host_frame(PKT_IP_PROTO_UDP, 40000, 53);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);
	struct psv_group_key gk = group_key(PKT_IP_PROTO_UDP, 0, 53);

	if (fx_setup(&fx, &w, 2))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, gk, 0);

	what = "DNS lookup from another source port: the same identity";
	in = host_frame(PKT_IP_PROTO_UDP, 40001, 53);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_UDP, 40001, 53), 0, -1);
	check_untouched(what, 1);
	CHECK_EQ(fx_map_count(fx.groups), 1, "%s: one group", what);

	what = "DNS lookup to another resolver: a group of its own";
	in.ip.daddr = PKT_IP4(203, 0, 113, 53);
	out = as_identity(&in, 1);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_queue(what, 2);
}

static void test_icmp_echo(void)
{
	const char *what = "ICMP echo request";
	struct pkt_frame in = echo_frame(0x1234);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);
	static __u8 frame[PKT_MAX];
	size_t len;

	if (fx_setup(&fx, &w, 2))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	/* ICMP has no pseudo header: its checksum must not move. */
	len = pkt_build(&in, frame, sizeof(frame));
	CHECK(len >= 38 && r.out_len >= 38 &&
	      pkt_get16(r.out + 36) == pkt_get16(frame + 36),
	      "%s: ICMP checksum unchanged", what);
	check_group(what, group_key(PKT_IP_PROTO_ICMP, 0, 0), 0);
	check_conn(what, conn_key(PKT_IP_PROTO_ICMP, 0x1234, 0), 0, -1);
	check_queue(what, 1);

	what = "ICMP echo request, same group, other id";
	in = echo_frame(0x1235);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_ICMP, 0x1235, 0), 0, -1);
	check_untouched(what, 1);

	/* The host answering a ping to its own address. */
	what = "ICMP echo reply from the host";
	in = echo_frame(0x4321);
	in.ip.icmp_type = PKT_ICMP_ECHOREPLY;
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	check_untouched(what, 1);

	/* It answers a ping to the real address, whatever its id. */
	what = "ICMP echo reply from the host, a virtualized ping's id";
	in = echo_frame(0x1234);
	in.ip.icmp_type = PKT_ICMP_ECHOREPLY;
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	check_untouched(what, 1);
}

static void test_icmp_error(void)
{
	const char *what = "ICMP port unreachable quoting a known flow";
	struct pkt_ipv4 quoted = {
		.saddr = w.remote, .daddr = w.host_ip,
		.proto = PKT_IP_PROTO_UDP,
		.sport = 5000, .dport = 6000, .id = 0x2222, .payload_len = 20,
	}, quoted_out;
	struct pkt_frame in = host_frame(PKT_IP_PROTO_ICMP, 0, 0), out;
	struct psv_conn_key ck = conn_key(PKT_IP_PROTO_UDP, 6000, 5000);
	struct psv_conn c = { .vip = htonl(w.vip[0]) };
	struct fx_expect e;
	int groups;

	if (fx_setup(&fx, &w, 0) || fx_push_ready(&fx, htonl(w.vip[1])) ||
	    fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_ACTIVE, 1))
		return;
	c.group = group_key(PKT_IP_PROTO_UDP, 6000, 5000);
	CHECK(!bpf_map_update_elem(fx.conns, &ck, &c, BPF_NOEXIST),
	      "%s: setup conn", what);
	CHECK(!bpf_map_update_elem(fx.groups, &c.group,
				   &(struct psv_group){ .vip = c.vip },
				   BPF_NOEXIST), "%s: setup group", what);

	/* The whole datagram quoted, so its UDP checksum is checkable too. */
	in.ip.icmp_type = PKT_ICMP_UNREACH;
	in.ip.icmp_code = 3;
	in.ip.inner = &quoted;
	in.ip.quote_len = 28;
	in.ip.payload_len = 0;
	quoted_out = quoted;
	quoted_out.daddr = w.vip[0];
	out = as_identity(&in, 0);
	out.ip.inner = &quoted_out;
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_queue(what, 1);
	CHECK_EQ(r.n_ev, 0, "%s: no event", what);

	/* RFC 792 minimum quote: inner header + 8 bytes. */
	what = "ICMP port unreachable, 8-byte quote";
	in.ip.quote_len = 0;
	out.ip.quote_len = 0;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	/* Options on either header move everything behind them. */
	what = "ICMP port unreachable, quoted IPv4 with options";
	quoted.optlen = 8;
	quoted_out.optlen = 8;
	in.ip.quote_len = 28;
	out.ip.quote_len = 28;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "ICMP port unreachable with IPv4 options";
	quoted.optlen = 0;
	quoted_out.optlen = 0;
	in.ip.optlen = 4;
	out.ip.optlen = 4;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	/* RFC 768: a quoted datagram without checksum keeps none. */
	what = "ICMP port unreachable quoting UDP without checksum";
	in.ip.optlen = 0;
	out.ip.optlen = 0;
	quoted.udp_csum_zero = true;
	quoted_out.udp_csum_zero = true;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "ICMP port unreachable quoting an unknown flow";
	groups = fx_map_count(fx.groups);
	quoted.sport = 5001;
	quoted.dport = 6001;
	fx_case(&fx, FX_EGRESS, what, &in, &pass, &r);
	check_queue(what, 1);
	CHECK_EQ(r.n_ev, 0, "%s: no event", what);
	CHECK_EQ(fx_map_count(fx.groups), groups, "%s: no group created",
		 what);
}

/* Sets identity i's lease end, monotonic seconds from now. */
static int set_lease_end(int i, int from_now_s)
{
	__be32 vip = htonl(w.vip[i]);
	struct psv_identity v;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (bpf_map_lookup_elem(fx.identities, &vip, &v))
		return -errno;
	v.lease_end_s = ts.tv_sec + from_now_s;
	return bpf_map_update_elem(fx.identities, &vip, &v, BPF_ANY) ? -errno : 0;
}

/*
 * With psvd dead nothing renews: an identity whose lease ended takes
 * no new flow (its address may be someone else's), in the ready queue
 * or already its group's; its flows from before go on.
 */
static void test_lease_expired(void)
{
	const struct fx_expect expired = {
		.verdict = FX_DROP, .moved = FX_S(EG_DROP_LEASE_EXPIRED),
		.ignore = FX_S(EG_NEW_GROUP) };
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);
	const char *what = "new flow, its lease still running";

	if (fx_setup(&fx, &w, 1) || set_lease_end(0, 100))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "the lease over: a new flow of the same group";
	if (set_lease_end(0, -1))
		return;
	in = tcp_frame(40001, 80, PKT_TCP_SYN);
	fx_case(&fx, FX_EGRESS, what, &in, &expired, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40001, 80));

	what = "the lease over: the flow from before goes on";
	in = tcp_frame(40000, 80, PKT_TCP_ACK);
	out = as_identity(&in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "the lease over: a new group from the ready queue";
	if (fx_setup(&fx, &w, 1) || set_lease_end(0, -1))
		return;
	in = tcp_frame(40002, 81, PKT_TCP_SYN);
	fx_case(&fx, FX_EGRESS, what, &in, &expired, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40002, 81));
}

/*
 * on_exhausted = link: a new group joins the identity that links least,
 * as the new flow's own (translated, never the host's), and the group
 * keeps it.  Without a socket the owner is the kernel's overflow uid
 * and no application, so the user's choice is what a test run sees;
 * the application's comes first in test_attribution.
 */
static void test_exhausted_link(void)
{
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN), out;
	const char *what = "link: a group takes the last ready identity";
	struct fx_expect e;
	struct psv_group_key uk = { .kind = PSV_GRAN_UID };
	struct psv_config c;
	__be32 vip;

	fx_world_config(&w, &c);
	c.on_exhausted = PSV_EXHAUSTED_LINK;
	if (fx_setup(&fx, &w, 1) || fx_set_config(&fx, &c))
		return;
	out = as_identity(&in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK_EQ(fx_map_count(fx.links), 1, "%s: one link hint (its user)",
		 what);
	if (!bpf_map_get_next_key(fx.links, NULL, &uk) &&
	    !bpf_map_lookup_elem(fx.links, &uk, &vip))
		CHECK(uk.kind == PSV_GRAN_UID && ntohl(vip) == w.vip[0],
		      "%s: the user's hint names it", what);

	what = "link: pool empty, a new group joins the user's identity";
	in = tcp_frame(40001, 81, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	e.moved |= FX_S(EG_POOL_EMPTY) | FX_S(LINKED_BY_EXHAUSTION);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, group_key(PKT_IP_PROTO_TCP, 0, 81), 0);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40001, 81), 0, -1);
	CHECK_EQ(fx_events(&r, PSV_EV_POOL_EMPTY, NULL), 1,
		 "%s: POOL_EMPTY tells psvd of the demand", what);

	what = "link: the linked group's next flow finds its group";
	in = tcp_frame(40002, 81, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK_EQ(r.n_ev, 0, "%s: no event", what);

	/* The user's identity is not in use (being retired): psvd's pick. */
	what = "link: the user's identity not active, psvd's reuse_vip";
	c.reuse_vip = htonl(w.vip[1]);
	if (fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_RETIRED,
			    1) ||
	    fx_set_identity(&fx, htonl(w.vip[1]), w.vmac[1], PSV_ID_ACTIVE,
			    2) || fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40003, 82, PKT_TCP_SYN);
	out = as_identity(&in, 1);
	e = translated(&out, false, true);
	e.moved |= FX_S(EG_POOL_EMPTY) | FX_S(LINKED_BY_EXHAUSTION);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, group_key(PKT_IP_PROTO_TCP, 0, 82), 1);

	/* Nothing in use to join: fail closed, never the host. */
	what = "link: no identity in use, dropped";
	if (fx_set_identity(&fx, htonl(w.vip[1]), w.vmac[1], PSV_ID_READY, 2))
		return;
	in = tcp_frame(40004, 83, PKT_TCP_SYN);
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_POOL_EMPTY) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40004, 83));
}

static void test_exhausted(void)
{
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN), out;
	const char *what = "pool empty, on_exhausted drop";
	struct fx_expect e = { .verdict = FX_DROP,
			       .moved = FX_S(EG_POOL_EMPTY) };
	struct psv_group_key gk = group_key(PKT_IP_PROTO_TCP, 0, 80);
	struct psv_config c;
	struct psv_event ev = { 0 };

	if (fx_setup(&fx, &w, 0))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	CHECK_EQ(fx_events(&r, PSV_EV_POOL_EMPTY, &ev), 1,
		 "%s: one POOL_EMPTY event", what);
	CHECK(!memcmp(&ev.group, &gk, sizeof(gk)),
	      "%s: event names the group", what);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40000, 80));

	what = "pool empty, on_exhausted host";
	fx_world_config(&w, &c);
	c.on_exhausted = PSV_EXHAUSTED_HOST;
	if (fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40001, 81, PKT_TCP_SYN);
	e = (struct fx_expect){ .verdict = FX_PASS,
				.moved = FX_S(EG_EXHAUSTED_HOST),
				.ignore = FX_S(EG_POOL_EMPTY) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "pool empty, on_exhausted reuse";
	c.on_exhausted = PSV_EXHAUSTED_REUSE;
	c.reuse_vip = htonl(w.vip[0]);
	if (fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40002, 82, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = (struct fx_expect){ .verdict = FX_PASS, .out = &out,
				.moved = FX_S(EG_EXHAUSTED_REUSE) |
					 FX_S(EG_TRANSLATED),
				.ignore = FX_S(EG_POOL_EMPTY) |
					  FX_S(EG_NEW_GROUP) |
					  FX_S(EG_NEW_CONN) |
					  FX_S(EG_NAT_UNHOOKED) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn(what, conn_key(PKT_IP_PROTO_TCP, 40002, 82), 0, -1);

	/* Nothing to reuse yet (psvd has not named one): fail closed. */
	what = "pool empty, on_exhausted reuse, no reuse_vip";
	c.reuse_vip = 0;
	if (fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40004, 83, PKT_TCP_SYN);
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_POOL_EMPTY) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_no_conn(what, conn_key(PKT_IP_PROTO_TCP, 40004, 83));

	/* A popped address without an identity must not leave as the host. */
	what = "ready address without identity";
	if (fx_setup(&fx, &w, 0) ||
	    fx_push_ready(&fx, htonl(PKT_IP4(192, 0, 2, 202))))
		return;
	in = tcp_frame(40003, 80, PKT_TCP_SYN);
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_NO_IDENTITY),
				.ignore = FX_S(EG_NEW_GROUP) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
}

/* An MLDv2 report of the host behind a hop-by-hop header, bare bytes. */
static const __u8 ipv6_mld2[76] = {
	0x60, 0, 0, 0, 0, 36, 0, 1,			/* hop-by-hop first */
	0xfe, 0x80, [23] = 1, 0xff, 0x02, [39] = 0x16,
	58, 0, 5, 2, 0, 0, 1, 0,			/* router alert, PadN */
	143, 0, 0, 0, 0, 0, 0, 1,			/* one record */
	4, 0, 0, 0, 0xff, 0x02, [75] = 0xfb,
};

/* An IPv6 packet the host sends from its own address to the remote. */
static struct pkt_frame host6_frame(__u8 proto, __u16 sport, __u16 dport)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = proto, .sport = sport,
					.dport = dport } };

	memcpy(f.dst, w.gw_mac, 6);
	memcpy(f.src, w.host_mac, 6);
	memcpy(f.ip6.saddr, w.host6, 16);
	memcpy(f.ip6.daddr, w.remote6, 16);
	f.ip6.seq = 0x11223344;
	f.ip6.tcp_flags = proto == PKT_IP_PROTO_TCP ? PKT_TCP_SYN : 0;
	f.ip6.payload_len = proto == PKT_IP_PROTO_TCP ? 0 : 32;
	if (proto == PKT_IP_PROTO_ICMPV6) {
		f.ip6.icmp_type = PKT_ICMPV6_ECHO;
		f.ip6.icmp_id = 0x3456;
		f.ip6.icmp_seq = 1;
	}
	return f;
}

/* The same from identity i's IPv6 address, as a bound socket sends it. */
static struct pkt_frame bound6_frame(__u8 proto, int i)
{
	struct pkt_frame f = host6_frame(proto, 40000, 443);

	memcpy(f.ip6.saddr, w.vip6[i], 16);
	return f;
}

/* Frame f from MAC mac (identity i's), its addresses kept. */
static struct pkt_frame mac6(struct pkt_frame f, int i)
{
	memcpy(f.src, w.vmac[i], 6);
	return f;
}

/*
 * The kernel's neighbour solicitation for the gateway from source src
 * (the host's link-local address, an identity's, or :: for DAD) to the
 * solicited-node group, with the host's MAC in its option.
 */
static struct pkt_frame ns6_frame(const __u8 *src, const __u8 *target)
{
	static const __u8 snm_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = PKT_IP_PROTO_ICMPV6,
					.hop_limit = 255,
					.icmp_type = PKT_ICMPV6_NS,
					.lla_type = PKT_ND_OPT_SLLA } };

	memcpy(f.dst, snm_mac, 6);
	memcpy(f.src, w.host_mac, 6);
	memcpy(f.ip6.saddr, src, 16);
	inet_pton(AF_INET6, "ff02::1:ff00:1", f.ip6.daddr);
	memcpy(f.ip6.target, target, 16);
	memcpy(f.ip6.lla, w.host_mac, 6);
	if (!memcmp(src, (__u8[16]){ 0 }, 16))
		f.ip6.lla_type = 0;	/* DAD: no source option */
	return f;
}

/* The kernel's advertisement of target from source src, to the gateway. */
static struct pkt_frame na6_frame(const __u8 *src, const __u8 *target)
{
	struct pkt_frame f = ns6_frame(src, target);

	memcpy(f.dst, w.gw_mac, 6);
	memcpy(f.ip6.daddr, w.gw_ll, 16);
	f.ip6.icmp_type = PKT_ICMPV6_NA;
	f.ip6.nd_flags = PKT_NA_SOLICITED | PKT_NA_OVERRIDE;
	f.ip6.lla_type = PKT_ND_OPT_TLLA;
	return f;
}

/* Solicitation or advertisement f in identity i's name: source, MAC, option. */
static struct pkt_frame nd_as(struct pkt_frame f, int i)
{
	memcpy(f.src, w.vmac[i], 6);
	memcpy(f.ip6.saddr, w.vip6[i], 16);
	memcpy(f.ip6.lla, w.vmac[i], 6);
	return f;
}

/*
 * A ready identity's address sends: a connected UDP socket held it
 * (pool_hold) and sends its first datagram (in, coming out as out).
 * The identity is used from now on: active, a new group, psvd told
 * (TAKEN, no group named); its next frames are the socket path's
 * plain case.  Identity 1 is the held one.
 */
static void held_first_frame(const char *what, const struct pkt_frame *in,
			     const struct pkt_frame *out)
{
	const struct fx_expect first = {
		.verdict = FX_PASS, .out = out,
		.moved = FX_S(EG_IDENTITY_MAC) | FX_S(EG_NEW_GROUP) };
	const struct fx_expect next = { .verdict = FX_PASS, .out = out,
					.moved = FX_S(EG_IDENTITY_MAC) };
	struct psv_event ev = { 0 };
	char desc[96];

	check_identity_state(what, 1, PSV_ID_READY);
	snprintf(desc, sizeof(desc), "%s, its first frame", what);
	fx_case(&fx, FX_EGRESS, desc, in, &first, &r);
	check_identity_state(desc, 1, PSV_ID_ACTIVE);
	CHECK(fx_events(&r, PSV_EV_IDENTITY_TAKEN, &ev) == 1 &&
	      ev.vip == htonl(w.vip[1]) && !ev.group.proto,
	      "%s: psvd hears it taken, with no group named", what);
	snprintf(desc, sizeof(desc), "%s, its next frame", what);
	fx_case(&fx, FX_EGRESS, desc, in, &next, &r);
	CHECK_EQ(r.n_ev, 0, "%s: its next frame tells psvd nothing", what);
}

/*
 * IPv6, the socket path: a frame from an identity's IPv6 address gets
 * the identity's MAC, and the kernel's neighbour discovery in its name
 * gets it in its option too (checksum following).  A fixture table.
 */
static void test_ipv6_socket_path(void)
{
	const __u64 mac_only = FX_S(EG_IDENTITY_MAC);
	const __u64 nd_id = FX_S(EG_NDP_IDENTITY);
	const struct pkt_frame syn = bound6_frame(PKT_IP_PROTO_TCP, 0);
	const struct pkt_frame udp = bound6_frame(PKT_IP_PROTO_UDP, 1);
	const struct pkt_frame echo = bound6_frame(PKT_IP_PROTO_ICMPV6, 0);
	struct pkt_frame ext = syn, frag = udp, ns, na, bad_opt, unreach;
	static const __u8 zero_len_opt[8] = { 14, 0 };
	static const struct pkt_ipv6 quoted = { .proto = PKT_IP_PROTO_UDP,
						.sport = 53, .dport = 40000 };
	struct fx_expect e;

	ext.ip6.n_ext = 2;
	ext.ip6.ext[0] = PKT_IPV6_HOP;
	ext.ip6.ext[1] = PKT_IPV6_DEST;
	frag.ip6.n_ext = 1;
	frag.ip6.ext[0] = PKT_IPV6_FRAGMENT;
	frag.ip6.frag_off = 16;
	ns = ns6_frame(w.vip6[0], w.gw_ll);
	na = na6_frame(w.vip6[1], w.vip6[1]);
	bad_opt = ns;
	bad_opt.ip6.opts = zero_len_opt;
	bad_opt.ip6.opts_len = sizeof(zero_len_opt);
	unreach = bound6_frame(PKT_IP_PROTO_ICMPV6, 0);
	unreach.ip6.icmp_type = PKT_ICMPV6_UNREACH;
	unreach.ip6.icmp_code = 4;
	unreach.ip6.inner = &quoted;

	const struct fx_row rows[] = {
		FX_ROW("IPv6 TCP SYN of a bound socket", syn, FX_PASS,
		       mac_only, .out = mac6(syn, 0)),
		FX_ROW("IPv6 TCP behind hop-by-hop and destination options",
		       ext, FX_PASS, mac_only, .out = mac6(ext, 0)),
		FX_ROW("a later IPv6 fragment of a bound socket", frag, FX_PASS,
		       mac_only, .out = mac6(frag, 1)),
		FX_ROW("ICMPv6 echo request of a bound ping socket", echo,
		       FX_PASS, mac_only, .out = mac6(echo, 0)),
		FX_ROW("the kernel's ICMPv6 unreachable from an identity",
		       unreach, FX_PASS, mac_only, .out = mac6(unreach, 0)),
		FX_ROW("the kernel's solicitation in an identity's name", ns,
		       FX_PASS, nd_id, .out = nd_as(ns, 0)),
		FX_ROW("the kernel's advertisement in an identity's name", na,
		       FX_PASS, nd_id, .out = nd_as(na, 1)),
		FX_ROW("a solicitation with an option of length 0", bad_opt,
		       FX_DROP, FX_S(EG_DROP_NDP)),
	};
	struct psv_conn6_key k = { .proto = PKT_IP_PROTO_ICMPV6,
				   .lport = htons(0x3456) };
	struct psv_conn6 c;

	if (fx_setup(&fx, &w, 2) ||
	    fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_ACTIVE, 1))
		return;
	{
		const struct pkt_frame out = mac6(udp, 1);

		held_first_frame("IPv6 UDP from a held identity's address",
				 &udp, &out);
	}
	fx_table(&fx, FX_EGRESS, rows, FX_ROWS(rows), &r);
	CHECK_EQ(fx_map_count(fx.groups), 0, "IPv6 socket path: no group made");
	memcpy(&k.raddr, w.remote6, 16);
	CHECK(!bpf_map_lookup_elem(fx.conns6, &k, &c) &&
	      c.conn.vip == htonl(w.vip[0]) &&
	      (c.conn.flags & PSV_CONN_BOUND),
	      "IPv6 socket path: the echo is noted in psv_conns6, bound");
	CHECK_EQ(fx_map_count(fx.conns6), 1,
		 "IPv6 socket path: only the echo is noted");
	check_untouched("IPv6 socket path", 0);

	if (fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_RETIRED, 1))
		return;
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_NO_IDENTITY) };
	fx_case(&fx, FX_EGRESS, "IPv6 from a retired identity's address",
		&syn, &e, &r);
}

/*
 * The host's own IPv6: its presence on the link (router solicitation,
 * MLD, DAD, advertisements) stays its own; its solicitations for a
 * neighbour go out in the name of the next ready identity; its older
 * connections, link-local peers and ICMPv6 errors leave as they are;
 * ipv6 = host lets all through.
 */
static void test_ipv6_host(void)
{
	const __u64 host = FX_S(EG_PASS_HOST);
	static const __u8 unspec[16];
	const struct pkt_frame ns = ns6_frame(w.host_ll, w.gw_ll);
	struct pkt_frame nud = ns, rs = ns, na = na6_frame(w.host_ll, w.host_ll);
	struct pkt_frame ack = host6_frame(PKT_IP_PROTO_TCP, 40000, 22);
	struct pkt_frame ll = host6_frame(PKT_IP_PROTO_UDP, 40000, 53);
	struct pkt_frame err = host6_frame(PKT_IP_PROTO_ICMPV6, 0, 0);
	struct pkt_frame deep = host6_frame(PKT_IP_PROTO_UDP, 40000, 53);
	struct pkt_frame nud_out, ns_out;
	const struct fx_expect ns_dropped = { .verdict = FX_DROP,
					      .moved = FX_S(EG_DROP_NDP) };
	static const struct pkt_ipv6 quoted = { .proto = PKT_IP_PROTO_UDP,
						.sport = 33434, .dport = 53 };
	struct psv_config c;
	struct fx_expect e;

	/* A unicast probe (NUD) carries no option. */
	memcpy(nud.dst, w.gw_mac, 6);
	memcpy(nud.ip6.daddr, w.gw_ll, 16);
	nud.ip6.lla_type = 0;
	rs.ip6.icmp_type = PKT_ICMPV6_RS;
	inet_pton(AF_INET6, "ff02::2", rs.ip6.daddr);
	ack.ip6.tcp_flags = PKT_TCP_ACK;
	memcpy(ll.ip6.saddr, w.host_ll, 16);
	memcpy(ll.ip6.daddr, w.gw_ll, 16);
	err.ip6.icmp_type = PKT_ICMPV6_UNREACH;
	err.ip6.icmp_code = 4;
	err.ip6.inner = &quoted;
	deep.ip6.n_ext = 5;
	memset(deep.ip6.ext, PKT_IPV6_DEST, 5);
	ns_out = nd_as(ns, 0);
	nud_out = nd_as(nud, 0);

	const struct fx_row rows[] = {
		FX_ROW("the host's solicitation for the gateway", ns, FX_PASS,
		       FX_S(EG_NDP_HOST), .out = ns_out),
		FX_ROW("the host's unicast probe of the gateway (no option)",
		       nud, FX_PASS, FX_S(EG_NDP_HOST), .out = nud_out),
		FX_ROW("the host's DAD probe", ns6_frame(unspec, w.host6),
		       FX_PASS, host),
		FX_ROW("the host's router solicitation", rs, FX_PASS, host),
		FX_ROW("the host's advertisement of its own address", na,
		       FX_PASS, host),
		FX_ROW("the host's MLDv2 report behind hop-by-hop",
		       ((struct pkt_frame){ .proto = PKT_ETH_P_IPV6,
					    .raw = ipv6_mld2,
					    .raw_len = sizeof(ipv6_mld2),
					    .src = { 2, 0, 0, 0, 0, 1 },
					    .dst = { 0x33, 0x33, 0, 0, 0,
						     0x16 } }),
		       FX_PASS, host),
		FX_ROW("IPv6 TCP ACK of a connection older than psv", ack,
		       FX_PASS, host),
		FX_ROW("IPv6 UDP to a link-local peer", ll, FX_PASS, host),
		FX_ROW("the host's DHCPv6 to a unicast server",
		       host6_frame(PKT_IP_PROTO_UDP, 546, 547), FX_PASS, host),
		FX_ROW("the host's ICMPv6 unreachable", err, FX_PASS, host),
		FX_ROW("IPv6 UDP behind five extension headers", deep, FX_DROP,
		       FX_S(EG_DROP_EXTHDR)),
	};

	if (fx_setup(&fx, &w, 2))
		return;
	fx_table(&fx, FX_EGRESS, rows, FX_ROWS(rows), &r);
	check_untouched("the host's IPv6", 0);

	/* The queue's head has no IPv6 address yet (DAD): psvd's reuse. */
	if (fx_set_ip6(&fx, htonl(w.vip[0]), w.vip6[0], false))
		return;
	fx_case(&fx, FX_EGRESS,
		"the host's solicitation, the next identity without IPv6",
		&ns, &ns_dropped, &r);
	fx_world_config(&w, &c);
	c.reuse_vip = htonl(w.vip[1]);
	if (fx_set_config(&fx, &c))
		return;
	ns_out = nd_as(ns, 1);
	e = (struct fx_expect){ .verdict = FX_PASS, .out = &ns_out,
				.moved = FX_S(EG_NDP_HOST) };
	fx_case(&fx, FX_EGRESS,
		"the host's solicitation, in the reused identity's name", &ns,
		&e, &r);

	if (fx_setup(&fx, &w, 0))
		return;
	fx_case(&fx, FX_EGRESS,
		"the host's solicitation, no identity ready or reused", &ns,
		&ns_dropped, &r);

	/* ipv6 = block: no virtualized IPv6 flow it could serve. */
	c.reuse_vip = 0;
	c.ipv6 = PSV_IPV6_BLOCK;
	if (fx_set_config(&fx, &c))
		return;
	e = (struct fx_expect){ .verdict = FX_PASS, .moved = host };
	fx_case(&fx, FX_EGRESS, "the host's solicitation with ipv6 = block",
		&ns, &e, &r);
	c.ipv6 = PSV_IPV6_VIRTUALIZE;
	c.granularity = PSV_GRAN_HOST;
	if (fx_set_config(&fx, &c))
		return;
	e = (struct fx_expect){ .verdict = FX_PASS, .moved = host };
	nud = host6_frame(PKT_IP_PROTO_UDP, 40000, 53);
	fx_case(&fx, FX_EGRESS, "IPv6 UDP of no socket, policy host", &nud, &e,
		&r);
	c.granularity = PSV_GRAN_FLOW;
	c.ipv6 = PSV_IPV6_HOST;
	if (fx_set_config(&fx, &c))
		return;
	e = (struct fx_expect){ .verdict = FX_PASS, .moved = host };
	nud = host6_frame(PKT_IP_PROTO_TCP, 40000, 443);
	fx_case(&fx, FX_EGRESS, "IPv6 TCP SYN with ipv6 = host", &nud, &e,
		&r);
	fx_case(&fx, FX_EGRESS, "the host's solicitation with ipv6 = host",
		&ns, &e, &r);
}

/* Frame f of the host as identity i sends it: source address and MAC. */
static struct pkt_frame as_identity6(struct pkt_frame f, int i)
{
	memcpy(f.src, w.vmac[i], 6);
	memcpy(f.ip6.saddr, w.vip6[i], 16);
	return f;
}

static struct psv_conn6_key conn6_key(__u8 proto, __u16 lport, __u16 rport)
{
	struct psv_conn6_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	memcpy(&k.raddr, w.remote6, 16);
	k.lport = htons(lport);
	k.rport = htons(rport);
	return k;
}

/* Checks the IPv6 conn entry: identity i, the host's address to give back. */
static void check_conn6(const char *what, struct psv_conn6_key k, int i)
{
	struct psv_conn6 c;
	int err = bpf_map_lookup_elem(fx.conns6, &k, &c);

	CHECK(!err, "%s: psv_conns6 has the connection", what);
	if (err)
		return;
	CHECK_EQ(ntohl(c.conn.vip), w.vip[i], "%s: connection's identity",
		 what);
	CHECK(!memcmp(&c.host, w.host6, 16),
	      "%s: the connection keeps the host's address", what);
	CHECK(c.conn.group.ipv6 && !memcmp(c.conn.group.daddr6, w.remote6, 16),
	      "%s: its group is keyed by the IPv6 destination", what);
}

/*
 * The IPv6 NAT fallback: a flow from the host's own address that no
 * hook bound leaves from its group's identity's address and MAC, the
 * L4 checksum following the pseudo-header; the host's ICMPv6 errors
 * about a translated flow too, quote included.
 */
static void test_ipv6_nat(void)
{
	const char *what = "IPv6 TCP SYN from the host's address";
	struct pkt_frame in = host6_frame(PKT_IP_PROTO_TCP, 40000, 443), out;
	struct fx_expect e;
	struct pkt_ipv6 quoted = { .proto = PKT_IP_PROTO_UDP, .sport = 53,
				   .dport = 40001, .payload_len = 12 };
	struct pkt_ipv6 quoted_out;
	const struct fx_expect frag_drop = { .verdict = FX_DROP,
					     .moved = FX_S(EG_DROP_FRAG) };
	const struct fx_expect v6_drop = { .verdict = FX_DROP,
					   .moved = FX_S(EG_DROP_IPV6) };
	struct psv_config c;

	if (fx_setup(&fx, &w, 2))
		return;
	out = as_identity6(in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn6(what, conn6_key(PKT_IP_PROTO_TCP, 40000, 443), 0);
	check_queue(what, 1);

	what = "IPv6 TCP ACK of the translated connection";
	in.ip6.tcp_flags = PKT_TCP_ACK;
	in.ip6.payload_len = 100;
	out = as_identity6(in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	what = "IPv6 UDP from the host's address, a new group";
	in = host6_frame(PKT_IP_PROTO_UDP, 40001, 53);
	out = as_identity6(in, 1);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_conn6(what, conn6_key(PKT_IP_PROTO_UDP, 40001, 53), 1);

	/* The host's port unreachable about that flow's reply. */
	what = "the host's ICMPv6 error about a translated flow";
	memcpy(quoted.saddr, w.remote6, 16);
	memcpy(quoted.daddr, w.host6, 16);
	quoted_out = quoted;
	memcpy(quoted_out.daddr, w.vip6[1], 16);
	in = host6_frame(PKT_IP_PROTO_ICMPV6, 0, 0);
	in.ip6.icmp_type = PKT_ICMPV6_UNREACH;
	in.ip6.icmp_code = 4;
	in.ip6.inner = &quoted;
	out = as_identity6(in, 1);
	out.ip6.inner = &quoted_out;
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	what = "the host's ICMPv6 error about another flow";
	quoted.dport = 40002;
	e = (struct fx_expect){ .verdict = FX_PASS,
				.moved = FX_S(EG_PASS_HOST) };
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);

	/* Fragments carry no ports: a translated flow's cannot follow. */
	in = host6_frame(PKT_IP_PROTO_UDP, 40001, 53);
	in.ip6.n_ext = 1;
	in.ip6.ext[0] = PKT_IPV6_FRAGMENT;
	in.ip6.mf = true;
	in.ip6.payload_len = 200;
	in.ip6.frag_len = 64;
	fx_case(&fx, FX_EGRESS, "a translated IPv6 flow's first fragment",
		&in, &frag_drop, &r);
	in.ip6.mf = false;
	in.ip6.frag_off = 64;
	in.ip6.frag_len = 0;
	fx_case(&fx, FX_EGRESS, "a later IPv6 fragment from the host", &in,
		&frag_drop, &r);

	/* Identity 0 lost its address: its flow cannot leave. */
	if (fx_set_ip6(&fx, htonl(w.vip[0]), w.vip6[0], false))
		return;
	in = host6_frame(PKT_IP_PROTO_TCP, 40000, 443);
	in.ip6.tcp_flags = PKT_TCP_ACK;
	fx_case(&fx, FX_EGRESS,
		"IPv6 TCP ACK whose identity has no IPv6 address", &in,
		&v6_drop, &r);

	/* A new group whose identity has no IPv6 address: no state made. */
	if (fx_setup(&fx, &w, 2) ||
	    fx_set_ip6(&fx, htonl(w.vip[0]), w.vip6[0], false))
		return;
	in = host6_frame(PKT_IP_PROTO_ICMPV6, 0, 0);
	e = v6_drop;
	e.ignore = FX_S(EG_NEW_GROUP);
	fx_case(&fx, FX_EGRESS,
		"ICMPv6 echo request, the identity without IPv6 address", &in,
		&e, &r);
	CHECK_EQ(fx_map_count(fx.conns6), 0, "... no connection made");

	if (fx_setup(&fx, &w, 2))
		return;
	out = as_identity6(in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, "ICMPv6 echo request from the host's address",
		&in, &e, &r);
	{
		struct psv_conn6_key k = conn6_key(PKT_IP_PROTO_ICMPV6,
						   0x3456, 0);

		check_conn6("ICMPv6 echo request from the host's address", k,
			    0);
	}

	fx_world_config(&w, &c);
	c.ipv6 = PSV_IPV6_BLOCK;
	if (fx_set_config(&fx, &c))
		return;
	in = host6_frame(PKT_IP_PROTO_TCP, 40010, 443);
	fx_case(&fx, FX_EGRESS, "IPv6 TCP SYN from the host, ipv6 = block",
		&in, &v6_drop, &r);
	c.ipv6 = PSV_IPV6_VIRTUALIZE;
	c.stopping = 1;
	if (fx_set_config(&fx, &c))
		return;
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_STOPPING) };
	fx_case(&fx, FX_EGRESS, "a new IPv6 flow while stopping", &in, &e, &r);
}

/* Malformed and truncated IPv6 from the host never leaves translated. */
static void test_ipv6_malformed(void)
{
	const struct pkt_frame udp = host6_frame(PKT_IP_PROTO_UDP, 40000, 53);
	const struct pkt_frame ns = ns6_frame(w.host_ll, w.gw_ll);
	struct pkt_frame long_plen = udp, short_ns = ns, past_end = ns;
	static const __u8 past[8] = { 14, 4 };	/* 32 bytes, 8 there */
	/* Payload 8 bytes; a destination options header claiming 16. */
	static const __u8 ext_past[56] = {
		0x60, 0, 0, 0, 0, 8, 60, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 1, [23] = 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0, 3, [39] = 0x10,
		PKT_IP_PROTO_GRE, 1,
	};
	struct pkt_frame ext_long = { .proto = PKT_ETH_P_IPV6,
				      .raw = ext_past,
				      .raw_len = sizeof(ext_past) };

	long_plen.ip6.plen = 1000;
	short_ns.ip6.lla_type = 0;
	short_ns.ip6.plen = 16;		/* the message cut to 16 bytes */
	past_end.ip6.opts = past;
	past_end.ip6.opts_len = sizeof(past);
	memcpy(ext_long.dst, w.gw_mac, 6);
	memcpy(ext_long.src, w.host_mac, 6);

	const struct fx_row rows[] = {
		FX_ROW("IPv6 payload length beyond the frame", long_plen,
		       FX_DROP, FX_S(EG_DROP_PARSE)),
		FX_ROW("an IPv6 extension header longer than the payload",
		       ext_long, FX_DROP, FX_S(EG_DROP_PARSE)),
		FX_ROW("the host's solicitation cut short", short_ns, FX_DROP,
		       FX_S(EG_DROP_NDP)),
		FX_ROW("the host's solicitation, an option past the end",
		       past_end, FX_DROP, FX_S(EG_DROP_NDP)),
	};

	if (fx_setup(&fx, &w, 2))
		return;
	fx_table(&fx, FX_EGRESS, rows, FX_ROWS(rows), &r);
	fx_sweep(&fx, FX_EGRESS, &r, "an IPv6 UDP datagram", &udp, false);
	fx_sweep(&fx, FX_EGRESS, &r, "the host's solicitation", &ns, false);
	fx_mutants(&fx, FX_EGRESS, &r, "the host's solicitation", &ns, 2000,
		   false);
}

/* The host's UDP to link-local IPv6 group (ff02::...) on port. */
static struct pkt_frame chatter6(const char *group, __u16 port)
{
	static const __u8 mcast6[6] = { 0x33, 0x33, 0, 0, 0, 0xfb };
	struct pkt_frame f = host6_frame(PKT_IP_PROTO_UDP, port, port);

	memcpy(f.dst, mcast6, 6);
	inet_pton(AF_INET6, group, f.ip6.daddr);
	return f;
}

/*
 * chatter = drop: the host's mDNS, LLMNR, NetBIOS and SSDP to their
 * link-local groups (or the broadcast) are dropped, counted; other
 * broadcast and multicast, and the same from an identity, pass.
 */
static void test_chatter(void)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	const __u64 drop = FX_S(EG_DROP_CHATTER), host = FX_S(EG_PASS_HOST);
	const struct pkt_frame mdns =
		pkt_to(host_frame(PKT_IP_PROTO_UDP, 5353, 5353), mcast,
		       PKT_IP4(224, 0, 0, 251));
	const struct pkt_frame nbns =
		pkt_to(host_frame(PKT_IP_PROTO_UDP, 137, 137), bcast,
		       PKT_IP4(255, 255, 255, 255));
	const struct fx_row rows[] = {
		FX_ROW("mDNS to 224.0.0.251:5353", mdns, FX_DROP, drop),
		FX_ROW("LLMNR to 224.0.0.252:5355",
		       pkt_to(host_frame(PKT_IP_PROTO_UDP, 40000, 5355), mcast,
			      PKT_IP4(224, 0, 0, 252)), FX_DROP, drop),
		FX_ROW("SSDP to 239.255.255.250:1900",
		       pkt_to(host_frame(PKT_IP_PROTO_UDP, 40000, 1900), mcast,
			      PKT_IP4(239, 255, 255, 250)), FX_DROP, drop),
		FX_ROW("NetBIOS name service to 255.255.255.255:137", nbns,
		       FX_DROP, drop),
		FX_ROW("NetBIOS datagram to the subnet broadcast :138",
		       pkt_to(host_frame(PKT_IP_PROTO_UDP, 138, 138), bcast,
			      PKT_IP4(192, 0, 2, 255)), FX_DROP, drop),
		FX_ROW("mDNS to ff02::fb", chatter6("ff02::fb", 5353), FX_DROP,
		       drop),
		FX_ROW("LLMNR to ff02::1:3", chatter6("ff02::1:3", 5355),
		       FX_DROP, drop),
		FX_ROW("SSDP to ff02::c", chatter6("ff02::c", 1900), FX_DROP,
		       drop),
		FX_ROW("UDP 5353 to another multicast group",
		       pkt_to(mdns, mcast, PKT_IP4(224, 0, 0, 1)), FX_PASS,
		       host),
		FX_ROW("another port to 224.0.0.251",
		       pkt_to(host_frame(PKT_IP_PROTO_UDP, 5353, 9), mcast,
			      PKT_IP4(224, 0, 0, 251)), FX_PASS, host),
		FX_ROW("UDP 137 to 255.255.255.255 from a unicast MAC",
		       pkt_to(nbns, w.gw_mac, PKT_IP4(255, 255, 255, 255)),
		       FX_PASS, host),
		FX_ROW("mDNS from an identity's MAC", pkt_from(mdns, w.vmac[0],
		       w.vip[0]), FX_PASS, 0),
	};
	struct pkt_frame cut;
	struct psv_config c;

	if (fx_setup(&fx, &w, 2))
		return;
	fx_world_config(&w, &c);
	c.chatter = PSV_CHATTER_DROP;
	if (fx_set_config(&fx, &c))
		return;
	fx_table(&fx, FX_EGRESS, rows, FX_ROWS(rows), &r);
	fx_sweep(&fx, FX_EGRESS, &r, "mDNS, every prefix", &mdns, false);
	/* Its UDP header cut off: not known to be chatter, not passed. */
	cut = pkt_cut(mdns, 0, 14 + 20 + 4);
	fx_case(&fx, FX_EGRESS, "mDNS without its whole UDP header", &cut,
		&(struct fx_expect){ .verdict = FX_DROP,
				     .moved = FX_S(EG_DROP_PARSE) }, &r);
	check_untouched("chatter", 0);
}

/*
 * Frames egress lets pass untouched (each in a fresh state): not unicast
 * IPv4 of the host, or not its own to virtualize.  A fixture table.
 */
static void test_passthrough(void)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	const struct pkt_frame syn = tcp_frame(40000, 80, PKT_TCP_SYN);
	const struct pkt_frame nbns =
		pkt_to(host_frame(PKT_IP_PROTO_UDP, 137, 137), bcast,
		       PKT_IP4(255, 255, 255, 255));
	const struct pkt_frame mdns_query =
		pkt_to(host_frame(PKT_IP_PROTO_UDP, 5353, 5353), mdns,
		       PKT_IP4(224, 0, 0, 251));
	const struct pkt_frame dhcp =
		pkt_to(host_frame(PKT_IP_PROTO_UDP, 68, 67), NULL, w.gw_ip);
	struct pkt_frame arp = { .proto = PKT_ETH_P_ARP,
				 .arp = { .op = 2, .spa = w.host_ip,
					  .tpa = w.gw_ip } };
	struct psv_config c;
	size_t i;

	memcpy(arp.dst, bcast, 6);
	memcpy(arp.src, w.host_mac, 6);
	memcpy(arp.arp.sha, w.host_mac, 6);

	const struct fx_row rows[] = {
		FX_ROW("ARP reply from the host (someone asked for it)", arp,
		       FX_PASS, 0),
		FX_ROW("VLAN-tagged TCP SYN", pkt_vlan(syn, 7), FX_PASS, 0),
		FX_ROW("frame from an identity's MAC (psvd's own)",
		       as_identity(&syn, 0), FX_PASS, 0),
		FX_ROW("IPv4 from another source address",
		       pkt_from(syn, NULL, PKT_IP4(192, 0, 2, 77)), FX_PASS, 0),
		FX_ROW("UDP to 255.255.255.255", nbns, FX_PASS, 0),
		FX_ROW("UDP to the subnet broadcast",
		       pkt_to(nbns, NULL, PKT_IP4(192, 0, 2, 255)), FX_PASS, 0),
		FX_ROW("UDP to multicast 224.0.0.251", mdns_query, FX_PASS, 0),
		FX_ROW("GRE", host_frame(PKT_IP_PROTO_GRE, 0, 0), FX_PASS,
		       FX_S(EG_PASS_HOST)),
		FX_ROW("DHCP from the host (UDP 68 to 67)", dhcp, FX_PASS, 0),
		FX_ROW("DHCPDISCOVER from 0.0.0.0",
		       pkt_from(pkt_to(dhcp, bcast, PKT_IP4(255, 255, 255, 255)),
				NULL, 0), FX_PASS, 0),
	};

	for (i = 0; i < FX_ROWS(rows); i++) {
		if (fx_setup(&fx, &w, 2))
			return;
		fx_row_case(&fx, FX_EGRESS, &rows[i], &r);
		check_untouched(rows[i].desc, 0);
		CHECK_EQ(fx_map_count(fx.conns), 0, "%s: no connection",
			 rows[i].desc);
	}

	if (fx_setup(&fx, &w, 2))
		return;
	fx_world_config(&w, &c);
	c.enabled = 0;
	if (fx_set_config(&fx, &c))
		return;
	fx_case(&fx, FX_EGRESS, "TCP SYN while disabled", &syn, &pass, &r);
	check_untouched("TCP SYN while disabled", 0);
}

static void test_malformed(void)
{
	const __u64 parse = FX_S(EG_DROP_PARSE);
	const struct pkt_frame syn = tcp_frame(40000, 80, PKT_TCP_SYN);
	const struct pkt_frame udp = host_frame(PKT_IP_PROTO_UDP, 40000, 53);
	const struct pkt_frame echo = echo_frame(0x1234);
	/* Lengths: tot_len (0: the real one), then the frame cut to trunc. */
	const struct fx_row rows[] = {
		FX_ROW("IPv4 EtherType, no IPv4 header", pkt_cut(syn, 0, 14),
		       FX_DROP, parse),
		FX_ROW("truncated IPv4 header", pkt_cut(syn, 0, 14 + 12),
		       FX_DROP, parse),
		FX_ROW("IHL 4", pkt_ihl(syn, 4), FX_DROP, parse),
		FX_ROW("IHL beyond the frame", pkt_ihl(syn, 15), FX_DROP,
		       parse),
		FX_ROW("tot_len beyond the frame", pkt_cut(syn, 1000, 0),
		       FX_DROP, parse),
		FX_ROW("truncated TCP header", pkt_cut(syn, 20 + 10, 14 + 30),
		       FX_DROP, parse),
		FX_ROW("truncated UDP header", pkt_cut(udp, 20 + 4, 14 + 24),
		       FX_DROP, parse),
		FX_ROW("truncated ICMP header", pkt_cut(echo, 20 + 6, 14 + 26),
		       FX_DROP, parse),
	};
	static const __u8 tiny[10] = { 2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = tiny,
		    .data_size_in = sizeof(tiny));
	size_t i;
	int err;

	for (i = 0; i < FX_ROWS(rows); i++) {
		if (fx_setup(&fx, &w, 2))
			return;
		fx_row_case(&fx, FX_EGRESS, &rows[i], &r);
		check_untouched(rows[i].desc, 0);
	}

	fx_sweep(&fx, FX_EGRESS, &r, "a TCP SYN", &syn, true);
	fx_sweep(&fx, FX_EGRESS, &r, "a UDP datagram", &udp, true);
	fx_sweep(&fx, FX_EGRESS, &r, "an echo request", &echo, true);
	fx_random_frames(&fx, FX_EGRESS, &r, w.host_mac, w.host_ip);
	fx_mutants(&fx, FX_EGRESS, &r, "a TCP SYN", &syn, 2000, false);

	/* The kernel refuses test frames shorter than Ethernet (EINVAL). */
	err = bpf_prog_test_run_opts(fx.prog[FX_EGRESS], &opts);
	CHECK(err && errno == EINVAL,
	      "frame shorter than Ethernet never reaches the program");
}

static void test_fragments(void)
{
	const char *what = "UDP first fragment";
	struct pkt_frame in = host_frame(PKT_IP_PROTO_UDP, 40000, 53), out;
	struct psv_frag_key fk = { .raddr = htonl(w.remote),
				   .ip_id = htons(0x4242),
				   .proto = PKT_IP_PROTO_UDP,
				   .dir = PSV_DIR_EGRESS };
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(EG_DROP_FRAG) };
	struct psv_conn_key k;
	struct fx_expect e;
	struct psv_frag fr;
	__u64 seen = 1;
	int err;

	if (fx_setup(&fx, &w, 2))
		return;
	in.ip.id = 0x4242;
	in.ip.payload_len = 92;
	in.ip.mf = true;
	in.ip.frag_len = 64;
	out = as_identity(&in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	err = bpf_map_lookup_elem(fx.frags, &fk, &fr);
	CHECK(!err, "%s: psv_frags has the datagram", what);
	if (err)
		fx_dump_map(fx.frags, PSV_MAP_FRAGS, sizeof(fk), sizeof(fr));
	else
		CHECK_EQ(ntohl(fr.vip), w.vip[0], "%s: fragment's identity",
			 what);

	what = "UDP last fragment, same id";
	in.ip.mf = false;
	in.ip.frag_off = 64;
	in.ip.frag_len = 0;
	out = as_identity(&in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_untouched(what, 1);

	/* A datagram the host sends as itself: its fragments pass too. */
	what = "UDP first fragment, host's own flow";
	in = host_frame(PKT_IP_PROTO_UDP, 5353, 5000);
	in.ip.id = 0x4444;
	in.ip.payload_len = 92;
	in.ip.mf = true;
	in.ip.frag_len = 64;
	k = (struct psv_conn_key){ .raddr = htonl(w.remote),
				   .lport = htons(5353), .rport = htons(5000),
				   .proto = PKT_IP_PROTO_UDP };
	CHECK(!bpf_map_update_elem(fx.host_conns, &k, &seen, BPF_ANY),
	      "%s: setup host flow", what);
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	what = "UDP last fragment, host's own flow";
	in.ip.mf = false;
	in.ip.frag_off = 64;
	in.ip.frag_len = 0;
	fx_case(&fx, FX_EGRESS, what, &in, &pass_host, &r);
	check_untouched(what, 1);

	what = "non-first fragment, unknown id";
	in = host_frame(PKT_IP_PROTO_UDP, 40000, 53);
	in.ip.payload_len = 92;
	in.ip.frag_off = 64;
	in.ip.id = 0x4343;
	fx_case(&fx, FX_EGRESS, what, &in, &drop, &r);
	check_untouched(what, 1);
}

/* Policy granularity (psv.h): host virtualizes nothing, uid one per user. */
static void test_granularity(void)
{
	const char *what = "granularity host: new flow";
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN), out;
	struct fx_expect e = pass_host;
	struct psv_group_key gk;
	struct psv_group g;
	struct psv_config c;

	fx_world_config(&w, &c);
	c.granularity = PSV_GRAN_HOST;
	if (fx_setup(&fx, &w, 2) || fx_set_config(&fx, &c))
		return;
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_untouched(what, 0);

	/* Without a socket the uid is the kernel's overflow uid: one group. */
	what = "granularity uid: two destinations, one identity";
	c.granularity = PSV_GRAN_UID;
	if (fx_set_config(&fx, &c))
		return;
	out = as_identity(&in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	in = host_frame(PKT_IP_PROTO_UDP, 40001, 53);
	in.ip.daddr = PKT_IP4(203, 0, 113, 53);
	out = as_identity(&in, 0);
	e = translated(&out, false, true);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_queue(what, 1);
	CHECK_EQ(fx_map_count(fx.groups), 1, "%s: one group", what);
	if (!bpf_map_get_next_key(fx.groups, NULL, &gk) &&
	    !bpf_map_lookup_elem(fx.groups, &gk, &g))
		CHECK(!gk.daddr && !gk.proto && !gk.sport && !gk.dport &&
		      gk.kind == PSV_GRAN_UID && ntohl(g.vip) == w.vip[0],
		      "%s: group keyed by kind uid and owner only", what);

	/*
	 * A socket no cgroup hook attributed (a test run's socket has no
	 * storage): app granularity falls back to the flow keys, counted.
	 */
	what = "granularity app, socket not attributed";
	c.granularity = PSV_GRAN_APP;
	if (fx_setup(&fx, &w, 2) || fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40000, 80, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = translated(&out, true, true);
	e.moved |= FX_S(EG_UNATTRIBUTED);
	fx_case(&fx, FX_EGRESS, what, &in, &e, &r);
	check_group(what, group_key(PKT_IP_PROTO_TCP, 0, 80), 0);
}

static void test_conns_full(void)
{
	const char *what = "psv_conns full";
	struct pkt_frame in = tcp_frame(40000, 80, PKT_TCP_SYN);
	struct pkt_frame out = as_identity(&in, 0);
	struct fx_expect e = translated(&out, true, true);
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(EG_DROP_TABLE_FULL) };
	struct fx small;

	/* A one-entry psv_conns in its own pin directory. */
	if (fx_open(&small, 1)) {
		CHECK(0, "%s: load with psv_conns max_entries 1", what);
		return;
	}
	if (!fx_setup(&small, &w, 2)) {
		fx_case(&small, FX_EGRESS, "psv_conns: first connection", &in,
			&e, &r);
		in = tcp_frame(40001, 80, PKT_TCP_SYN);
		fx_case(&small, FX_EGRESS, what, &in, &drop, &r);
		CHECK_EQ(ntohl(fx_queue_peek(&small)), w.vip[1],
			 "%s: no identity wasted", what);
	}
	fx_close(&small);
}

/* A frame a socket bound to identity i sends: its address, the host MAC. */
static struct pkt_frame bound_frame(__u8 proto, int i)
{
	struct pkt_frame f = host_frame(proto, 40000, 80);

	f.ip.saddr = w.vip[i];
	if (proto == PKT_IP_PROTO_ICMP) {
		f.ip.icmp_type = PKT_ICMP_ECHO;
		f.ip.icmp_id = 0x2345;
		f.ip.icmp_seq = 1;
	}
	return f;
}

/* The kernel's ARP request for the gateway, in the name of address spa. */
static struct pkt_frame kernel_arp(__u32 spa)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_ARP };

	memset(f.dst, 0xff, 6);
	memcpy(f.src, w.host_mac, 6);
	f.arp.op = 1;
	memcpy(f.arp.sha, w.host_mac, 6);
	f.arp.spa = spa;
	f.arp.tpa = w.gw_ip;
	return f;
}

/* Frame f as identity i's MAC puts it on the wire, its address kept. */
static struct pkt_frame with_mac(struct pkt_frame f, int i)
{
	return pkt_from(f, w.vmac[i], f.ip.saddr);
}

/*
 * The socket path: a frame from an identity's address gets the
 * identity's MAC and nothing else, whatever it carries; so does the
 * kernel's ARP in its name.  A fixture table: input, verdict, output.
 */
static void test_socket_path(void)
{
	const __u64 mac_only = FX_S(EG_IDENTITY_MAC);
	const struct pkt_frame syn = bound_frame(PKT_IP_PROTO_TCP, 0);
	const struct pkt_frame udp = bound_frame(PKT_IP_PROTO_UDP, 0);
	const struct pkt_frame ready = bound_frame(PKT_IP_PROTO_UDP, 1);
	const struct pkt_frame echo = bound_frame(PKT_IP_PROTO_ICMP, 0);
	const struct pkt_frame not_host = pkt_from(syn, w.vmac[1], w.vip[0]);
	const struct pkt_frame other = pkt_from(syn, NULL,
						PKT_IP4(192, 0, 2, 99));
	struct pkt_frame data = syn, frag = udp, gre = udp, icmp_err = echo;
	struct pkt_frame arp = kernel_arp(w.vip[0]), arp_out;
	struct fx_expect e;

	data.ip.tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH;
	data.ip.payload_len = 1400;
	frag.ip.frag_off = 16;
	gre.ip.proto = 47;	/* GRE from a raw socket bound to it */
	icmp_err.ip.icmp_type = PKT_ICMP_TIME_EXCEEDED;	/* reassembly timed out */
	icmp_err.ip.icmp_id = 0;
	icmp_err.ip.icmp_seq = 0;
	arp_out = arp;
	memcpy(arp_out.src, w.vmac[0], 6);
	memcpy(arp_out.arp.sha, w.vmac[0], 6);

	const struct fx_row rows[] = {
		FX_ROW("TCP SYN of a bound socket", syn, FX_PASS, mac_only,
		       .out = with_mac(syn, 0)),
		FX_ROW("TCP data of a bound socket", data, FX_PASS, mac_only,
		       .out = with_mac(data, 0)),
		FX_ROW("a later UDP fragment", frag, FX_PASS, mac_only,
		       .out = with_mac(frag, 0)),
		FX_ROW("another IP protocol", gre, FX_PASS, mac_only,
		       .out = with_mac(gre, 0)),
		FX_ROW("ICMP echo of a bound ping socket", echo, FX_PASS,
		       mac_only, .out = with_mac(echo, 0)),
		FX_ROW("the kernel's ICMP error about a flow to the identity",
		       icmp_err, FX_PASS, mac_only,
		       .out = with_mac(icmp_err, 0)),
		FX_ROW("the kernel's ARP in an identity's name", arp, FX_PASS,
		       FX_S(EG_ARP_IDENTITY), .out = arp_out),
		FX_ROW("a frame not from the host's MAC", not_host, FX_PASS, 0,
		       .out = not_host),
		FX_ROW("from another address of the host", other, FX_PASS, 0,
		       .out = other),
	};

	if (fx_setup(&fx, &w, 2) ||
	    fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_ACTIVE, 1))
		return;
	fx_table(&fx, FX_EGRESS, rows, FX_ROWS(rows), &r);
	{
		const struct pkt_frame out = with_mac(ready, 1);

		held_first_frame("UDP from a held identity's address", &ready,
				 &out);
	}
	/* Nothing translated: no group, no connection, no identity taken. */
	CHECK_EQ(fx_map_count(fx.groups), 0, "socket path: no group made");
	CHECK_EQ(fx_map_count(fx.conns), 1,
		 "socket path: only the echo is noted");
	check_untouched("socket path", 0);
	{
		struct psv_conn_key k = conn_key(PKT_IP_PROTO_ICMP, 0x2345, 0);
		struct psv_conn c;

		CHECK(!bpf_map_lookup_elem(fx.conns, &k, &c) &&
		      c.vip == htonl(w.vip[0]) && (c.flags & PSV_CONN_BOUND),
		      "socket path: the echo's reply will be admitted, "
		      "untranslated");
	}

	/* An identity address being retired sends nothing. */
	if (fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_RETIRED, 1))
		return;
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_NO_IDENTITY) };
	fx_case(&fx, FX_EGRESS, "TCP from a retired identity's address", &syn,
		&e, &r);
	e.moved = FX_S(EG_DROP_ARP);
	fx_case(&fx, FX_EGRESS, "the kernel's ARP in a retired identity's name",
		&arp, &e, &r);
}

/*
 * The kernel's ARP request in the host's own name goes out in the name
 * of the identity the next new flow takes (the ready queue's head), or
 * of the one psvd reuses; with neither it is dropped.  The host's
 * announcement of its own address stays its own.
 */
static void test_arp_host(void)
{
	struct pkt_frame in = kernel_arp(w.host_ip), out;
	struct fx_expect e = { .verdict = FX_PASS, .out = &out,
			       .moved = FX_S(EG_ARP_HOST) };
	const struct fx_expect dropped = { .verdict = FX_DROP,
					   .moved = FX_S(EG_DROP_ARP) };
	struct psv_config c;

	if (fx_setup(&fx, &w, 2))
		return;
	out = in;
	memcpy(out.src, w.vmac[0], 6);
	memcpy(out.arp.sha, w.vmac[0], 6);
	out.arp.spa = w.vip[0];
	fx_case(&fx, FX_EGRESS, "the host's ARP request, identities ready",
		&in, &e, &r);
	CHECK_EQ(fx_queue_len(&fx), 2, "... the identity stays in the queue");

	if (fx_setup(&fx, &w, 0))
		return;
	fx_case(&fx, FX_EGRESS, "the host's ARP request, none ready or reused",
		&in, &dropped, &r);
	fx_world_config(&w, &c);
	c.reuse_vip = htonl(w.vip[1]);
	if (fx_set_config(&fx, &c))
		return;
	out = in;
	memcpy(out.src, w.vmac[1], 6);
	memcpy(out.arp.sha, w.vmac[1], 6);
	out.arp.spa = w.vip[1];
	fx_case(&fx, FX_EGRESS, "the host's ARP request, none ready, one reused",
		&in, &e, &r);

	in.arp.tpa = w.host_ip;
	fx_case(&fx, FX_EGRESS, "the host announcing its own address", &in,
		&pass, &r);
}

/* psvd ends the virtualized flows before detaching: no new ones start. */
static void test_stopping(void)
{
	struct psv_config c;
	struct pkt_frame in, out;
	struct fx_expect e = { .verdict = FX_DROP,
			       .moved = FX_S(EG_DROP_STOPPING) };

	if (fx_setup(&fx, &w, 2))
		return;
	in = tcp_frame(40000, 80, PKT_TCP_SYN);
	out = as_identity(&in, 0);
	e = translated(&out, true, true);
	fx_case(&fx, FX_EGRESS, "TCP SYN before stopping", &in, &e, &r);
	fx_world_config(&w, &c);
	c.stopping = 1;
	if (fx_set_config(&fx, &c))
		return;
	in = tcp_frame(40000, 80, PKT_TCP_ACK);
	out = as_identity(&in, 0);
	e = translated(&out, false, false);
	fx_case(&fx, FX_EGRESS, "its segments while stopping (RST included)",
		&in, &e, &r);
	in = tcp_frame(40001, 81, PKT_TCP_SYN);
	e = (struct fx_expect){ .verdict = FX_DROP,
				.moved = FX_S(EG_DROP_STOPPING) };
	fx_case(&fx, FX_EGRESS, "a new flow while stopping", &in, &e, &r);
	in = bound_frame(PKT_IP_PROTO_TCP, 0);
	out = in;
	memcpy(out.src, w.vmac[0], 6);
	e = (struct fx_expect){ .verdict = FX_PASS, .out = &out,
				.moved = FX_S(EG_IDENTITY_MAC) };
	fx_case(&fx, FX_EGRESS, "a bound socket's RST while stopping", &in, &e,
		&r);
}

int main(void)
{
	fx_world_init(&w);
	if (fx_open(&fx, 0)) {
		CHECK(0, "load egress and ingress objects");
		return check_exit();
	}
	test_tcp();
	test_udp();
	test_dns();
	test_icmp_echo();
	test_icmp_error();
	test_exhausted();
	test_lease_expired();
	test_exhausted_link();
	test_granularity();
	test_passthrough();
	test_malformed();
	test_fragments();
	test_conns_full();
	test_socket_path();
	test_arp_host();
	test_ipv6_socket_path();
	test_ipv6_host();
	test_ipv6_nat();
	test_ipv6_malformed();
	test_chatter();
	test_stopping();
	fx_close(&fx);
	return check_exit();
}
