// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The default gateway from /proc/net/route text; EUI-64 addresses; the
 * interface's address read again after the host's DHCP client changed it
 * (in a private network namespace).
 */
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "netns.h"
#include "psvd/netdev.h"

static const char routes[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	"eth1\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";

int main(void)
{
	struct in_addr a;

	a.s_addr = netdev_parse_gateway(routes, "eth0");
	CHECK_EQ(ntohl(a.s_addr), 0xc0000201, "eth0's default gateway is 192.0.2.1");
	a.s_addr = netdev_parse_gateway(routes, "eth1");
	CHECK_EQ(ntohl(a.s_addr), 0xc0a80201, "another interface's is its own");
	CHECK_EQ(netdev_parse_gateway(routes, "eth2"), 0, "no route: 0");
	CHECK_EQ(netdev_parse_gateway(routes, "eth"), 0, "a prefix of a name is no match");
	CHECK_EQ(netdev_parse_gateway("Iface\teth0 00000000 010200C0 0001\n", "eth0"), 0,
		 "a route without RTF_GATEWAY is none");
	CHECK_EQ(netdev_parse_gateway("", "eth0"), 0, "empty text: 0");
	CHECK_EQ(netdev_parse_gateway("header only", "eth0"), 0, "header only: 0");
	CHECK_EQ(netdev_parse_gateway("h\neth0 zz 010200C0 3\n", "eth0"), 0,
		 "a malformed line is skipped");

	/* RFC 4291 appendix A: 02:00:5e:10:00:01 -> 0000:5eff:fe10:0001. */
	{
		static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0, 1 };
		struct in6_addr x;

		inet_pton(AF_INET6, "2001:db8:1::5eff:fe10:1", &x);
		CHECK(netdev_is_eui64(x.s6_addr, mac),
		      "an EUI-64 address of the MAC is recognized");
		inet_pton(AF_INET6, "fe80::5eff:fe10:1", &x);
		CHECK(netdev_is_eui64(x.s6_addr, mac),
		      "... link-local too, whatever the prefix");
		inet_pton(AF_INET6, "fe80::200:5eff:fe10:1", &x);
		CHECK(!netdev_is_eui64(x.s6_addr, mac),
		      "the universal/local bit not flipped: not the MAC's");
		inet_pton(AF_INET6, "2001:db8:1::8a3c:11ff:fe22:3344", &x);
		CHECK(!netdev_is_eui64(x.s6_addr, mac), "another MAC's: no");
	}
	/* Which address change is a move to another network. */
	{
		static const struct {
			const char *was, *was_mask, *now, *now_mask;
			bool moved;
			const char *what;
		} cases[] = {
			{ "192.0.2.82", "255.255.255.0", "192.0.2.150",
			  "255.255.255.0", false,
			  "another address in the subnet (a NAK, a reservation)" },
			{ "192.0.2.82", "255.255.255.0", "192.0.2.82",
			  "255.255.255.0", false, "the same address" },
			{ "192.0.2.82", "255.255.255.0", "192.0.2.255",
			  "255.255.255.0", false, "the subnet's last address" },
			{ "192.0.2.82", "255.255.255.0", "203.0.113.150",
			  "255.255.255.128", true, "another prefix and netmask" },
			{ "192.0.2.82", "255.255.255.0", "192.0.3.82",
			  "255.255.255.0", true, "the neighbouring /24" },
			{ "10.1.0.5", "255.255.0.0", "10.2.0.5", "255.255.0.0",
			  true, "another /16, same host part" },
			{ "192.0.2.82", "255.255.255.0", "192.0.2.82",
			  "255.255.255.128", true, "the same address, a narrower netmask" },
			{ "192.0.2.82", "255.255.255.0", "192.0.2.82",
			  "255.255.254.0", true, "the same address, a wider netmask" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct netdev was = { .ip = ip4(cases[i].was),
					      .netmask = ip4(cases[i].was_mask) };
			struct netdev now = { .ip = ip4(cases[i].now),
					      .netmask = ip4(cases[i].now_mask) };

			CHECK(netdev_moved(&was, &now) == cases[i].moved,
			      "%s: %s", cases[i].what,
			      cases[i].moved ? "a move" : "no move");
		}
		CHECK(netdev_in_subnet(ip4("192.0.2.200"), ip4("192.0.2.82"),
				       ip4("255.255.255.0")) &&
		      !netdev_in_subnet(ip4("192.0.2.200"), ip4("203.0.113.150"),
					ip4("255.255.255.128")),
		      "in the subnet or not");
	}
	/* An address, another one (a new lease), none (deconfig). */
	if (netns_enter() || sh("ip link add psvt0 type veth peer name psvt1"))
		return check_exit();
	{
		struct netdev d = { .name = "psvt0", .ip = ip4("192.0.2.66") };

		CHECK_EQ(netdev_query_addr(&d), 0, "no address: read");
		CHECK(d.ip == 0 && d.netmask == 0, "no address: ip and netmask 0");
		sh("ip addr add 192.0.2.66/24 dev psvt0");
		CHECK_EQ(netdev_query_addr(&d), 0, "an address: read");
		CHECK(d.ip == ip4("192.0.2.66") && d.netmask == ip4("255.255.255.0"),
		      "an address: 192.0.2.66/24");
		sh("ip addr flush dev psvt0 && ip addr add 198.51.100.7/25 dev psvt0");
		CHECK_EQ(netdev_query_addr(&d), 0, "another address: read");
		CHECK(d.ip == ip4("198.51.100.7") && d.netmask == ip4("255.255.255.128"),
		      "another address: 198.51.100.7/25");
		sh("ip addr flush dev psvt0");
		CHECK_EQ(netdev_query_addr(&d), 0, "flushed: read");
		CHECK(d.ip == 0 && d.netmask == 0, "flushed: ip and netmask 0");
		strcpy(d.name, "psvt9");
		CHECK(netdev_query_addr(&d) < 0, "no such interface: an error");
	}
	return check_exit();
}
