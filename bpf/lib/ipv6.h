/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ipv6.h - what psv knows of IPv6 so far: which destinations a socket
 * may reach without an identity, and which frames of the host are its
 * own presence on the link (neighbour discovery, MLD).  Identities have
 * no IPv6 addresses yet, so a virtualized flow must not use IPv6 at all.
 */
#ifndef PSV_BPF_IPV6_H
#define PSV_BPF_IPV6_H

#define ETH_P_IPV6 0x86DD
#define IPV6_HLEN 40
#define NEXTHDR_HOP 0
#define NEXTHDR_ICMP 58

#define ICMPV6_MLD_QUERY 130	/* 130-132: MLDv1 (RFC 2710) */
#define ICMPV6_REDIRECT 137	/* 133-137: RS, RA, NS, NA, redirect */
#define ICMPV6_MLD2_REPORT 143	/* RFC 3810 */

/*
 * Destinations that never leave with an identity: loopback, the
 * unspecified address (local), IPv4-mapped (the IPv4 path decides), and
 * multicast (not virtualized, as IPv4 broadcast and multicast are not).
 */
static __always_inline bool ipv6_not_virtualized(const __u32 a[4])
{
	if ((a[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000))
		return true;
	if (a[0] || a[1])
		return false;
	return (!a[2] && (!a[3] || a[3] == bpf_htonl(1))) ||
	       a[2] == bpf_htonl(0xffff);
}

/*
 * The host's own neighbour discovery and MLD (RFC 4861, RFC 3810): the
 * ICMPv6 types 130-137 and 143, directly or behind one hop-by-hop header
 * (MLD's router alert).  Bounded: no other extension header is walked.
 */
static __always_inline bool ipv6_host_presence(void *data, void *data_end)
{
	struct ipv6hdr *ip6 = pkt_ptr(data, data_end, ETH_HLEN, IPV6_HLEN);
	__u32 off = ETH_HLEN + IPV6_HLEN;
	__u8 next, *hdr, type;

	if (!ip6)
		return false;
	next = ip6->nexthdr;
	if (next == NEXTHDR_HOP) {
		hdr = pkt_ptr(data, data_end, off, 2);
		if (!hdr)
			return false;
		next = hdr[0];
		off += (hdr[1] + 1) * 8;
	}
	if (next != NEXTHDR_ICMP)
		return false;
	hdr = pkt_ptr(data, data_end, off, 1);
	if (!hdr)
		return false;
	type = hdr[0];
	return (type >= ICMPV6_MLD_QUERY && type <= ICMPV6_REDIRECT) ||
	       type == ICMPV6_MLD2_REPORT;
}

/* A TCP segment that is not a first SYN, right after the IPv6 header. */
static __always_inline bool ipv6_tcp_not_syn(void *data, void *data_end)
{
	struct ipv6hdr *ip6 = pkt_ptr(data, data_end, ETH_HLEN, IPV6_HLEN);
	__u8 *flags;

	if (!ip6 || ip6->nexthdr != IPPROTO_TCP)
		return false;
	flags = pkt_ptr(data, data_end, ETH_HLEN + IPV6_HLEN + TCP_FLAGS_OFF,
			1);
	return flags && (*flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN;
}

#endif /* PSV_BPF_IPV6_H */
