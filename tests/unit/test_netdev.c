// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The default gateway from /proc/net/route text; EUI-64 addresses. */
#include <arpa/inet.h>

#include "check.h"
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
	return check_exit();
}
