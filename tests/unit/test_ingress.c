// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_ingress - psv_ingress_xdp and psv_ingress_tc through
 * BPF_PROG_TEST_RUN, every scenario run on both entry points with the
 * same fixtures (only the verdict codes differ).  pktgen -> setup ->
 * check, like test_egress; one scenario also runs egress to check that
 * flows recorded by ingress keep the host's identity on the way out.
 */
#include <sched.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf_fixture.h"

static struct fx fx;
static struct fx_world w;
static struct fx_result r;

static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* A frame from the remote server to identity i. */
static struct pkt_frame remote_frame(__u8 proto, __u16 sport, __u16 dport,
				     int i)
{
	struct pkt_frame f = { .ip = { .proto = proto, .sport = sport,
				       .dport = dport } };

	memcpy(f.dst, w.vmac[i], 6);
	memcpy(f.src, w.gw_mac, 6);
	f.ip.saddr = w.remote;
	f.ip.daddr = w.vip[i];
	f.ip.id = 0x3000 + dport;
	f.ip.ttl = 57;
	f.ip.seq = 0x99887766;
	f.ip.ack_seq = 0x11223345;
	f.ip.tcp_flags = proto == PKT_IP_PROTO_TCP ? PKT_TCP_ACK : 0;
	f.ip.payload_len = proto == PKT_IP_PROTO_TCP ? 0 : 24;
	return f;
}

static struct pkt_frame tcp_in(__u16 sport, __u16 dport, __u8 flags, int i)
{
	struct pkt_frame f = remote_frame(PKT_IP_PROTO_TCP, sport, dport, i);

	f.ip.tcp_flags = flags;
	return f;
}

static struct pkt_frame echo_in(__u8 type, __u16 id, int i)
{
	struct pkt_frame f = remote_frame(PKT_IP_PROTO_ICMP, 0, 0, i);

	f.ip.icmp_type = type;
	f.ip.icmp_id = id;
	f.ip.icmp_seq = 1;
	return f;
}

/* The same frame as the host's stack must receive it. */
static struct pkt_frame to_host(struct pkt_frame f)
{
	return pkt_to(f, w.host_mac, w.host_ip);
}

static struct pkt_frame arp_request(__u32 tpa)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_ARP };

	memcpy(f.dst, bcast, 6);
	memcpy(f.src, w.gw_mac, 6);
	f.arp.op = 1;
	memcpy(f.arp.sha, w.gw_mac, 6);
	f.arp.spa = w.gw_ip;
	f.arp.tpa = tpa;
	return f;
}

/* RFC 826: the reply swaps in place, the target's MAC as sender. */
static struct pkt_frame arp_reply(const struct pkt_frame *req, int i)
{
	struct pkt_frame f = *req;

