// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The default gateway from /proc/net/route text. */
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
	return check_exit();
}
