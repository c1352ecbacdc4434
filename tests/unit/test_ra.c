// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_ra.c - what psvd reads and writes of IPv6 neighbour discovery
 * without a socket: the router advertisement parser on crafted RAs
 * (options of every kind, truncated, zero-length, lifetimes), the random
 * interface identifiers, and the link frames (DAD solicitation and
 * router solicitation built, then validated by the receive path).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "psvd/ipv6/iid.h"
#include "psvd/ipv6/ra.h"
#include "psvd/link/link_frame.h"
#include "psvd/netdev.h"

static uint8_t ll[16], global[16];

/* An RA's fixed part: hop limit 64, flags, router lifetime 1800 s. */
static size_t ra_head(uint8_t *m, uint8_t flags)
{
	memset(m, 0, 16);
	m[0] = 134;
	m[4] = 64;
	m[5] = flags;
	m[6] = 1800 >> 8;
	m[7] = 1800 & 0xff;
	return 16;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* A prefix information option at m: 32 bytes. */
static size_t pio(uint8_t *m, const char *prefix, uint8_t len, uint8_t flags,
		  uint32_t valid, uint32_t preferred)
{
	memset(m, 0, 32);
	m[0] = 3;
	m[1] = 4;
	m[2] = len;
	m[3] = flags;
	put32(m + 4, valid);
	put32(m + 8, preferred);
	inet_pton(AF_INET6, prefix, m + 16);
	return 32;
}

static void test_parse(void)
{
	uint8_t m[512], want[16];
	struct ra ra;
	size_t n;

	n = ra_head(m, 0x40);
	/* A source link-layer option and an MTU option, skipped. */
	memcpy(m + n, "\x01\x01\x02\x00\x00\x00\x00\x01", 8);
	n += 8;
	memcpy(m + n, "\x05\x01\x00\x00\x00\x00\x05\xdc", 8);
	n += 8;
	n += pio(m + n, "2001:db8:1::", 64, 0xc0, 86400, 14400);
	n += pio(m + n, "2001:db8:2:ffff::", 48, 0x80, RA_INFINITE, RA_INFINITE);
	CHECK_EQ(ra_parse(ll, 255, m, n, &ra), 0, "an RA with four options");
	CHECK(!ra.managed && ra.other && ra.router_lifetime_s == 1800,
	      "O flag, no M, router lifetime");
	CHECK_EQ(ra.n_prefixes, 2, "two prefixes");
	inet_pton(AF_INET6, "2001:db8:1::", want);
	CHECK(!memcmp(ra.prefixes[0].prefix, want, 16) &&
		      ra.prefixes[0].len == 64 && ra.prefixes[0].onlink &&
		      ra.prefixes[0].autonomous &&
		      ra.prefixes[0].valid_s == 86400 &&
		      ra.prefixes[0].preferred_s == 14400,
	      "the first: /64, L and A, its lifetimes");
	inet_pton(AF_INET6, "2001:db8:2::", want);
	CHECK(!memcmp(ra.prefixes[1].prefix, want, 16) &&
		      ra.prefixes[1].len == 48 && !ra.prefixes[1].autonomous &&
		      ra.prefixes[1].valid_s == RA_INFINITE,
	      "the second: bits past /48 zeroed, no A, infinite");

	n = ra_head(m, 0x80);
	CHECK(ra_parse(ll, 255, m, n, &ra) == 0 && ra.managed &&
		      !ra.n_prefixes, "M flag, no option");

	CHECK_EQ(ra_parse(global, 255, m, n, &ra), -EPERM,
		 "from a global address: not a router's");
	CHECK_EQ(ra_parse(ll, 64, m, n, &ra), -EPERM,
		 "hop limit 64: forwarded, not a router's");
	CHECK_EQ(ra_parse(ll, 255, m, 15, &ra), -EBADMSG, "15 bytes: truncated");
	m[1] = 1;
	CHECK_EQ(ra_parse(ll, 255, m, n, &ra), -EBADMSG, "code 1");
	m[1] = 0;
	m[0] = 133;
	CHECK_EQ(ra_parse(ll, 255, m, n, &ra), -EBADMSG, "not an RA");
	m[0] = 134;

	memcpy(m + n, "\x19\x00\x00\x00\x00\x00\x00\x00", 8);
	CHECK_EQ(ra_parse(ll, 255, m, n + 8, &ra), -EBADMSG,
		 "an option of length 0");
	memcpy(m + n, "\x19\x02\x00\x00\x00\x00\x00\x00", 8);
	CHECK_EQ(ra_parse(ll, 255, m, n + 8, &ra), -EBADMSG,
		 "an option past the end");
	CHECK_EQ(ra_parse(ll, 255, m, n + 1, &ra), -EBADMSG,
		 "one byte of an option");
	pio(m + n, "2001:db8:1::", 64, 0xc0, 100, 100);
	m[n + 1] = 3;
	CHECK_EQ(ra_parse(ll, 255, m, n + 24, &ra), -EBADMSG,
		 "a prefix option of 24 bytes");
	m[n + 1] = 4;
	CHECK_EQ(ra_parse(ll, 255, m, n + 31, &ra), -EBADMSG,
		 "a prefix option cut short");
	CHECK_EQ(ra_parse(ll, 255, m, n + 32, &ra), 0, "and whole");

	n = ra_head(m, 0);
	n += pio(m + n, "2001:db8:1::", 64, 0xc0, 100, 200);
	CHECK(ra_parse(ll, 255, m, n, &ra) == 0 && !ra.n_prefixes &&
		      ra.dropped == 1,
	      "preferred beyond valid: the prefix is dropped, counted");
	n = ra_head(m, 0);
	for (int i = 0; i < RA_MAX_PREFIXES + 2; i++)
		n += pio(m + n, "2001:db8:1::", 64, 0xc0, 100, 50);
	CHECK(ra_parse(ll, 255, m, n, &ra) == 0 &&
		      ra.n_prefixes == RA_MAX_PREFIXES && ra.dropped == 2,
	      "ten prefixes: eight kept, two counted");
	n = ra_head(m, 0);
	n += pio(m + n, "2001:db8:1::", 200, 0xc0, 100, 50);
	CHECK(ra_parse(ll, 255, m, n, &ra) == 0 && ra.prefixes[0].len == 128,
	      "a prefix length over 128 is read as 128");
}

static void test_iid(void)
{
	static const uint8_t reserved[][8] = {
		{ 0 },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80 },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13 },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0xff, 0xff },
		{ 0x12, 0x34, 0x56, 0xff, 0xfe, 0x78, 0x9a, 0xbc },
	};
	static const uint8_t fine[8] = { 0xfd, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static uint8_t seen[1000][16];
	bool ok = true, distinct = true;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		CHECK(iid_refused(reserved[i]), "reserved identifier %zu refused",
		      i);
	CHECK(!iid_refused(fine), "the anycast range ends at ...ff80");
	for (int i = 0; i < 1000; i++) {
		memset(seen[i], 0xab, 8);
		if (iid_random(seen[i]))
			ok = false;
		ok = ok && seen[i][0] == 0xab && seen[i][7] == 0xab &&
		     !iid_refused(seen[i] + 8) && !netdev_is_eui64(seen[i], mac);
		for (int j = 0; j < i && distinct; j++)
			distinct = memcmp(seen[i] + 8, seen[j] + 8, 8) != 0;
	}
	CHECK(ok, "1000 identifiers: the prefix kept, none reserved or EUI-64");
	CHECK(distinct, "1000 identifiers, all different");
}