	memcpy(f.dst, req->src, 6);
	memcpy(f.src, w.vmac[i], 6);
	f.arp.op = 2;
	memcpy(f.arp.sha, w.vmac[i], 6);
	f.arp.spa = w.vip[i];
	memcpy(f.arp.tha, req->arp.sha, 6);
	f.arp.tpa = req->arp.spa;
	return f;
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

/* Creates a connection of identity i as egress would have. */
static int add_conn(__u8 proto, __u16 lport, __u16 rport, int i,
		    __u8 tcp_state)
{
	struct psv_conn_key k = conn_key(proto, lport, rport);
	struct psv_conn c;

	memset(&c, 0, sizeof(c));
	c.vip = htonl(w.vip[i]);
	c.tcp_state = tcp_state;
	c.group.proto = proto;
	c.group.daddr = k.raddr;
	c.group.dport = proto == PKT_IP_PROTO_ICMP ? 0 : k.rport;
	c.group.sport = proto == PKT_IP_PROTO_UDP ? k.lport : 0;
	if (bpf_map_update_elem(fx.conns, &k, &c, BPF_ANY)) {
		fprintf(stderr, "update psv_conns: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Identity 0 active with a TCP, a UDP, an ICMP echo and a traceroute
 * flow; identity 1 ready, with one TCP connection of its own.
 */
static int setup_flows(void)
{
	return fx_setup(&fx, &w, 0) ?:
	       fx_set_identity(&fx, htonl(w.vip[0]), w.vmac[0], PSV_ID_ACTIVE,
			       1) ?:
	       add_conn(PKT_IP_PROTO_TCP, 40000, 80, 0, PSV_TCP_SYN_SENT) ?:
	       add_conn(PKT_IP_PROTO_UDP, 40000, 53, 0, PSV_TCP_NONE) ?:
	       add_conn(PKT_IP_PROTO_ICMP, 0x1234, 0, 0, PSV_TCP_NONE) ?:
	       add_conn(PKT_IP_PROTO_UDP, 40001, 33434, 0, PSV_TCP_NONE) ?:
	       add_conn(PKT_IP_PROTO_TCP, 40100, 80, 1, PSV_TCP_ESTABLISHED);
}

static const struct fx_expect pass = { .verdict = FX_PASS };

static struct fx_expect translated(const struct pkt_frame *out)
{
	return (struct fx_expect){ .verdict = FX_PASS, .out = out,
				   .moved = FX_S(IN_TRANSLATED) };
}

static void test_arp(enum fx_prog p)
{
	struct pkt_frame in, out;
	struct fx_expect e = { .verdict = FX_TX, .moved = FX_S(IN_ARP_REPLIED),
			       .out = &out };
	const struct fx_expect parse = { .verdict = FX_PASS,
					 .moved = FX_S(IN_DROP_PARSE) };
	const struct fx_expect arp_dropped = { .verdict = FX_DROP,
					       .moved = FX_S(IN_ARP_DROPPED) };
	const struct fx_expect to_host = { .verdict = FX_PASS, .out = &out,
					   .moved = FX_S(IN_IDENTITY_MAC) };
	__u32 probe = PKT_IP4(192, 0, 2, 202);
	int i;

	if (setup_flows())
		return;
	for (i = 0; i < 2; i++) {
		in = arp_request(w.vip[i]);
		out = arp_reply(&in, i);
		fx_case(&fx, p, i ? "ARP who-has .201 (ready)" :
			"ARP who-has .200 (active)", &in, &e, &r);
		/* Real requests arrive padded to the 60-byte minimum. */
		in.min_len = 60;
		out.min_len = 60;
		fx_case(&fx, p, i ? "ARP who-has .201, padded" :
			"ARP who-has .200, padded", &in, &e, &r);
	}

	in = arp_request(PKT_IP4(192, 0, 2, 50));
	fx_case(&fx, p, "ARP who-has an unknown address", &in, &pass, &r);
	in = arp_request(w.host_ip);
	fx_case(&fx, p, "ARP who-has the host address", &in, &pass, &r);

	/*
	 * psv.h: only READY and ACTIVE identities answer ARP.  The others
	 * are local addresses too (their routes): the kernel must not
	 * answer for them with the real MAC either.
	 */
	if (fx_set_identity(&fx, htonl(probe), w.vmac[1], PSV_ID_ACQUIRING, 3))
		return;
	in = arp_request(probe);
	fx_case(&fx, p, "ARP who-has an acquiring identity", &in, &arp_dropped,
		&r);
	if (fx_set_identity(&fx, htonl(probe), w.vmac[1], PSV_ID_RETIRED, 3))
		return;
	fx_case(&fx, p, "ARP who-has a retired identity", &in, &arp_dropped,
		&r);

	/* The kernel asked in an identity's name: its answer reaches it. */
	in = arp_reply(&in, 0);
	memcpy(in.dst, w.vmac[0], 6);
	in.arp.op = 2;
	memcpy(in.arp.sha, w.gw_mac, 6);
	in.arp.spa = w.gw_ip;
	memcpy(in.arp.tha, w.vmac[0], 6);
	in.arp.tpa = w.vip[0];
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "ARP reply to an identity", &in, &to_host, &r);
	in.dst[5] ^= 1;
	fx_case(&fx, p, "ARP reply to an identity's address, another MAC", &in,
		&pass, &r);

	/* RFC 5227 2.3: someone else announcing .200 is a conflict psvd sees. */
	in = arp_request(w.vip[0]);
	memcpy(in.src, w.vmac[1], 6);
	in.src[5] ^= 0x10;
	memcpy(in.arp.sha, in.src, 6);
	in.arp.spa = w.vip[0];
	fx_case(&fx, p, "ARP announcement of .200 by another host", &in, &pass,
		&r);

	in = arp_request(w.vip[0]);
	in.trunc = 14 + 20;
	fx_case(&fx, p, "truncated ARP", &in, &parse, &r);
}

static void test_reverse(enum fx_prog p)
{
	static __u8 payload[24];
	struct pkt_frame in, out;
	struct fx_expect e = translated(&out);
	struct psv_conn_key ck = conn_key(PKT_IP_PROTO_TCP, 40000, 80);
	struct psv_conn c;

	if (setup_flows())
		return;
	in = tcp_in(80, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 0);
	out = to_host(in);
	fx_case(&fx, p, "TCP SYN-ACK of a known connection", &in, &e, &r);
	CHECK(!bpf_map_lookup_elem(fx.conns, &ck, &c) &&
	      c.tcp_state == PSV_TCP_ESTABLISHED,
	      "%s TCP SYN-ACK: connection established", fx_prog_names[p]);

	in = tcp_in(80, 40000, PKT_TCP_ACK | PKT_TCP_PSH, 0);
	in.ip.payload_len = 300;
	out = to_host(in);
	fx_case(&fx, p, "TCP data of a known connection", &in, &e, &r);

	/* A 54-byte ACK arrives padded to 60: the padding is not L4 data. */
	in = tcp_in(80, 40000, PKT_TCP_ACK, 0);
	in.min_len = 60;
	out = to_host(in);
	fx_case(&fx, p, "TCP ACK padded to 60 bytes", &in, &e, &r);

	in.min_len = 0;
	in.ip.optlen = 4;
	out = to_host(in);
	fx_case(&fx, p, "TCP ACK with IPv4 options (IHL 6)", &in, &e, &r);

	in = remote_frame(PKT_IP_PROTO_UDP, 53, 40000, 0);
	out = to_host(in);
	fx_case(&fx, p, "UDP reply", &in, &e, &r);

	in.ip.udp_csum_zero = true;
	out = to_host(in);
	fx_case(&fx, p, "UDP reply without checksum", &in, &e, &r);
	CHECK(r.out_len >= 42 && !pkt_get16(r.out + 40),
	      "%s UDP reply without checksum: checksum still zero",
	      fx_prog_names[p]);

	/* RFC 1624 section 3: a checksum that becomes, or was, zero. */
	in.ip.udp_csum_zero = false;
	in.ip.payload = payload;
	out = to_host(in);
	pkt_zero_csum(&out.ip, payload);
	fx_case(&fx, p, "UDP reply whose new checksum computes to zero", &in,
		&e, &r);
	CHECK(r.out_len >= 42 && pkt_get16(r.out + 40) == 0xffff,
	      "%s UDP reply whose new checksum is zero: sent as 0xffff",
	      fx_prog_names[p]);
	pkt_zero_csum(&in.ip, payload);
	fx_case(&fx, p, "UDP reply whose old checksum computed to zero", &in,
		&e, &r);

	in = tcp_in(80, 40000, PKT_TCP_ACK, 0);
	in.ip.payload = payload;
	in.ip.payload_len = sizeof(payload);
	out = to_host(in);
	pkt_zero_csum(&out.ip, payload);
	fx_case(&fx, p, "TCP ACK whose new checksum computes to zero", &in,
		&e, &r);
	CHECK(r.out_len >= 52 && pkt_get16(r.out + 50) == 0,
	      "%s TCP ACK whose new checksum is zero: 0x0000",
	      fx_prog_names[p]);
	pkt_zero_csum(&in.ip, payload);
	fx_case(&fx, p, "TCP ACK whose old checksum computed to zero", &in,
		&e, &r);

	in = echo_in(PKT_ICMP_ECHOREPLY, 0x1234, 0);
	out = to_host(in);
	fx_case(&fx, p, "ICMP echo reply", &in, &e, &r);

	in = tcp_in(80, 40000, PKT_TCP_RST | PKT_TCP_ACK, 0);
	out = to_host(in);
	fx_case(&fx, p, "TCP RST of a known connection", &in, &e, &r);
	CHECK(!bpf_map_lookup_elem(fx.conns, &ck, &c),
	      "%s TCP RST: connection still known", fx_prog_names[p]);
	CHECK_EQ(c.tcp_state, PSV_TCP_CLOSED, "%s TCP RST: connection closed",
		 fx_prog_names[p]);
}

/*
 * An ICMP error from a router to identity 0 quoting quoted (quote_len
 * bytes of its L4 data, 0: 8), checked against the same error sent to
 * the host, quoting the packet as the host sent it.
 */
static void icmp_error_case(enum fx_prog p, const char *what, __u8 type,
			    __u8 code, const struct pkt_ipv4 *quoted,
			    __u16 quote_len, __u8 optlen, bool known)
{
	struct fx_expect e = { .verdict = FX_PASS, .out = NULL,
			       .moved = FX_S(IN_ICMP_ERROR),
			       .ignore = FX_S(IN_TRANSLATED) };
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_UNSOLICITED) };
	struct pkt_frame in = echo_in(type, 0, 0), out;
	struct pkt_ipv4 quoted_out = *quoted;

	in.ip.icmp_code = code;
	in.ip.saddr = w.router;
	in.ip.icmp_seq = 0;
	in.ip.payload_len = 0;
	in.ip.inner = quoted;
	in.ip.quote_len = quote_len;
	in.ip.optlen = optlen;
	quoted_out.saddr = w.host_ip;
	out = to_host(in);
	out.ip.inner = &quoted_out;
	e.out = &out;
	fx_case(&fx, p, what, &in, known ? &e : &drop, &r);
}

static void test_icmp_error(enum fx_prog p)
{
	struct pkt_ipv4 udp = {
		.saddr = w.vip[0], .daddr = w.remote, .proto = PKT_IP_PROTO_UDP,
		.sport = 40001, .dport = 33434, .ttl = 1, .id = 0x4444,
		.payload_len = 32,
	}, tcp = {
		.saddr = w.vip[0], .daddr = w.remote, .proto = PKT_IP_PROTO_TCP,
		.sport = 40000, .dport = 80, .df = true, .id = 0x4545,
		.tcp_flags = PKT_TCP_ACK, .seq = 7, .payload_len = 100,
	}, echo = {
		.saddr = w.vip[0], .daddr = w.remote, .proto = PKT_IP_PROTO_ICMP,
		.ttl = 1, .icmp_type = PKT_ICMP_ECHO, .icmp_id = 0x1234,
		.icmp_seq = 9, .payload_len = 56,
	}, q;

	if (setup_flows())
		return;
	icmp_error_case(p, "ICMP time exceeded quoting a UDP flow",
			PKT_ICMP_TIME_EXCEEDED, 0, &udp, 0, 0, true);
	/* The whole datagram quoted: the inner UDP checksum is checkable. */
	icmp_error_case(p, "ICMP time exceeded, whole UDP datagram quoted",
			PKT_ICMP_TIME_EXCEEDED, 0, &udp, 40, 0, true);
	q = udp;
	q.udp_csum_zero = true;
	icmp_error_case(p, "ICMP time exceeded quoting UDP without checksum",
			PKT_ICMP_TIME_EXCEEDED, 0, &q, 40, 0, true);
	/* Options on either header move everything behind them. */
	q = udp;
	q.optlen = 4;
	icmp_error_case(p, "ICMP time exceeded, quoted IPv4 with options",
			PKT_ICMP_TIME_EXCEEDED, 0, &q, 40, 0, true);
	icmp_error_case(p, "ICMP time exceeded with IPv4 options",
			PKT_ICMP_TIME_EXCEEDED, 0, &udp, 40, 8, true);
	icmp_error_case(p, "ICMP parameter problem quoting a UDP flow", 12, 0,
			&udp, 0, 0, true);

	icmp_error_case(p, "ICMP unreachable quoting a TCP connection",
			PKT_ICMP_UNREACH, 13, &tcp, 0, 0, true);
	/* 20 bytes hold the TCP checksum: it follows the address. */
	icmp_error_case(p, "ICMP unreachable quoting 20 bytes of TCP",
			PKT_ICMP_UNREACH, 13, &tcp, 20, 0, true);
	icmp_error_case(p, "ICMP unreachable quoting a whole TCP segment",
			PKT_ICMP_UNREACH, 13, &tcp, 120, 0, true);

	/* A ping through a router that ran out of TTL. */
	icmp_error_case(p, "ICMP time exceeded quoting an echo request",
			PKT_ICMP_TIME_EXCEEDED, 0, &echo, 0, 0, true);
	q = echo;
	q.icmp_id = 0x9999;
	icmp_error_case(p, "ICMP time exceeded quoting an unknown echo",
			PKT_ICMP_TIME_EXCEEDED, 0, &q, 0, 0, false);
	q = tcp;
	q.sport = 40999;
	icmp_error_case(p, "ICMP unreachable quoting an unknown flow",
			PKT_ICMP_UNREACH, 3, &q, 0, 0, false);
	/* Only a first (or whole) datagram names its flow. */
	q = udp;
	q.frag_off = 8;
	icmp_error_case(p, "ICMP time exceeded quoting a later fragment",
			PKT_ICMP_TIME_EXCEEDED, 1, &q, 0, 0, false);
}

/* psv.h: FINs from both sides close; a new SYN on the tuple reopens. */
static void test_fin(enum fx_prog p)
{
	struct psv_conn_key ck = conn_key(PKT_IP_PROTO_TCP, 40000, 80);
	struct pkt_frame in, out;
	struct fx_expect e = translated(&out);
	struct psv_conn c;

	if (setup_flows())
		return;
	in = (struct pkt_frame){ .ip = { .proto = PKT_IP_PROTO_TCP,
					 .saddr = w.host_ip, .daddr = w.remote,
					 .sport = 40000, .dport = 80,
					 .tcp_flags = PKT_TCP_FIN |
						      PKT_TCP_ACK } };
	memcpy(in.dst, w.gw_mac, 6);
	memcpy(in.src, w.host_mac, 6);
	out = in;
	memcpy(out.src, w.vmac[0], 6);
	out.ip.saddr = w.vip[0];
	e.moved = FX_S(EG_TRANSLATED);
	fx_case(&fx, FX_EGRESS, "TCP FIN from the host", &in, &e, &r);
	CHECK(!bpf_map_lookup_elem(fx.conns, &ck, &c) &&
	      c.tcp_state == PSV_TCP_FIN_WAIT && c.flags == PSV_CONN_FIN_OUT,
	      "TCP FIN from the host: connection half closed");

	in = tcp_in(80, 40000, PKT_TCP_FIN | PKT_TCP_ACK, 0);
	out = to_host(in);
	e.moved = FX_S(IN_TRANSLATED);
	fx_case(&fx, p, "TCP FIN from the peer", &in, &e, &r);
	CHECK(!bpf_map_lookup_elem(fx.conns, &ck, &c) &&
	      c.tcp_state == PSV_TCP_CLOSED &&
	      c.flags == (PSV_CONN_FIN_OUT | PSV_CONN_FIN_IN),
	      "%s TCP FIN from the peer: connection closed",
	      fx_prog_names[p]);

	/* The port reused for a new connection: same tuple, same identity. */
	in = (struct pkt_frame){ .ip = { .proto = PKT_IP_PROTO_TCP,
					 .saddr = w.host_ip, .daddr = w.remote,
					 .sport = 40000, .dport = 80,
					 .tcp_flags = PKT_TCP_SYN } };
	memcpy(in.dst, w.gw_mac, 6);
	memcpy(in.src, w.host_mac, 6);
	out = in;
	memcpy(out.src, w.vmac[0], 6);
	out.ip.saddr = w.vip[0];
	e.moved = FX_S(EG_TRANSLATED);
	fx_case(&fx, FX_EGRESS, "TCP SYN reusing a closed tuple", &in, &e, &r);
	CHECK(!bpf_map_lookup_elem(fx.conns, &ck, &c) &&
	      c.tcp_state == PSV_TCP_SYN_SENT && !c.flags,
	      "TCP SYN reusing a closed tuple: connection reopened");
}

static void test_unsolicited(enum fx_prog p)
{
	const __u64 unsolicited = FX_S(IN_DROP_UNSOLICITED);
	struct pkt_ipv4 quoted;
	struct pkt_frame error;
	char what[8][96];
	size_t k;
	int i;

	for (i = 0; i < 2; i++) {
		if (setup_flows())
			return;
		/* A probe that would link them if it got through. */
		quoted = (struct pkt_ipv4){
			.saddr = w.vip[!i], .daddr = w.remote,
			.proto = PKT_IP_PROTO_TCP, .sport = i ? 40000 : 40100,
			.dport = 80, .tcp_flags = PKT_TCP_ACK };
		error = echo_in(PKT_ICMP_UNREACH, 0, i);
		error.ip.payload_len = 0;
		error.ip.inner = &quoted;

		struct fx_row rows[] = {
			FX_ROW("TCP SYN to :22",
			       tcp_in(40000, 22, PKT_TCP_SYN, i),
			       FX_DROP, unsolicited),
			FX_ROW("UDP to :161",
			       remote_frame(PKT_IP_PROTO_UDP, 5000, 161, i),
			       FX_DROP, unsolicited),
			FX_ROW("ICMP echo request",
			       echo_in(PKT_ICMP_ECHO, 0x1234, i), FX_DROP,
			       unsolicited),
			FX_ROW("reply from the wrong remote port",
			       tcp_in(8080, i ? 40100 : 40000, PKT_TCP_ACK, i),
			       FX_DROP, unsolicited),
			FX_ROW("reply from the wrong remote address",
			       pkt_from(tcp_in(80, i ? 40100 : 40000,
					       PKT_TCP_ACK, i),
					NULL, PKT_IP4(198, 51, 100, 11)),
			       FX_DROP, unsolicited),
			/* The other identity's flow tuple must not link them. */
			FX_ROW("reply to the other identity's connection",
			       tcp_in(80, i ? 40000 : 40100, PKT_TCP_ACK, i),
			       FX_DROP, unsolicited),
			FX_ROW("GRE", remote_frame(PKT_IP_PROTO_GRE, 0, 0, i),
			       FX_DROP, unsolicited),
			FX_ROW("ICMP error quoting the other identity's "
			       "connection", error, FX_DROP, unsolicited),
		};

		for (k = 0; k < FX_ROWS(rows); k++) {
			snprintf(what[k], sizeof(what[k]), "%s to .%d",
				 rows[k].desc, 200 + i);
			rows[k].desc = what[k];
			fx_row_case(&fx, p, &rows[k], &r);
		}
	}
}

/* A UDP socket on a free port (host order in *port); -1 on failure. */
static int udp_listener(__u16 *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Flows a peer opens to the host keep the host's identity both ways. */
static void test_host_flows(enum fx_prog p)
{
	const struct fx_expect pass_host = { .verdict = FX_PASS,
					     .moved = FX_S(EG_PASS_HOST) };
	struct pkt_frame in, back, out;
	struct fx_expect e = { .verdict = FX_PASS, .out = &out,
			       .moved = FX_S(EG_TRANSLATED) |
					FX_S(EG_NEW_GROUP) |
					FX_S(EG_NEW_CONN) |
					FX_S(EG_NAT_UNHOOKED) };
	struct psv_conn_key k;
	__u16 lport = 0;
	__u64 seen;
	int err, udp_fd;

	if (fx_setup(&fx, &w, 2))
		return;
	in = tcp_in(40000, 22, PKT_TCP_SYN, 0);
	in = to_host(in);
	fx_case(&fx, p, "TCP SYN to the host", &in, &pass, &r);
	k = conn_key(PKT_IP_PROTO_TCP, 22, 40000);
	err = bpf_map_lookup_elem(fx.host_conns, &k, &seen);
	CHECK(!err, "%s TCP SYN to the host: psv_host_conns has it",
	      fx_prog_names[p]);
	if (err)
		fx_dump_map(fx.host_conns, PSV_MAP_HOST_CONNS, sizeof(k),
			    sizeof(seen));

	/* The host's SYN-ACK, seen by egress. */
	back = (struct pkt_frame){ .ip = { .proto = PKT_IP_PROTO_TCP,
					   .saddr = w.host_ip,
					   .daddr = w.remote, .sport = 22,
					   .dport = 40000, .df = true,
					   .tcp_flags = PKT_TCP_SYN |
							PKT_TCP_ACK } };
	memcpy(back.dst, w.gw_mac, 6);
	memcpy(back.src, w.host_mac, 6);
	fx_case(&fx, FX_EGRESS, "SYN-ACK of a host connection", &back,
		&pass_host, &r);

	/*
	 * UDP is recorded only where a socket of the host takes it: here a
	 * real one, bound in the test's network namespace, where the
	 * program's socket lookup looks.
	 */
	udp_fd = udp_listener(&lport);
	CHECK(udp_fd >= 0, "a UDP socket listens on port %u", lport);
	in = remote_frame(PKT_IP_PROTO_UDP, 5000, lport, 0);
	in = to_host(in);
	fx_case(&fx, p, "UDP to a listening port of the host", &in, &pass, &r);
	k = conn_key(PKT_IP_PROTO_UDP, lport, 5000);
	err = bpf_map_lookup_elem(fx.host_conns, &k, &seen);
	CHECK(!err, "%s UDP to the host: psv_host_conns has it",
	      fx_prog_names[p]);
	if (err)
		fx_dump_map(fx.host_conns, PSV_MAP_HOST_CONNS, sizeof(k),
			    sizeof(seen));

	back.ip = (struct pkt_ipv4){ .proto = PKT_IP_PROTO_UDP,
				     .saddr = w.host_ip, .daddr = w.remote,
				     .sport = lport, .dport = 5000,
				     .payload_len = 16 };
	fx_case(&fx, FX_EGRESS, "UDP reply of a host flow", &back, &pass_host,
		&r);
	CHECK_EQ(fx_queue_len(&fx), 2, "host flows take no identity");

	/* Control: the same reply to a peer that never wrote is virtualized. */
	back.ip.dport = 5001;
	out = back;
	memcpy(out.src, w.vmac[0], 6);
	out.ip.saddr = w.vip[0];
	fx_case(&fx, FX_EGRESS, "UDP from the listening port to an unrecorded peer",
		&back, &e, &r);
	close(udp_fd);

	/*
	 * A spoofed datagram "from" a server to a port nobody listens on
	 * (yet) is not recorded: otherwise spraying every ephemeral port
	 * would put the host's later queries on its real address.
	 */
	in = remote_frame(PKT_IP_PROTO_UDP, 53, lport, 0);
	in = to_host(in);
	fx_case(&fx, p, "spoofed UDP to a port nobody listens on", &in, &pass,
		&r);
	k = conn_key(PKT_IP_PROTO_UDP, lport, 53);
	CHECK(bpf_map_lookup_elem(fx.host_conns, &k, &seen) && errno == ENOENT,
	      "%s spoofed UDP to a closed port: not recorded", fx_prog_names[p]);

	/*
	 * A SYN from the host opens a connection, it never answers one:
	 * a (spoofed) SYN the peer sent earlier on the same tuple must not
	 * take the host's own connection off its identity.
	 */
	in = tcp_in(80, 40000, PKT_TCP_SYN, 0);
	in = to_host(in);
	fx_case(&fx, p, "TCP SYN to the host from :80 to :40000", &in, &pass,
		&r);
	back.ip = (struct pkt_ipv4){ .proto = PKT_IP_PROTO_TCP,
				     .saddr = w.host_ip, .daddr = w.remote,
				     .sport = 40000, .dport = 80, .df = true,
				     .tcp_flags = PKT_TCP_SYN };
	out = back;
	memcpy(out.src, w.vmac[1], 6);
	out.ip.saddr = w.vip[1];
	fx_case(&fx, FX_EGRESS, "TCP SYN from the host on that tuple", &back,
		&e, &r);
}

/*
 * A peer of a virtualized flow writing to the host's real address with
 * the flow's ports or echo id would reach the flow's socket, which would
 * answer as the identity: such probes are dropped, and not recorded.
 */
static void test_host_probes(enum fx_prog p)
{
	const __u64 unsolicited = FX_S(IN_DROP_UNSOLICITED);
	/*
	 * The quotes as the host's stack would match them to the flows'
	 * sockets: a PMTU error shrinks the connection's segments, which
	 * the peer then sees coming from the identity.
	 */
	const struct pkt_ipv4 tcp = {
		.saddr = w.host_ip, .daddr = w.remote,
		.proto = PKT_IP_PROTO_TCP, .sport = 40000, .dport = 80,
		.df = true, .tcp_flags = PKT_TCP_ACK, .seq = 7,
	}, udp = {
		.saddr = w.host_ip, .daddr = w.remote,
		.proto = PKT_IP_PROTO_UDP, .sport = 40000, .dport = 53,
		.payload_len = 20,
	};
	struct pkt_frame frag_needed = echo_in(PKT_ICMP_UNREACH, 0, 0);
	struct pkt_frame unreach;

	if (setup_flows())
		return;
	frag_needed.ip.icmp_code = 4;
	frag_needed.ip.icmp_seq = 1280;	/* next-hop MTU (RFC 1191) */
	frag_needed.ip.payload_len = 0;
	frag_needed.ip.inner = &tcp;
	unreach = frag_needed;
	unreach.ip.icmp_code = 3;
	unreach.ip.icmp_seq = 0;
	unreach.ip.inner = &udp;

	const struct fx_row rows[] = {
		FX_ROW("TCP to the host naming a virtualized connection",
		       to_host(tcp_in(80, 40000, PKT_TCP_ACK, 0)), FX_DROP,
		       unsolicited),
		FX_ROW("UDP to the host naming a virtualized flow",
		       to_host(remote_frame(PKT_IP_PROTO_UDP, 53, 40000, 0)),
		       FX_DROP, unsolicited),
		FX_ROW("ICMP echo reply to the host naming a virtualized ping",
		       to_host(echo_in(PKT_ICMP_ECHOREPLY, 0x1234, 0)),
		       FX_DROP, unsolicited),
		FX_ROW("ICMP frag needed to the host quoting a virtualized "
		       "connection", to_host(frag_needed), FX_DROP,
		       unsolicited),
		FX_ROW("ICMP port unreachable to the host quoting a "
		       "virtualized flow", to_host(unreach), FX_DROP,
		       unsolicited),
	};

	fx_table(&fx, p, rows, FX_ROWS(rows), &r);
	CHECK_EQ(fx_map_count(fx.host_conns), 0,
		 "%s probes of virtualized flows: none recorded",
		 fx_prog_names[p]);
}

/*
 * A priority tag (PCP 5, VLAN id 0) is the untagged LAN to the kernel:
 * XDP removes it and judges the frame as untagged (TC does the same
 * with the tag the kernel offloaded, which BPF_PROG_TEST_RUN cannot
 * make; tests/e2e/malformed.sh sends such frames at TC).
 */
static void test_priority_tag(enum fx_prog p)
{
	struct pkt_frame reply = tcp_in(80, 40000, PKT_TCP_ACK, 0);
	struct pkt_frame probe = pkt_to(tcp_in(40000, 22, PKT_TCP_SYN, 0),
					w.host_mac, w.vip[0]);

	const struct fx_row rows[] = {
		FX_ROW("priority-tagged SYN to the host's MAC and an "
		       "identity's address", pkt_vlan(probe, 0xa000), FX_DROP,
		       FX_S(IN_DROP_UNSOLICITED)),
		FX_ROW("priority-tagged reply of a connection",
		       pkt_vlan(reply, 0xa000), FX_PASS, FX_S(IN_TRANSLATED),
		       .out = to_host(reply)),
	};

	fx_table(&fx, p, rows, FX_ROWS(rows), &r);
}

static void test_dhcp_vlan(enum fx_prog p)
{
	struct pkt_frame dhcp = remote_frame(PKT_IP_PROTO_UDP, 67, 68, 0);

	if (setup_flows())
		return;
	dhcp.ip.saddr = w.gw_ip;

	const struct fx_row rows[] = {
		FX_ROW("DHCP reply to an identity", dhcp, FX_PASS, 0),
		FX_ROW("DHCP reply, broadcast",
		       pkt_to(dhcp, bcast, PKT_IP4(255, 255, 255, 255)),
		       FX_PASS, 0),
		FX_ROW("VLAN-tagged frame",
		       pkt_vlan(tcp_in(80, 40000, PKT_TCP_ACK, 0), 7), FX_PASS,
		       0),
		FX_ROW("VLAN-tagged ARP who-has .200",
		       pkt_vlan(arp_request(w.vip[0]), 7), FX_PASS, 0),
	};

	fx_table(&fx, p, rows, FX_ROWS(rows), &r);
	if (p == FX_INGRESS_XDP)
		test_priority_tag(p);
}

static void test_malformed(enum fx_prog p)
{
	const __u64 parse = FX_S(IN_DROP_PARSE);
	const struct pkt_frame ack = tcp_in(80, 40000, PKT_TCP_ACK, 0);
	const struct pkt_frame udp = remote_frame(PKT_IP_PROTO_UDP, 53, 40000,
						  0);
	const struct pkt_frame echo = echo_in(PKT_ICMP_ECHOREPLY, 0x1234, 0);
	/* Lengths: tot_len (0: the real one), then the frame cut to trunc. */
	const struct fx_row rows[] = {
		FX_ROW("IHL 4 to an identity", pkt_ihl(ack, 4), FX_DROP, parse),
		FX_ROW("IHL beyond the frame to an identity", pkt_ihl(ack, 15),
		       FX_DROP, parse),
		FX_ROW("tot_len beyond the frame to an identity",
		       pkt_cut(ack, 1000, 0), FX_DROP, parse),
		FX_ROW("truncated TCP header to an identity",
		       pkt_cut(ack, 20 + 10, 14 + 30), FX_DROP, parse),
		FX_ROW("truncated UDP header to an identity",
		       pkt_cut(udp, 20 + 4, 14 + 24), FX_DROP, parse),
		FX_ROW("truncated ICMP header to an identity",
		       pkt_cut(echo, 20 + 6, 14 + 26), FX_DROP, parse),
	};
	struct pkt_frame syn, error, arp;

	if (setup_flows())
		return;
	fx_table(&fx, p, rows, FX_ROWS(rows), &r);

	fx_sweep(&fx, p, &r, "a TCP reply", &ack, true);
	syn = tcp_in(40000, 80, PKT_TCP_SYN, 0);
	syn.ip.saddr = w.vip[0];
	syn.ip.daddr = w.remote;
	error = echo_in(PKT_ICMP_TIME_EXCEEDED, 0, 0);
	error.ip.inner = &syn.ip;
	error.ip.payload_len = 0;
	fx_sweep(&fx, p, &r, "an ICMP error", &error, true);
	fx_mutants(&fx, p, &r, "an ICMP error", &error, 2000, false);
	arp = arp_request(w.vip[0]);
	fx_sweep(&fx, p, &r, "an ARP request", &arp, false);
	fx_mutants(&fx, p, &r, "an ARP request", &arp, 2000, true);
	fx_mutants(&fx, p, &r, "a TCP reply", &ack, 2000, false);

	fx_random_frames(&fx, p, &r, NULL, 0);
}

static void test_fragments(enum fx_prog p)
{
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_FRAG) };
	struct pkt_frame in = remote_frame(PKT_IP_PROTO_UDP, 53, 40000, 0), out;
	struct fx_expect e = translated(&out);
	struct psv_frag_key fk = { .raddr = htonl(w.remote),
				   .ip_id = htons(0x777),
				   .proto = PKT_IP_PROTO_UDP,
				   .dir = PSV_DIR_INGRESS };
	struct psv_frag fr;
	int err;

