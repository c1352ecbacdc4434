// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dhcp_client.c - the per-identity DHCPv4 state machine (RFC 2131) with
 * the RFC 5227 address probe.  See dhcp_client.h for the states.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "psvd/dhcp/dhcp_client.h"
#include "psvd/dhcp/dhcp_msg.h"
#include "common/log.h"

#define NEVER UINT64_MAX
#define INFINITE_LEASE 0xffffffffu	/* RFC 2132 9.2 */

void dhcp_params_default(struct dhcp_params *p)
{
	*p = (struct dhcp_params){
		.retrans_base_ms = 4000,	/* RFC 2131 4.1 */
		.retrans_max_ms = 64000,
		.jitter_ms = 1000,
		.max_tries = 6,
		.renew_min_ms = 60000,		/* RFC 2131 4.4.5 */
		.probe_wait_ms = 1000,		/* RFC 5227 1.1 */
		.probe_num = 3,
		.probe_min_ms = 1000,
		.probe_max_ms = 2000,
		.announce_wait_ms = 2000,
	};
}

static void fill_random(struct dhcp_client *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ops->random) {
		c->ops->random(c->ctx, buf, len);
		return;
	}
	do {
		n = getrandom(buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		/* Guessable xids would let anyone on the LAN spoof replies. */
		log_err("dhcp: getrandom: %s",
			n < 0 ? strerror(errno) : "short read");
		abort();
	}
}

static uint32_t random_u32(struct dhcp_client *c)
{
	uint32_t v;

	fill_random(c, &v, sizeof(v));
	return v;
}

/* Uniform in [lo, hi] (the modulo bias is far below a millisecond). */
static uint64_t random_between(struct dhcp_client *c, uint64_t lo,
			       uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + random_u32(c) % (hi - lo + 1);
}

void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6],
		      const struct dhcp_params *params,
		      const struct dhcp_ops *ops, void *ctx)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	c->params = *params;
	c->ops = ops;
	c->ctx = ctx;
	c->deadline_ms = NEVER;
}

/*
 * Builds and sends one message; its fields follow RFC 2131 table 5 for
 * the message type and state.  The broadcast flag is set while ciaddr is
 * 0: the host's stack does not own the address being acquired.
 */
static int transmit(struct dhcp_client *c, uint64_t now_ms, uint8_t type)
{
	struct dhcp_msg_out out = { .type = type, .xid = c->xid };
	uint8_t buf[DHCP_MSG_BUILD_MAX];
	bool unicast = false;
	uint32_t dst_ip;
	int len, err;

	switch (type) {
	case DHCP_DISCOVER:
		out.broadcast = true;
		break;
	case DHCP_REQUEST:
		if (c->state == DHCP_REQUESTING) {
			out.broadcast = true;
			out.requested_ip = c->yiaddr;
			out.server_id = c->server_id;
		} else {
			/* RENEWING unicasts, REBINDING broadcasts (4.4.5). */
			out.ciaddr = c->yiaddr;
			unicast = c->state == DHCP_RENEWING;
		}
		break;
	case DHCP_DECLINE:
		out.requested_ip = c->yiaddr;
		out.server_id = c->server_id;
		break;
	case DHCP_RELEASE:
		out.ciaddr = c->yiaddr;
		out.server_id = c->server_id;
		unicast = true;
		break;
	}
	if (type == DHCP_DISCOVER || type == DHCP_REQUEST) {
		uint64_t secs = (now_ms - c->exchange_start_ms) / 1000;

		out.secs = secs > 0xffff ? 0xffff : secs;
	}

	len = dhcp_msg_build(buf, sizeof(buf), c->mac, &out);
	if (len < 0)
		return len;
	dst_ip = unicast ? c->server_id : htonl(INADDR_BROADCAST);
	err = c->ops->send(c->ctx, c, buf, len, out.ciaddr, dst_ip,
			   unicast && c->have_server_mac ? c->server_mac :
							   NULL);
	c->stats.tx++;
	if (err)
		c->stats.tx_errors++;
	return err;
}

static void retire(struct dhcp_client *c, enum dhcp_retire_reason why,
		   bool notify)
{
	c->state = DHCP_RETIRED;
	c->retire_reason = why;
	c->stats.naks += why == DHCP_RETIRE_NAK;
	c->stats.no_offers += why == DHCP_RETIRE_NO_OFFER;
	c->deadline_ms = NEVER;
	if (notify)
		c->ops->event(c->ctx, c, DHCP_EV_LOST);
}

