// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_link_socket.c - DHCP/ARP framing and the strict frame validator,
 * judged against pkt.h's from-scratch frames and checksums; dispatch to
 * clients by chaddr and ARP address; and the real AF_PACKET socket with
 * its BPF filter on the loopback device of a private network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "dhcp_canned.h"
#include "psvd/dhcp/dhcp_client.h"
#include "psvd/dhcp/dhcp_msg.h"
#include "psvd/link/link_socket.h"
#include "one_client_rx.h"
#include "pkt.h"

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t srv_mac[6] = { 0x02, 0x53, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t other_mac[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint8_t buf[PKT_MAX];

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static int csum_errors(const uint8_t *f, size_t len)
{
	char why[128];

	return pkt_verify_csums(f, len, why, sizeof(why));
}

static void test_build_udp(void)
{
	uint8_t payload[300];
	int n, i;

	for (i = 0; i < 300; i++)
		payload[i] = i * 7;
	n = link_frame_build_udp(buf, sizeof(buf), mac, NULL, 0,
				 htonl(INADDR_BROADCAST), payload, 300);
	CHECK_EQ(n, 14 + 20 + 8 + 300, "UDP frame length");
	CHECK(!memcmp(buf, bcast, 6) && !memcmp(buf + 6, mac, 6) &&
		      pkt_get16(buf + 12) == ETH_P_IP,
	      "Ethernet: broadcast, from the identity's MAC, IPv4");
	CHECK(buf[14] == 0x45 && pkt_get16(buf + 16) == 328 &&
		      pkt_get16(buf + 20) == 0x4000 && buf[22] == 64 &&
		      buf[23] == 17 && pkt_get32(buf + 26) == 0 &&
		      pkt_get32(buf + 30) == 0xffffffff,
	      "IPv4: IHL 5, length, DF, TTL 64, UDP, 0.0.0.0 -> broadcast");
	CHECK(pkt_get16(buf + 34) == 68 && pkt_get16(buf + 36) == 67 &&
		      pkt_get16(buf + 38) == 308 &&
		      !memcmp(buf + 42, payload, 300),
	      "UDP 68 -> 67, length, payload");
	CHECK_EQ(csum_errors(buf, n), 0, "IPv4 and UDP checksums valid (pkt.h)");

	n = link_frame_build_udp(buf, sizeof(buf), mac, srv_mac,
				 ip("192.0.2.134"), ip("192.0.2.1"), payload, 1);
	CHECK(n == 43 && !memcmp(buf, srv_mac, 6) &&
		      pkt_get32(buf + 26) == PKT_IP4(192, 0, 2, 134) &&
		      csum_errors(buf, n) == 0,
	      "unicast renewal frame, odd payload length, checksums valid");
	CHECK_EQ(link_frame_build_udp(buf, 100, mac, NULL, 0, 0, payload, 300),
		 -EMSGSIZE, "UDP frame refused for a small buffer");
}

static void test_build_arp(void)
{
	struct pkt_frame want = { .proto = PKT_ETH_P_ARP,
				  .arp = { .op = 1,
					   .tpa = PKT_IP4(192, 0, 2, 134) } };
	uint8_t ref[64];
	size_t rn;
	int n;

	memcpy(want.dst, bcast, 6);
	memcpy(want.src, mac, 6);
	memcpy(want.arp.sha, mac, 6);
	rn = pkt_build(&want, ref, sizeof(ref));
	n = link_frame_build_arp(buf, sizeof(buf), mac, 0, ip("192.0.2.134"));
	CHECK(n == (int)rn && !memcmp(buf, ref, rn),
	      "ARP probe: request, sender IP 0, target the address (RFC 5227)");
	want.arp.spa = want.arp.tpa;
	rn = pkt_build(&want, ref, sizeof(ref));
	n = link_frame_build_arp(buf, sizeof(buf), mac, ip("192.0.2.134"),
				 ip("192.0.2.134"));
	CHECK(n == (int)rn && !memcmp(buf, ref, rn),
	      "ARP announcement: sender and target the address");
}

/* A DHCP-sized UDP 67 -> 68 frame from the server, described for pkt.h. */
static struct pkt_frame reply_frame(void)
{
	struct pkt_frame f = {
		.ip = { .saddr = PKT_IP4(192, 0, 2, 1),
			.daddr = 0xffffffff,
			.proto = PKT_IP_PROTO_UDP,
			.sport = 67, .dport = 68, .payload_len = 300 },
	};

	memcpy(f.dst, bcast, 6);
	memcpy(f.src, srv_mac, 6);
	return f;
}

static int parse_desc(const struct pkt_frame *d, unsigned int flags,
		      struct link_frame *f)
{
	size_t n = pkt_build(d, buf, sizeof(buf));

	return link_frame_parse(buf, n, flags, f);
}

static void test_parse(void)
{
	struct pkt_frame d = reply_frame();
	struct link_frame f;
	size_t n;

	CHECK_EQ(parse_desc(&d, 0, &f), LINK_FRAME_DHCP, "valid reply frame");
	CHECK(f.payload == buf + 42 && f.len == 300 &&
		      f.ip_src == ip("192.0.2.1") &&
		      !memcmp(f.src_mac, srv_mac, 6),
	      "payload, length, source address and MAC");

	d.ip.optlen = 8;
	CHECK(parse_desc(&d, 0, &f) == LINK_FRAME_DHCP &&
		      f.payload == buf + 50 && f.len == 300,
	      "IPv4 options: payload found after IHL * 4");
	d = reply_frame();
	d.ip.payload_len = 10;
	d.min_len = 60;
	CHECK(parse_desc(&d, 0, &f) == LINK_FRAME_DHCP && f.len == 10,
	      "Ethernet padding after the IPv4 packet ignored");
	d = reply_frame();
	d.ip.udp_csum_zero = true;
	CHECK_EQ(parse_desc(&d, 0, &f), LINK_FRAME_DHCP,
		 "UDP checksum 0 (none) accepted");

	d = reply_frame();
	n = pkt_build(&d, buf, sizeof(buf));
	buf[100] ^= 1;
	CHECK_EQ(link_frame_parse(buf, n, 0, &f), -EBADMSG,
		 "payload bit flip: bad UDP checksum");
	CHECK_EQ(link_frame_parse(buf, n, LINK_FRAME_CSUM_PARTIAL, &f),
		 LINK_FRAME_DHCP, "not verified when the kernel says partial");
	n = pkt_build(&d, buf, sizeof(buf));
	buf[14 + 8] = 63;	/* TTL: only the header checksum breaks */
	CHECK_EQ(link_frame_parse(buf, n, LINK_FRAME_CSUM_PARTIAL, &f),
		 -EBADMSG, "bad IPv4 header checksum");

	d = reply_frame();
	d.ip.ihl = 4;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG, "IHL 4");
	d = reply_frame();
	d.ip.ihl = 15;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG, "IHL 15 (past the UDP header)");
	d = reply_frame();
	d.ip.tot_len = 20 + 8 + 301;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG,
		 "IPv4 total length past the frame");
	d = reply_frame();
	d.ip.tot_len = 20 + 4;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG,
		 "IPv4 total length shorter than a UDP header");
	d = reply_frame();
	d.ip.mf = true;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG, "first fragment (MF) refused");
	d = reply_frame();
	d.ip.frag_off = 8;
	CHECK_EQ(parse_desc(&d, 0, &f), -EBADMSG, "later fragment refused");

	d = reply_frame();
	d.ip.udp_csum_zero = true;
	n = pkt_build(&d, buf, sizeof(buf));
	pkt_put16(buf + 38, 300);
	CHECK_EQ(link_frame_parse(buf, n, 0, &f), -EBADMSG,
		 "UDP length shorter than the IPv4 payload");
	pkt_put16(buf + 38, 4);
	CHECK_EQ(link_frame_parse(buf, n, 0, &f), -EBADMSG, "UDP length 4");

	d = reply_frame();
	n = pkt_build(&d, buf, sizeof(buf));
	buf[14] = 0x65;
	CHECK_EQ(link_frame_parse(buf, n, 0, &f), -EBADMSG,
		 "IP version 6 in an IPv4 EtherType");
	n = pkt_build(&d, buf, sizeof(buf));
	CHECK(link_frame_parse(buf, 13, 0, &f) == -EBADMSG &&
		      link_frame_parse(buf, 14 + 19, 0, &f) == -EBADMSG &&
		      link_frame_parse(buf, 14 + 27, 0, &f) == -EBADMSG &&
		      link_frame_parse(buf, n - 1, 0, &f) == -EBADMSG,
	      "truncated in Ethernet, IPv4, UDP header, payload");

	d = reply_frame();
	d.ip.dport = 69;
	CHECK_EQ(parse_desc(&d, 0, &f), -ENOMSG, "UDP to port 69: not ours");
	d = reply_frame();
	d.ip.sport = 68;
	CHECK_EQ(parse_desc(&d, 0, &f), -ENOMSG,
		 "UDP 68 -> 68 (another client): not ours");
	d = reply_frame();
	d.ip.proto = PKT_IP_PROTO_TCP;
	CHECK_EQ(parse_desc(&d, 0, &f), -ENOMSG, "TCP: not ours");
	d = reply_frame();
	d.vlan = 5;
	CHECK_EQ(parse_desc(&d, 0, &f), -ENOMSG, "802.1Q-tagged: not ours");
}