	if (setup_flows())
		return;
	in.ip.id = 0x776;
	in.ip.payload_len = 1000;
	in.ip.frag_off = 504;
	fx_case(&fx, p, "non-first fragment, unknown id", &in, &drop, &r);

	in.ip.id = 0x777;
	in.ip.frag_off = 0;
	in.ip.frag_len = 504;
	in.ip.mf = true;
	out = to_host(in);
	fx_case(&fx, p, "UDP first fragment", &in, &e, &r);
	err = bpf_map_lookup_elem(fx.frags, &fk, &fr);
	CHECK(!err, "%s UDP first fragment: psv_frags has it",
	      fx_prog_names[p]);
	if (err)
		fx_dump_map(fx.frags, PSV_MAP_FRAGS, sizeof(fk), sizeof(fr));
	else
		CHECK_EQ(ntohl(fr.vip), w.vip[0],
			 "%s UDP first fragment: identity", fx_prog_names[p]);

	in.ip.frag_off = 504;
	in.ip.frag_len = 0;
	in.ip.mf = false;
	out = to_host(in);
	fx_case(&fx, p, "UDP last fragment", &in, &e, &r);
}

/* XDP sees jumbo frames in fragments; TC test frames end at a page. */
static void test_large(enum fx_prog p)
{
	struct pkt_frame in = tcp_in(80, 40000, PKT_TCP_ACK, 0), out;
	struct fx_expect e = translated(&out);

	if (setup_flows())
		return;
	in.ip.payload_len = 1500 - 40;
	out = to_host(in);
	fx_case(&fx, p, "1514-byte TCP segment", &in, &e, &r);
	if (p != FX_INGRESS_XDP)
		return;
	in.ip.payload_len = 9000 - 40;
	out = to_host(in);
	fx_case(&fx, p, "9014-byte TCP segment (XDP frags)", &in, &e, &r);
}

