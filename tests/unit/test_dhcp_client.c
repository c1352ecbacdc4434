// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dhcp_client.c - the per-identity DHCP state machine on a fake
 * clock (the now_ms arguments) with fake I/O that records every message,
 * probe and event.  Replies are the real dnsmasq OFFER/ACK/NAK of
 * dhcp_canned.h, addressed to the client under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "dhcp_canned.h"
#include "psvd/dhcp/dhcp_client.h"
#include "psvd/dhcp/dhcp_msg.h"

#define MAX_SENT 64

struct sent {
	uint8_t buf[DHCP_MSG_BUILD_MAX];
	size_t len;
	uint32_t src_ip, dst_ip;
	bool dst_mac_set;
	uint8_t dst_mac[6];
};

struct fake {
	struct sent sent[MAX_SENT];
	int nsent;
	uint32_t probes[8];
	int nprobes;
	enum dhcp_event events[8];	/* all but REQUESTING */
	int nevents;
	int nrequesting;		/* REQUESTING events */
	int sent_at_requesting;		/* nsent when the last one came */
	uint64_t rng;		/* xorshift64 state */
	int send_err;		/* what send returns */
};

static struct fake fk;

static int fake_send(void *ctx, struct dhcp_client *c, const void *payload,
		     size_t len, uint32_t src_ip, uint32_t dst_ip,
		     const uint8_t *dst_mac)
{
	struct fake *f = ctx;
	struct sent *s;

	(void)c;
	if (f->nsent == MAX_SENT || len > sizeof(s->buf))
		return -ENOBUFS;
	s = &f->sent[f->nsent++];
	memcpy(s->buf, payload, len);
	s->len = len;
	s->src_ip = src_ip;
	s->dst_ip = dst_ip;
	s->dst_mac_set = dst_mac != NULL;
	if (dst_mac)
		memcpy(s->dst_mac, dst_mac, 6);
	return f->send_err;
}

static int fake_probe(void *ctx, struct dhcp_client *c, uint32_t target_ip)
{
	struct fake *f = ctx;

	(void)c;
	if (f->nprobes < 8)
		f->probes[f->nprobes++] = target_ip;
	return 0;
}

static void fake_event(void *ctx, struct dhcp_client *c, enum dhcp_event ev)
{
	struct fake *f = ctx;

	(void)c;
	if (ev == DHCP_EV_REQUESTING) {
		f->nrequesting++;
		f->sent_at_requesting = f->nsent;
	} else if (f->nevents < 8) {
		f->events[f->nevents++] = ev;
	}
}

static void fake_random(void *ctx, void *buf, size_t len)
{
	struct fake *f = ctx;
	uint8_t *p = buf;

	while (len--) {
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 7;
		f->rng ^= f->rng << 17;
		*p++ = f->rng;
	}
}

