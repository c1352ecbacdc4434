/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * netdev.h - facts about the interface psv runs on, read by ioctl (not
 * /sys/class/net: inside `ip netns exec` sysfs belongs to another netns).
 */
#ifndef PSV_NETDEV_H
#define PSV_NETDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

struct netdev {
	char name[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	uint32_t ip;		/* network byte order; 0 if none */
	uint32_t netmask;	/* network byte order */
	char driver[32];	/* from ethtool, e.g. "veth" */
	bool wireless;
};

/* Fills dev for ifname; -errno with a message logged on failure. */
int netdev_query(const char *ifname, struct netdev *dev);
/*
 * Reads dev->name's IPv4 address and netmask again into dev->ip and
 * dev->netmask (0 and 0 if it has none); -errno, logged, on failure.
 */
int netdev_query_addr(struct netdev *dev);
/* Whether addr is in the subnet of ip/netmask (all network order). */
static inline bool netdev_in_subnet(uint32_t addr, uint32_t ip,
				    uint32_t netmask)
{
	return !((addr ^ ip) & netmask);
}
/*
 * Whether the host moved to another network, its address read again
 * (was -> now, both with an address): now's subnet is not was's, by
 * prefix or by netmask.  A new address in the same subnet (a NAK, a
 * reservation) is no move.
 */
bool netdev_moved(const struct netdev *was, const struct netdev *now);
/* Sets or clears IFF_PROMISC; persists if psvd dies (unlike PACKET_MR_PROMISC). */
int netdev_set_promisc(const char *ifname, bool on);
/*
 * The IPv4 default gateway through ifname (network order), from the text
 * of /proc/net/route; 0 if there is none.
 */
uint32_t netdev_parse_gateway(const char *route_text, const char *ifname);
/* The same, reading /proc/net/route (of psvd's network namespace). */
uint32_t netdev_default_gateway(const char *ifname);

/* Whether a veth: plain veths need TC ingress (docs/ARCHITECTURE.md, facts). */
bool netdev_is_veth(const struct netdev *dev);
/*
 * Source address selection for routes through ifname considers only
 * ifname's own addresses (use_oif_addrs_only): the identities' IPv6
 * addresses on lo are preferred, so that applications sort them as any
 * address (RFC 6724), and must never become the host's own source.
 * 0 or -errno (logged); 0 if ifname has no IPv6.
 */
int netdev_ipv6_own_sources(const char *ifname);

/*
 * How many of the interface's IPv6 addresses carry its MAC (EUI-64
 * interface identifiers, RFC 4291 appendix A: Debian's default): the
 * host's own IPv6 presence names its real MAC.  -errno if they cannot be
 * read.
 */
int netdev_eui64_addrs(const struct netdev *dev);
/* Whether the last 64 bits of addr are the EUI-64 form of mac. */
bool netdev_is_eui64(const uint8_t addr[16], const uint8_t mac[6]);

#endif