static void test_parse_arp(void)
{
	struct pkt_frame d = { .proto = PKT_ETH_P_ARP,
			       .arp = { .op = 2, .spa = PKT_IP4(192, 0, 2, 134),
					.tpa = PKT_IP4(192, 0, 2, 1) } };
	struct link_frame f;
	size_t n;

	memcpy(d.dst, bcast, 6);
	memcpy(d.src, other_mac, 6);
	memcpy(d.arp.sha, other_mac, 6);
	d.min_len = 60;
	CHECK_EQ(parse_desc(&d, 0, &f), LINK_FRAME_ARP, "ARP reply parses");
	CHECK(f.arp_op == 2 && f.arp_spa == ip("192.0.2.134") &&
		      f.arp_tpa == ip("192.0.2.1") &&
		      !memcmp(f.arp_sha, other_mac, 6),
	      "ARP fields");
	n = pkt_build(&d, buf, sizeof(buf));
	CHECK_EQ(link_frame_parse(buf, 14 + 27, 0, &f), -EBADMSG,
		 "truncated ARP");
	buf[14 + 4] = 8;
	CHECK_EQ(link_frame_parse(buf, n, 0, &f), -EBADMSG,
		 "ARP with hardware length 8");
}

/* The client table of the dispatch tests: one client. */
static struct dhcp_client client;
static int lost;