static const struct dhcp_ops fake_ops = {
	.send = fake_send,
	.send_arp_probe = fake_probe,
	.event = fake_event,
	.random = fake_random,
};

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t other_mac[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const uint8_t server_mac[6] = { 0x02, 0x53, 0x00, 0x00, 0x00, 0x01 };
static uint8_t reply[CANNED_LEN];

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void reset(uint64_t seed)
{
	memset(&fk, 0, sizeof(fk));
	fk.rng = seed;
}

static struct dhcp_params short_params(void)
{
	struct dhcp_params p;

	dhcp_params_default(&p);
	p.renew_min_ms = 10000;
	return p;
}

/* Option code's value in a sent message; its length, or -1. */
static int opt(const struct sent *s, uint8_t code, const uint8_t **val)
{
	size_t i = DHCP_MSG_OFF_OPTIONS;

	while (i + 1 < s->len && s->buf[i] != DHCP_OPT_END) {
		if (s->buf[i] == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (s->buf[i] == code) {
			if (val)
				*val = s->buf + i + 2;
			return s->buf[i + 1];
		}
		i += 2 + s->buf[i + 1];
	}
	return -1;
}

static int msg_type(const struct sent *s)
{
	const uint8_t *v;

	return opt(s, DHCP_OPT_MSG_TYPE, &v) == 1 ? v[0] : -1;
}

static uint32_t opt_addr(const struct sent *s, uint8_t code)
{
	const uint8_t *v;
	uint32_t a = 0;

	if (opt(s, code, &v) == 4)
		memcpy(&a, v, 4);
	return a;
}

static uint32_t field32(const struct sent *s, int off)
{
	uint32_t a;

	memcpy(&a, s->buf + off, 4);
	return a;
}

static uint32_t sent_xid(const struct sent *s)
{
	return ntohl(field32(s, DHCP_MSG_OFF_XID));
}

static struct sent *last(void)
{
	return fk.nsent ? &fk.sent[fk.nsent - 1] : NULL;
}

/* The canned dnsmasq reply of type for the client's current xid. */
static int feed(struct dhcp_client *c, uint64_t now, uint8_t type)
{
	canned_for(reply, type, c->xid, mac);
	return dhcp_client_receive(c, now, reply, CANNED_LEN, server_mac);
}

/* Runs the client to BOUND without probing; the REQUEST goes out at 1010. */
static void to_bound(struct dhcp_client *c, struct dhcp_params *p)
{
	p->skip_probe = true;
	dhcp_client_init(c, mac, p, &fake_ops, &fk);
	dhcp_client_start(c, 1000);
	feed(c, 1010, DHCP_OFFER);
	feed(c, 1020, DHCP_ACK);
}

static void test_dora_probe(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct sent *s;
	uint64_t t, d;
	int i;
	bool probe_gaps = true;

	reset(1);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	CHECK_EQ(dhcp_client_deadline(&c), UINT64_MAX, "idle client: no deadline");
	CHECK_EQ(dhcp_client_start(&c, 1000), 0, "start");
	CHECK_EQ(dhcp_client_start(&c, 1000), -EINVAL, "second start refused");
	s = last();
	CHECK(fk.nsent == 1 && msg_type(s) == DHCP_DISCOVER,
	      "start sends one DISCOVER");
	CHECK(s->dst_ip == htonl(INADDR_BROADCAST) && !s->dst_mac_set &&
		      s->src_ip == 0,
	      "DISCOVER: 0.0.0.0 -> broadcast, broadcast MAC");
	CHECK(sent_xid(s) == c.xid && !memcmp(s->buf + DHCP_MSG_OFF_CHADDR, mac, 6),
	      "DISCOVER carries the client's xid and MAC");
	CHECK(opt(s, DHCP_OPT_REQUESTED_IP, NULL) < 0 &&
		      opt(s, DHCP_OPT_SERVER_ID, NULL) < 0,
	      "DISCOVER has no requested address or server id");
	d = dhcp_client_deadline(&c);
	CHECK(d >= 1000 + 3000 && d <= 1000 + 5000,
	      "first retransmission in 4 s +- 1 s");

	CHECK_EQ(feed(&c, 1010, DHCP_OFFER), 0, "OFFER accepted");
	s = last();
	CHECK(c.state == DHCP_REQUESTING && fk.nsent == 2 &&
		      msg_type(s) == DHCP_REQUEST,
	      "OFFER -> REQUESTING, REQUEST sent");
	CHECK(opt_addr(s, DHCP_OPT_REQUESTED_IP) == ip("192.0.2.134") &&
		      opt_addr(s, DHCP_OPT_SERVER_ID) == ip("192.0.2.1") &&
		      field32(s, DHCP_MSG_OFF_CIADDR) == 0,
	      "REQUEST: option 50 = offered, 54 = server, ciaddr 0");
	CHECK(sent_xid(s) == sent_xid(&fk.sent[0]) &&
		      s->dst_ip == htonl(INADDR_BROADCAST) && !s->dst_mac_set &&
		      s->buf[DHCP_MSG_OFF_FLAGS] == 0x80,
	      "REQUEST: same xid as DISCOVER, broadcast, broadcast flag");
	CHECK(fk.nrequesting == 1 && fk.sent_at_requesting == 1,
	      "OFFER: a REQUESTING event, before the REQUEST left (psvd stores it)");

	CHECK_EQ(feed(&c, 1020, DHCP_ACK), 0, "ACK accepted");
	CHECK(c.state == DHCP_PROBING && fk.nevents == 0,
	      "ACK -> PROBING, no event yet");
	d = dhcp_client_deadline(&c);
	CHECK(d >= 1020 && d <= 1020 + 1000, "first probe within PROBE_WAIT");
	for (i = 0; i < 3; i++) {
		t = dhcp_client_deadline(&c);
		dhcp_client_timeout(&c, t);
		d = dhcp_client_deadline(&c) - t;
		if (i < 2 && (d < 1000 || d > 2000))
			probe_gaps = false;
	}
	CHECK(fk.nprobes == 3 && fk.probes[0] == ip("192.0.2.134") &&
		      fk.probes[2] == ip("192.0.2.134"),
	      "three ARP probes for the offered address");
	CHECK(probe_gaps, "probes PROBE_MIN..PROBE_MAX apart");
	CHECK_EQ(d, 2000, "ANNOUNCE_WAIT after the last probe");
	CHECK(c.state == DHCP_PROBING, "still probing before ANNOUNCE_WAIT");
	dhcp_client_timeout(&c, t + 1999);
	CHECK(c.state == DHCP_PROBING, "an early timeout call changes nothing");
	dhcp_client_timeout(&c, t + 2000);
	CHECK(c.state == DHCP_BOUND && fk.nevents == 1 &&
		      fk.events[0] == DHCP_EV_BOUND,
	      "no conflict: BOUND event");
	CHECK(c.yiaddr == ip("192.0.2.134") && c.server_id == ip("192.0.2.1"),
	      "bound lease: address and server");
	/* dnsmasq: lease 120 s, T1 60 s, T2 105 s, from the REQUEST at 1010. */
	CHECK(c.expire_ms == 1010 + 120000 && c.t1_ms == 1010 + 60000 &&
		      c.t2_ms == 1010 + 105000,
	      "lease times count from the REQUEST");
	CHECK_EQ(dhcp_client_deadline(&c), 1010 + 60000, "next deadline is T1");
	CHECK(!memcmp(c.server_mac, server_mac, 6) && c.have_server_mac,
	      "server MAC learned from the ACK frame");
	CHECK_EQ(c.stats.rx_accepted, 2, "two replies accepted");
}

static void test_retransmit(void)
{
	static const uint64_t want[] = { 4000, 8000, 16000, 32000, 64000, 64000 };
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	int64_t lo[6], hi[6];
	bool in_bounds = true, same_xid = true, secs_ok = true;
	int run, i;

	for (i = 0; i < 6; i++) {
		lo[i] = INT64_MAX;
		hi[i] = INT64_MIN;
	}
	for (run = 0; run < 200; run++) {
		uint64_t t = 5000;

		reset(0x9e3779b97f4a7c15ull * (run + 1));
		dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
		dhcp_client_start(&c, t);
		for (i = 0; i < 6; i++) {
			uint64_t d = dhcp_client_deadline(&c);
			int64_t gap = (int64_t)(d - t) - (int64_t)want[i];

			if (gap < lo[i])
				lo[i] = gap;
			if (gap > hi[i])
				hi[i] = gap;
			if (gap < -1000 || gap > 1000)
				in_bounds = false;
			t = d;
			dhcp_client_timeout(&c, t);
			/* secs: whole seconds since the first DISCOVER. */
			if (i < 5 && 256 * last()->buf[8] + last()->buf[9] !=
					     (int)((t - 5000) / 1000))
				secs_ok = false;
		}
		for (i = 1; i < fk.nsent; i++)
			if (sent_xid(&fk.sent[i]) != sent_xid(&fk.sent[0]))
				same_xid = false;
		if (run == 0) {
			CHECK_EQ(fk.nsent, 6, "six DISCOVERs in all");
			CHECK(c.state == DHCP_RETIRED &&
				      c.retire_reason == DHCP_RETIRE_NO_OFFER &&
				      fk.nevents == 1 &&
				      fk.events[0] == DHCP_EV_LOST,
			      "no OFFER after max_tries: LOST");
			CHECK(c.stats.no_offers == 1 && c.stats.naks == 0,
			      "counted as no offer");
		}
	}
	CHECK(in_bounds, "waits 4, 8, 16, 32, 64, 64 s, each within +- 1 s");
	for (i = 0; i < 6; i++)
		CHECK(lo[i] < -900 && hi[i] > 900,
		      "wait %d: jitter spans -1..+1 s (saw %lld..%lld ms)", i,
		      (long long)lo[i], (long long)hi[i]);
	CHECK(same_xid, "retransmissions keep the exchange's xid");
	CHECK(secs_ok, "secs field counts the exchange's seconds");
}

static void test_requesting_gives_up(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	int i;

	reset(7);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 10, DHCP_OFFER);
	for (i = 0; i < 6; i++)
		dhcp_client_timeout(&c, dhcp_client_deadline(&c));
	CHECK(fk.nsent == 7 && msg_type(&fk.sent[6]) == DHCP_REQUEST,
	      "REQUEST sent max_tries times");
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_NO_ACK &&
		      fk.nevents == 1 && fk.events[0] == DHCP_EV_LOST,
	      "no ACK after max_tries: LOST");
}

