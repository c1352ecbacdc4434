// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * link_frame.c - raw Ethernet/IPv4/UDP and ARP framing for the identities,
 * and the strict re-validation of what the link socket receives (busybox
 * udhcpc's rules: every length, IHL, both checksums).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "psvd/link/link_frame.h"

#define IP_HLEN 20
#define IP_DF 0x4000
#define FRAME_TTL 64	/* Linux default */

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum of 16-bit big-endian words, an odd last byte padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The ICMPv6 pseudo header (RFC 8200 8.1): addresses, length, 58. */
static uint32_t pseudo_sum6(const uint8_t *ip6, uint32_t len)
{
	return csum_add(0, ip6 + 8, 32) + (len >> 16) + (len & 0xffff) +
	       IPPROTO_ICMPV6;
}

/* The UDP pseudo header (RFC 768): addresses, protocol, UDP length. */
static uint32_t pseudo_sum(const uint8_t *ip, uint16_t udp_len)
{
	return csum_add(0, ip + 12, 8) + IPPROTO_UDP + udp_len;
}

static void put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src,
		    uint16_t type)
{
	memcpy(p, dst ? dst : bcast_mac, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, type);
}

int link_frame_build_udp(void *buf, size_t size, const uint8_t src_mac[6],
			 const uint8_t *dst_mac, uint32_t src_ip,
			 uint32_t dst_ip, const void *payload, size_t len)
{
	uint16_t udp_len = LINK_UDP_HLEN + len, tot = IP_HLEN + udp_len;
	uint8_t *f = buf, *ip = f + LINK_ETH_HLEN, *udp = ip + IP_HLEN;
	uint16_t sum;

	if (len > LINK_UDP_PAYLOAD_MAX || size < LINK_ETH_HLEN + (size_t)tot)
		return -EMSGSIZE;
	put_eth(f, dst_mac, src_mac, ETH_P_IP);

	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 6, IP_DF);
	ip[8] = FRAME_TTL;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src_ip, 4);
	memcpy(ip + 16, &dst_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));

	put16(udp, DHCP_CLIENT_PORT);
	put16(udp + 2, DHCP_SERVER_PORT);
	put16(udp + 4, udp_len);
	put16(udp + 6, 0);
	memcpy(udp + LINK_UDP_HLEN, payload, len);
	sum = csum_fold(csum_add(pseudo_sum(ip, udp_len), udp, udp_len));
	/* RFC 768: a computed 0 is sent as all ones (0 means "none"). */
	put16(udp + 6, sum ? sum : 0xffff);
	return LINK_ETH_HLEN + tot;
}

int link_frame_build_arp(void *buf, size_t size, const uint8_t mac[6],
			 uint32_t spa, uint32_t tpa)
{
	uint8_t *f = buf, *arp = f + LINK_ETH_HLEN;

	if (size < LINK_ARP_FRAME_LEN)
		return -EMSGSIZE;
	put_eth(f, NULL, mac, ETH_P_ARP);
	put16(arp, ARPHRD_ETHER);
	put16(arp + 2, ETH_P_IP);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, ARPOP_REQUEST);
	memcpy(arp + 8, mac, 6);
	memcpy(arp + 14, &spa, 4);
	memset(arp + 18, 0, 6);		/* target MAC unknown */
	memcpy(arp + 24, &tpa, 4);
	return LINK_ARP_FRAME_LEN;
}

static int parse_arp(const uint8_t *arp, size_t len, struct link_frame *f)
{
	if (len < 28 || get16(arp) != ARPHRD_ETHER ||
	    get16(arp + 2) != ETH_P_IP || arp[4] != 6 || arp[5] != 4)
		return -EBADMSG;
	f->kind = LINK_FRAME_ARP;
	f->arp_op = get16(arp + 6);
	memcpy(f->arp_sha, arp + 8, 6);
	memcpy(&f->arp_spa, arp + 14, 4);
	memcpy(&f->arp_tpa, arp + 24, 4);
	return LINK_FRAME_ARP;
}

static int parse_ipv4(const uint8_t *ip, size_t len, unsigned int flags,
		      struct link_frame *f)
{
	size_t ihl, tot, udp_len;
	const uint8_t *udp;

	if (len < IP_HLEN || ip[0] >> 4 != 4)
		return -EBADMSG;
	ihl = (ip[0] & 0xf) * 4u;
	tot = get16(ip + 2);
	if (ihl < IP_HLEN || ihl > len || tot < ihl || tot > len)
		return -EBADMSG;
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return -EBADMSG;
	/* Servers never fragment a DHCP reply; reassembly is not worth
	 * the attack surface. */
	if (get16(ip + 6) & LINK_IP_FRAG_MASK)
		return -EBADMSG;
	if (ip[9] != IPPROTO_UDP)
		return -ENOMSG;
	udp = ip + ihl;
	if (tot - ihl < LINK_UDP_HLEN)
		return -EBADMSG;
	udp_len = get16(udp + 4);
	if (udp_len != tot - ihl)
		return -EBADMSG;
	if (get16(udp + 6) && !(flags & LINK_FRAME_CSUM_PARTIAL) &&
	    csum_fold(csum_add(pseudo_sum(ip, udp_len), udp, udp_len)) != 0)
		return -EBADMSG;
	if (get16(udp) != DHCP_SERVER_PORT || get16(udp + 2) != DHCP_CLIENT_PORT)
		return -ENOMSG;
	f->kind = LINK_FRAME_DHCP;
	memcpy(&f->ip_src, ip + 12, 4);
	memcpy(&f->ip_dst, ip + 16, 4);
	f->payload = udp + LINK_UDP_HLEN;
	f->len = udp_len - LINK_UDP_HLEN;
	return LINK_FRAME_DHCP;
}