static void test_disabled(enum fx_prog p)
{
	const struct fx_row rows[] = {
		FX_ROW("ARP who-has .200 while disabled", arp_request(w.vip[0]),
		       FX_PASS, 0),
		FX_ROW("TCP SYN to .200 while disabled",
		       tcp_in(40000, 22, PKT_TCP_SYN, 0), FX_PASS, 0),
	};
	struct psv_config c;

	if (setup_flows())
		return;
	fx_world_config(&w, &c);
	c.enabled = 0;
	if (fx_set_config(&fx, &c))
		return;
	fx_table(&fx, p, rows, FX_ROWS(rows), &r);
}

/*
 * Identity 0's socket on vip:lport connected to the remote's listener on
 * rport (both addresses local here); the client closes first when told,
 * so its side ends in TIME_WAIT.  Returns the client's fd.
 */
static int bound_connection(__u16 lport, __u16 rport, int *listener,
			    int *server)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(w.vip[0]),
				 .sin_port = htons(lport) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	*listener = fx_socket(SOCK_STREAM, w.remote, rport, true);
	if (fd < 0 || *listener < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	a.sin_addr.s_addr = htonl(w.remote);
	a.sin_port = htons(rport);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*server = accept(*listener, NULL, NULL);
	return *server < 0 ? -1 : fd;
}

