// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * audit.c - see audit.h.  The packet socket sees what the interface sends
 * after TC egress has run (the kernel hands a frame to its packet taps
 * only when the driver gets it, past the clsact qdisc), so the audit
 * judges the frames psv rewrote, as they reach the wire.  Frames are
 * classified by audit_frame.c; a unicast flow from the real address is
 * "host_policy" only if psvd's maps say psv leaves it on the host.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "psvctl/audit.h"
#include "psvctl/audit_frame.h"
#include "psvctl/report.h"
#include "common/pins.h"
#include "common/sockets.h"

#define AUDIT_SNAPLEN 9216	/* a jumbo frame; the rest is not read */
#define AUDIT_MAX_ENTRIES 1024	/* distinct flows and identities kept */

/* The report's groups, in its order; expected ones do not fail it. */
enum group {
	G_DHCP, G_HOST_POLICY, G_ARP, G_NDP, G_IPV6, G_CHATTER, G_OTHER,
	G_MAX
};

static const struct {
	const char *name;
	bool expected;
} groups[G_MAX] = {
	[G_DHCP] = { "dhcp", true },
	[G_HOST_POLICY] = { "host_policy", true },
	[G_ARP] = { "arp", true },
	[G_NDP] = { "ndp", true },
	[G_IPV6] = { "ipv6", false },
	[G_CHATTER] = { "chatter", false },
	[G_OTHER] = { "other", false },
};

/* Frames of one kind that left alike, counted. */
struct entry {
	enum group group;
	struct audit_frame f;
	const char *reason;	/* host_policy: why psv leaves it */
	unsigned long frames;
};

/* An identity seen sending: its MAC, its first IPv4 and IPv6 sources. */
struct seen_id {
	uint8_t mac[6];
	struct in_addr ip;
	struct in6_addr ip6;
	unsigned long frames;
};