static void test_ignored(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;

	reset(3);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);

	canned_for(reply, DHCP_OFFER, c.xid + 1, mac);
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, CANNED_LEN, NULL), -ENOMSG,
		 "OFFER with the wrong xid ignored");
	canned_for(reply, DHCP_OFFER, c.xid, other_mac);
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, CANNED_LEN, NULL), -ENOMSG,
		 "OFFER for another chaddr ignored");
	canned_for(reply, DHCP_OFFER, c.xid, mac);
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, 239, NULL), -EBADMSG,
		 "truncated OFFER refused");
	CHECK_EQ(feed(&c, 1, DHCP_ACK), -ENOMSG, "ACK while SELECTING ignored");
	CHECK_EQ(feed(&c, 1, DHCP_NAK), -ENOMSG, "NAK while SELECTING ignored");
	canned_for(reply, DHCP_OFFER, c.xid, mac);
	memset(reply + DHCP_MSG_OFF_YIADDR, 0, 4);
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, CANNED_LEN, NULL), -ENOMSG,
		 "OFFER of 0.0.0.0 ignored");
	canned_for(reply, DHCP_OFFER, c.xid, mac);
	memcpy(reply + DHCP_MSG_OFF_YIADDR, "\xe0\x00\x00\x01", 4);
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, CANNED_LEN, NULL), -ENOMSG,
		 "OFFER of a multicast address ignored");
	canned_for(reply, DHCP_OFFER, c.xid, mac);
	reply[243] = DHCP_OPT_PAD;	/* option 54 becomes pad + garbage */
	reply[244] = DHCP_OPT_PAD;
	reply[245] = 12;		/* ... a hostname of length 0 */
	reply[246] = 0;
	reply[247] = DHCP_OPT_PAD;
	reply[248] = DHCP_OPT_PAD;
	CHECK_EQ(dhcp_client_receive(&c, 1, reply, CANNED_LEN, NULL), -ENOMSG,
		 "OFFER without a server id ignored");
	CHECK(c.state == DHCP_SELECTING && fk.nsent == 1,
	      "still SELECTING, nothing sent");
	CHECK(c.stats.rx_bad_xid == 1 && c.stats.rx_bad_chaddr == 1 &&
		      c.stats.rx_malformed == 1 && c.stats.rx_ignored == 5 &&
		      c.stats.rx_accepted == 0,
	      "counters: 1 bad xid, 1 bad chaddr, 1 malformed, 5 ignored");

	feed(&c, 2, DHCP_OFFER);
	canned_for(reply, DHCP_ACK, c.xid, mac);
	memcpy(reply + DHCP_MSG_OFF_YIADDR, "\xc0\x00\x02\x87", 4);
	CHECK_EQ(dhcp_client_receive(&c, 3, reply, CANNED_LEN, NULL), -ENOMSG,
		 "ACK for another address than offered ignored");
	canned_for(reply, DHCP_ACK, c.xid, mac);
	reply[249] = 250;		/* option 51 becomes unknown 250 */
	CHECK_EQ(dhcp_client_receive(&c, 3, reply, CANNED_LEN, NULL), -ENOMSG,
		 "ACK without a lease time ignored");
	canned_for(reply, DHCP_NAK, c.xid, mac);
	memcpy(reply + 245, "\xc0\x00\x02\x02", 4);
	CHECK_EQ(dhcp_client_receive(&c, 3, reply, CANNED_LEN, NULL), -ENOMSG,
		 "NAK from another server ignored while REQUESTING");
	CHECK(c.state == DHCP_REQUESTING, "still REQUESTING");
}