/*
 * The socket path: traffic to an identity's address reaches the kernel
 * (destination MAC the host's, nothing else changed) only for a socket
 * of that address; every other probe is dropped alike.  Real sockets
 * in the test's namespace, where the programs' socket lookups look.
 */
static void test_sockets(enum fx_prog p)
{
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_UNSOLICITED) };
	struct pkt_frame in, out;
	struct fx_expect e = { .verdict = FX_PASS, .out = &out,
			       .moved = FX_S(IN_IDENTITY_MAC) };
	/* Ports of their own for each program: TIME_WAIT outlives a run. */
	const __u16 lport = 41000 + 10 * p, rport = 8000 + 10 * p;
	struct pkt_ipv4 quoted = { .proto = PKT_IP_PROTO_TCP, .sport = lport,
				   .dport = rport, .df = true,
				   .tcp_flags = PKT_TCP_ACK };
	int lis, wild, udp, udp_wild, cli, lfd = -1, sfd = -1;
	struct psv_conn_key k;
	struct psv_conn c = { .flags = PSV_CONN_BOUND };

	if (fx_setup(&fx, &w, 0))
		return;
	lis = fx_socket(SOCK_STREAM, w.vip[0], 8080, true);
	wild = fx_socket(SOCK_STREAM, 0, 8081, true);
	udp = fx_socket(SOCK_DGRAM, w.vip[0], 5353, false);
	udp_wild = fx_socket(SOCK_DGRAM, 0, 5354, false);
	cli = bound_connection(lport, rport, &lfd, &sfd);
	CHECK(lis >= 0 && wild >= 0 && udp >= 0 && udp_wild >= 0 && cli >= 0,
	      "%s sockets on an identity's address and wildcard ones",
	      fx_prog_names[p]);

	in = tcp_in(5000, 8080, PKT_TCP_SYN, 0);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "TCP SYN to a listener bound to the identity", &in, &e,
		&r);
	in = tcp_in(5000, 8081, PKT_TCP_SYN, 0);
	fx_case(&fx, p, "TCP SYN to a wildcard listener", &in, &drop, &r);
	in = tcp_in(5000, 8082, PKT_TCP_SYN, 0);
	fx_case(&fx, p, "TCP SYN to a closed port", &in, &drop, &r);
	in = tcp_in(5000, 8082, PKT_TCP_SYN, 1);
	fx_case(&fx, p, "TCP SYN to another identity's closed port", &in,
		&drop, &r);
	in = tcp_in(rport, lport, PKT_TCP_ACK, 0);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "TCP segment of a connection of the identity", &in, &e,
		&r);
	in = tcp_in(rport, lport, PKT_TCP_ACK, 1);
	fx_case(&fx, p, "the same segment to another identity", &in, &drop,
		&r);
	in = tcp_in(rport, lport, PKT_TCP_ACK, 0);
	memcpy(in.dst, w.host_mac, 6);
	fx_case(&fx, p, "the same segment to the host's MAC", &in, &drop, &r);

	/* A router's error about that connection, quote left as it is. */
	quoted.saddr = w.vip[0];
	quoted.daddr = w.remote;
	in = echo_in(PKT_ICMP_UNREACH, 0, 0);
	in.ip.icmp_code = 4;	/* fragmentation needed: PMTU */
	in.ip.saddr = w.router;
	in.ip.icmp_seq = 0;
	in.ip.payload_len = 0;
	in.ip.inner = &quoted;
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "ICMP PMTU error quoting the connection", &in, &e, &r);
	quoted.sport = lport + 1;
	fx_case(&fx, p, "ICMP error quoting no socket", &in, &drop, &r);

	in = remote_frame(PKT_IP_PROTO_UDP, 53, 5353, 0);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "UDP to a socket bound to the identity", &in, &e, &r);
	in = remote_frame(PKT_IP_PROTO_UDP, 53, 5354, 0);
	fx_case(&fx, p, "UDP to a wildcard socket", &in, &drop, &r);
	/* What sendmsg4 notes when that socket sends from the identity. */
	k = conn_key(PKT_IP_PROTO_UDP, 5354, 53);
	c.vip = htonl(w.vip[0]);
	CHECK(!bpf_map_update_elem(fx.conns, &k, &c, BPF_ANY),
	      "%s note an unconnected UDP flow", fx_prog_names[p]);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "UDP reply of that flow", &in, &e, &r);
	in.ip.frag_len = 16;
	in.ip.mf = true;
	in.ip.payload_len = 64;
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "its first fragment", &in, &e, &r);
	in.ip.mf = false;
	in.ip.frag_len = 0;
	in.ip.frag_off = 24;
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "its last fragment", &in, &e, &r);

	k = conn_key(PKT_IP_PROTO_ICMP, 0x2345, 0);
	CHECK(!bpf_map_update_elem(fx.conns, &k, &c, BPF_ANY),
	      "%s note a bound ping", fx_prog_names[p]);
	in = echo_in(PKT_ICMP_ECHOREPLY, 0x2345, 0);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "echo reply of a bound ping socket", &in, &e, &r);
	in = echo_in(PKT_ICMP_ECHO, 0x2345, 0);
	fx_case(&fx, p, "echo request to the identity", &in, &drop, &r);

	/* The client closes first: its side waits in TIME_WAIT. */
	close(cli);
	usleep(20000);
	close(sfd);
	usleep(20000);
	in = tcp_in(rport, lport, PKT_TCP_FIN | PKT_TCP_ACK, 0);
	out = in;
	memcpy(out.dst, w.host_mac, 6);
	fx_case(&fx, p, "a retransmitted FIN to a TIME_WAIT socket", &in, &e,
		&r);
	close(lis);
	close(wild);
	close(udp);
	close(udp_wild);
	close(lfd);
}