struct audit {
	struct ctl *ctl;
	struct audit_host host;
	bool psvd;		/* psvd's pins are there */
	struct psv_config cfg;
	int host_conns_fd, sockets_fd;	/* -1: not pinned */
	struct entry *entries;
	size_t n_entries;
	struct seen_id *ids;
	size_t n_ids;
	unsigned long outgoing, real, unexpected, untracked;
	unsigned long group_frames[G_MAX];
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The interface's own MAC and addresses: the host's real identity. */
static int read_host(struct audit *a)
{
	const char *ifname = a->ctl->ifname;
	struct ifaddrs *ifa, *i;
	bool mac = false;

	if (getifaddrs(&ifa)) {
		fail("cannot list the addresses of %s: %s", ifname,
		     strerror(errno));
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		struct audit_host *h = &a->host;

		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_PACKET) {
			memcpy(h->mac, ((struct sockaddr_ll *)i->ifa_addr)->sll_addr,
			       sizeof(h->mac));
			mac = true;
		} else if (i->ifa_addr->sa_family == AF_INET &&
			   h->n_ip4 < AUDIT_HOST_MAX_ADDRS) {
			h->ip4[h->n_ip4++] =
				((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6 &&
			   h->n_ip6 < AUDIT_HOST_MAX_ADDRS) {
			h->ip6[h->n_ip6++] =
				((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		}
	}
	freeifaddrs(ifa);
	if (!mac)
		fail("no interface %s with a MAC address", ifname);
	return mac ? 0 : -1;
}

/*
 * What psvd's maps say about the host's own flows, if psvd runs: its
 * default granularity, the connections peers opened to the host, the
 * sockets' granularity.  Without pins every flow of the real address is
 * unexpected.  0, or -1 if the pins are there but cannot be read.
 */
/* Whether psvd pinned map name on the audited interface. */
static bool pinned(const struct audit *a, const char *name)
{
	char path[PATH_MAX];

	return !psv_pin_path(path, sizeof(path), a->ctl->ifname, name) &&
	       !access(path, F_OK);
}

static int read_psvd(struct audit *a)
{
	__u32 key = 0, max_entries;
	int fd;

	if (!pinned(a, PSV_MAP_CONFIG))
		return 0;
	fd = snap_open_map(a->ctl, PSV_MAP_CONFIG, BPF_MAP_TYPE_ARRAY,
			   sizeof(key), sizeof(a->cfg), &max_entries);
	if (fd < 0)
		return -1;
	if (bpf_map_lookup_elem(fd, &key, &a->cfg)) {
		fail("cannot read map %s: %s", PSV_MAP_CONFIG, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	a->psvd = true;
	a->host_conns_fd = snap_open_map(a->ctl, PSV_MAP_HOST_CONNS,
					 BPF_MAP_TYPE_LRU_HASH,
					 sizeof(struct psv_conn_key),
					 sizeof(__u64), &max_entries);
	a->sockets_fd = snap_open_map(a->ctl, PSV_MAP_SOCKETS,
				      BPF_MAP_TYPE_SK_STORAGE, sizeof(int),
				      sizeof(struct psv_sock), &max_entries);
	return a->host_conns_fd >= 0 && a->sockets_fd >= 0 ? 0 : -1;
}

/* A read-only packet socket on the interface that sees what it sends. */
static int open_tap(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd, zero = 0;

	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fail("no interface %s: %s", ifname, strerror(errno));
		return -1;
	}
	/* Protocol 0 until bound: no frame of another interface meanwhile. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail("cannot open a packet socket: %s%s", strerror(errno),
		     errno == EPERM ? " (audit needs root: CAP_NET_RAW)" : "");
		return -1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &zero,
		       sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fail("cannot watch %s on a packet socket: %s", ifname,
		     strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct sock_match {
	const struct audit_frame *f;
	bool host;
};

static int match_host_sock(void *ctx, const struct inet4_sock *s)
{
	struct sock_match *m = ctx;
	const struct psv_sock *ps = (const struct psv_sock *)s->storage;

	if (s->proto != m->f->proto || s->laddr != m->f->saddr.v4.s_addr ||
	    s->raddr != m->f->daddr.v4.s_addr ||
	    ntohs(s->lport) != m->f->sport || ntohs(s->rport) != m->f->dport)
		return 0;
	m->host = s->storage_len >= sizeof(*ps) &&
		  ps->granularity == PSV_GRAN_HOST;
	return 1;
}

/*
 * Why psv leaves a unicast IPv4 flow of the real address on the host,
 * or NULL: a leak.  (psvd sees the socket of a TCP flow only; a UDP flow
 * of an [app] with granularity host is reported unexpected.)
 */
static const char *host_reason(struct audit *a, const struct audit_frame *f)
{
	struct psv_conn_key k = { .raddr = f->daddr.v4.s_addr,
				  .lport = htons(f->sport),
				  .rport = htons(f->dport), .proto = f->proto };
	struct sock_match m = { .f = f };
	__u64 seen;

	if (!a->psvd || f->family != AF_INET)
		return NULL;
	if (a->cfg.granularity == PSV_GRAN_HOST)
		return "policy default = host";
	if (f->proto == IPPROTO_ICMP)
		return NULL;
	if (a->host_conns_fd >= 0 &&
	    !bpf_map_lookup_elem(a->host_conns_fd, &k, &seen))
		return "a peer's connection to the host's address";
	if (f->proto == IPPROTO_TCP && a->sockets_fd >= 0 &&
	    sockets_walk_storage(a->sockets_fd, match_host_sock, &m) > 0 &&
	    m.host)
		return "an application with granularity host";
	return NULL;
}

static enum group group_of(const struct audit_frame *f)
{
	switch (f->why) {
	case AUDIT_DHCP:
		return G_DHCP;
	case AUDIT_ARP:
		return G_ARP;
	case AUDIT_NDP:
		return G_NDP;
	case AUDIT_IPV6:
		return G_IPV6;
	case AUDIT_CHATTER:
		return G_CHATTER;
	case AUDIT_FLOW:
		return f->family == AF_INET6 ? G_IPV6 : G_OTHER;
	default:
		return G_OTHER;
	}
}

/* Frames that left alike: same group, kind, addresses, ports, name. */
static bool same(const struct audit_frame *x, const struct audit_frame *y)
{
	return x->why == y->why && x->carried == y->carried &&
	       x->family == y->family && x->proto == y->proto &&
	       x->sport == y->sport && x->dport == y->dport &&
	       x->ethertype == y->ethertype &&
	       !memcmp(x->src_mac, y->src_mac, sizeof(x->src_mac)) &&
	       !memcmp(&x->saddr, &y->saddr, sizeof(x->saddr)) &&
	       !memcmp(&x->daddr, &y->daddr, sizeof(x->daddr)) &&
	       !strcmp(x->name, y->name);
}

static void note_identity(struct audit *a, const struct audit_frame *f)
{
	struct seen_id *id = NULL;

	for (size_t i = 0; i < a->n_ids && !id; i++)
		if (!memcmp(a->ids[i].mac, f->src_mac, 6))
			id = &a->ids[i];
	if (!id) {
		struct seen_id *ids = vec_reserve(a->ids, a->n_ids,
						  sizeof(*ids));

		if (!ids || a->n_ids >= AUDIT_MAX_ENTRIES) {
			a->untracked++;
			return;
		}
		a->ids = ids;
		id = &ids[a->n_ids++];
		memset(id, 0, sizeof(*id));
		memcpy(id->mac, f->src_mac, 6);
	}
	if (!id->ip.s_addr && f->family == AF_INET)
		id->ip = f->saddr.v4;	/* an IPv4 source, or an ARP sender */
	/* Its own address, not a link-local one (those are the host's). */
	if (IN6_IS_ADDR_UNSPECIFIED(&id->ip6) && f->family == AF_INET6 &&
	    !IN6_IS_ADDR_LINKLOCAL(&f->saddr.v6) &&
	    !IN6_IS_ADDR_UNSPECIFIED(&f->saddr.v6))
		id->ip6 = f->saddr.v6;
	id->frames++;
}

static void note_real(struct audit *a, const struct audit_frame *f)
{
	struct entry *e = NULL, *arr;

	for (size_t i = 0; i < a->n_entries && !e; i++)
		if (same(&a->entries[i].f, f))
			e = &a->entries[i];
	if (!e) {
		arr = vec_reserve(a->entries, a->n_entries, sizeof(*arr));
		if (!arr || a->n_entries >= AUDIT_MAX_ENTRIES) {
			/* Not listed, but counted, as a leak to be safe. */
			a->untracked++;
			a->unexpected++;
			a->group_frames[G_OTHER]++;
			return;
		}
		a->entries = arr;
		e = &arr[a->n_entries++];
		*e = (struct entry){ .f = *f, .group = group_of(f) };
		if (f->why == AUDIT_FLOW) {
			e->reason = host_reason(a, f);
			if (e->reason)
				e->group = G_HOST_POLICY;
		}
	}
	e->frames++;
	a->group_frames[e->group]++;
	if (!groups[e->group].expected)
		a->unexpected++;
}

static void take(struct audit *a, const uint8_t *frame, size_t len)
{
	struct audit_frame f;

	a->outgoing++;
	audit_classify(&a->host, frame, len, &f);
	if (f.why == AUDIT_NOT_REAL) {
		note_identity(a, &f);
		return;
	}
	a->real++;
	note_real(a, &f);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Takes every frame the interface sends until the time is up (or ^C). */
static int watch(struct audit *a, int fd)
{
	static uint8_t buf[AUDIT_SNAPLEN];
	long long end = now_ms() + a->ctl->seconds * 1000LL, left;
	struct sigaction sa = { .sa_handler = on_interrupt };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	sigaction(SIGINT, &sa, NULL);
	while (!interrupted && (left = end - now_ms()) > 0) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n;

		if (poll(&p, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			fail("cannot wait for frames: %s", strerror(errno));
			return -1;
		}
		if (!(p.revents & POLLIN))
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&sll, &sl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fail("cannot read a frame: %s", strerror(errno));
			return -1;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING)
			take(a, buf, n);
	}
	return 0;
}

static struct json_object *json_addr(int family, const void *addr)
{
	char buf[INET6_ADDRSTRLEN];

	return json_object_new_string(inet_ntop(family, addr, buf, sizeof(buf)));
}

static const char *proto_name(const struct audit_frame *f)
{
	static char num[8];

	if (f->ethertype == ETH_P_ARP)
		return "arp";
	switch (f->proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_IGMP:
		return "igmp";
	}
	if (!f->family)
		return "ethernet";
	snprintf(num, sizeof(num), "%u", f->proto);
	return num;
}

static struct json_object *json_entry(const struct entry *e)
{
	const struct audit_frame *f = &e->f;
	struct json_object *o = json_object_new_object(), *c;

	json_object_object_add(o, "frames", json_object_new_uint64(e->frames));
	json_object_object_add(o, "kind", f->kind ?
			       json_object_new_string(f->kind) : NULL);
	json_object_object_add(o, "proto", json_object_new_string(proto_name(f)));
	json_object_object_add(o, "src_mac", json_mac(f->src_mac));
	json_object_object_add(o, "src", f->family ?
			       json_addr(f->family, &f->saddr) : NULL);
	json_object_object_add(o, "dst", f->family ?
			       json_addr(f->family, &f->daddr) : NULL);
	json_object_object_add(o, "sport", json_object_new_int(f->sport));
	json_object_object_add(o, "dport", json_object_new_int(f->dport));
	c = json_object_new_array();
	if (f->carried & AUDIT_CARRIED_MAC)
		json_object_array_add(c, json_object_new_string("mac"));
	if (f->carried & AUDIT_CARRIED_IP)
		json_object_array_add(c, json_object_new_string("address"));
	if (f->carried & AUDIT_CARRIED_EUI64)
		json_object_array_add(c, json_object_new_string("eui64"));
	json_object_object_add(o, "carried", c);
	json_object_object_add(o, "name", f->name[0] ?
			       json_object_new_string(f->name) : NULL);
	json_object_object_add(o, "reason", e->reason ?
			       json_object_new_string(e->reason) : NULL);
	return o;
}

static struct json_object *json_host(const struct audit_host *h)
{
	struct json_object *o = json_object_new_object(), *v4, *v6;

	v4 = json_object_new_array();
	v6 = json_object_new_array();
	for (size_t i = 0; i < h->n_ip4; i++)
		json_object_array_add(v4, json_addr(AF_INET, &h->ip4[i]));
	for (size_t i = 0; i < h->n_ip6; i++)
		json_object_array_add(v6, json_addr(AF_INET6, &h->ip6[i]));
	json_object_object_add(o, "mac", json_mac(h->mac));
	json_object_object_add(o, "ipv4", v4);
	json_object_object_add(o, "ipv6", v6);
	return o;
}

/* The one-line verdict: what an observer could tie to the host. */
static struct json_object *json_verdict(const struct audit *a)
{
	char line[512];
	size_t n;

	if (!a->unexpected) {
		snprintf(line, sizeof(line), "ok: %lu of %lu frames sent carried "
			 "the real identity, all expected (%s)", a->real,
			 a->outgoing, a->psvd ? "psvd runs" : "psvd does not run");
		return json_object_new_string(line);
	}
	n = snprintf(line, sizeof(line), "LEAK: %lu of %lu frames sent carried "
		     "the real identity unexpectedly:", a->unexpected,
		     a->outgoing);
	for (int g = 0; g < G_MAX; g++)
		if (!groups[g].expected && a->group_frames[g] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s %lu",
				      groups[g].name, a->group_frames[g]);
	if (!a->psvd && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, " (psvd does not run)");
	return json_object_new_string(line);
}

static struct json_object *audit_doc(const struct audit *a)
{
	struct json_object *doc = json_object_new_object(), *arr, *fr;

	json_object_object_add(doc, "iface", json_object_new_string(a->ctl->ifname));
	json_object_object_add(doc, "seconds", json_object_new_int(a->ctl->seconds));
	json_object_object_add(doc, "psvd", json_object_new_boolean(a->psvd));
	json_object_object_add(doc, "host", json_host(&a->host));
	fr = json_object_new_object();
	json_object_object_add(fr, "sent", json_object_new_uint64(a->outgoing));
	json_object_object_add(fr, "real_identity",
			       json_object_new_uint64(a->real));
	json_object_object_add(fr, "unexpected",
			       json_object_new_uint64(a->unexpected));
	json_object_object_add(fr, "untracked",
			       json_object_new_uint64(a->untracked));
	json_object_object_add(doc, "frames", fr);
	arr = json_object_new_array();
	for (int g = 0; g < G_MAX; g++) {
		struct json_object *o = json_object_new_object(), *flows;

		flows = json_object_new_array();
		for (size_t i = 0; i < a->n_entries; i++)
			if (a->entries[i].group == (enum group)g)
				json_object_array_add(flows,
						      json_entry(&a->entries[i]));
		json_object_object_add(o, "group",
				       json_object_new_string(groups[g].name));
		json_object_object_add(o, "expected",
				       json_object_new_boolean(groups[g].expected));
		json_object_object_add(o, "frames",
				       json_object_new_uint64(a->group_frames[g]));
		json_object_object_add(o, "flows", flows);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "groups", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < a->n_ids; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "mac", json_mac(a->ids[i].mac));
		json_object_object_add(o, "ipv4", a->ids[i].ip.s_addr ?
				       json_ip(a->ids[i].ip.s_addr) : NULL);
		json_object_object_add(o, "ipv6",
				       IN6_IS_ADDR_UNSPECIFIED(&a->ids[i].ip6) ?
				       NULL : json_addr(AF_INET6, &a->ids[i].ip6));
		json_object_object_add(o, "frames",
				       json_object_new_uint64(a->ids[i].frames));
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "identities", arr);
	json_object_object_add(doc, "ok", json_object_new_boolean(!a->unexpected));
	json_object_object_add(doc, "verdict", json_verdict(a));
	return doc;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
		       json_object_get_string(v) : NULL;
}

/* For people: the groups with frames, each flow on a line, the verdict. */
void print_audit(struct json_object *doc)
{
	struct json_object *arr, *fr;

	json_object_object_get_ex(doc, "frames", &fr);
	printf("%s: %s frames sent in %s s, %s with the real identity "
	       "(%s %s)\n", str(doc, "iface"), str(fr, "sent"),
	       str(doc, "seconds"), str(fr, "real_identity"),
	       str(json_object_object_get(doc, "host"), "mac"),
	       json_object_get_boolean(json_object_object_get(doc, "psvd")) ?
		       "psvd runs" : "psvd does not run");
	json_object_object_get_ex(doc, "groups", &arr);
	for (size_t g = 0; g < json_object_array_length(arr); g++) {
		struct json_object *o = json_object_array_get_idx(arr, g), *fl;

		if (!strcmp(str(o, "frames"), "0"))
			continue;
		printf("%-12s %6s frames  %s\n", str(o, "group"),
		       str(o, "frames"),
		       json_object_get_boolean(json_object_object_get(o, "expected")) ?
			       "expected" : "UNEXPECTED");
		json_object_object_get_ex(o, "flows", &fl);
		for (size_t i = 0; i < json_object_array_length(fl); i++) {
			struct json_object *e = json_object_array_get_idx(fl, i);
			const char *kind = str(e, "kind"), *name = str(e, "name"),
				   *why = str(e, "reason");

			printf("  %6s  %s %s", str(e, "frames"),
			       kind ? kind : str(e, "proto"), str(e, "src_mac"));
			if (!strcmp(str(e, "proto"), "arp"))
				printf(" %s -> %s", str(e, "src") ?: "-",
				       str(e, "dst") ?: "-");
			else if (str(e, "src"))
				printf(" %s:%s -> %s:%s", str(e, "src"),
				       str(e, "sport"), str(e, "dst"),
				       str(e, "dport"));
			printf("%s%s%s%s\n", name ? " name " : "", name ?: "",
			       why ? ", " : "", why ?: "");
		}
	}
	json_object_object_get_ex(doc, "identities", &arr);
	printf("identities seen in use: %zu\n", json_object_array_length(arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		printf("  %s %-15s %6s frames%s%s\n", str(o, "mac"),
		       str(o, "ipv4") ?: "-", str(o, "frames"),
		       str(o, "ipv6") ? "  " : "", str(o, "ipv6") ?: "");
	}
	printf("%s\n", str(doc, "verdict"));
}

int build_audit(struct ctl *ctl, struct json_object **out)
{
	struct audit a = { .ctl = ctl, .host_conns_fd = -1, .sockets_fd = -1 };
	int fd = -1, err = -1;

	if (read_host(&a) || read_psvd(&a))
		goto out;
	fd = open_tap(ctl->ifname);
	if (fd >= 0 && !watch(&a, fd)) {
		*out = audit_doc(&a);
		err = 0;
	}
	if (fd >= 0)
		close(fd);
out:
	if (a.host_conns_fd >= 0)
		close(a.host_conns_fd);
	if (a.sockets_fd >= 0)
		close(a.sockets_fd);
	free(a.entries);
	free(a.ids);
	return err;
}
