// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * audit_frame.c - see audit_frame.h.  Every read goes through span(),
 * which checks it lies inside the frame; names found in chatter are
 * copied printable and truncated.
 */
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "psvctl/audit_frame.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_IPV6 0x86dd
#define IP6_HLEN 40

/* Ports of the chatter that names a host (psv.conf(5), "chatter"). */
#define PORT_DHCP_CLIENT 68
#define PORT_DHCP_SERVER 67
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547
#define PORT_NETBIOS_NS 137
#define PORT_NETBIOS_DGM 138
#define PORT_SSDP 1900
#define PORT_MDNS 5353
#define PORT_LLMNR 5355

#define DNS_HLEN 12
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_MAX_HOPS 16		/* compression pointers followed per name */
#define DNS_MAX_RECORDS 64

/* A view of the bytes of a frame, or of a part of one. */
struct bytes {
	const uint8_t *p;
	size_t len;
};

/* n bytes at off, or NULL if they are not all inside b. */
static const uint8_t *span(struct bytes b, size_t off, size_t n)
{
	return off <= b.len && n <= b.len - off ? b.p + off : NULL;
}

static int rd16(struct bytes b, size_t off)
{
	const uint8_t *p = span(b, off, 2);

	return p ? p[0] << 8 | p[1] : -1;
}

static struct bytes tail(struct bytes b, size_t off)
{
	return off <= b.len ? (struct bytes){ b.p + off, b.len - off } :
			      (struct bytes){ b.p, 0 };
}

/* Appends c to name (always NUL-terminated), printable or '?'. */
static void name_put(char *name, size_t *n, int c)
{
	if (*n + 1 >= AUDIT_NAME_MAX)
		return;
	name[(*n)++] = c > 0x20 && c < 0x7f ? c : '?';
	name[*n] = '\0';
}

/*
 * The DNS name at off in msg, dotted, into name; its end (past the name
 * as written at off) into *next.  0, or -1 if malformed.
 */
static int dns_name(struct bytes msg, size_t off, char *name, size_t *next)
{
	size_t n = 0, at = off;
	int hops = 0;

	name[0] = '\0';
	*next = 0;
	for (;;) {
		const uint8_t *l = span(msg, at, 1);

		if (!l)
			return -1;
		if ((*l & 0xc0) == 0xc0) {
			int ptr = rd16(msg, at);

			if (ptr < 0 || ++hops > DNS_MAX_HOPS)
				return -1;
			if (!*next)
				*next = at + 2;
			at = ptr & 0x3fff;
			continue;
		}
		if (*l & 0xc0)
			return -1;
		if (!*l)
			break;
		const uint8_t *label = span(msg, at + 1, *l);

		if (!label)
			return -1;
		if (n)
			name_put(name, &n, '.');
		for (size_t i = 0; i < *l; i++)
			name_put(name, &n, label[i]);
		at += 1 + *l;
	}
	if (!*next)
		*next = at + 1;
	return 0;
}

/*
 * The host name an mDNS or LLMNR message carries: the owner of its first
 * address record (an announcement, an answer), else its first question
 * (a probe, a query).
 */
static void dns_host_name(struct bytes msg, char *name)
{
	int qd = rd16(msg, 4), an = rd16(msg, 6), ns = rd16(msg, 8),
	    ar = rd16(msg, 10);
	char owner[AUDIT_NAME_MAX];
	size_t off = DNS_HLEN, next;

	name[0] = '\0';
	if (ar < 0)
		return;
	for (int i = 0; i < qd && i < DNS_MAX_RECORDS; i++) {
		if (dns_name(msg, off, owner, &next))
			return;
		if (!name[0])
			memcpy(name, owner, sizeof(owner));
		off = next + 4;		/* type, class */
	}
	for (int i = 0; i < an + ns + ar && i < DNS_MAX_RECORDS; i++) {
		int type, rdlen;

		if (dns_name(msg, off, owner, &next))
			return;
		type = rd16(msg, next);
		rdlen = rd16(msg, next + 8);
		if (type < 0 || rdlen < 0)
			return;
		if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
			memcpy(name, owner, sizeof(owner));
			return;
		}
		off = next + 10 + rdlen;
	}
}

