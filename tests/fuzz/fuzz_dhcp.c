// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_dhcp.c - libFuzzer target for everything psvd reads from the DHCP
 * socket: the reply parser, dhcp_client_receive() in every client state
 * (the input as is, and with the client's xid and chaddr patched in so it
 * gets past the first checks), dhcp_client_arp(), and the socket's frame
 * validator and dispatch on whole Ethernet frames.  I/O is stubbed;
 * randomness is a counter reset for every input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/dhcp_canned.h"
#include "psvd/dhcp/dhcp_client.h"
#include "psvd/dhcp/dhcp_msg.h"
#include "psvd/link/link_socket.h"
#include "../unit/one_client_rx.h"

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t srv_mac[6] = { 0x02, 0x53, 0, 0, 0, 1 };

static int stub_send(void *ctx, struct dhcp_client *c, const void *payload,
		     size_t len, uint32_t src_ip, uint32_t dst_ip,
		     const uint8_t *dst_mac)
{
	(void)ctx, (void)c, (void)src_ip, (void)dst_ip, (void)dst_mac;
	/* Everything the client sends must be a well-formed request. */
	if (len < DHCP_MSG_MIN_LEN || len > DHCP_MSG_BUILD_MAX ||
	    ((const uint8_t *)payload)[0] != DHCP_BOOTREQUEST)
		__builtin_trap();
	return 0;
}

static int stub_probe(void *ctx, struct dhcp_client *c, uint32_t ip)
{
	(void)ctx, (void)c, (void)ip;
	return 0;
}

static void stub_event(void *ctx, struct dhcp_client *c, enum dhcp_event ev)
{
	(void)ctx;
	if (ev == DHCP_EV_REQUESTING ?
	    c->state != DHCP_REQUESTING || !c->yiaddr || !c->server_id :
	    ev != DHCP_EV_LOST && (c->state != DHCP_BOUND || !c->yiaddr))
		__builtin_trap();
}

/* Reset for every input, so an input always replays the same way. */
static uint8_t rand_state;

static void stub_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	while (len--)
		*p++ = rand_state += 0x9d;
}

static const struct dhcp_ops stub_ops = {
	.send = stub_send,
	.send_arp_probe = stub_probe,
	.event = stub_event,
	.random = stub_random,
};

static void feed_canned(struct dhcp_client *c, uint64_t now, uint8_t type)
{
	uint8_t buf[CANNED_LEN];

	canned_for(buf, type, c->xid, mac);
	dhcp_client_receive(c, now, buf, sizeof(buf), srv_mac);
}

/* Drives a fresh client into state with canned dnsmasq replies. */
static void reach(struct dhcp_client *c, enum dhcp_state state)
{
	struct dhcp_params p;

	dhcp_params_default(&p);
	dhcp_client_init(c, mac, &p, &stub_ops, NULL);
	if (state == DHCP_STOPPED)
		return;
	dhcp_client_start(c, 0);
	if (state >= DHCP_REQUESTING)
		feed_canned(c, 10, DHCP_OFFER);
	if (state >= DHCP_PROBING)
		feed_canned(c, 20, DHCP_ACK);
	while (state >= DHCP_BOUND && c->state == DHCP_PROBING)
		dhcp_client_timeout(c, dhcp_client_deadline(c));
	if (state >= DHCP_RENEWING)
		dhcp_client_timeout(c, c->t1_ms);
	if (state >= DHCP_REBINDING)
		dhcp_client_timeout(c, c->t2_ms);
	if (state == DHCP_RETIRED)
		dhcp_client_release(c, c->t2_ms + 1);
}


static void check_invariants(const struct dhcp_client *c)
{
	if (c->state == DHCP_RETIRED && c->deadline_ms != UINT64_MAX)
		__builtin_trap();
	if (c->state == DHCP_BOUND &&
	    (c->t1_ms > c->t2_ms || c->t2_ms > c->expire_ms))
		__builtin_trap();
}

/*
 * The input as a whole frame through the socket's validator and dispatch
 * (UDP checksum unchecked, as for offloaded frames, so mutations reach
 * the client), and as the payload of a valid server frame.
 */
static void dispatch_frames(struct dhcp_client *c, uint64_t now,
			    const uint8_t *data, size_t size)
{
	struct one_client one = { .c = c, .any = true };
	struct link_socket s = { .fd = -1, .rx = &one_client_rx, .ctx = &one };
	struct link_frame f;
	uint8_t *frame;
	int len;

	link_socket_dispatch(&s, now, data, size, 0);
	link_socket_dispatch(&s, now, data, size, LINK_FRAME_CSUM_PARTIAL);
	frame = malloc(LINK_FRAME_MAX);
	if (!frame)
		return;
	len = link_frame_build_udp(frame, LINK_FRAME_MAX, srv_mac, NULL, 0, 0,
				   data, size);
	if (len > 0) {
		/* Server to client: swapping the ports keeps the sum. */
		frame[35] = DHCP_SERVER_PORT;
		frame[37] = DHCP_CLIENT_PORT;
		if (link_frame_parse(frame, len, 0, &f) != LINK_FRAME_DHCP ||
		    f.len != size)
			__builtin_trap();	/* a frame we built refused */
		link_socket_dispatch(&s, now, frame, len, 0);
	}
	free(frame);
}

static void run_client(enum dhcp_state state, const uint8_t *data,
		       size_t size, bool patch)
{
	struct dhcp_client c;
	uint8_t *copy;
	uint64_t now;

	reach(&c, state);
	/* An exact-size copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return;
	memcpy(copy, data, size);
	if (patch && size >= DHCP_MSG_OFF_CHADDR + 6) {
		copy[4] = c.xid >> 24;
		copy[5] = c.xid >> 16;
		copy[6] = c.xid >> 8;
		copy[7] = c.xid;
		memcpy(copy + DHCP_MSG_OFF_CHADDR, mac, 6);
	}
	now = c.exchange_start_ms + 1;
	dhcp_client_receive(&c, now, copy, size, size & 1 ? srv_mac : NULL);
	check_invariants(&c);
	dispatch_frames(&c, now, copy, size);
	check_invariants(&c);
	if (size >= 10) {
		uint32_t sip, tip;

		memcpy(&sip, copy + 2, 4);
		memcpy(&tip, copy + 6, 4);
		dhcp_client_arp(&c, now, copy[0] & 3, copy + 4, sip, tip);
		dhcp_client_arp(&c, now, 1, srv_mac, 0, c.yiaddr);
	}
	check_invariants(&c);
	if (dhcp_client_deadline(&c) != UINT64_MAX)
		dhcp_client_timeout(&c, dhcp_client_deadline(&c));
	check_invariants(&c);
	dhcp_client_release(&c, now + 1);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_msg m;
	int s;

	dhcp_msg_parse(data, size, &m);
	rand_state = 0;
	for (s = DHCP_STOPPED; s <= DHCP_RETIRED; s++) {
		run_client(s, data, size, false);
		run_client(s, data, size, true);
	}
	return 0;
}