/* RFC 2131 4.1: waits of 4 s doubling up to 64 s, each +- 1 s. */
static uint64_t backoff_ms(struct dhcp_client *c)
{
	const struct dhcp_params *p = &c->params;
	uint64_t wait = p->retrans_base_ms;
	uint32_t n;

	for (n = 1; n < c->tries && wait < p->retrans_max_ms; n++)
		wait *= 2;
	if (wait > p->retrans_max_ms)
		wait = p->retrans_max_ms;
	return random_between(c, wait > p->jitter_ms ? wait - p->jitter_ms : 0,
			      wait + p->jitter_ms);
}

/* SELECTING and REQUESTING: (re)send, or give up after max_tries. */
static void resend(struct dhcp_client *c, uint64_t now_ms)
{
	bool selecting = c->state == DHCP_SELECTING;

	if (c->tries >= c->params.max_tries) {
		retire(c, selecting ? DHCP_RETIRE_NO_OFFER : DHCP_RETIRE_NO_ACK,
		       true);
		return;
	}
	transmit(c, now_ms, selecting ? DHCP_DISCOVER : DHCP_REQUEST);
	c->tries++;
	c->deadline_ms = now_ms + backoff_ms(c);
}

/*
 * RENEWING and REBINDING: RFC 2131 4.4.5 resends after half the time
 * left until T2 (RENEWING) or expiry (REBINDING), at least renew_min_ms,
 * and never past that limit, where the next state takes over.
 */
static void resend_lease(struct dhcp_client *c, uint64_t now_ms)
{
	uint64_t limit = c->state == DHCP_RENEWING ? c->t2_ms : c->expire_ms;
	uint64_t wait = (limit - now_ms) / 2;

	transmit(c, now_ms, DHCP_REQUEST);
	c->tries++;
	if (wait < c->params.renew_min_ms)
		wait = c->params.renew_min_ms;
	c->deadline_ms = wait > limit - now_ms ? limit : now_ms + wait;
}

/* A new exchange: fresh xid, so replies to an older one are ignored. */
static void begin_exchange(struct dhcp_client *c, uint64_t now_ms,
			   enum dhcp_state state)
{
	c->state = state;
	c->xid = random_u32(c);
	c->tries = 0;
	c->exchange_start_ms = now_ms;
	c->request_sent_ms = now_ms;
}

int dhcp_client_start(struct dhcp_client *c, uint64_t now_ms)
{
	if (c->state != DHCP_STOPPED)
		return -EINVAL;
	begin_exchange(c, now_ms, DHCP_SELECTING);
	resend(c, now_ms);
	return 0;
}

static void enter_bound(struct dhcp_client *c, enum dhcp_event ev)
{
	c->state = DHCP_BOUND;
	c->tries = 0;
	c->deadline_ms = c->t1_ms;
	c->ops->event(c->ctx, c, ev);
}

/* RFC 5227 2.1.1: wait 0..PROBE_WAIT, then PROBE_NUM probes. */
static void enter_probing(struct dhcp_client *c, uint64_t now_ms)
{
	c->state = DHCP_PROBING;
	c->tries = 0;
	c->deadline_ms = now_ms + random_between(c, 0, c->params.probe_wait_ms);
}

static void probe_timeout(struct dhcp_client *c, uint64_t now_ms)
{
	const struct dhcp_params *p = &c->params;

	if (c->tries >= p->probe_num) {
		/* ANNOUNCE_WAIT passed without a conflict: the address is
		 * ours; the daemon announces it (RFC 5227 2.3). */
		enter_bound(c, DHCP_EV_BOUND);
		return;
	}
	if (c->ops->send_arp_probe(c->ctx, c, c->yiaddr))
		c->stats.tx_errors++;
	c->stats.arp_probes++;
	c->tries++;
	if (c->tries < p->probe_num)
		c->deadline_ms = now_ms + random_between(c, p->probe_min_ms,
							 p->probe_max_ms);
	else
		c->deadline_ms = now_ms + p->announce_wait_ms;
}

static uint64_t after_s(uint64_t start_ms, uint32_t secs)
{
	return start_ms + (uint64_t)secs * 1000;
}

/* Lease, T1, T2 in seconds from c->request_sent_ms. */
static void set_lease_times(struct dhcp_client *c, uint32_t lease, uint32_t t1,
			    uint32_t t2)
{
	c->lease_s = lease;
	c->t1_s = t1;
	c->t2_s = t2;
	if (lease == INFINITE_LEASE) {
		c->t1_ms = c->t2_ms = c->expire_ms = NEVER;
	} else {
		c->t1_ms = after_s(c->request_sent_ms, t1);
		c->t2_ms = after_s(c->request_sent_ms, t2);
		c->expire_ms = after_s(c->request_sent_ms, lease);
	}
}