/*
 * A NetBIOS name (RFC 1001 first-level encoding: a length of 32, then two
 * letters 'A' + nibble per byte; 15 bytes of name, space-padded, and a
 * suffix byte) at off, into name.
 */
static void netbios_name(struct bytes b, size_t off, char *name)
{
	const uint8_t *enc = span(b, off, 33);
	uint8_t raw[15];
	size_t n = 0, len = sizeof(raw);

	name[0] = '\0';
	if (!enc || enc[0] != 32)
		return;
	for (int i = 0; i < 15; i++) {
		int hi = enc[1 + 2 * i] - 'A', lo = enc[2 + 2 * i] - 'A';

		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return;
		raw[i] = hi << 4 | lo;
	}
	while (len && raw[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < len; i++)
		name_put(name, &n, raw[i]);
}

/* SSDP (HTTP over UDP): its SERVER: or NT: header, which names the device. */
static void ssdp_name(struct bytes b, char *name)
{
	static const char *const keys[] = { "SERVER:", "NT:" };
	size_t n = 0;

	name[0] = '\0';
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t kl = strlen(keys[k]);

		for (size_t i = 0; i + kl <= b.len; i++) {
			if ((i && b.p[i - 1] != '\n') ||
			    strncasecmp((const char *)b.p + i, keys[k], kl))
				continue;
			i += kl;
			while (i < b.len && b.p[i] == ' ')
				i++;
			for (; i < b.len && b.p[i] != '\r' && b.p[i] != '\n'; i++)
				name_put(name, &n, b.p[i] == ' ' ? '_' : b.p[i]);
			return;
		}
	}
}

/* Chatter is UDP to or from one of the ports of the services naming a
 * host; its kind, or NULL. */
static const char *chatter_kind(uint16_t sport, uint16_t dport)
{
	uint16_t ports[2] = { dport, sport };

	for (int i = 0; i < 2; i++) {
		switch (ports[i]) {
		case PORT_MDNS:
			return "mdns";
		case PORT_LLMNR:
			return "llmnr";
		case PORT_NETBIOS_NS:
		case PORT_NETBIOS_DGM:
			return "netbios";
		case PORT_SSDP:
			return "ssdp";
		}
	}
	return NULL;
}

/* The host name in chatter's UDP payload, if any. */
static void chatter_name(struct audit_frame *f, struct bytes payload)
{
	if (!strcmp(f->kind, "mdns") || !strcmp(f->kind, "llmnr"))
		dns_host_name(payload, f->name);
	else if (!strcmp(f->kind, "ssdp"))
		ssdp_name(payload, f->name);
	else if (f->sport == PORT_NETBIOS_DGM || f->dport == PORT_NETBIOS_DGM)
		netbios_name(payload, 14, f->name);	/* the source name */
	else
		netbios_name(payload, DNS_HLEN, f->name); /* the question */
}

/* UDP after the IP header: ports, and the chatter's kind and name. */
static void classify_udp(struct audit_frame *f, struct bytes l4, bool mcast)
{
	int sport = rd16(l4, 0), dport = rd16(l4, 2);

	if (sport < 0 || dport < 0) {
		f->why = AUDIT_OTHER;
		return;
	}
	f->sport = sport;
	f->dport = dport;
	if ((sport == PORT_DHCP_CLIENT && dport == PORT_DHCP_SERVER) ||
	    (sport == PORT_DHCP6_CLIENT && dport == PORT_DHCP6_SERVER)) {
		f->why = AUDIT_DHCP;
		return;
	}
	f->kind = chatter_kind(sport, dport);
	if (f->kind) {
		f->why = AUDIT_CHATTER;
		chatter_name(f, tail(l4, 8));
	} else if (mcast) {
		f->why = AUDIT_CHATTER;
		f->kind = "broadcast";
	} else {
		f->why = AUDIT_FLOW;
	}
}

static bool host_ip4(const struct audit_host *h, struct in_addr a)
{
	for (size_t i = 0; i < h->n_ip4 && i < AUDIT_HOST_MAX_ADDRS; i++)
		if (h->ip4[i].s_addr == a.s_addr)
			return true;
	return false;
}