/* An IPv6 packet from the remote server to identity i's address and MAC. */
static struct pkt_frame remote6_frame(__u8 proto, __u16 sport, __u16 dport,
				      int i)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = proto, .sport = sport,
					.dport = dport, .hop_limit = 57 } };

	memcpy(f.dst, w.vmac[i], 6);
	memcpy(f.src, w.gw_mac, 6);
	memcpy(f.ip6.saddr, w.remote6, 16);
	memcpy(f.ip6.daddr, w.vip6[i], 16);
	f.ip6.seq = 0x99887766;
	f.ip6.tcp_flags = proto == PKT_IP_PROTO_TCP ? PKT_TCP_SYN : 0;
	f.ip6.payload_len = proto == PKT_IP_PROTO_TCP ? 0 : 24;
	return f;
}

static struct pkt_frame echo6_in(__u8 type, __u16 id, int i)
{
	struct pkt_frame f = remote6_frame(PKT_IP_PROTO_ICMPV6, 0, 0, i);

	f.ip6.icmp_type = type;
	f.ip6.icmp_id = id;
	f.ip6.icmp_seq = 1;
	return f;
}

/* Frame f as the host's stack receives it: to the host's MAC. */
static struct pkt_frame to_host_mac(struct pkt_frame f)
{
	memcpy(f.dst, w.host_mac, 6);
	return f;
}

/* The gateway's solicitation for target, to its solicited-node group. */
static struct pkt_frame ns6_in(const __u8 *target)
{
	struct pkt_frame f = { .proto = PKT_ETH_P_IPV6,
			       .ip6 = { .proto = PKT_IP_PROTO_ICMPV6,
					.hop_limit = 255,
					.icmp_type = PKT_ICMPV6_NS,
					.lla_type = PKT_ND_OPT_SLLA } };

	f.dst[0] = 0x33;
	f.dst[1] = 0x33;
	f.dst[2] = 0xff;
	memcpy(f.dst + 3, target + 13, 3);
	memcpy(f.src, w.gw_mac, 6);
	memcpy(f.ip6.saddr, w.gw_ll, 16);
	inet_pton(AF_INET6, "ff02::1:ff00:0", f.ip6.daddr);
	memcpy(f.ip6.daddr + 13, target + 13, 3);
	memcpy(f.ip6.target, target, 16);
	memcpy(f.ip6.lla, w.gw_mac, 6);
	return f;
}

/*
 * RFC 4861 7.2.4: identity i's advertisement answering solicitation ns,
 * to its source (solicited) or, for DAD, to all nodes.
 */
static struct pkt_frame na6_reply(const struct pkt_frame *ns, int i)
{
	static const __u8 all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct pkt_frame f = *ns;
	bool dad = !memcmp(ns->ip6.saddr, (__u8[16]){ 0 }, 16);

	memcpy(f.dst, dad ? all_nodes_mac : ns->src, 6);
	memcpy(f.src, w.vmac[i], 6);
	memcpy(f.ip6.saddr, w.vip6[i], 16);
	if (dad)
		inet_pton(AF_INET6, "ff02::1", f.ip6.daddr);
	else
		memcpy(f.ip6.daddr, ns->ip6.saddr, 16);
	f.ip6.hop_limit = 255;
	f.ip6.icmp_type = PKT_ICMPV6_NA;
	f.ip6.nd_flags = (dad ? 0 : PKT_NA_SOLICITED) | PKT_NA_OVERRIDE;
	f.ip6.lla_type = PKT_ND_OPT_TLLA;
	memcpy(f.ip6.lla, w.vmac[i], 6);
	f.ip6.opts = NULL;
	f.ip6.opts_len = 0;
	f.ip6.plen = 0;
	return f;
}

/*
 * Neighbour discovery for identity addresses: a solicitation is answered
 * from the identity's MAC (the kernel never sees it), whatever its
 * length; one for an address in DAD passes to psvd's socket; malformed
 * ones, and those for identities that do not answer, are dropped.
 */