static void test_nak(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;

	reset(4);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 10, DHCP_OFFER);
	CHECK_EQ(feed(&c, 20, DHCP_NAK), 0, "NAK accepted in REQUESTING");
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_NAK &&
		      fk.nevents == 1 && fk.events[0] == DHCP_EV_LOST,
	      "NAK in REQUESTING: LOST");
	CHECK(c.stats.naks == 1 && c.stats.no_offers == 0, "counted as a NAK");
	CHECK_EQ(dhcp_client_deadline(&c), UINT64_MAX, "retired: no deadline");
	CHECK_EQ(feed(&c, 30, DHCP_ACK), -ENOMSG, "retired: later ACK ignored");
	CHECK_EQ(fk.nsent, 2, "nothing sent after the NAK");
}

/* A canned reply of type for client c, from the rogue server 192.0.2.2
 * offering 192.0.2.99. */
static void rogue_for(const struct dhcp_client *c, uint8_t type)
{
	canned_for(reply, type, c->xid, c->mac);
	memcpy(reply + 245, "\xc0\x00\x02\x02", 4);	/* option 54 */
	memcpy(reply + DHCP_MSG_OFF_YIADDR, "\xc0\x00\x02\x63", 4);
}

/*
 * Identities never take each other's replies, and a second (rogue)
 * server answering once a lease is bound moves nothing: its OFFER, ACK
 * or NAK is ignored while BOUND and while RENEWING with the real server.
 */
