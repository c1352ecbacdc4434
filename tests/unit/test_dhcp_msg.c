// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dhcp_msg.c - DHCP message builder (byte for byte, RFC 7844
 * profile) and reply parser (real dnsmasq 2.90 replies, then malformed
 * variants of them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "dhcp_canned.h"
#include "psvd/dhcp/dhcp_msg.h"

static const uint8_t mac_a[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t mac_b[6] = { 0x06, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

static uint8_t pkt[DHCP_MSG_MAX_LEN + 16];

static size_t canned_offer(void)
{
	canned_reply(pkt, canned_offer_head, canned_offer_opts,
		     sizeof(canned_offer_opts));
	return CANNED_LEN;
}

/* Replaces the canned OFFER's options (after the cookie) with opts. */
static size_t offer_with(const uint8_t *opts, size_t olen)
{
	canned_offer();
	memset(pkt + DHCP_MSG_OFF_OPTIONS, 0, 300 - DHCP_MSG_OFF_OPTIONS);
	memcpy(pkt + DHCP_MSG_OFF_OPTIONS, opts, olen);
	return 300;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* The BOOTP header every client message starts with, for mac_a. */
static void expect_header(uint8_t *want, uint32_t xid, bool bcast)
{
	memset(want, 0, DHCP_MSG_BUILD_MAX);
	want[0] = 1;
	want[1] = 1;
	want[2] = 6;
	want[4] = xid >> 24;
	want[5] = xid >> 16;
	want[6] = xid >> 8;
	want[7] = xid;
	want[10] = bcast ? 0x80 : 0;
	memcpy(want + 28, mac_a, 6);
	memcpy(want + 236, "\x63\x82\x53\x63", 4);
}

static const uint8_t prl_opt[] = { 55, 7, 1, 3, 6, 15, 51, 58, 59 };
static const uint8_t cid_opt_a[] = { 61, 7, 1, 0x02, 0x11, 0x22, 0x33, 0x44,
				     0x55 };

static void test_build_discover(void)
{
	struct dhcp_msg_out out = { .type = DHCP_DISCOVER, .broadcast = true,
				    .xid = 0x12345678, .secs = 3 };
	uint8_t buf[DHCP_MSG_BUILD_MAX], want[DHCP_MSG_BUILD_MAX];
	uint8_t *o = want + 240;
	int len;

	expect_header(want, 0x12345678, true);
	want[9] = 3;
	*o++ = 53, *o++ = 1, *o++ = 1;
	memcpy(o, prl_opt, sizeof(prl_opt)), o += sizeof(prl_opt);
	memcpy(o, cid_opt_a, sizeof(cid_opt_a)), o += sizeof(cid_opt_a);
	*o = 255;

	len = dhcp_msg_build(buf, sizeof(buf), mac_a, &out);
	CHECK_EQ(len, 300, "DISCOVER is padded to the BOOTP minimum 300");
	CHECK(!memcmp(buf, want, 300),
	      "DISCOVER byte for byte: 53, 55, 61, END; broadcast flag");
}

static void test_build_request(void)
{
	struct dhcp_msg_out out = { .type = DHCP_REQUEST, .broadcast = true,
				    .xid = 0xdeadbeef,
				    .requested_ip = ip("192.0.2.134"),
				    .server_id = ip("192.0.2.1") };
	uint8_t buf[DHCP_MSG_BUILD_MAX], want[DHCP_MSG_BUILD_MAX];
	static const uint8_t head[] = { 50, 4, 192, 0, 2, 134, 53, 1, 3,
					54, 4, 192, 0, 2, 1 };
	uint8_t *o = want + 240;

	expect_header(want, 0xdeadbeef, true);
	memcpy(o, head, sizeof(head)), o += sizeof(head);
	memcpy(o, prl_opt, sizeof(prl_opt)), o += sizeof(prl_opt);
	memcpy(o, cid_opt_a, sizeof(cid_opt_a)), o += sizeof(cid_opt_a);
	*o = 255;

	CHECK_EQ(dhcp_msg_build(buf, sizeof(buf), mac_a, &out), 300,
		 "REQUEST length");
	CHECK(!memcmp(buf, want, 300),
	      "SELECTING REQUEST byte for byte: 50, 53, 54, 55, 61, END");
}

static void test_build_decline_release(void)
{
	struct dhcp_msg_out dec = { .type = DHCP_DECLINE, .xid = 1,
				    .requested_ip = ip("192.0.2.134"),
				    .server_id = ip("192.0.2.1") };
	struct dhcp_msg_out rel = { .type = DHCP_RELEASE, .xid = 2,
				    .ciaddr = ip("192.0.2.134"),
				    .server_id = ip("192.0.2.1") };
	uint8_t buf[DHCP_MSG_BUILD_MAX], want[DHCP_MSG_BUILD_MAX];
	static const uint8_t dec_opts[] = { 50, 4, 192, 0, 2, 134, 53, 1, 4,
					    54, 4, 192, 0, 2, 1 };
	static const uint8_t rel_opts[] = { 53, 1, 7, 54, 4, 192, 0, 2, 1 };

	expect_header(want, 1, false);
	memcpy(want + 240, dec_opts, sizeof(dec_opts));
	memcpy(want + 240 + sizeof(dec_opts), cid_opt_a, sizeof(cid_opt_a));
	want[240 + sizeof(dec_opts) + sizeof(cid_opt_a)] = 255;
	dhcp_msg_build(buf, sizeof(buf), mac_a, &dec);
	CHECK(!memcmp(buf, want, 300),
	      "DECLINE byte for byte: 50, 53, 54, 61, no parameter list");

	expect_header(want, 2, false);
	memcpy(want + 12, "\xc0\x00\x02\x86", 4);
	memcpy(want + 240, rel_opts, sizeof(rel_opts));
	memcpy(want + 240 + sizeof(rel_opts), cid_opt_a, sizeof(cid_opt_a));
	want[240 + sizeof(rel_opts) + sizeof(cid_opt_a)] = 255;
	dhcp_msg_build(buf, sizeof(buf), mac_a, &rel);
	CHECK(!memcmp(buf, want, 300),
	      "RELEASE byte for byte: ciaddr, 53, 54, 61, no 50 or 55");
}

/* Walks the options of a built message; returns the offset of code. */
static int find_opt(const uint8_t *m, int len, uint8_t code)
{
	int i = 240;

	while (i < len && m[i] != 255) {
		if (m[i] == 0) {
			i++;
			continue;
		}
		if (m[i] == code)
			return i;
		i += 2 + m[i + 1];
	}
	return -1;
}

static void test_profile(void)
{
	static const uint8_t banned[] = { 12, 81, 60, 57, 43, 93, 94, 97 };
	struct dhcp_msg_out out = { .type = DHCP_REQUEST, .broadcast = true,
				    .xid = 7, .requested_ip = ip("192.0.2.9"),
				    .server_id = ip("192.0.2.1") };
	uint8_t a[DHCP_MSG_BUILD_MAX], b[DHCP_MSG_BUILD_MAX];
	int la, lb, i, diff = 0, pa, pb, ca;
	bool clean = true;

	la = dhcp_msg_build(a, sizeof(a), mac_a, &out);
	lb = dhcp_msg_build(b, sizeof(b), mac_b, &out);
	CHECK_EQ(la, lb, "two identities' REQUESTs have the same length");
	for (i = 0; i < la; i++)
		diff += a[i] != b[i];
	pa = find_opt(a, la, 55);
	pb = find_opt(b, lb, 55);
	ca = find_opt(a, la, 61);
	CHECK(pa > 0 && pa == pb && !memcmp(a + pa, b + pb, 9),
	      "parameter request list identical for two MACs");
	CHECK(ca > 0 && !memcmp(a + ca + 3, mac_a, 6) &&
		      !memcmp(b + ca + 3, mac_b, 6) && a[ca + 2] == 1,
	      "client id is type 1 + the identity's own MAC");
	/* chaddr and the client id differ in the MAC bytes only. */
	for (i = 0; i < 6; i++) {
		diff -= a[28 + i] != b[28 + i];
		diff -= a[ca + 3 + i] != b[ca + 3 + i];
	}
	CHECK_EQ(diff, 0, "messages differ only in chaddr and client id");
	for (i = 0; i < (int)sizeof(banned); i++)
		if (find_opt(a, la, banned[i]) >= 0)
			clean = false;
	CHECK(clean, "no hostname, FQDN, vendor class, max size or PXE options");
}

static void test_build_small_buffer(void)
{
	struct dhcp_msg_out out = { .type = DHCP_DISCOVER };
	uint8_t buf[DHCP_MSG_BUILD_MAX];

	CHECK_EQ(dhcp_msg_build(buf, DHCP_MSG_BUILD_MAX - 1, mac_a, &out),
		 -ENOSPC, "builder refuses a buffer below DHCP_MSG_BUILD_MAX");
}

static void test_parse_real(void)
{
	struct dhcp_msg m;
	size_t len;

	len = canned_offer();
	CHECK_EQ(dhcp_msg_parse(pkt, len, &m), 0, "dnsmasq OFFER parses");
	CHECK_EQ(m.type, DHCP_OFFER, "OFFER type");
	CHECK_EQ(m.xid, 0x12345678, "OFFER xid");
	CHECK(!memcmp(m.chaddr, mac_a, 6), "OFFER chaddr");
	CHECK_EQ(m.yiaddr, ip("192.0.2.134"), "OFFER yiaddr");
	CHECK_EQ(m.server_id, ip("192.0.2.1"), "OFFER server id");
	CHECK_EQ(m.lease_s, 120, "OFFER lease 2 min");
	CHECK_EQ(m.t1_s, 60, "OFFER T1");
	CHECK_EQ(m.t2_s, 105, "OFFER T2");
	CHECK_EQ(m.subnet_mask, ip("255.255.255.0"), "OFFER netmask");
	CHECK_EQ(m.router, ip("192.0.2.1"), "OFFER router");
	CHECK_EQ(m.flags, 0x8000, "OFFER flags");
	CHECK_EQ(m.have, DHCP_HAVE_SERVER_ID | DHCP_HAVE_LEASE | DHCP_HAVE_T1 |
				 DHCP_HAVE_T2 | DHCP_HAVE_SUBNET |
				 DHCP_HAVE_ROUTER,
		 "OFFER options present");

	canned_offer();
	pkt[CANNED_OFF_TYPE] = DHCP_ACK;
	CHECK(dhcp_msg_parse(pkt, len, &m) == 0 && m.type == DHCP_ACK &&
		      m.lease_s == 120,
	      "dnsmasq ACK parses");

	canned_reply(pkt, canned_nak_head, canned_nak_opts,
		     sizeof(canned_nak_opts));
	CHECK(dhcp_msg_parse(pkt, len, &m) == 0 && m.type == DHCP_NAK &&
		      m.yiaddr == 0 && m.server_id == ip("192.0.2.1") &&
		      m.xid == 0x0badcafe && !(m.have & DHCP_HAVE_LEASE),
	      "dnsmasq NAK parses, message option (56) skipped");
}

static void test_parse_header(void)
{
	struct dhcp_msg m;
	size_t len = canned_offer();

	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_OFF_OPTIONS - 1, &m), -EBADMSG,
		 "truncated before the end of the cookie");
	CHECK_EQ(dhcp_msg_parse(pkt, 100, &m), -EBADMSG,
		 "truncated BOOTP header");
	CHECK_EQ(dhcp_msg_parse(pkt, 0, &m), -EBADMSG, "empty payload");
	pkt[DHCP_MSG_OFF_COOKIE + 3] = 0x64;
	CHECK_EQ(dhcp_msg_parse(pkt, len, &m), -EBADMSG, "bad magic cookie");
	canned_offer();
	pkt[0] = DHCP_BOOTREQUEST;
	CHECK_EQ(dhcp_msg_parse(pkt, len, &m), -EBADMSG,
		 "op BOOTREQUEST refused (our own broadcasts)");
	canned_offer();
	pkt[1] = 6;
	CHECK_EQ(dhcp_msg_parse(pkt, len, &m), -EBADMSG, "htype not Ethernet");
	canned_offer();
	pkt[2] = 16;
	CHECK_EQ(dhcp_msg_parse(pkt, len, &m), -EBADMSG, "hlen not 6");
	canned_offer();
	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_MAX_LEN + 1, &m), -EMSGSIZE,
		 "huge packet (1473 bytes) refused");
	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_MAX_LEN, &m), 0,
		 "1472 bytes (END then zero padding) accepted");
}