static void test_ndp(enum fx_prog p)
{
	const __u64 replied = FX_S(IN_NDP_REPLIED);
	const __u64 bad = FX_S(IN_DROP_NDP);
	static const __u8 unspec[16];
	static const __u8 nonce[8] = { 14, 1, 1, 2, 3, 4, 5, 6 };
	static const __u8 zero_len[8] = { 14, 0 };
	static const __u8 past_end[8] = { 14, 3 };
	const struct pkt_frame ns = ns6_in(w.vip6[0]);
	struct pkt_frame dad = ns6_in(w.vip6[1]), nud = ns, more = ns;
	struct pkt_frame hop = ns, opt0 = ns, opt_past = ns, short_ns = ns;
	struct pkt_frame other = ns6_in(w.host6), na, claim;
	const struct fx_expect dad_pass = { .verdict = FX_PASS,
					    .moved = FX_S(IN_NDP_DAD) };
	struct fx_expect e;
	__u32 probe = PKT_IP4(192, 0, 2, 202);
	__u8 probe6[16];

	memcpy(dad.ip6.saddr, unspec, 16);
	dad.ip6.lla_type = 0;
	memcpy(nud.dst, w.vmac[0], 6);
	memcpy(nud.ip6.daddr, w.vip6[0], 16);
	nud.ip6.lla_type = 0;
	more.ip6.opts = nonce;
	more.ip6.opts_len = sizeof(nonce);
	hop.ip6.hop_limit = 64;
	opt0.ip6.opts = zero_len;
	opt0.ip6.opts_len = sizeof(zero_len);
	opt_past.ip6.opts = past_end;
	opt_past.ip6.opts_len = sizeof(past_end);
	short_ns.ip6.lla_type = 0;
	short_ns.ip6.plen = 16;
	short_ns.min_len = 14 + 40 + 24;

	/* The advertisement answering a solicitation sent in its name. */
	na = remote6_frame(PKT_IP_PROTO_ICMPV6, 0, 0, 0);
	memcpy(na.ip6.saddr, w.gw_ll, 16);
	na.ip6.hop_limit = 255;
	na.ip6.icmp_type = PKT_ICMPV6_NA;
	na.ip6.nd_flags = PKT_NA_SOLICITED | PKT_NA_OVERRIDE;
	memcpy(na.ip6.target, w.gw_ll, 16);
	na.ip6.lla_type = PKT_ND_OPT_TLLA;
	memcpy(na.ip6.lla, w.gw_mac, 6);
	/* Someone else claiming an identity's address (RFC 4862 5.4.4). */
	claim = na;
	memcpy(claim.dst, (__u8[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	inet_pton(AF_INET6, "ff02::1", claim.ip6.daddr);
	memcpy(claim.ip6.target, w.vip6[0], 16);
	claim.ip6.nd_flags = PKT_NA_OVERRIDE;

	const struct fx_row rows[] = {
		FX_ROW("IPv6 solicitation for an active identity", ns, FX_TX,
		       replied, .out = na6_reply(&ns, 0)),
		FX_ROW("IPv6 DAD probe for a ready identity's address", dad,
		       FX_TX, replied, .out = na6_reply(&dad, 1)),
		FX_ROW("IPv6 unicast probe (no option), the reply grows", nud,
		       FX_TX, replied, .out = na6_reply(&nud, 0)),
		FX_ROW("IPv6 solicitation with a nonce, the reply shrinks",
		       more, FX_TX, replied, .out = na6_reply(&more, 0)),
		FX_ROW("IPv6 solicitation for another host", other, FX_PASS, 0),
		FX_ROW("IPv6 solicitation with hop limit 64", hop, FX_DROP,
		       bad),
		FX_ROW("IPv6 solicitation, an option of length 0", opt0,
		       FX_DROP, bad),
		FX_ROW("IPv6 solicitation, an option past the end", opt_past,
		       FX_DROP, bad),
		FX_ROW("IPv6 solicitation too short for its target", short_ns,
		       FX_PASS, FX_S(IN_DROP_PARSE)),
		FX_ROW("IPv6 advertisement to an identity", na, FX_PASS,
		       FX_S(IN_IDENTITY_MAC), .out = to_host_mac(na)),
		FX_ROW("IPv6 advertisement claiming an identity's address",
		       claim, FX_PASS, 0),
	};

	if (setup_flows())
		return;
	fx_table(&fx, p, rows, FX_ROWS(rows), &r);

	/* psvd's DAD runs for this address: its socket must see them. */
	if (fx_set_ip6(&fx, htonl(w.vip[1]), w.vip6[1], false))
		return;
	fx_case(&fx, p, "IPv6 solicitation for an address in DAD",
		&rows[1].in, &dad_pass, &r);

	/* As for ARP: only READY and ACTIVE identities answer. */
	memcpy(probe6, w.vip6[0], 16);
	probe6[15] ^= 0x5a;
	if (fx_set_identity(&fx, htonl(probe), w.vmac[1], PSV_ID_IDLE, 3) ||
	    fx_set_ip6(&fx, htonl(probe), probe6, true))
		return;
	other = ns6_in(probe6);
	e = (struct fx_expect){ .verdict = FX_DROP, .moved = bad };
	fx_case(&fx, p, "IPv6 solicitation for an idle identity", &other, &e,
		&r);

	fx_sweep(&fx, p, &r, "an IPv6 solicitation", &ns, false);
	fx_mutants(&fx, p, &r, "an IPv6 solicitation", &ns, 2000, true);
}

/*
 * IPv6 to an identity's address: only its sockets' flows and noted ones
 * reach the kernel (MAC only); the rest is dropped alike.  Real sockets
 * on the identity's address in the test's namespace.
 */
static void test_ipv6_sockets(enum fx_prog p)
{
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_UNSOLICITED) };
	const __u16 port = 9000 + 10 * p;
	struct pkt_frame in, out;
	struct fx_expect e = { .verdict = FX_PASS, .out = &out,
			       .moved = FX_S(IN_IDENTITY_MAC) };
	struct pkt_ipv6 quoted = { .proto = PKT_IP_PROTO_UDP,
				   .sport = port + 1, .dport = 53,
				   .payload_len = 8 };
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	struct psv_conn6 c = { .conn = { .flags = PSV_CONN_BOUND } };
	struct psv_conn6_key k = { .proto = PKT_IP_PROTO_UDP,
				   .lport = htons(port + 2),
				   .rport = htons(53) };
	int lis, wild, udp, one = 1;

	if (fx_setup(&fx, &w, 0))
		return;
	memcpy(&a.sin6_addr, w.vip6[0], 16);
	a.sin6_port = htons(port);
	lis = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(lis, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	wild = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(wild, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	udp = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(!bind(lis, (struct sockaddr *)&a, sizeof(a)) && !listen(lis, 4),
	      "%s an IPv6 listener on an identity's address",
	      fx_prog_names[p]);
	a.sin6_port = htons(port + 1);
	CHECK(!bind(udp, (struct sockaddr *)&a, sizeof(a)),
	      "%s an IPv6 UDP socket on it", fx_prog_names[p]);
	memset(&a.sin6_addr, 0, 16);
	a.sin6_port = htons(port + 3);
	CHECK(!bind(wild, (struct sockaddr *)&a, sizeof(a)) &&
	      !listen(wild, 4), "%s a wildcard IPv6 listener",
	      fx_prog_names[p]);

	in = remote6_frame(PKT_IP_PROTO_TCP, 5000, port, 0);
	out = to_host_mac(in);
	fx_case(&fx, p, "IPv6 TCP SYN to a listener bound to the identity",
		&in, &e, &r);
	in = remote6_frame(PKT_IP_PROTO_TCP, 5000, port, 1);
	fx_case(&fx, p, "the same SYN to another identity", &in, &drop, &r);
	in = to_host_mac(remote6_frame(PKT_IP_PROTO_TCP, 5000, port, 0));
	fx_case(&fx, p, "the same SYN to the host's MAC", &in, &drop, &r);
	in = remote6_frame(PKT_IP_PROTO_TCP, 5000, port + 3, 0);
	fx_case(&fx, p, "IPv6 TCP SYN to a wildcard listener", &in, &drop, &r);
	in = remote6_frame(PKT_IP_PROTO_UDP, 53, port + 1, 0);
	out = to_host_mac(in);
	fx_case(&fx, p, "IPv6 UDP to a socket bound to the identity", &in, &e,
		&r);
	in = remote6_frame(PKT_IP_PROTO_UDP, 53, port + 2, 0);
	fx_case(&fx, p, "IPv6 UDP to no socket", &in, &drop, &r);
	/* What sendmsg6 notes for an unconnected socket. */
	memcpy(&k.raddr, w.remote6, 16);
	c.conn.vip = htonl(w.vip[0]);
	CHECK(!bpf_map_update_elem(fx.conns6, &k, &c, BPF_ANY),
	      "%s note an unconnected IPv6 UDP flow", fx_prog_names[p]);
	out = to_host_mac(in);
	fx_case(&fx, p, "IPv6 UDP reply of a noted flow", &in, &e, &r);
	in.ip6.n_ext = 1;
	in.ip6.ext[0] = PKT_IPV6_FRAGMENT;
	in.ip6.frag_off = 16;
	out = to_host_mac(in);
	fx_case(&fx, p, "a later IPv6 fragment to the identity", &in, &e, &r);
	in.ip6.n_ext = 5;
	memset(in.ip6.ext, PKT_IPV6_DEST, 5);
	in.ip6.frag_off = 0;
	e.moved = FX_S(IN_DROP_EXTHDR);
	e.verdict = FX_DROP;
	fx_case(&fx, p, "IPv6 behind five extension headers to the identity",
		&in, &e, &r);
	e.verdict = FX_PASS;
	e.moved = FX_S(IN_IDENTITY_MAC);

	k = (struct psv_conn6_key){ .proto = PKT_IP_PROTO_ICMPV6,
				    .lport = htons(0x2345) };
	memcpy(&k.raddr, w.remote6, 16);
	CHECK(!bpf_map_update_elem(fx.conns6, &k, &c, BPF_ANY),
	      "%s note a bound IPv6 ping", fx_prog_names[p]);
	in = echo6_in(PKT_ICMPV6_ECHOREPLY, 0x2345, 0);
	out = to_host_mac(in);
	fx_case(&fx, p, "ICMPv6 echo reply of a noted ping", &in, &e, &r);
	in = echo6_in(PKT_ICMPV6_ECHOREPLY, 0x2346, 0);
	fx_case(&fx, p, "ICMPv6 echo reply of no ping", &in, &drop, &r);
	in = echo6_in(PKT_ICMPV6_ECHO, 0x2345, 0);
	fx_case(&fx, p, "ICMPv6 echo request to the identity", &in, &drop, &r);

	/* A router's error about the bound UDP socket's datagram. */
	memcpy(quoted.saddr, w.vip6[0], 16);
	memcpy(quoted.daddr, w.remote6, 16);
	in = echo6_in(PKT_ICMPV6_TOO_BIG, 0, 0);
	in.ip6.inner = &quoted;
	out = to_host_mac(in);
	fx_case(&fx, p, "ICMPv6 packet too big quoting a bound socket's flow",
		&in, &e, &r);
	in.ip6.icmp_type = PKT_ICMPV6_TIME_EXCEEDED;
	out = to_host_mac(in);
	fx_case(&fx, p, "ICMPv6 time exceeded quoting it", &in, &e, &r);
	quoted.sport = port + 4;
	fx_case(&fx, p, "ICMPv6 error quoting no flow", &in, &drop, &r);
	quoted.sport = port + 1;
	memcpy(quoted.saddr, w.vip6[1], 16);
	fx_case(&fx, p, "ICMPv6 error quoting another address", &in, &drop,
		&r);

	in = remote6_frame(PKT_IP_PROTO_UDP, 53, port + 1, 0);
	memcpy(in.ip6.daddr, w.host6, 16);
	memcpy(in.dst, w.host_mac, 6);
	fx_case(&fx, p, "IPv6 to the host's own address", &in, &pass, &r);
	in = remote6_frame(PKT_IP_PROTO_UDP, 53, port + 1, 0);
	fx_sweep(&fx, p, &r, "an IPv6 UDP datagram to an identity", &in,
		 false);
	close(lis);
	close(wild);
	close(udp);
}

/* A translated IPv6 flow of identity i, as egress made it. */
static int add_conn6(__u8 proto, __u16 lport, __u16 rport, int i)
{
	struct psv_conn6_key k = { .proto = proto, .lport = htons(lport),
				   .rport = htons(rport) };
	struct psv_conn6 c = { .conn = { .vip = htonl(w.vip[i]) } };

	memcpy(&k.raddr, w.remote6, 16);
	memcpy(&c.host, w.host6, 16);
	if (proto == PKT_IP_PROTO_TCP)
		c.conn.tcp_state = PSV_TCP_SYN_SENT;
	c.conn.group.ipv6 = 1;
	c.conn.group.proto = proto;
	memcpy(c.conn.group.daddr6, w.remote6, 16);
	if (bpf_map_update_elem(fx.conns6, &k, &c, BPF_ANY)) {
		fprintf(stderr, "update psv_conns6: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Frame f as the host's stack receives a translated flow's packet. */
static struct pkt_frame to_host6(struct pkt_frame f)
{
	memcpy(f.dst, w.host_mac, 6);
	memcpy(f.ip6.daddr, w.host6, 16);
	return f;
}

/*
 * The IPv6 NAT fallback's reverse path: replies of translated flows go
 * back to the host's address they left from (checksums following the
 * pseudo-header), ICMPv6 errors quoting them too, quote included; their
 * fragments, and probes naming them at the host's address, are dropped.
 */
static void test_ipv6_nat(enum fx_prog p)
{
	const struct fx_expect drop = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_UNSOLICITED) };
	const struct fx_expect frag = { .verdict = FX_DROP,
					.moved = FX_S(IN_DROP_FRAG) };
	struct pkt_frame in, out;
	struct fx_expect e = { .verdict = FX_PASS, .out = &out,
			       .moved = FX_S(IN_TRANSLATED) };
	struct pkt_ipv6 quoted = { .proto = PKT_IP_PROTO_TCP, .sport = 40000,
				   .dport = 443, .tcp_flags = PKT_TCP_ACK,
				   .payload_len = 1400 }, quoted_out;
	struct psv_conn6_key k = { .proto = PKT_IP_PROTO_TCP,
				   .lport = htons(40000), .rport = htons(443) };
	struct psv_conn6 c;

	if (fx_setup(&fx, &w, 0) ||
	    add_conn6(PKT_IP_PROTO_TCP, 40000, 443, 0) ||
	    add_conn6(PKT_IP_PROTO_UDP, 40001, 53, 0) ||
	    add_conn6(PKT_IP_PROTO_ICMPV6, 0x3456, 0, 1))
		return;
	in = remote6_frame(PKT_IP_PROTO_TCP, 443, 40000, 0);
	in.ip6.tcp_flags = PKT_TCP_SYN | PKT_TCP_ACK;
	out = to_host6(in);
	fx_case(&fx, p, "IPv6 SYN-ACK of a translated connection", &in, &e,
		&r);
	memcpy(&k.raddr, w.remote6, 16);
	CHECK(!bpf_map_lookup_elem(fx.conns6, &k, &c) &&
	      c.conn.tcp_state == PSV_TCP_ESTABLISHED,
	      "%s ... the connection is established", fx_prog_names[p]);
	in = remote6_frame(PKT_IP_PROTO_TCP, 443, 40000, 1);
	fx_case(&fx, p, "the same segment to another identity", &in, &drop,
		&r);
	in = remote6_frame(PKT_IP_PROTO_UDP, 53, 40001, 0);
	out = to_host6(in);
	fx_case(&fx, p, "IPv6 UDP reply of a translated flow", &in, &e, &r);
	in = echo6_in(PKT_ICMPV6_ECHOREPLY, 0x3456, 1);
	out = to_host6(in);
	fx_case(&fx, p, "ICMPv6 echo reply of a translated ping", &in, &e, &r);

	in = remote6_frame(PKT_IP_PROTO_UDP, 53, 40001, 0);
	in.ip6.n_ext = 1;
	in.ip6.ext[0] = PKT_IPV6_FRAGMENT;
	in.ip6.mf = true;
	in.ip6.payload_len = 200;
	in.ip6.frag_len = 64;
	fx_case(&fx, p, "a translated IPv6 flow's first fragment", &in, &frag,
		&r);

	/* A router's PMTU error about the translated connection. */
	memcpy(quoted.saddr, w.vip6[0], 16);
	memcpy(quoted.daddr, w.remote6, 16);
	quoted_out = quoted;
	memcpy(quoted_out.saddr, w.host6, 16);
	in = echo6_in(PKT_ICMPV6_TOO_BIG, 0, 0);
	in.ip6.inner = &quoted;
	in.ip6.quote_len = 40;		/* TCP header and checksum quoted */
	out = to_host6(in);
	out.ip6.inner = &quoted_out;
	e.moved = FX_S(IN_ICMP_ERROR);
	fx_case(&fx, p, "ICMPv6 packet too big quoting a translated flow",
		&in, &e, &r);
	in.ip6.quote_len = 8;		/* no checksum quoted */
	out.ip6.quote_len = 8;
	fx_case(&fx, p, "... quoting 8 bytes of it", &in, &e, &r);
	quoted.sport = 40005;
	fx_case(&fx, p, "ICMPv6 error quoting no translated flow", &in, &drop,
		&r);

	/* Probes naming the translated flows at the host's own address. */
	in = to_host6(remote6_frame(PKT_IP_PROTO_TCP, 443, 40000, 0));
	fx_case(&fx, p, "IPv6 TCP to the host naming a translated flow", &in,
		&drop, &r);
	in = to_host6(remote6_frame(PKT_IP_PROTO_TCP, 443, 40009, 0));
	fx_case(&fx, p, "IPv6 TCP to the host, no translated flow", &in, &pass,
		&r);
}

/* As psvd adds an identity's IPv6 address: on lo, no DAD, deprecated. */
static int ipv6_local(const __u8 *addr)
{
	char text[INET6_ADDRSTRLEN], cmd[160];

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(cmd, sizeof(cmd),
		 "ip -6 addr add %s/128 dev lo nodad preferred_lft 0", text);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	static const enum fx_prog progs[] = { FX_INGRESS_XDP, FX_INGRESS_TC };
	size_t i;

	fx_world_init(&w);
	if (fx_netns_local((const __u32[]){ w.vip[0], w.vip[1], w.remote },
			   3)) {
		CHECK(0, "a network namespace with the identities' routes");
		return check_exit();
	}
	if (ipv6_local(w.vip6[0])) {
		CHECK(0, "an identity's IPv6 address on lo");
		return check_exit();
	}
	if (fx_open(&fx, 0)) {
		CHECK(0, "load egress and ingress objects");
		return check_exit();
	}
	for (i = 0; i < 2; i++) {
		test_arp(progs[i]);
		test_reverse(progs[i]);
		test_icmp_error(progs[i]);
		test_fin(progs[i]);
		test_unsolicited(progs[i]);
		test_host_flows(progs[i]);
		test_host_probes(progs[i]);
		test_dhcp_vlan(progs[i]);
		test_malformed(progs[i]);
		test_fragments(progs[i]);
		test_large(progs[i]);
		test_disabled(progs[i]);
		test_sockets(progs[i]);
		test_ndp(progs[i]);
		test_ipv6_sockets(progs[i]);
		test_ipv6_nat(progs[i]);
	}
	fx_close(&fx);
	return check_exit();
}