static void test_rogue(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client a, b;
	static const uint8_t types[] = { DHCP_OFFER, DHCP_ACK, DHCP_NAK };
	bool ignored = true;
	size_t i;

	reset(6);
	p.skip_probe = true;
	dhcp_client_init(&a, mac, &p, &fake_ops, &fk);
	dhcp_client_init(&b, other_mac, &p, &fake_ops, &fk);
	dhcp_client_start(&a, 1000);
	dhcp_client_start(&b, 1000);
	feed(&a, 1010, DHCP_OFFER);
	canned_for(reply, DHCP_OFFER, b.xid, other_mac);
	dhcp_client_receive(&b, 1010, reply, CANNED_LEN, server_mac);
	CHECK(a.state == DHCP_REQUESTING && b.state == DHCP_REQUESTING,
	      "two identities REQUESTING the same address");
	canned_for(reply, DHCP_ACK, a.xid, mac);
	CHECK_EQ(dhcp_client_receive(&b, 1020, reply, CANNED_LEN, server_mac),
		 -ENOMSG, "A's ACK not taken by B");
	canned_for(reply, DHCP_ACK, b.xid, mac);
	CHECK_EQ(dhcp_client_receive(&b, 1020, reply, CANNED_LEN, server_mac),
		 -ENOMSG, "an ACK with B's xid for A's MAC not taken by B");
	CHECK(b.state == DHCP_REQUESTING && b.stats.rx_bad_xid == 1 &&
		      b.stats.rx_bad_chaddr == 1 && b.stats.rx_accepted == 1,
	      "B still REQUESTING: one bad xid, one bad chaddr counted");

	CHECK_EQ(feed(&a, 1020, DHCP_ACK), 0, "A's own ACK accepted");
	CHECK(a.state == DHCP_BOUND && a.yiaddr == ip("192.0.2.134"),
	      "A BOUND to 192.0.2.134");
	for (i = 0; i < sizeof(types); i++) {
		rogue_for(&a, types[i]);
		if (dhcp_client_receive(&a, 2000, reply, CANNED_LEN,
					other_mac) != -ENOMSG)
			ignored = false;
	}
	CHECK(ignored && a.state == DHCP_BOUND &&
		      a.yiaddr == ip("192.0.2.134") &&
		      a.server_id == ip("192.0.2.1"),
	      "BOUND: a rogue server's OFFER, ACK and NAK move nothing");
	dhcp_client_timeout(&a, a.t1_ms);
	for (i = 1; i < sizeof(types); i++) {
		rogue_for(&a, types[i]);
		if (dhcp_client_receive(&a, a.t1_ms + 10, reply, CANNED_LEN,
					other_mac) != -ENOMSG)
			ignored = false;
	}
	CHECK(ignored && a.state == DHCP_RENEWING &&
		      a.yiaddr == ip("192.0.2.134") &&
		      !memcmp(a.server_mac, server_mac, 6),
	      "RENEWING: a rogue server's ACK and NAK move nothing");
	CHECK_EQ(feed(&a, a.t1_ms + 20, DHCP_ACK), 0,
		 "the real server's renewal ACK still accepted");
}

static void test_renew(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct sent *s;
	uint32_t old_xid;
	uint64_t t1;

	reset(5);
	to_bound(&c, &p);
	CHECK(c.state == DHCP_BOUND && fk.nevents == 1 &&
		      fk.events[0] == DHCP_EV_BOUND && fk.nprobes == 0,
	      "skip_probe: BOUND right after the ACK");
	old_xid = c.xid;
	t1 = c.t1_ms;
	dhcp_client_timeout(&c, t1 - 1);
	CHECK(c.state == DHCP_BOUND && fk.nsent == 2, "nothing before T1");
	dhcp_client_timeout(&c, t1);
	s = last();
	CHECK(c.state == DHCP_RENEWING && fk.nsent == 3 &&
		      msg_type(s) == DHCP_REQUEST,
	      "T1: RENEWING, REQUEST sent");
	CHECK(s->dst_ip == ip("192.0.2.1") && s->dst_mac_set &&
		      !memcmp(s->dst_mac, server_mac, 6) &&
		      s->src_ip == ip("192.0.2.134"),
	      "renewal unicast to the server's IP and MAC from the lease");
	CHECK(field32(s, DHCP_MSG_OFF_CIADDR) == ip("192.0.2.134") &&
		      opt(s, DHCP_OPT_REQUESTED_IP, NULL) < 0 &&
		      opt(s, DHCP_OPT_SERVER_ID, NULL) < 0 &&
		      s->buf[DHCP_MSG_OFF_FLAGS] == 0,
	      "renewal: ciaddr set, no 50, no 54, no broadcast flag");
	CHECK(sent_xid(s) == c.xid && c.xid != old_xid,
	      "renewal uses a fresh xid");
	/* T2 - T1 = 45 s: resend after 22.5 s (RFC 2131 4.4.5). */
	CHECK_EQ(dhcp_client_deadline(&c), t1 + 22500,
		 "renewal resent after half the time to T2");
	CHECK_EQ(feed(&c, t1 + 100, DHCP_ACK), 0, "renewal ACK accepted");
	CHECK(c.state == DHCP_BOUND && fk.nevents == 2 &&
		      fk.events[1] == DHCP_EV_RENEWED,
	      "ACK in RENEWING: BOUND, RENEWED event");
	CHECK(c.expire_ms == t1 + 120000 && c.t1_ms == t1 + 60000,
	      "renewed lease counts from the renewal REQUEST");
}