/*
 * An ND message directly after the IPv6 header: the kinds the socket's
 * filter lets through.  Its fixed part: RA 16 bytes, NS and NA 24.
 */
static int parse_ipv6(const uint8_t *ip6, size_t len, unsigned int flags,
		      struct link_frame *f)
{
	const uint8_t *icmp = ip6 + LINK_IP6_HLEN;
	size_t plen;

	if (len < LINK_IP6_HLEN || ip6[0] >> 4 != 6)
		return -EBADMSG;
	plen = get16(ip6 + 4);
	if (plen > len - LINK_IP6_HLEN)
		return -EBADMSG;
	if (ip6[6] != IPPROTO_ICMPV6 || plen < 4)
		return -ENOMSG;
	if (icmp[0] != LINK_ND_RA && icmp[0] != LINK_ND_NS &&
	    icmp[0] != LINK_ND_NA)
		return -ENOMSG;
	if (icmp[1] != 0 || plen < (icmp[0] == LINK_ND_RA ? 16u : 24u))
		return -EBADMSG;
	if (!(flags & LINK_FRAME_CSUM_PARTIAL) &&
	    csum_fold(csum_add(pseudo_sum6(ip6, plen), icmp, plen)) != 0)
		return -EBADMSG;
	f->kind = LINK_FRAME_ND;
	memcpy(f->ip6_src, ip6 + 8, 16);
	memcpy(f->ip6_dst, ip6 + 24, 16);
	f->hop_limit = ip6[7];
	f->nd_type = icmp[0];
	f->payload = icmp;
	f->len = plen;
	return LINK_FRAME_ND;
}

/*
 * Ethernet and IPv6 headers of an ND message of len bytes at hop limit
 * 255, from :: (the identities have no link-local address; RFC 4861
 * allows it for DAD and router solicitations), with its checksum.
 */
static void put_nd(uint8_t *f, const uint8_t dst_mac[6],
		   const uint8_t src_mac[6], const uint8_t dst[16], size_t len)
{
	uint8_t *ip6 = f + LINK_ETH_HLEN, *icmp = ip6 + LINK_IP6_HLEN;

	put_eth(f, dst_mac, src_mac, ETH_P_IPV6);
	memset(ip6, 0, LINK_IP6_HLEN);
	ip6[0] = 0x60;
	put16(ip6 + 4, len);
	ip6[6] = IPPROTO_ICMPV6;
	ip6[7] = 255;
	memcpy(ip6 + 24, dst, 16);
	put16(icmp + 2, 0);
	put16(icmp + 2, csum_fold(csum_add(pseudo_sum6(ip6, len), icmp, len)));
}

int link_frame_build_dad_ns(void *buf, size_t size, const uint8_t mac[6],
			    const uint8_t target[16])
{
	uint8_t *f = buf, *icmp = f + LINK_ETH_HLEN + LINK_IP6_HLEN;
	uint8_t dst[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	uint8_t dst_mac[6] = { 0x33, 0x33, 0xff };

	if (size < LINK_DAD_NS_LEN)
		return -EMSGSIZE;
	memcpy(dst + 13, target + 13, 3);	/* RFC 4291 2.7.1 */
	memcpy(dst_mac + 3, target + 13, 3);	/* RFC 2464 7 */
	memset(icmp, 0, 24);
	icmp[0] = LINK_ND_NS;
	memcpy(icmp + 8, target, 16);
	put_nd(f, dst_mac, mac, dst, 24);
	return LINK_DAD_NS_LEN;
}

int link_frame_build_rs(void *buf, size_t size, const uint8_t mac[6])
{
	static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 0x02 };
	static const uint8_t all_routers_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x02 };
	uint8_t *f = buf, *icmp = f + LINK_ETH_HLEN + LINK_IP6_HLEN;

	if (size < LINK_RS_LEN)
		return -EMSGSIZE;
	memset(icmp, 0, 8);
	icmp[0] = LINK_ND_RS;
	put_nd(f, all_routers_mac, mac, all_routers, 8);
	return LINK_RS_LEN;
}

int link_frame_parse(const void *frame, size_t len, unsigned int flags,
		     struct link_frame *f)
{
	const uint8_t *p = frame;

	memset(f, 0, sizeof(*f));
	if (len < LINK_ETH_HLEN)
		return -EBADMSG;
	memcpy(f->src_mac, p + 6, 6);
	switch (get16(p + 12)) {
	case ETH_P_ARP:
		return parse_arp(p + LINK_ETH_HLEN, len - LINK_ETH_HLEN, f);
	case ETH_P_IP:
		return parse_ipv4(p + LINK_ETH_HLEN, len - LINK_ETH_HLEN, flags,
				  f);
	case ETH_P_IPV6:
		return parse_ipv6(p + LINK_ETH_HLEN, len - LINK_ETH_HLEN, flags,
				  f);
	default:
		return -ENOMSG;
	}
}
