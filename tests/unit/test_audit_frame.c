// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_audit_frame: psvctl audit's classifier on frames as the host sends
 * them (made with scapy, kept as hex): why each left, what carried the
 * real identity, the host name chatter gives away; then every truncation
 * of each frame, which must classify without reading past its end (the
 * sanitized build checks the reads).
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "psvctl/audit_frame.h"

/* The host: MAC 02:00:00:00:00:0a, 192.0.2.10, 2001:db8:1::10 (its
 * EUI-64 address 2001:db8:1::ff:fe00:a is not configured: the MAC in it
 * is found all the same).  Identities: 02:aa:bb:cc:dd:01, 192.0.2.201. */
static const struct {
	const char *what;
	const char *hex;
	enum audit_why why;
	const char *kind;
	const char *name;
	unsigned int carried;
} cases[] = {
	{ "mdns announcement names the host",
		"01005e0000fb02000000000a080045000044000100004011d7a2c000020ae000"
		"00fb14e914e900306381000085000000000100000000066c6170746f70056c6f"
		"63616c0000010001000000000004c000020a",
		AUDIT_CHATTER, "mdns", "laptop.local", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "mdns query over ipv6",
		"3333000000fb02000000000a86dd6000000000311140fe800000000000000000"
		"000000000001ff0200000000000000000000000000fb14e914e9003104850000"
		"01000001000000000000077072696e746572045f697070045f746370056c6f63"
		"616c00000c0001",
		AUDIT_CHATTER, "mdns", "printer._ipp._tcp.local", AUDIT_CARRIED_MAC },
	{ "llmnr query",
		"01005e0000fc02000000000a080045000038000100004011d7adc000020ae000"
		"00fcc35014eb00245c420000010000010000000000000a66696c657365727665"
		"720000010001",
		AUDIT_CHATTER, "llmnr", "fileserver", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "netbios name registration",
		"ffffffffffff02000000000a08004500004d000100004011f595c000020ac000"
		"02ff0089008900395a0c81002910000100000000000120454d45424641464545"
		"504641434143414341434143414341434143414341414100200001",
		AUDIT_CHATTER, "netbios", "LAPTOP", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "ssdp notify",
		"01005e7ffffa02000000000a080045000072000100004011c875c000020aefff"
		"fffa9c40076c005e9df04e4f54494659202a20485454502f312e310d0a484f53"
		"543a203233392e3235352e3235352e3235303a313930300d0a5345525645523a"
		"204c696e75782f362e312055506e502f312e30206c6170746f702f310d0a0d0a",
		AUDIT_CHATTER, "ssdp", "Linux/6.1_UPnP/1.0_laptop/1", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "dhcp discover",
		"ffffffffffff02000000000a08004500011000010000401179dd00000000ffff"
		"ffff0044004300fc067f01010600000000000000000000000000000000000000"
		"00000000000002000000000a0000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000063825363350101ff",
		AUDIT_DHCP, NULL, "", AUDIT_CARRIED_MAC },
	{ "tcp syn from the real address",
		"02000000000102000000000a0800450000280001000040068e87c000020ac633"
		"640a9c41005000000000000000005002200007090000",
		AUDIT_FLOW, NULL, "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "tcp from an identity",
		"02000000000102aabbccdd010800450000280001000040068dc8c00002c9c633"
		"640a9c410050000000000000000050022000064a0000",
		AUDIT_NOT_REAL, NULL, "", 0 },
	{ "identity mac with the real address (nat fault)",
		"02000000000102aabbccdd0108004500001c0001000040118e88c000020ac633"
		"640a9c4100350008771f",
		AUDIT_FLOW, NULL, "", AUDIT_CARRIED_IP },
	{ "arp request of the host",
		"ffffffffffff02000000000a0806000108000604000102000000000ac000020a"
		"000000000000c0000201",
		AUDIT_ARP, NULL, "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "arp of an identity",
		"ffffffffffff02aabbccdd010806000108000604000102aabbccdd01c00002c9"
		"000000000000c0000201",
		AUDIT_NOT_REAL, NULL, "", 0 },
	{ "neighbour solicitation",
		"3333ff00000102000000000a86dd6000000000183aff20010db8000100000000"
		"00fffe00000aff0200000000000000000001ff00000187002028000000002001"
		"0db8000100000000000000000001",
		AUDIT_NDP, "ndp", "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_EUI64 },
	{ "mld report after hop-by-hop",
		"33330000001602000000000a86dd6000000000100040fe800000000000000000"
		"000000000001ff0200000000000000000000000000163a000502000001008f00"
		"732200000000",
		AUDIT_NDP, "mld", "", AUDIT_CARRIED_MAC },
	{ "ipv6 tcp with an eui-64 source from an identity mac",
		"02000000000102aabbccdd0186dd600000000014064020010db8000100000000"
		"00fffe00000a20010db80003000000000000000000109c420050000000000000"
		"00005002200098c00000",
		AUDIT_FLOW, NULL, "", AUDIT_CARRIED_EUI64 },
	{ "ipv6 udp from the host's address",
		"02000000000102000000000a86dd600000000008114020010db8000100000000"
		"00000000001020010db80003000000000000000000109c430007000807fe",
		AUDIT_FLOW, NULL, "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "igmp report",
		"01005e0000fb02000000000a08004500001c000100004002d7d9c000020ae000"
		"00fb16000904e00000fb",
		AUDIT_NDP, "igmp", "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "broadcast udp of another service",
		"ffffffffffff02000000000a08004500001c000100004011b8c6c000020affff"
		"ffff9c44270f00087a80",
		AUDIT_CHATTER, "broadcast", "", AUDIT_CARRIED_MAC | AUDIT_CARRIED_IP },
	{ "unknown ethertype from the host",
		"ffffffffffff02000000000a88cc000000000000000000000000000000000000"
		"00000000000000000000000000000000000000000000",
		AUDIT_OTHER, NULL, "", AUDIT_CARRIED_MAC },
};

static size_t unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2)
		sscanf(hex, "%2hhx", &out[n++]);
	return n;
}