static void test_rebind(void)
{
	static const uint64_t gaps[] = { 22500, 11250, 10000 };
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct sent *s;
	uint64_t t, t2;
	uint32_t renew_xid;
	bool sched = true;
	int i;

	reset(6);
	to_bound(&c, &p);
	t = c.t1_ms;
	t2 = c.t2_ms;
	dhcp_client_timeout(&c, t);
	renew_xid = c.xid;
	for (i = 0; i < 3; i++) {
		if (dhcp_client_deadline(&c) != t + gaps[i])
			sched = false;
		t = dhcp_client_deadline(&c);
		dhcp_client_timeout(&c, t);
	}
	CHECK(sched, "renewal resends after 22.5, 11.25 s, then the 10 s floor");
	CHECK_EQ(dhcp_client_deadline(&c), t2, "the last wait stops at T2");
	CHECK(c.state == DHCP_RENEWING && fk.nsent == 2 + 4,
	      "four unicast REQUESTs while RENEWING");
	dhcp_client_timeout(&c, t2);
	s = last();
	CHECK(c.state == DHCP_REBINDING && msg_type(s) == DHCP_REQUEST,
	      "T2: REBINDING, REQUEST sent");
	CHECK(s->dst_ip == htonl(INADDR_BROADCAST) && !s->dst_mac_set &&
		      s->src_ip == ip("192.0.2.134") &&
		      field32(s, DHCP_MSG_OFF_CIADDR) == ip("192.0.2.134") &&
		      opt(s, DHCP_OPT_SERVER_ID, NULL) < 0,
	      "rebinding: broadcast from the leased address, ciaddr, no 54");
	CHECK(c.xid != renew_xid && sent_xid(s) == c.xid,
	      "rebinding uses a fresh xid");
	/* expiry - T2 = 15 s: resend after the 10 s floor, then at expiry. */
	CHECK_EQ(dhcp_client_deadline(&c), t2 + 10000,
		 "rebinding resent after max(half the rest, floor)");
	dhcp_client_timeout(&c, t2 + 10000);
	CHECK_EQ(dhcp_client_deadline(&c), c.expire_ms,
		 "last rebinding wait stops at expiry");

	/* Any server may answer a rebinding REQUEST. */
	{
		struct dhcp_client c2 = c;
		struct fake saved = fk;

		canned_for(reply, DHCP_ACK, c2.xid, mac);
		memcpy(reply + 245, "\xc0\x00\x02\x02", 4);
		CHECK_EQ(dhcp_client_receive(&c2, t2 + 10001, reply,
					     CANNED_LEN, other_mac), 0,
			 "ACK from another server accepted while REBINDING");
		CHECK(c2.state == DHCP_BOUND &&
			      c2.server_id == ip("192.0.2.2") &&
			      !memcmp(c2.server_mac, other_mac, 6) &&
			      fk.events[fk.nevents - 1] == DHCP_EV_RENEWED,
		      "rebound: new server id and MAC, RENEWED");
		fk = saved;
	}

	dhcp_client_timeout(&c, c.expire_ms);
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_EXPIRED &&
		      fk.events[fk.nevents - 1] == DHCP_EV_LOST,
	      "lease expiry while REBINDING: LOST");
}

static void test_nak_renewing(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;

	reset(8);
	to_bound(&c, &p);
	dhcp_client_timeout(&c, c.t1_ms);
	CHECK_EQ(feed(&c, c.t1_ms + 5, DHCP_NAK), 0, "NAK while RENEWING");
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_NAK &&
		      fk.events[fk.nevents - 1] == DHCP_EV_LOST,
	      "NAK in RENEWING: LOST");
	CHECK_EQ(c.stats.naks, 1, "counted as a NAK");
}

static void test_late_timer(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;

	reset(9);
	to_bound(&c, &p);
	dhcp_client_timeout(&c, c.expire_ms + 5000);
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_EXPIRED &&
		      fk.nsent == 2,
	      "timer run after expiry: LOST without sending");
}

/* Big-endian seconds into the canned reply at off. */
static void put_secs(int off, uint32_t v)
{
	reply[off] = v >> 24;
	reply[off + 1] = v >> 16;
	reply[off + 2] = v >> 8;
	reply[off + 3] = v;
}

/*
 * Rewrites the canned ACK's lease (51 at offset 249), T1 (58 at 255) and
 * T2 (59 at 261); a negative T1 or T2 turns its option into unknown 250.
 */
static void ack_times(struct dhcp_client *c, uint32_t lease, int t1, int t2)
{
	canned_for(reply, DHCP_ACK, c->xid, mac);
	put_secs(251, lease);
	if (t1 < 0)
		reply[255] = 250;
	else
		put_secs(257, t1);
	if (t2 < 0)
		reply[261] = 250;
	else
		put_secs(263, t2);
}