static struct one_client one = { .c = &client };

static int nop_send(void *ctx, struct dhcp_client *c, const void *p,
		    size_t len, uint32_t src, uint32_t dst, const uint8_t *m)
{
	(void)ctx, (void)c, (void)p, (void)len, (void)src, (void)dst, (void)m;
	return 0;
}

static int nop_probe(void *ctx, struct dhcp_client *c, uint32_t a)
{
	(void)ctx, (void)c, (void)a;
	return 0;
}

static void count_lost(void *ctx, struct dhcp_client *c, enum dhcp_event ev)
{
	(void)ctx, (void)c;
	lost += ev == DHCP_EV_LOST;
}

static const struct dhcp_ops ops = { nop_send, nop_probe, count_lost, NULL };

static void client_start(void)
{
	struct dhcp_params p;

	dhcp_params_default(&p);
	dhcp_client_init(&client, mac, &p, &ops, NULL);
	dhcp_client_start(&client, 0);
}

/*
 * The canned reply of type for the client, as a frame from the server:
 * a client frame with its ports swapped (which leaves the checksum valid).
 */
static int reply_for(uint8_t type, const uint8_t *chaddr)
{
	uint8_t dhcp[CANNED_LEN];
	int len;

	canned_for(dhcp, type, client.xid, chaddr);
	len = link_frame_build_udp(buf, sizeof(buf), srv_mac, NULL,
				   ip("192.0.2.1"), htonl(INADDR_BROADCAST),
				   dhcp, sizeof(dhcp));
	pkt_put16(buf + 34, 67);
	pkt_put16(buf + 36, 68);
	if (csum_errors(buf, len))
		printf("# reply_for: bad checksum\n");
	return len;
}