/*
 * Takes the lease an ACK grants.  RFC 2131 4.4.5: T1 and T2 default to
 * 0.5 and 0.875 of the lease; a server's T2 not below the lease or T1
 * not below T2 is replaced by the default, and T1 never exceeds T2.
 * The lease counts from the exchange's first REQUEST (4.4.1).
 */
static int take_lease(struct dhcp_client *c, const struct dhcp_msg *m,
		      const uint8_t *src_mac)
{
	uint32_t lease = m->lease_s, t1, t2;

	if (!(m->have & DHCP_HAVE_LEASE))
		return -ENOMSG;		/* RFC 2131 table 3: MUST */
	t2 = (uint64_t)lease * 7 / 8;
	if ((m->have & DHCP_HAVE_T2) && m->t2_s < lease)
		t2 = m->t2_s;
	t1 = lease / 2;
	if ((m->have & DHCP_HAVE_T1) && m->t1_s < t2)
		t1 = m->t1_s;
	if (t1 > t2)
		t1 = t2;
	set_lease_times(c, lease, t1, t2);
	if (m->have & DHCP_HAVE_SERVER_ID)
		c->server_id = m->server_id;
	if (src_mac) {
		memcpy(c->server_mac, src_mac, 6);
		c->have_server_mac = true;
	}
	return 0;
}

/* An address a server may hand out: not 0, broadcast, loopback, class D/E. */
static bool usable_addr(uint32_t addr)
{
	uint8_t first = ntohl(addr) >> 24;

	return addr != 0 && first != 127 && first < 224;
}

static int on_offer(struct dhcp_client *c, uint64_t now_ms,
		    const struct dhcp_msg *m)
{
	if (!usable_addr(m->yiaddr) || !(m->have & DHCP_HAVE_SERVER_ID) ||
	    !m->server_id)
		return -ENOMSG;
	/* The first acceptable offer wins (RFC 2131 4.4.1 allows it). */
	c->yiaddr = m->yiaddr;
	c->server_id = m->server_id;
	c->state = DHCP_REQUESTING;
	c->tries = 0;
	c->request_sent_ms = now_ms;
	c->ops->event(c->ctx, c, DHCP_EV_REQUESTING);
	resend(c, now_ms);
	return 0;
}

/* Only the chosen server speaks, except in REBINDING (any server). */
static bool from_our_server(const struct dhcp_client *c,
			    const struct dhcp_msg *m)
{
	return c->state == DHCP_REBINDING ||
	       !(m->have & DHCP_HAVE_SERVER_ID) ||
	       m->server_id == c->server_id;
}

static int on_ack(struct dhcp_client *c, uint64_t now_ms,
		  const struct dhcp_msg *m, const uint8_t *src_mac)
{
	bool first = c->state == DHCP_REQUESTING;
	int err;

	if (m->yiaddr != c->yiaddr || !from_our_server(c, m))
		return -ENOMSG;
	err = take_lease(c, m, src_mac);
	if (err)
		return err;
	if (!first)
		enter_bound(c, DHCP_EV_RENEWED);
	else if (c->params.skip_probe)
		enter_bound(c, DHCP_EV_BOUND);
	else
		enter_probing(c, now_ms);
	return 0;
}

static int on_nak(struct dhcp_client *c, const struct dhcp_msg *m)
{
	if (!from_our_server(c, m))
		return -ENOMSG;
	retire(c, DHCP_RETIRE_NAK, true);
	return 0;
}

static int dispatch(struct dhcp_client *c, uint64_t now_ms,
		    const struct dhcp_msg *m, const uint8_t *src_mac)
{
	switch (c->state) {
	case DHCP_SELECTING:
		return m->type == DHCP_OFFER ? on_offer(c, now_ms, m) : -ENOMSG;
	case DHCP_REQUESTING:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (m->type == DHCP_ACK)
			return on_ack(c, now_ms, m, src_mac);
		if (m->type == DHCP_NAK)
			return on_nak(c, m);
		return -ENOMSG;
	default:
		return -ENOMSG;
	}
}

int dhcp_client_receive(struct dhcp_client *c, uint64_t now_ms,
			const void *payload, size_t len,
			const uint8_t *src_mac)
{
	struct dhcp_msg m;
	int err;

	err = dhcp_msg_parse(payload, len, &m);
	if (err) {
		c->stats.rx_malformed++;
		return err;
	}
	if (m.xid != c->xid) {
		c->stats.rx_bad_xid++;
		return -ENOMSG;
	}
	if (memcmp(m.chaddr, c->mac, 6)) {
		c->stats.rx_bad_chaddr++;
		return -ENOMSG;
	}
	err = dispatch(c, now_ms, &m, src_mac);
	if (err)
		c->stats.rx_ignored++;
	else
		c->stats.rx_accepted++;
	return err;
}