static void test_lease_times(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;

	p.skip_probe = true;
	reset(10);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 0, DHCP_OFFER);
	ack_times(&c, 1000, -1, -1);
	dhcp_client_receive(&c, 5, reply, CANNED_LEN, NULL);
	CHECK(c.t1_s == 500 && c.t2_s == 875 && c.lease_s == 1000,
	      "no 58/59: T1 = 0.5, T2 = 0.875 of the lease");
	CHECK(!c.have_server_mac && c.state == DHCP_BOUND,
	      "bound without a known server MAC");

	reset(11);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 0, DHCP_OFFER);
	ack_times(&c, 1000, 900, 1200);
	dhcp_client_receive(&c, 5, reply, CANNED_LEN, NULL);
	CHECK(c.t2_s == 875 && c.t1_s == 500,
	      "T2 beyond the lease and T1 beyond T2 replaced by defaults");

	reset(12);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 0, DHCP_OFFER);
	ack_times(&c, 0xffffffff, -1, -1);
	dhcp_client_receive(&c, 5, reply, CANNED_LEN, NULL);
	CHECK(c.state == DHCP_BOUND && dhcp_client_deadline(&c) == UINT64_MAX &&
		      c.expire_ms == UINT64_MAX,
	      "infinite lease: never renews or expires");

	/* Sends that fail are counted and retried like lost packets. */
	reset(13);
	fk.send_err = -ENOBUFS;
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	dhcp_client_timeout(&c, dhcp_client_deadline(&c));
	CHECK(c.stats.tx == 2 && c.stats.tx_errors == 2 &&
		      c.state == DHCP_SELECTING,
	      "failed sends counted, retransmission goes on");
}

static void test_conflict(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct sent *s;
	uint32_t yi = ip("192.0.2.134");

	reset(14);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 10, DHCP_OFFER);
	feed(&c, 20, DHCP_ACK);
	dhcp_client_timeout(&c, dhcp_client_deadline(&c));
	CHECK(c.state == DHCP_PROBING && fk.nprobes == 1, "probing");
	CHECK_EQ(dhcp_client_arp(&c, 1500, 2, mac, yi, yi), -ENOMSG,
		 "our own MAC is no conflict");
	CHECK_EQ(dhcp_client_arp(&c, 1500, 2, other_mac, ip("192.0.2.7"),
				 ip("192.0.2.1")),
		 -ENOMSG, "ARP about another address ignored");
	CHECK_EQ(dhcp_client_arp(&c, 1500, 1, other_mac, ip("192.0.2.7"), yi),
		 -ENOMSG, "a host asking for our address (not a probe) is no conflict");
	CHECK_EQ(dhcp_client_arp(&c, 1500, 2, other_mac, yi, ip("192.0.2.1")),
		 0, "ARP reply from another MAC using the address: conflict");
	s = last();
	CHECK(msg_type(s) == DHCP_DECLINE && opt_addr(s, DHCP_OPT_REQUESTED_IP) == yi &&
		      opt_addr(s, DHCP_OPT_SERVER_ID) == ip("192.0.2.1") &&
		      field32(s, DHCP_MSG_OFF_CIADDR) == 0 &&
		      s->dst_ip == htonl(INADDR_BROADCAST) && s->src_ip == 0 &&
		      opt(s, DHCP_OPT_PRL, NULL) < 0,
	      "DECLINE: 50 = address, 54 = server, ciaddr 0, broadcast, no 55");
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_CONFLICT &&
		      fk.nevents == 1 && fk.events[0] == DHCP_EV_LOST,
	      "conflict: LOST, never BOUND");

	reset(15);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 10, DHCP_OFFER);
	feed(&c, 20, DHCP_ACK);
	CHECK_EQ(dhcp_client_arp(&c, 30, 1, other_mac, 0, yi), 0,
		 "another host's probe for the address: conflict");
	CHECK(c.retire_reason == DHCP_RETIRE_CONFLICT &&
		      msg_type(last()) == DHCP_DECLINE,
	      "probe conflict declined");

	reset(16);
	to_bound(&c, &p);
	CHECK_EQ(dhcp_client_arp(&c, 30, 2, other_mac, yi, yi), -ENOMSG,
		 "ARP after BOUND is not the client's business");
}

