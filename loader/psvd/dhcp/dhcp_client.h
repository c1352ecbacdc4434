/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_client.h - one DHCPv4 client (RFC 2131) per identity, as a state
 * machine without threads, sockets or clocks of its own.  psvd's event
 * loop owns every client: it passes the current monotonic time (ms) into
 * each call, calls dhcp_client_timeout() once now >= dhcp_client_deadline(),
 * feeds received payloads and ARP frames in, and gets messages and events
 * out through struct dhcp_ops (tests and the fuzzer supply their own).
 *
 *   STOPPED --start--> SELECTING --OFFER--> REQUESTING (REQUESTING)
 *   REQUESTING --ACK--> PROBING
 *   PROBING --no conflict--> BOUND --T1--> RENEWING --T2--> REBINDING
 *   RENEWING/REBINDING --ACK--> BOUND (RENEWED)
 *   REQUESTING/RENEWING/REBINDING --NAK--> RETIRED (LOST)
 *   PROBING --ARP conflict (RFC 5227)--> DECLINE, RETIRED (LOST)
 *   SELECTING/REQUESTING --no reply after max_tries--> RETIRED (LOST)
 *   REBINDING --lease expiry--> RETIRED (LOST)
 *   any --dhcp_client_release()--> RELEASE if an offer was taken (the ACK
 *       may be on its way) or leased, RETIRED (no event)
 *
 * At BOUND the address has passed the RFC 5227 probe; announcing it
 * (link_socket_send_arp() with sender = target = the address) and
 * defending it later are the daemon's and the dataplane's job.  Renewal replies are unicast
 * to the leased address, so by T1 something must answer ARP for it and
 * let UDP 67 -> 68 to it reach the packet socket.
 *
 * RETIRED is final: an identity whose lease ended never asks again (its
 * MAC would link the old and the new address).  There is no INIT-REBOOT
 * and no start-up delay: the daemon paces new identities itself.
 * Addresses are network byte order; times are monotonic ms.
 */
#ifndef PSV_DHCP_CLIENT_H
#define PSV_DHCP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dhcp_state {
	DHCP_STOPPED = 0,	/* initialized, not started */
	DHCP_SELECTING,		/* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING,	/* REQUEST sent, waiting for the ACK */
	DHCP_PROBING,		/* leased, ARP-probing the address (RFC 5227) */
	DHCP_BOUND,
	DHCP_RENEWING,		/* T1 passed: unicast REQUEST to the server */
	DHCP_REBINDING,		/* T2 passed: broadcast REQUEST */
	DHCP_RETIRED,		/* final; see retire_reason */
};

enum dhcp_event {
	DHCP_EV_REQUESTING,	/* an offer taken (yiaddr, server_id): the
				 * REQUEST leaves right after the event */
	DHCP_EV_BOUND,		/* lease usable: yiaddr, server_id, expire_ms */
	DHCP_EV_RENEWED,	/* lease extended: new expire_ms */
	DHCP_EV_LOST,		/* retire the identity; see retire_reason */
};

enum dhcp_retire_reason {
	DHCP_RETIRE_NONE = 0,
	DHCP_RETIRE_NO_OFFER,	/* SELECTING ran out of tries */
	DHCP_RETIRE_NO_ACK,	/* REQUESTING ran out of tries */
	DHCP_RETIRE_NAK,
	DHCP_RETIRE_CONFLICT,	/* ARP probe found the address in use */
	DHCP_RETIRE_EXPIRED,	/* rebinding failed until the lease ended */
	DHCP_RETIRE_RELEASED,	/* dhcp_client_release() */
};

/*
 * Timings.  dhcp_params_default() gives the RFC values; tests and the
 * testbed shorten them.
 */
struct dhcp_params {
	uint32_t retrans_base_ms;	/* 4000: first retransmission wait */
	uint32_t retrans_max_ms;	/* 64000: waits double up to this */
	uint32_t jitter_ms;		/* 1000: each wait +- uniform jitter */
	uint32_t max_tries;		/* 6: DISCOVERs, then REQUESTs, sent
					 * before giving up (4+8+16+32+64+64 s) */
	uint32_t renew_min_ms;		/* 60000: RENEWING/REBINDING resend
					 * floor (RFC 2131 4.4.5) */
	uint32_t probe_wait_ms;		/* 1000: RFC 5227 PROBE_WAIT */
	uint32_t probe_num;		/* 3: PROBE_NUM */
	uint32_t probe_min_ms;		/* 1000: PROBE_MIN */
	uint32_t probe_max_ms;		/* 2000: PROBE_MAX */
	uint32_t announce_wait_ms;	/* 2000: ANNOUNCE_WAIT after the last
					 * probe before the address is used */
	bool skip_probe;		/* BOUND right after the ACK */
};

void dhcp_params_default(struct dhcp_params *p);

struct dhcp_client;

/*
 * The client's way out.  send and send_arp_probe return 0 or -errno; a
 * failed send counts in tx_errors and is retried like a lost packet.
 * event runs inside the call that caused it: it must not free c (retire
 * the identity after that call returns; c->state is DHCP_RETIRED then).
 * random fills buf; NULL means getrandom(2).
 */