static void test_frames(void)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t target[16], dst[16], f[LINK_DAD_NS_LEN], zero[16] = { 0 };
	struct link_frame lf;

	inet_pton(AF_INET6, "2001:db8:1::abcd:ef12:3456:789a", target);
	inet_pton(AF_INET6, "ff02::1:ff56:789a", dst);
	CHECK_EQ(link_frame_build_dad_ns(f, sizeof(f), mac, target),
		 LINK_DAD_NS_LEN, "a DAD solicitation built");
	CHECK(!memcmp(f, "\x33\x33\xff\x56\x78\x9a", 6) &&
		      !memcmp(f + 6, mac, 6),
	      "to the solicited-node MAC, from the identity's");
	CHECK_EQ(link_frame_parse(f, sizeof(f), 0, &lf), LINK_FRAME_ND,
		 "it validates as ND (checksum right)");
	CHECK(lf.nd_type == LINK_ND_NS && lf.hop_limit == 255 &&
		      !memcmp(lf.ip6_src, zero, 16) &&
		      !memcmp(lf.ip6_dst, dst, 16) && lf.len == 24 &&
		      !memcmp(lf.payload + 8, target, 16),
	      "from ::, to ff02::1:ff56:789a, hop limit 255, no option");
	f[sizeof(f) - 1] ^= 1;
	CHECK_EQ(link_frame_parse(f, sizeof(f), 0, &lf), -EBADMSG,
		 "one bit off: bad checksum");
	CHECK_EQ(link_frame_parse(f, sizeof(f), LINK_FRAME_CSUM_PARTIAL, &lf),
		 LINK_FRAME_ND, "unless the kernel says it is not filled in");
	CHECK_EQ(link_frame_parse(f, sizeof(f) - 1, 0, &lf), -EBADMSG,
		 "payload length past the frame");
	CHECK_EQ(link_frame_build_rs(f, sizeof(f), mac), LINK_RS_LEN,
		 "a router solicitation built");
	CHECK(!memcmp(f, "\x33\x33\x00\x00\x00\x02", 6) &&
		      !memcmp(f + 22, zero, 16) && f[14 + 40] == LINK_ND_RS &&
		      f[14 + 5] == 8,
	      "to all routers, from ::, 8 bytes: no link-layer option");
	CHECK_EQ(link_frame_parse(f, LINK_RS_LEN, 0, &lf), -ENOMSG,
		 "a solicitation is not what psvd reads");
	CHECK_EQ(link_frame_build_dad_ns(f, 10, mac, target), -EMSGSIZE,
		 "no room: refused");
}

int main(void)
{
	inet_pton(AF_INET6, "fe80::1", ll);
	inet_pton(AF_INET6, "2001:db8::1", global);
	test_parse();
	test_iid();
	test_frames();
	return check_exit();
}