static void test_parse_options(void)
{
	struct dhcp_msg m;
	size_t len;

	/* The OFFER cut right after the lease time's length byte: the
	 * length claims 4 bytes that are not there. */
	canned_offer();
	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_OFF_OPTIONS + 11, &m), -EBADMSG,
		 "option length past the end of the packet");
	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_OFF_OPTIONS + 10, &m), -EBADMSG,
		 "option code without a length byte");
	CHECK_EQ(dhcp_msg_parse(pkt, DHCP_MSG_OFF_OPTIONS + 9, &m), 0,
		 "options ending at an option boundary without END accepted");

	{
		static const uint8_t o[] = { 53, 1, 2, 54, 4, 192, 0, 2, 1, 51,
					     4, 0, 0, 1, 0 };
		len = DHCP_MSG_OFF_OPTIONS + sizeof(o);
		offer_with(o, sizeof(o));
		CHECK(dhcp_msg_parse(pkt, len, &m) == 0 && m.lease_s == 256,
		      "missing END at the end of the packet tolerated");
	}
	{
		static const uint8_t o[] = { 0, 0, 53, 1, 2, 0, 54, 4, 192, 0,
					     2, 1, 0, 255, 51, 9 };
		offer_with(o, sizeof(o));
		CHECK(dhcp_msg_parse(pkt, 300, &m) == 0 &&
			      m.server_id == ip("192.0.2.1") &&
			      !(m.have & DHCP_HAVE_LEASE),
		      "pads skipped, bytes after END ignored");
	}
	{
		static const uint8_t o[] = { 54, 4, 192, 0, 2, 1, 255 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "no message type (53)");
	}
	{
		static const uint8_t o[] = { 53, 1, 2, 51, 3, 0, 0, 1, 255 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "lease time with length 3");
	}
	{
		static const uint8_t o[] = { 53, 2, 2, 2, 255 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "message type with length 2");
	}
	{
		static const uint8_t o[] = { 53, 1, 2, 53, 1, 5, 255 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "message type given twice");
	}
	{
		static const uint8_t o[] = { 53, 1, 2, 3, 8, 192, 0, 2, 254,
					     192, 0, 2, 253, 255 };
		offer_with(o, sizeof(o));
		CHECK(dhcp_msg_parse(pkt, 300, &m) == 0 &&
			      m.router == ip("192.0.2.254"),
		      "router list: the first router is taken");
	}
	{
		static const uint8_t o[] = { 53, 1, 2, 3, 5, 192, 0, 2, 254, 1,
					     255 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "router list of 5 bytes");
	}
	{
		static const uint8_t o[] = { 53, 1, 2, 12, 255, 0 };
		offer_with(o, sizeof(o));
		CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
			 "unknown option whose length runs past the packet");
	}
}

