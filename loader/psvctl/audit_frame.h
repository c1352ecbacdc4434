/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * audit_frame.h - what psvctl audit makes of one frame the host sent:
 * whether it carried the host's real identity (its MAC, one of its
 * addresses, an IPv6 address built from its MAC) and why it left, in the
 * groups psvctl(8) names.  Pure: no I/O, bounds-checked throughout (the
 * frames come from the network's applications; tests/fuzz/fuzz_audit_frame).
 */
#ifndef PSVCTL_AUDIT_FRAME_H
#define PSVCTL_AUDIT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define AUDIT_HOST_MAX_ADDRS 16

/* The host's real identity: the interface's own MAC and addresses. */
struct audit_host {
	uint8_t mac[6];
	size_t n_ip4, n_ip6;
	struct in_addr ip4[AUDIT_HOST_MAX_ADDRS];
	struct in6_addr ip6[AUDIT_HOST_MAX_ADDRS];
};

/* Why a frame with the real identity left (psvctl(8), "AUDIT"). */
enum audit_why {
	AUDIT_NOT_REAL = 0,	/* no real MAC nor address: an identity's */
	AUDIT_DHCP,		/* the host's own DHCP (and DHCPv6) client */
	AUDIT_FLOW,		/* unicast TCP/UDP/ICMP from a real address:
				 * policy host, or a leak; the caller knows */
	AUDIT_ARP,		/* the host's own ARP */
	AUDIT_NDP,		/* IPv6 neighbour discovery, MLD, IGMP */
	AUDIT_IPV6,		/* any other IPv6 with the real identity */
	AUDIT_CHATTER,		/* link-local broadcast and multicast */
	AUDIT_OTHER,		/* anything else */
};

/* What carried the real identity (struct audit_frame.carried). */
#define AUDIT_CARRIED_MAC 0x1	/* source MAC, or ARP sender MAC */
#define AUDIT_CARRIED_IP 0x2	/* source address, or ARP sender address */
#define AUDIT_CARRIED_EUI64 0x4	/* an IPv6 source address holding the MAC */

#define AUDIT_NAME_MAX 64

struct audit_frame {
	enum audit_why why;
	unsigned int carried;	/* AUDIT_CARRIED_* */
	uint8_t src_mac[6];
	int family;		/* AF_INET (ARP too), AF_INET6; 0: neither */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} saddr, daddr;
	uint8_t proto;		/* IPPROTO_*; 0 for non-IP */
	uint16_t sport, dport;	/* host order; ICMP: type, code */
	uint16_t ethertype;	/* host order */
	/* Chatter: "mdns", "llmnr", "netbios", "ssdp", "broadcast";
	 * NDP: "ndp", "mld", "igmp"; else NULL. */
	const char *kind;
	char name[AUDIT_NAME_MAX]; /* a host name the frame carries, or "" */
};

/* Classifies frame (len bytes, Ethernet) as the host sent it. */
void audit_classify(const struct audit_host *host, const uint8_t *frame,
		    size_t len, struct audit_frame *out);

#endif
