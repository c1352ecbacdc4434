/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * chatter.h - link-local broadcast and multicast that names the host:
 * mDNS (224.0.0.251, ff02::fb, UDP 5353), LLMNR (224.0.0.252, ff02::1:3,
 * UDP 5355), the NetBIOS name and datagram services (UDP 137, 138 to the
 * Ethernet broadcast) and SSDP (239.255.255.250, ff02::c, UDP 1900).
 * Every machine on the LAN gets it, with the host's name, services and
 * real MAC ("Chattering laptops", PETS 2008); egress drops it with
 * chatter = drop (psv.conf(5)).
 */
#ifndef PSV_CHATTER_H
#define PSV_CHATTER_H

#include "lib/parse.h"

#define CHATTER_NETBIOS_NS 137
#define CHATTER_NETBIOS_DGM 138
#define CHATTER_SSDP 1900
#define CHATTER_MDNS 5353
#define CHATTER_LLMNR 5355

static __always_inline bool chatter_broadcast(const __u8 *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

/* IPv4 UDP (not a later fragment) to a chatter group and port. */
static __always_inline bool chatter_ipv4(void *data, void *data_end,
					 const struct ethhdr *eth)
{
	struct iphdr *ip = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*ip));
	struct udphdr *udp;

	if (!ip || ip->protocol != IPPROTO_UDP || ip->ihl < 5 ||
	    (ip->frag_off & bpf_htons(IP_OFFSET)))
		return false;
	udp = pkt_ptr(data, data_end, ETH_HLEN + ip->ihl * 4, sizeof(*udp));
	if (!udp)
		return false;
	switch (bpf_ntohs(udp->dest)) {
	case CHATTER_MDNS:
		return ip->daddr == bpf_htonl(0xe00000fb);
	case CHATTER_LLMNR:
		return ip->daddr == bpf_htonl(0xe00000fc);
	case CHATTER_SSDP:
		return ip->daddr == bpf_htonl(0xeffffffa);
	case CHATTER_NETBIOS_NS:
	case CHATTER_NETBIOS_DGM:
		return chatter_broadcast(eth->h_dest);
	}
	return false;
}

/* IPv6 UDP (right after the fixed header) to a chatter group and port. */
static __always_inline bool chatter_ipv6(void *data, void *data_end)
{
	struct ipv6hdr *ip6 = pkt_ptr(data, data_end, ETH_HLEN, sizeof(*ip6));
	struct udphdr *udp = pkt_ptr(data, data_end, ETH_HLEN + sizeof(*ip6),
				     sizeof(*udp));
	const __be32 *a;

	if (!ip6 || !udp || ip6->nexthdr != IPPROTO_UDP)
		return false;
	a = ip6->daddr.in6_u.u6_addr32;
	if (a[0] != bpf_htonl(0xff020000) || a[1] || a[2])
		return false;
	switch (bpf_ntohs(udp->dest)) {
	case CHATTER_MDNS:
		return a[3] == bpf_htonl(0xfb);
	case CHATTER_LLMNR:
		return a[3] == bpf_htonl(0x00010003);
	case CHATTER_SSDP:
		return a[3] == bpf_htonl(0xc);
	}
	return false;
}

/* Whether the host's frame is chatter that names it. */
static __always_inline bool is_chatter(void *data, void *data_end,
				       const struct ethhdr *eth)
{
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return chatter_ipv4(data, data_end, eth);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return chatter_ipv6(data, data_end);
	return false;
}

#endif