static void test_dispatch(void)
{
	struct link_socket s = { .fd = -1, .rx = &one_client_rx, .ctx = &one };
	struct pkt_frame arp = { .proto = PKT_ETH_P_ARP,
				 .arp = { .op = 1,
					  .tpa = PKT_IP4(192, 0, 2, 134) } };
	size_t n;
	int len;

	client_start();
	len = reply_for(DHCP_OFFER, other_mac);
	CHECK_EQ(link_socket_dispatch(&s, 1, buf, len, 0), -ENOENT,
		 "reply for an unknown chaddr");
	len = reply_for(DHCP_OFFER, mac);
	buf[60] ^= 0x40;
	CHECK_EQ(link_socket_dispatch(&s, 1, buf, len, 0), -EBADMSG,
		 "corrupted frame stops at the socket");
	len = reply_for(DHCP_OFFER, mac);
	CHECK_EQ(link_socket_dispatch(&s, 1, buf, len, 0), 0,
		 "OFFER frame reaches the client by chaddr");
	CHECK(client.state == DHCP_REQUESTING, "client now REQUESTING");
	len = reply_for(DHCP_ACK, mac);
	link_socket_dispatch(&s, 2, buf, len, 0);
	CHECK(client.state == DHCP_PROBING && !memcmp(client.server_mac, srv_mac, 6),
	      "ACK frame: PROBING, server MAC from the Ethernet source");

	memcpy(arp.dst, bcast, 6);
	memcpy(arp.src, other_mac, 6);
	memcpy(arp.arp.sha, other_mac, 6);
	arp.arp.tpa = PKT_IP4(192, 0, 2, 7);
	n = pkt_build(&arp, buf, sizeof(buf));
	CHECK_EQ(link_socket_dispatch(&s, 3, buf, n, 0), -ENOENT,
		 "probe for another address reaches no client");
	arp.arp.tpa = PKT_IP4(192, 0, 2, 134);
	n = pkt_build(&arp, buf, sizeof(buf));
	CHECK_EQ(link_socket_dispatch(&s, 3, buf, n, 0), 0,
		 "another host's probe for the address reaches the client");
	CHECK(client.state == DHCP_RETIRED && lost == 1,
	      "conflict found through the socket: LOST");
	CHECK(s.stats.rx_no_client == 1 && s.stats.rx_malformed == 1 &&
		      s.stats.rx_dhcp == 2 && s.stats.rx_arp == 2,
	      "socket counters: 1 no client, 1 malformed, 2 DHCP, 2 ARP");
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* A frame injected on lo through a second, unfiltered packet socket. */
static void inject(int fd, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = 1 };

	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		perror("test_link_socket: sendto");
}

static const uint8_t target6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42 };
static int nd_seen;
static uint8_t nd_type_seen;

static int count_nd(void *ctx, uint64_t now_ms, const struct link_frame *f)
{
	(void)ctx, (void)now_ms;
	nd_seen++;
	nd_type_seen = f->nd_type;
	return 0;
}