int main(void)
{
	struct audit_host host = { .mac = { 2, 0, 0, 0, 0, 0x0a },
				   .n_ip4 = 1, .n_ip6 = 1 };
	unsigned char frame[2048];
	struct audit_frame f;

	inet_pton(AF_INET, "192.0.2.10", &host.ip4[0]);
	inet_pton(AF_INET6, "2001:db8:1::10", &host.ip6[0]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = unhex(cases[i].hex, frame, sizeof(frame));

		audit_classify(&host, frame, len, &f);
		CHECK(f.why == cases[i].why, "%s: why %d (want %d)",
		      cases[i].what, f.why, cases[i].why);
		CHECK(f.carried == cases[i].carried,
		      "%s: carried %#x (want %#x)", cases[i].what, f.carried,
		      cases[i].carried);
		CHECK(cases[i].kind ? f.kind && !strcmp(f.kind, cases[i].kind) :
				      !f.kind,
		      "%s: kind %s", cases[i].what, f.kind ? f.kind : "none");
		CHECK(!strcmp(f.name, cases[i].name), "%s: name '%s'",
		      cases[i].what, f.name);
		/* Truncated anywhere: a copy of exactly that length on the
		 * heap, so a read past it is ASan's to see. */
		for (size_t cut = 0; cut < len; cut++) {
			unsigned char *t = malloc(cut ? cut : 1);

			memcpy(t, frame, cut);
			audit_classify(&host, t, cut, &f);
			free(t);
			if (strlen(f.name) >= AUDIT_NAME_MAX)
				break;
		}
		CHECK(strlen(f.name) < AUDIT_NAME_MAX,
		      "%s: every truncation classifies, names bounded",
		      cases[i].what);
	}
	/* A DNS name whose compression pointer points at itself. */
	{
		static const char loop[] =
			"01005e0000fb02000000000a0800450000290001000040110000"
			"c000020ae00000fb14e914e90015000000000000000100000000"
			"c00c";
		size_t len = unhex(loop, frame, sizeof(frame));

		audit_classify(&host, frame, len, &f);
		CHECK(f.why == AUDIT_CHATTER && !f.name[0],
		      "an mDNS name that loops is chatter without a name");
	}
	return check_exit();
}