int dhcp_client_arp(struct dhcp_client *c, uint64_t now_ms, uint16_t op,
		    const uint8_t *sender_mac, uint32_t sender_ip,
		    uint32_t target_ip)
{
	bool probe_for_ours;

	if (c->state != DHCP_PROBING || !memcmp(sender_mac, c->mac, 6))
		return -ENOMSG;
	/* RFC 5227 2.1.1: a sender using the address, or another host
	 * probing for it at the same time. */
	probe_for_ours = op == 1 && sender_ip == 0 && target_ip == c->yiaddr;
	if (sender_ip != c->yiaddr && !probe_for_ours)
		return -ENOMSG;
	c->xid = random_u32(c);
	transmit(c, now_ms, DHCP_DECLINE);
	retire(c, DHCP_RETIRE_CONFLICT, true);
	return 0;
}

uint64_t dhcp_client_deadline(const struct dhcp_client *c)
{
	return c->deadline_ms;
}

/* BOUND, RENEWING, REBINDING: T1 and T2 reached, or the lease ended. */
static void lease_timeout(struct dhcp_client *c, uint64_t now_ms)
{
	enum dhcp_state next;

	if (now_ms >= c->expire_ms) {
		retire(c, DHCP_RETIRE_EXPIRED, true);
		return;
	}
	/* The deadline is never before T1 in these states. */
	next = now_ms >= c->t2_ms ? DHCP_REBINDING : DHCP_RENEWING;
	if (next != c->state)
		begin_exchange(c, now_ms, next);
	resend_lease(c, now_ms);
}

void dhcp_client_timeout(struct dhcp_client *c, uint64_t now_ms)
{
	if (now_ms < c->deadline_ms)
		return;
	switch (c->state) {
	case DHCP_SELECTING:
	case DHCP_REQUESTING:
		resend(c, now_ms);
		break;
	case DHCP_PROBING:
		probe_timeout(c, now_ms);
		break;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		lease_timeout(c, now_ms);
		break;
	default:
		break;
	}
}

int dhcp_client_resume(struct dhcp_client *c, const struct dhcp_lease *l)
{
	if (c->state != DHCP_STOPPED || !l->yiaddr || l->t1_s > l->t2_s ||
	    l->t2_s > l->lease_s)
		return -EINVAL;
	c->yiaddr = l->yiaddr;
	c->server_id = l->server_id;
	memcpy(c->server_mac, l->server_mac, 6);
	/* Unknown (all zero) for an acquisition stored before its ACK. */
	c->have_server_mac = memcmp(l->server_mac, "\0\0\0\0\0", 6) != 0;
	c->request_sent_ms = l->start_ms;
	set_lease_times(c, l->lease_s, l->t1_s, l->t2_s);
	/* No event: the identity is already in use.  A lease past T1 (or
	 * past its end) is handled by the first dhcp_client_timeout(). */
	c->state = DHCP_BOUND;
	c->tries = 0;
	c->deadline_ms = c->t1_ms;
	return 0;
}

int dhcp_client_release(struct dhcp_client *c, uint64_t now_ms)
{
	int err = 0;

	switch (c->state) {
	case DHCP_RETIRED:
		return 0;
	/* The server may have sent its ACK already: release what it gave. */
	case DHCP_REQUESTING:
	case DHCP_PROBING:
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		/* RFC 2131 4.4.6: unicast to the server that leased it. */
		c->xid = random_u32(c);
		err = transmit(c, now_ms, DHCP_RELEASE);
		break;
	default:
		break;
	}
	retire(c, DHCP_RETIRE_RELEASED, false);
	return err;
}

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {
		[DHCP_STOPPED] = "stopped",	  [DHCP_SELECTING] = "selecting",
		[DHCP_REQUESTING] = "requesting", [DHCP_PROBING] = "probing",
		[DHCP_BOUND] = "bound",		  [DHCP_RENEWING] = "renewing",
		[DHCP_REBINDING] = "rebinding",	  [DHCP_RETIRED] = "retired",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ?
		       names[s] :
		       "unknown";
}

const char *dhcp_retire_reason_name(enum dhcp_retire_reason r)
{
	static const char *const names[] = {
		[DHCP_RETIRE_NONE] = "none",
		[DHCP_RETIRE_NO_OFFER] = "no offer",
		[DHCP_RETIRE_NO_ACK] = "no ack",
		[DHCP_RETIRE_NAK] = "nak",
		[DHCP_RETIRE_CONFLICT] = "address conflict",
		[DHCP_RETIRE_EXPIRED] = "lease expired",
		[DHCP_RETIRE_RELEASED] = "released",
	};

	return (unsigned int)r < sizeof(names) / sizeof(names[0]) ?
		       names[r] :
		       "unknown";
}