static void test_socket(void)
{
	struct pkt_frame tcp = reply_frame(), udp69 = reply_frame();
	struct pkt_frame frag = reply_frame();
	struct link_socket s;
	int raw, len, lo = 1;

	/* A private network namespace: lo here is ours alone. */
	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
		/* Tests run as root; a run that cannot is a failure. */
		CHECK(0, "private network namespace for the AF_PACKET test: %s",
		      strerror(errno));
		return;
	}
	CHECK_EQ(link_socket_open(&s, lo), 0, "link_socket_open on lo");
	link_socket_set_rx(&s, &one_client_rx, &one);
	raw = socket(AF_PACKET, SOCK_RAW, 0);
	CHECK(raw >= 0 && link_socket_fd(&s) >= 0, "sockets open");

	/* The effect (lo's internal promiscuity) is not visible in its
	 * flags; the kernel accepting the membership is what is checked. */
	CHECK_EQ(link_socket_add_mac(&s, mac), 0,
		 "identity MAC added to the unicast filter");
	CHECK_EQ(link_socket_del_mac(&s, mac), 0,
		 "identity MAC dropped from the unicast filter");

	client_start();
	tcp.ip.proto = PKT_IP_PROTO_TCP;
	inject(raw, buf, pkt_build(&tcp, buf, sizeof(buf)));
	udp69.ip.dport = 69;
	inject(raw, buf, pkt_build(&udp69, buf, sizeof(buf)));
	frag.ip.mf = true;
	inject(raw, buf, pkt_build(&frag, buf, sizeof(buf)));
	CHECK_EQ(link_socket_send_udp(&s, mac, NULL, 0, htonl(INADDR_BROADCAST),
				      "x", 1),
		 0, "our DISCOVER-like frame sent");
	len = reply_for(DHCP_OFFER, mac);
	inject(raw, buf, len);
	usleep(20000);
	CHECK_EQ(link_socket_read(&s, 5), 1,
		 "one frame read: TCP, UDP to 69, fragment filtered; our own "
		 "frame not looped back");
	CHECK(client.state == DHCP_REQUESTING && s.stats.rx_dhcp == 1,
	      "OFFER through the socket moved the client");
	CHECK_EQ(link_socket_send_arp(&s, mac, 0, ip("192.0.2.9")),
		 0, "ARP probe sent");
	CHECK_EQ(s.stats.tx_frames, 2, "two frames sent");
	usleep(20000);
	/* lo hands every frame back as received; a NIC would not. */
	CHECK(link_socket_read(&s, 6) == 1 && s.stats.rx_arp == 1 &&
		      client.state == DHCP_REQUESTING,
	      "the probe looped back by lo passes the filter, names no client");
	CHECK_EQ(link_socket_read(&s, 7), 0, "nothing else queued");

	/* IPv6: RA, NS and NA pass the filter, other ICMPv6 does not. */
	link_socket_set_nd_rx(&s, count_nd, NULL);
	link_frame_build_rs(buf, sizeof(buf), other_mac);
	inject(raw, buf, LINK_RS_LEN);
	buf[LINK_ETH_HLEN + LINK_IP6_HLEN] = 128;	/* an echo request */
	inject(raw, buf, LINK_RS_LEN);
	link_frame_build_dad_ns(buf, sizeof(buf), other_mac, target6);
	inject(raw, buf, LINK_DAD_NS_LEN);
	usleep(20000);
	CHECK(link_socket_read(&s, 8) == 1 && nd_seen == 1 &&
		      nd_type_seen == LINK_ND_NS && s.stats.rx_nd == 1,
	      "an NS passes the filter to the ND receiver; an RS and an echo "
	      "request do not");
	CHECK_EQ(link_socket_send_dad_ns(&s, mac, target6), 0,
		 "a DAD solicitation sent");
	CHECK_EQ(link_socket_send_rs(&s, mac), 0, "a router solicitation sent");
	usleep(20000);
	CHECK(link_socket_read(&s, 9) == 1 && nd_seen == 2,
	      "lo hands our NS back (an RS never passes)");
	close(raw);
	link_socket_close(&s);
	CHECK_EQ(link_socket_fd(&s), -1, "closed");
}

int main(void)
{
	test_build_udp();
	test_build_arp();
	test_parse();
	test_parse_arp();
	test_dispatch();
	test_socket();
	return check_exit();
}
