/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_socket.h - the one AF_PACKET socket every DHCP client of psvd
 * shares on the interface.  Identities own no address the host's stack
 * knows, so their DHCP and ARP frames are built whole here (Ethernet,
 * IPv4, UDP with checksums) and sent from the identity's MAC.  Received
 * frames pass a classic BPF filter (ARP, and unfragmented IPv4 UDP to
 * port 68), are re-validated in full (lengths, IHL, IPv4 and UDP
 * checksums, no fragments), and go to the client whose MAC is the reply's
 * chaddr (DHCP) or whose address the ARP frame names (RFC 5227 probing).
 *
 * The frame functions are pure and usable without a socket (tests,
 * fuzzer).  Addresses are network byte order.
 */
#ifndef PSV_DHCP_SOCKET_H
#define PSV_DHCP_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_msg.h"

struct dhcp_client;

#define DHCP_ETH_HLEN 14
#define DHCP_UDP_HLEN 8
/* The largest frame sent or accepted: Ethernet + IPv4 + UDP + payload. */
#define DHCP_FRAME_MAX (DHCP_ETH_HLEN + 20 + DHCP_UDP_HLEN + DHCP_MSG_MAX_LEN)
#define DHCP_ARP_FRAME_LEN (DHCP_ETH_HLEN + 28)
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

enum dhcp_frame_kind {
	DHCP_FRAME_DHCP = 1,	/* IPv4 UDP 67 -> 68 */
	DHCP_FRAME_ARP = 2,	/* Ethernet/IPv4 ARP */
};

/* A validated frame; pointers point into the caller's buffer. */
struct dhcp_frame {
	enum dhcp_frame_kind kind;
	uint8_t src_mac[6];		/* Ethernet source */
	/* DHCP_FRAME_DHCP */
	uint32_t ip_src, ip_dst;
	const uint8_t *payload;		/* the DHCP message */
	size_t len;
	/* DHCP_FRAME_ARP */
	uint16_t arp_op;		/* 1 request, 2 reply */
	uint8_t arp_sha[6];
	uint32_t arp_spa, arp_tpa;
};

/* dhcp_frame_parse() flag: the kernel says the UDP checksum is not
 * filled in yet (TP_STATUS_CSUMNOTREADY: from this host or a veth peer
 * with checksum offload), so it cannot be verified. */
#define DHCP_FRAME_CSUM_PARTIAL 0x1

/*
 * Validates a whole Ethernet frame.  Returns its kind, -EBADMSG if it is
 * malformed (truncated headers, IPv4 version/IHL/total length, header
 * checksum, a fragment, UDP length not matching the IPv4 payload, a bad
 * non-zero UDP checksum, an ARP frame not for Ethernet/IPv4), or -ENOMSG
 * if it is well-formed but neither DHCP to port 68 from port 67 nor ARP.
 * Trailing bytes after the IPv4 total length (Ethernet padding) are
 * ignored.
 */
int dhcp_frame_parse(const void *frame, size_t len, unsigned int flags,
		     struct dhcp_frame *f);

/*
 * Writes an Ethernet/IPv4/UDP 68 -> 67 frame carrying payload from
 * src_mac to dst_mac (NULL: broadcast).  IPv4: TTL 64, DF, ID 0, TOS 0,
 * the same for every identity.  Returns the frame length, or -EMSGSIZE.
 */
int dhcp_frame_build_udp(void *buf, size_t size, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len);

/*
 * Writes a broadcast ARP request from mac for tpa, with sender address spa
 * (DHCP_ARP_FRAME_LEN bytes).  RFC 5227: a probe has spa 0 (2.1.1), an
 * announcement spa == tpa (2.3).
 */
int dhcp_frame_build_arp(void *buf, size_t size, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa);

/* How the socket finds the client a frame is for (the daemon's table). */
struct dhcp_socket_lookup {
	/* The client whose MAC is mac, or NULL. */
	struct dhcp_client *(*by_mac)(void *ctx, const uint8_t mac[6]);
	/* The client holding or acquiring ip (its yiaddr), or NULL. */
	struct dhcp_client *(*by_ip)(void *ctx, uint32_t ip);
};

/* Counters for psvctl stats. */
struct dhcp_socket_stats {
	uint64_t rx_frames;		/* read from the socket */
	uint64_t rx_dhcp;		/* valid DHCP frames handed to a client */
	uint64_t rx_arp;		/* valid ARP frames */
	uint64_t rx_malformed;		/* dhcp_frame_parse() -EBADMSG, or
					 * longer than DHCP_FRAME_MAX */
	uint64_t rx_not_ours;		/* -ENOMSG, or VLAN-tagged */
	uint64_t rx_no_client;		/* no client has that chaddr */
	uint64_t rx_errors;		/* recvmsg failures */
	uint64_t tx_frames;
	uint64_t tx_errors;
};

struct dhcp_socket {
	int fd;
	int ifindex;
	const struct dhcp_socket_lookup *lookup;
	void *ctx;
	struct dhcp_socket_stats stats;
};

/*
 * Opens the socket on ifindex: non-blocking, close-on-exec, the filter
 * attached before it is bound (so no unfiltered frame is ever queued),
 * our own transmissions not looped back.  Returns 0 or -errno (logged).
 */
int dhcp_socket_open(struct dhcp_socket *s, int ifindex,
		     const struct dhcp_socket_lookup *lookup, void *ctx);
void dhcp_socket_close(struct dhcp_socket *s);
/* For the daemon's epoll set (EPOLLIN). */
int dhcp_socket_fd(const struct dhcp_socket *s);
/*
 * Reads up to 64 queued frames and dispatches each: call when the fd is
 * readable (level-triggered epoll calls again if more are queued).
 * Returns the number read, or -errno if recvmsg failed.
 */
int dhcp_socket_read(struct dhcp_socket *s, uint64_t now_ms);
/*
 * What dhcp_socket_read() does with one frame: validate, look up the
 * client, dhcp_client_receive() or dhcp_client_arp().  Returns that
 * call's result, the parse error, or -ENOENT if no client matched.
 */
int dhcp_socket_dispatch(struct dhcp_socket *s, uint64_t now_ms,
			 const void *frame, size_t len, unsigned int flags);

/*
 * Asks the interface to deliver unicast frames for an identity's MAC
 * (PACKET_MR_UNICAST): the ARP replies to its probes and the unicast
 * renewal ACKs are addressed to it.  A NIC with a unicast filter would
 * drop them otherwise; a device without one (veth) turns promiscuous.
 * Call when the identity's client starts, del when it is retired; the
 * kernel drops what is left when the socket closes.  0 or -errno (logged).
 */
int dhcp_socket_add_mac(struct dhcp_socket *s, const uint8_t mac[6]);
int dhcp_socket_del_mac(struct dhcp_socket *s, const uint8_t mac[6]);

/*
 * Senders for the daemon's struct dhcp_ops (it passes c->mac as src_mac).
 * Return 0 or -errno; failures are counted, not logged (the client
 * retransmits).
 */
int dhcp_socket_send_udp(struct dhcp_socket *s, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len);
int dhcp_socket_send_arp(struct dhcp_socket *s, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa);

#endif /* PSV_DHCP_SOCKET_H */