static void test_parse_overload(void)
{
	static const uint8_t ov1[] = { 53, 1, 5, 52, 1, 1, 255 };
	static const uint8_t ov3[] = { 53, 1, 5, 52, 1, 3, 255 };
	static const uint8_t lease_in_file[] = { 51, 4, 0, 0, 0x0e, 0x10, 255 };
	static const uint8_t sid_in_sname[] = { 0, 54, 4, 198, 51, 100, 7 };
	struct dhcp_msg m;

	offer_with(ov1, sizeof(ov1));
	memcpy(pkt + DHCP_MSG_OFF_FILE, lease_in_file, sizeof(lease_in_file));
	CHECK(dhcp_msg_parse(pkt, 300, &m) == 0 && m.type == DHCP_ACK &&
		      m.lease_s == 3600,
	      "overload 1: lease time read from the file field");

	/* Without the overload option the same file field is a file name. */
	offer_with(ov1, sizeof(ov1));
	pkt[DHCP_MSG_OFF_OPTIONS + 3] = 12;
	memcpy(pkt + DHCP_MSG_OFF_FILE, lease_in_file, sizeof(lease_in_file));
	CHECK(dhcp_msg_parse(pkt, 300, &m) == 0 && !(m.have & DHCP_HAVE_LEASE),
	      "no overload: the file field is not parsed");

	offer_with(ov3, sizeof(ov3));
	memcpy(pkt + DHCP_MSG_OFF_FILE, lease_in_file, sizeof(lease_in_file));
	memcpy(pkt + DHCP_MSG_OFF_SNAME, sid_in_sname, sizeof(sid_in_sname));
	CHECK(dhcp_msg_parse(pkt, 300, &m) == 0 && m.lease_s == 3600 &&
		      m.server_id == ip("198.51.100.7"),
	      "overload 3: file and sname (sname without END) both parsed");

	offer_with(ov1, sizeof(ov1));
	memcpy(pkt + DHCP_MSG_OFF_FILE, "\x34\x01\x03\xff", 4);
	CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
		 "overload loop: option 52 inside the file field");

	offer_with(ov1, sizeof(ov1));
	pkt[DHCP_MSG_OFF_OPTIONS + 5] = 4;
	CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG, "overload value 4");

	/* A hostname in file whose length passes the field's end, though
	 * the packet goes on (into the cookie). */
	offer_with(ov1, sizeof(ov1));
	pkt[DHCP_MSG_OFF_FILE + DHCP_MSG_FILE_LEN - 6] = 12;
	pkt[DHCP_MSG_OFF_FILE + DHCP_MSG_FILE_LEN - 5] = 5;
	CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
		 "option in file running past the file field");

	offer_with(ov1, sizeof(ov1));
	memcpy(pkt + DHCP_MSG_OFF_FILE, "\x35\x01\x02\xff", 4);
	CHECK_EQ(dhcp_msg_parse(pkt, 300, &m), -EBADMSG,
		 "message type repeated in the file field");
}

static void test_type_names(void)
{
	CHECK(!strcmp(dhcp_msg_type_name(DHCP_OFFER), "OFFER") &&
		      !strcmp(dhcp_msg_type_name(0), "unknown") &&
		      !strcmp(dhcp_msg_type_name(9), "unknown"),
	      "message type names");
}

int main(void)
{
	test_build_discover();
	test_build_request();
	test_build_decline_release();
	test_profile();
	test_build_small_buffer();
	test_parse_real();
	test_parse_header();
	test_parse_options();
	test_parse_overload();
	test_type_names();
	return check_exit();
}