static bool host_ip6(const struct audit_host *h, const struct in6_addr *a)
{
	for (size_t i = 0; i < h->n_ip6 && i < AUDIT_HOST_MAX_ADDRS; i++)
		if (!memcmp(&h->ip6[i], a, sizeof(*a)))
			return true;
	return false;
}

/* Whether a's interface identifier is the EUI-64 of mac (RFC 4291). */
static bool is_eui64(const uint8_t *mac, const struct in6_addr *a)
{
	const uint8_t iid[8] = { mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe,
				 mac[3], mac[4], mac[5] };

	return !memcmp(a->s6_addr + 8, iid, sizeof(iid));
}

static void classify_ipv4(const struct audit_host *h, struct audit_frame *f,
			  struct bytes ip, bool l2_mcast)
{
	const uint8_t *hdr = span(ip, 0, 20);
	size_t ihl, tot;
	bool mcast;

	f->why = AUDIT_OTHER;
	if (!hdr || hdr[0] >> 4 != 4 || (ihl = (hdr[0] & 0xf) * 4u) < 20)
		return;
	f->family = AF_INET;
	f->proto = hdr[9];
	memcpy(&f->saddr.v4, hdr + 12, 4);
	memcpy(&f->daddr.v4, hdr + 16, 4);
	if (host_ip4(h, f->saddr.v4))
		f->carried |= AUDIT_CARRIED_IP;
	if (!f->carried) {
		f->why = AUDIT_NOT_REAL;
		return;
	}
	tot = hdr[2] << 8 | hdr[3];
	if (tot < ip.len)
		ip.len = tot;	/* Ethernet padding is not payload */
	mcast = l2_mcast || IN_MULTICAST(ntohl(f->daddr.v4.s_addr)) ||
		f->daddr.v4.s_addr == INADDR_BROADCAST;
	if (f->proto == IPPROTO_IGMP) {
		f->why = AUDIT_NDP;
		f->kind = "igmp";
		return;
	}
	/* A later fragment has no ports: anything else. */
	if ((hdr[6] << 8 | hdr[7]) & 0x1fff)
		return;
	if (f->proto == IPPROTO_UDP) {
		classify_udp(f, tail(ip, ihl), mcast);
	} else if (mcast) {
		f->why = AUDIT_CHATTER;
		f->kind = "broadcast";
	} else if (f->proto == IPPROTO_TCP) {
		f->sport = rd16(ip, ihl) < 0 ? 0 : rd16(ip, ihl);
		f->dport = rd16(ip, ihl + 2) < 0 ? 0 : rd16(ip, ihl + 2);
		f->why = AUDIT_FLOW;
	} else if (f->proto == IPPROTO_ICMP) {
		const uint8_t *t = span(ip, ihl, 2);

		if (t) {
			f->sport = t[0];
			f->dport = t[1];
		}
		f->why = AUDIT_FLOW;
	}
	/* Only the real address makes a flow the host's; the real MAC alone
	 * (an identity's address from the host's MAC) is a fault. */
	if (f->why == AUDIT_FLOW && !(f->carried & AUDIT_CARRIED_IP))
		f->why = AUDIT_OTHER;
}

/* Skips IPv6 extension headers; the upper layer's offset, or 0. */
static size_t ipv6_upper(struct bytes ip, uint8_t *proto)
{
	size_t off = IP6_HLEN;

	for (int i = 0; i < 8; i++) {
		const uint8_t *x;

		switch (*proto) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			x = span(ip, off, 2);
			if (!x)
				return 0;
			*proto = x[0];
			off += (x[1] + 1) * 8u;
			break;
		case IPPROTO_FRAGMENT:
			x = span(ip, off, 8);
			/* A later fragment has no upper-layer header. */
			if (!x || ((x[2] << 8 | x[3]) & 0xfff8))
				return 0;
			*proto = x[0];
			off += 8;
			break;
		default:
			return off;
		}
	}
	return 0;
}

static void classify_ipv6(const struct audit_host *h, struct audit_frame *f,
			  struct bytes ip)
{
	const uint8_t *hdr = span(ip, 0, IP6_HLEN), *icmp;
	size_t off, plen;
	uint8_t proto;