struct dhcp_ops {
	/* A DHCP payload for UDP 68 -> 67, from c->mac.  src_ip is 0 or the
	 * leased address; dst_mac NULL means broadcast. */
	int (*send)(void *ctx, struct dhcp_client *c, const void *payload,
		    size_t len, uint32_t src_ip, uint32_t dst_ip,
		    const uint8_t *dst_mac);
	/* An ARP probe from c->mac for target_ip (RFC 5227 2.1.1). */
	int (*send_arp_probe)(void *ctx, struct dhcp_client *c,
			      uint32_t target_ip);
	void (*event)(void *ctx, struct dhcp_client *c, enum dhcp_event ev);
	void (*random)(void *ctx, void *buf, size_t len);
};

/* Counters for psvctl stats. */
struct dhcp_client_stats {
	uint64_t tx;			/* messages handed to ops->send */
	uint64_t tx_errors;		/* of those, failed */
	uint64_t rx_accepted;		/* replies that moved the client */
	uint64_t rx_malformed;		/* dhcp_msg_parse() refused */
	uint64_t rx_bad_xid;
	uint64_t rx_bad_chaddr;
	uint64_t rx_ignored;		/* valid, but not for this state */
	uint64_t arp_probes;		/* probes sent */
	uint64_t naks;			/* NAKs that retired the client */
	uint64_t no_offers;		/* SELECTING gave up: no server
					 * offered an address */
};

struct dhcp_client {
	enum dhcp_state state;
	enum dhcp_retire_reason retire_reason;
	uint8_t mac[6];
	uint8_t server_mac[6];		/* L2 source of the last ACK */
	bool have_server_mac;
	uint32_t xid;			/* the current exchange's */
	uint32_t server_id;
	uint32_t yiaddr;		/* offered, then leased address */
	uint32_t lease_s, t1_s, t2_s;	/* as granted (T1/T2 derived if
					 * the server sent none) */
	uint64_t t1_ms, t2_ms, expire_ms; /* absolute; UINT64_MAX if the
					 * lease is infinite */
	uint64_t exchange_start_ms;	/* for the secs field */
	uint64_t request_sent_ms;	/* the exchange's first REQUEST: the
					 * lease counts from it (RFC 2131
					 * 4.4.1) */
	uint64_t deadline_ms;		/* UINT64_MAX: nothing to wait for */
	uint32_t tries;			/* sends in this exchange / probes */
	struct dhcp_params params;
	const struct dhcp_ops *ops;
	void *ctx;
	struct dhcp_client_stats stats;
};

void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6],
		      const struct dhcp_params *params,
		      const struct dhcp_ops *ops, void *ctx);
/* Sends the first DISCOVER (fresh xid).  -EINVAL unless STOPPED. */
int dhcp_client_start(struct dhcp_client *c, uint64_t now_ms);
/*
 * A DHCP payload (after the UDP header) whose chaddr matched c.
 * src_mac is the frame's Ethernet source (the server or its relay:
 * RENEWING and RELEASE unicast to it); NULL if unknown.  Returns 0 if
 * the reply was used, -EBADMSG/-EMSGSIZE if malformed, -ENOMSG if
 * ignored (wrong xid or chaddr, or not expected in this state); each
 * counted in c->stats.
 */
int dhcp_client_receive(struct dhcp_client *c, uint64_t now_ms,
			const void *payload, size_t len,
			const uint8_t *src_mac);
/*
 * An ARP frame seen on the link (op 1 request, 2 reply).  While PROBING,
 * a conflict (RFC 5227 2.1.1: any ARP whose sender IP is ours, or a probe
 * for ours, from another MAC) sends DHCPDECLINE and retires the client:
 * returns 0 then, -ENOMSG if the frame meant nothing to this client.
 */
int dhcp_client_arp(struct dhcp_client *c, uint64_t now_ms, uint16_t op,
		    const uint8_t *sender_mac, uint32_t sender_ip,
		    uint32_t target_ip);
/* When the client next needs dhcp_client_timeout(); UINT64_MAX if never. */
uint64_t dhcp_client_deadline(const struct dhcp_client *c);
/* Retransmits, probes, or moves on (T1, T2, expiry); call when due. */
void dhcp_client_timeout(struct dhcp_client *c, uint64_t now_ms);
/* A lease a previous psvd obtained, as the daemon stored it. */
struct dhcp_lease {
	uint32_t yiaddr, server_id;
	uint8_t server_mac[6];
	uint64_t start_ms;		/* monotonic: when the lease counts from */
	uint32_t lease_s, t1_s, t2_s;
};

/*
 * Resumes a stored lease after a psvd restart: a STOPPED client goes
 * straight to BOUND (no event) and renews at T1 as if it had never
 * stopped.  -EINVAL unless STOPPED or if the times are inconsistent.
 */
int dhcp_client_resume(struct dhcp_client *c, const struct dhcp_lease *l);

/*
 * The daemon retires the identity: DHCPRELEASE (unicast to the server)
 * if an address is leased, then RETIRED without an event.  Returns the
 * send's error, if any; the client is retired either way.
 */
int dhcp_client_release(struct dhcp_client *c, uint64_t now_ms);

const char *dhcp_state_name(enum dhcp_state s);
const char *dhcp_retire_reason_name(enum dhcp_retire_reason r);

#endif /* PSV_DHCP_CLIENT_H */