static void test_release(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct sent *s;

	reset(17);
	to_bound(&c, &p);
	CHECK_EQ(dhcp_client_release(&c, 5000), 0, "release");
	s = last();
	CHECK(fk.nsent == 3 && msg_type(s) == DHCP_RELEASE,
	      "release sends DHCPRELEASE");
	CHECK(s->dst_ip == ip("192.0.2.1") && s->dst_mac_set &&
		      !memcmp(s->dst_mac, server_mac, 6) &&
		      s->src_ip == ip("192.0.2.134") &&
		      field32(s, DHCP_MSG_OFF_CIADDR) == ip("192.0.2.134") &&
		      opt_addr(s, DHCP_OPT_SERVER_ID) == ip("192.0.2.1") &&
		      opt(s, DHCP_OPT_REQUESTED_IP, NULL) < 0,
	      "RELEASE: unicast to the server, ciaddr, 54, no 50");
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_RELEASED &&
		      fk.nevents == 1 && dhcp_client_deadline(&c) == UINT64_MAX,
	      "released: RETIRED, no LOST event");
	CHECK_EQ(dhcp_client_release(&c, 6000), 0, "second release is a no-op");
	CHECK_EQ(fk.nsent, 3, "nothing sent twice");

	reset(18);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	dhcp_client_release(&c, 10);
	CHECK(fk.nsent == 1 && c.state == DHCP_RETIRED,
	      "release while SELECTING sends nothing (no lease)");

	/* The ACK may be on its way: what was requested is released. */
	reset(19);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_start(&c, 0);
	feed(&c, 10, DHCP_OFFER);
	dhcp_client_release(&c, 20);
	s = last();
	CHECK(fk.nsent == 3 && msg_type(s) == DHCP_RELEASE &&
		      field32(s, DHCP_MSG_OFF_CIADDR) == ip("192.0.2.134") &&
		      opt_addr(s, DHCP_OPT_SERVER_ID) == ip("192.0.2.1") &&
		      s->dst_ip == ip("192.0.2.1") && !s->dst_mac_set,
	      "release while REQUESTING: RELEASE of the offered address to the "
	      "server's IP (its MAC is not known yet)");
	CHECK(c.state == DHCP_RETIRED && fk.nevents == 0,
	      "... RETIRED, no event");
}

/* A lease stored by an earlier psvd: BOUND without an event, renewing at
 * the stored T1 (unicast to the stored server), or retired if it ended. */
static void test_resume(void)
{
	struct dhcp_params p = short_params();
	struct dhcp_client c;
	struct dhcp_lease l = {
		.yiaddr = ip("192.0.2.134"), .server_id = ip("192.0.2.1"),
		.start_ms = 1000000, .lease_s = 120, .t1_s = 60, .t2_s = 105,
	};

	memcpy(l.server_mac, server_mac, 6);
	reset(11);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	CHECK_EQ(dhcp_client_resume(&c, &l), 0, "resume a stored lease");
	CHECK(c.state == DHCP_BOUND && fk.nevents == 0 && fk.nsent == 0,
	      "resumed: BOUND, no event, nothing sent");
	CHECK(c.t1_ms == 1060000 && c.t2_ms == 1105000 && c.expire_ms == 1120000,
	      "T1, T2 and expiry count from the stored start");
	CHECK_EQ(dhcp_client_deadline(&c), 1060000, "next deadline is T1");
	dhcp_client_timeout(&c, 1060000);
	CHECK(c.state == DHCP_RENEWING && fk.nsent == 1 &&
		      msg_type(last()) == DHCP_REQUEST &&
		      last()->dst_ip == ip("192.0.2.1") && last()->dst_mac_set &&
		      !memcmp(last()->dst_mac, server_mac, 6),
	      "at T1 the resumed lease renews by unicast to its server");
	CHECK_EQ(dhcp_client_resume(&c, &l), -EINVAL,
		 "resume refused unless STOPPED");

	/* An acquisition stored before its ACK has no server MAC. */
	reset(14);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	memset(l.server_mac, 0, 6);
	dhcp_client_resume(&c, &l);
	dhcp_client_release(&c, 1000001);
	CHECK(fk.nsent == 1 && msg_type(last()) == DHCP_RELEASE &&
		      last()->dst_ip == ip("192.0.2.1") && !last()->dst_mac_set,
	      "a lease stored without server MAC is released to the broadcast MAC");
	memcpy(l.server_mac, server_mac, 6);

	reset(12);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	dhcp_client_resume(&c, &l);
	dhcp_client_timeout(&c, 1120000);
	CHECK(c.state == DHCP_RETIRED && c.retire_reason == DHCP_RETIRE_EXPIRED &&
		      fk.nevents == 1 && fk.events[0] == DHCP_EV_LOST,
	      "a lease that ended while psvd was down is lost at once");

	reset(13);
	dhcp_client_init(&c, mac, &p, &fake_ops, &fk);
	l.t1_s = 110;
	CHECK_EQ(dhcp_client_resume(&c, &l), -EINVAL, "T1 after T2 refused");
	l.t1_s = 60;
	l.yiaddr = 0;
	CHECK_EQ(dhcp_client_resume(&c, &l), -EINVAL, "no address refused");
}

static void test_names(void)
{
	CHECK(!strcmp(dhcp_state_name(DHCP_REBINDING), "rebinding") &&
		      !strcmp(dhcp_state_name(99), "unknown") &&
		      !strcmp(dhcp_retire_reason_name(DHCP_RETIRE_CONFLICT),
			      "address conflict"),
	      "state and reason names");
}

int main(void)
{
	test_dora_probe();
	test_retransmit();
	test_requesting_gives_up();
	test_ignored();
	test_nak();
	test_rogue();
	test_renew();
	test_rebind();
	test_nak_renewing();
	test_late_timer();
	test_lease_times();
	test_conflict();
	test_release();
	test_resume();
	test_names();
	return check_exit();
}