	f->why = AUDIT_OTHER;
	if (!hdr || hdr[0] >> 4 != 6)
		return;
	f->family = AF_INET6;
	memcpy(&f->saddr.v6, hdr + 8, 16);
	memcpy(&f->daddr.v6, hdr + 24, 16);
	if (host_ip6(h, &f->saddr.v6))
		f->carried |= AUDIT_CARRIED_IP;
	if (is_eui64(h->mac, &f->saddr.v6))
		f->carried |= AUDIT_CARRIED_EUI64;
	if (!f->carried) {
		f->why = AUDIT_NOT_REAL;
		return;
	}
	plen = hdr[4] << 8 | hdr[5];
	if (plen + IP6_HLEN < ip.len)
		ip.len = plen + IP6_HLEN;
	proto = hdr[6];
	off = ipv6_upper(ip, &proto);
	f->proto = proto;
	f->why = AUDIT_IPV6;
	if (!off)
		return;
	if (proto == IPPROTO_ICMPV6 && (icmp = span(ip, off, 2))) {
		f->sport = icmp[0];
		f->dport = icmp[1];
		if ((icmp[0] >= 130 && icmp[0] <= 137) || icmp[0] == 143) {
			f->why = AUDIT_NDP;
			f->kind = icmp[0] >= 133 && icmp[0] <= 137 ? "ndp" : "mld";
		} else if (icmp[0] == 128 || icmp[0] == 129) {
			f->why = AUDIT_FLOW;	/* echo */
		}
	} else if (proto == IPPROTO_UDP) {
		classify_udp(f, tail(ip, off), IN6_IS_ADDR_MULTICAST(&f->daddr.v6));
	} else if (proto == IPPROTO_TCP) {
		f->sport = rd16(ip, off) < 0 ? 0 : rd16(ip, off);
		f->dport = rd16(ip, off + 2) < 0 ? 0 : rd16(ip, off + 2);
		f->why = AUDIT_FLOW;
	}
	if (f->why == AUDIT_FLOW && IN6_IS_ADDR_MULTICAST(&f->daddr.v6))
		f->why = AUDIT_IPV6;
}

static void classify_arp(const struct audit_host *h, struct audit_frame *f,
			 struct bytes arp)
{
	/* Ethernet/IPv4 ARP: sender MAC at 8, sender address at 14, target
	 * address at 24; the addresses are reported as source and
	 * destination. */
	const uint8_t *sha = span(arp, 8, 6), *spa = span(arp, 14, 4),
		      *tpa = span(arp, 24, 4);

	if (sha && !memcmp(sha, h->mac, 6))
		f->carried |= AUDIT_CARRIED_MAC;
	if (spa && tpa) {
		f->family = AF_INET;
		memcpy(&f->saddr.v4, spa, 4);
		memcpy(&f->daddr.v4, tpa, 4);
		if (host_ip4(h, f->saddr.v4))
			f->carried |= AUDIT_CARRIED_IP;
	}
	f->why = f->carried ? AUDIT_ARP : AUDIT_NOT_REAL;
}

void audit_classify(const struct audit_host *host, const uint8_t *frame,
		    size_t len, struct audit_frame *out)
{
	struct bytes b = { frame, len };
	const uint8_t *eth = span(b, 0, ETH_HLEN);
	size_t l3 = ETH_HLEN;
	int type;

	memset(out, 0, sizeof(*out));
	out->why = AUDIT_OTHER;
	if (!eth)
		return;
	memcpy(out->src_mac, eth + 6, 6);
	if (!memcmp(out->src_mac, host->mac, 6))
		out->carried |= AUDIT_CARRIED_MAC;
	type = rd16(b, 12);
	if (type == ETH_P_8021Q) {
		type = rd16(b, 16);
		l3 += 4;
	}
	out->ethertype = type < 0 ? 0 : type;
	if (type == ETH_P_IP)
		classify_ipv4(host, out, tail(b, l3), eth[0] & 1);
	else if (type == ETH_P_IPV6)
		classify_ipv6(host, out, tail(b, l3));
	else if (type == ETH_P_ARP)
		classify_arp(host, out, tail(b, l3));
	else if (!out->carried)
		out->why = AUDIT_NOT_REAL;
}
