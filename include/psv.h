/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * psv.h - the one definition of everything shared by the BPF programs in
 * bpf/ and the daemon and tools in loader/: map names, keys, values,
 * counters and events.  Every struct has fixed-width fields and explicit
 * padding so both sides agree byte for byte (checked by _Static_assert).
 * Addresses and ports are kept in network byte order, as on the wire.
 */
#ifndef PSV_H
#define PSV_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Pins live in PSV_PIN_ROOT/<ifname>/ (maps by name, programs as prog_*). */
#define PSV_PIN_ROOT "/sys/fs/bpf/psv"

/* Default map sizes; psvd may resize before load (flows up to 1,000,000). */
#define PSV_MAX_IDENTITIES 4096
#define PSV_MAX_CONNS 131072
#define PSV_MAX_GROUPS 65536
#define PSV_MAX_HOST_CONNS 65536
#define PSV_MAX_FRAGS 4096
#define PSV_MAX_APP_RULES 64	/* [app] sections (config.h: PSV_CONF_MAX_APPS) */
#define PSV_MAX_APPS 4096	/* applications attributed at once */
#define PSV_MAX_ROUTES 4096	/* IPv4 routes mirrored (main, own addresses) */
#define PSV_MAX_ROUTES6 4096	/* the same for IPv6 */
#define PSV_MAX_ADDRS6 (4 * PSV_MAX_IDENTITIES) /* a few prefixes each */
#define PSV_EVENTS_BYTES (256 * 1024)

/* What a new group gets when the ready queue is empty. */
enum psv_exhausted {
	PSV_EXHAUSTED_DROP = 0,	/* fail closed: nothing leaks */
	PSV_EXHAUSTED_REUSE = 1, /* psv_config.reuse_vip */
	PSV_EXHAUSTED_HOST = 2,	/* the host's real identity */
	/*
	 * Join the identity that links least (psv_links): the one its
	 * application took last, else its user's, else reuse_vip.
	 */
	PSV_EXHAUSTED_LINK = 3,
};

/* How new flows are grouped onto identities (policy.default). */
enum psv_granularity {
	PSV_GRAN_FLOW = 0,	/* the paper's keys */
	PSV_GRAN_APP = 1,
	PSV_GRAN_UID = 2,
	PSV_GRAN_HOST = 3,	/* not virtualized */
};

/* How an [app] section recognizes its application (psv_app_rule.match). */
enum psv_app_match {
	PSV_MATCH_NONE = 0,	/* an unused rule slot */
	PSV_MATCH_COMM = 1,	/* task comm, at most 15 bytes */
	PSV_MATCH_EXE = 2,	/* the executable, by file system and inode */
	PSV_MATCH_UID = 3,	/* the socket creator's uid */
	PSV_MATCH_CGROUP = 4,	/* a cgroup v2 and everything below it */
};

/*
 * IPv6 (config: ipv6 = virtualize|block|host).  VIRTUALIZE gives a
 * virtualized flow its identity's IPv6 address; while that identity has
 * none (no router advertisement yet, DAD running) the flow is blocked,
 * as with BLOCK: never the real MAC, never the host's own address.
 */
enum psv_ipv6 {
	PSV_IPV6_VIRTUALIZE = 0,
	PSV_IPV6_BLOCK = 1,
	PSV_IPV6_HOST = 2,	/* IPv6 is the host's: psv leaves it alone */
};

/*
 * Link-local broadcast and multicast that names the host (mDNS, LLMNR,
 * NetBIOS, SSDP; bpf/lib/chatter.h) (config: chatter = drop|host).  HOST
 * is 0: a zeroed config lets it pass, as before the key existed; psvd's
 * default is DROP.
 */
enum psv_chatter {
	PSV_CHATTER_HOST = 0,	/* leaves with the host's real identity */
	PSV_CHATTER_DROP = 1,	/* dropped at egress */
};

/* Reverse path attachment (config: ingress = auto|xdp|tc). */
enum psv_ingress_mode {
	PSV_INGRESS_AUTO = 0,
	PSV_INGRESS_XDP = 1,
	PSV_INGRESS_TC = 2,
};

/* Map psv_config (ARRAY, one entry at key 0), written by psvd. */
struct psv_config {
	__u8 host_mac[6];
	__u8 on_exhausted;	/* enum psv_exhausted */
	__u8 granularity;	/* enum psv_granularity */
	__be32 host_ip;
	__be32 netmask;		/* on-link prefix, to spot subnet broadcast */
	__be32 reuse_vip;	/* least recently used identity, REUSE and LINK */
	__u32 ifindex;		/* for the TC ingress ARP reply redirect */
	__u32 enabled;		/* 0: psv attached but passes everything */
	__u8 stopping;		/* psvd is ending the virtualized flows */
	__u8 ipv6;		/* enum psv_ipv6 */
	__u8 chatter;		/* enum psv_chatter */
	__u8 pad;
	/*
	 * psvd's network namespace: the cgroup hooks see every socket of
	 * the cgroup tree, and attribute only those that can use this
	 * interface.
	 */
	__u64 netns_cookie;
};

/* Identity lifecycle (docs/ARCHITECTURE.md); only READY and ACTIVE answer ARP. */
enum psv_id_state {
	PSV_ID_ACQUIRING = 1,
	PSV_ID_READY = 2,
	PSV_ID_ACTIVE = 3,
	PSV_ID_IDLE = 4,
	PSV_ID_RETIRED = 5,
};

/* An IPv6 address, in network order. */
struct psv_addr6 {
	__be32 a[4];
};

/*
 * Map psv_identities (HASH): key __be32 virtual IPv4 -> identity.  The
 * IPv4 address names an identity everywhere (groups, conns, the ready
 * queue); its IPv6 addresses are found through psv_addrs6.
 */
struct psv_identity {
	__u8 mac[6];
	__u8 state;		/* enum psv_id_state */
	__u8 pad;
	__u32 id;		/* psvd's sequence number, never reused */
	/*
	 * The IPv6 address connect6/sendmsg6 give its sockets: one of its
	 * addresses in psv_addrs6 whose DAD succeeded and whose prefix is
	 * preferred.  All zero: none yet, IPv6 flows are blocked.
	 */
	struct psv_addr6 ip6;
	/*
	 * When its lease ends, in seconds of CLOCK_MONOTONIC (the clock of
	 * bpf_ktime_get_ns and of psvd's timers); 0: no lease (static).
	 * psvd renews long before; a psvd that died cannot, and the
	 * dataplane then gives no new flow an identity past its lease.
	 */
	__u32 lease_end_s;
};

/*
 * Map psv_addrs6 (HASH): key struct psv_addr6, every IPv6 address of
 * every identity (one per advertised prefix), -> struct psv_addr6_owner.
 * Egress gives a frame from one of them its identity's MAC; ingress
 * answers neighbour solicitations for them (only when dad_done).
 */
struct psv_addr6_owner {
	__be32 vip;		/* the identity, key of psv_identities */
	__u8 dad_done;		/* 0: DAD still running, not answered */
	__u8 pad[3];
};

/*
 * Map psv_ready (QUEUE of __be32 virtual IPv4): identities leased and
 * announced, waiting for a flow.  Egress pops one per new group in O(1).
 */

/*
 * Flow grouping key (map psv_groups, HASH): which flows share an
 * identity.  An application's or uid's group has no address, so its
 * IPv4 and IPv6 flows share one identity; flow groups are per family.
 */
struct psv_group_key {
	union {
		__be32 daddr;	/* IPv4: daddr6[1..3] stay 0 */
		__be32 daddr6[4]; /* IPv6, with ipv6 = 1 */
	};			/* 0 for app/uid granularity */
	__be16 sport;		/* UDP only */
	__be16 dport;		/* TCP and UDP */
	__u32 owner;		/* uid or app id for app/uid granularity,
				 * the app id for DNS (PSV_DNS_PORT), else 0 */
	__u8 proto;		/* IPPROTO_TCP/UDP/ICMP/ICMPV6; 0 for app/uid */
	__u8 kind;		/* enum psv_granularity: uid 7 and app 7 differ */
	__u8 ipv6;		/* 1: daddr6 is an IPv6 destination */
	__u8 pad;
};

/* UDP to this port groups per (application, resolver), not per port. */
#define PSV_DNS_PORT 53

struct psv_group {
	__be32 vip;
	__u32 pad;
	__u64 created_ns;	/* bpf_ktime_get_ns() */
};

/*
 * Connection key, in egress orientation.  The local address is always
 * the host's real one, so (proto, local port, remote address, remote port)
 * names a connection in both directions: ingress builds the same key from
 * (proto, dport, saddr, sport).  ICMP echo uses the echo id as lport.
 */
struct psv_conn_key {
	__be32 raddr;
	__be16 lport;
	__be16 rport;
	__u8 proto;
	__u8 pad[3];
};

/* TCP state as far as expiry needs it. */
enum psv_tcp_state {
	PSV_TCP_NONE = 0,	/* UDP, ICMP */
	PSV_TCP_SYN_SENT = 1,
	PSV_TCP_ESTABLISHED = 2,
	PSV_TCP_FIN_WAIT = 3,	/* one side sent FIN */
	PSV_TCP_CLOSED = 4,	/* both FINs, or RST */
};

#define PSV_CONN_FIN_OUT 0x01	/* psv_conn.flags: FIN seen leaving */
#define PSV_CONN_FIN_IN 0x02	/* FIN seen arriving */
/*
 * The flow's socket uses the identity's address itself: nothing to
 * translate, the entry only admits the replies (unconnected UDP, whose
 * socket is not bound to the identity, and ICMP echo, which has no
 * socket lookup).  Its key's local port is then the identity's.
 */
#define PSV_CONN_BOUND 0x04

/* Map psv_conns (HASH, virtualized flows only; created by egress). */
struct psv_conn {
	__be32 vip;
	__u32 app;		/* psv_app.id of the socket's application, 0 */
	__u64 last_seen_ns;	/* refreshed at most once a second */
	struct psv_group_key group; /* the group this connection belongs to */
	__u8 tcp_state;		/* enum psv_tcp_state */
	__u8 flags;		/* PSV_CONN_* */
	__u8 pad[2];
};

/*
 * Map psv_conns6 (HASH): the IPv6 twin of psv_conns, for what the socket
 * path could not bind (NAT fallback) and for noted flows (PSV_CONN_BOUND).
 * The key is in egress orientation as psv_conns's; the value adds the
 * host's own source address, which replies get back (an IPv6 host has
 * several).
 */
struct psv_conn6_key {
	struct psv_addr6 raddr;
	__be16 lport;
	__be16 rport;
	__u8 proto;		/* IPPROTO_TCP/UDP/ICMPV6 */
	__u8 pad[3];
};

struct psv_conn6 {
	struct psv_conn conn;	/* conn.vip names the identity */
	struct psv_addr6 host;	/* the source the host's stack chose */
};

/*
 * Map psv_host_conns (LRU_HASH): flows a peer opened to the host's own
 * address.  Ingress records them so egress leaves their replies (UDP
 * included) on the real identity.  Value: last seen, ns.
 */

/* Map psv_frags (LRU_HASH): IPv4 fragments of one datagram, one identity. */
struct psv_frag_key {
	__be32 raddr;		/* remote address */
	__be16 ip_id;
	__u8 proto;
	__u8 dir;		/* PSV_DIR_EGRESS or PSV_DIR_INGRESS */
};

#define PSV_DIR_EGRESS 0
#define PSV_DIR_INGRESS 1

struct psv_frag {
	__be32 vip;
	__u8 bound;		/* a socket of vip's own: MAC only, no NAT */
	__u8 pad[3];
};

/* Map psv_routes6 (LPM_TRIE): the same for IPv6, values as psv_routes. */
struct psv_route6_key {
	__u32 prefixlen;
	struct psv_addr6 addr;
};

/*
 * Map psv_routes (LPM_TRIE): the main routing table's IPv4 routes and
 * the host's own addresses (PSV_ROUTE_OTHER), as psvd mirrors them.  A
 * socket is bound to an identity only if its destination leaves through
 * psv's interface: an identity's address on another interface (a VPN, a
 * container bridge) would break the flow.
 */
struct psv_route_key {
	__u32 prefixlen;	/* LPM trie: bits of addr that count */
	__be32 addr;
};

#define PSV_ROUTE_OTHER 0	/* psv_routes value: another interface */
#define PSV_ROUTE_IFACE 1	/* through psv's interface */

/*
 * Socket attribution (bpf/attribution.bpf.c, cgroup hooks).  An
 * application is an [app] section of the config, or, for a socket no
 * section matches, the executable that created it.
 */

/* Map psv_app_rules (ARRAY, PSV_MAX_APP_RULES): [app] sections, in file
 * order; the first that matches wins; written by psvd. */
struct psv_app_rule {
	__u8 match;		/* enum psv_app_match; NONE: unused slot */
	__u8 granularity;	/* enum psv_granularity */
	__u16 cgroup_level;	/* CGROUP: depth below the root (root = 0) */
	__u32 uid;		/* UID */
	__u64 ino;		/* EXE: inode; CGROUP: cgroup id */
	__u32 dev;		/* EXE: kernel dev_t (major << 20 | minor) */
	__u32 pad;
	char comm[16];		/* COMM, NUL-padded */
	char name[32];		/* the section's name, for psvctl */
};

/* Map psv_apps (HASH, PSV_MAX_APPS): key of an application. */
struct psv_app_key {
	__u64 ino;		/* executable (no rule matched); 0 for a rule */
	__u32 dev;
	__u32 rule;		/* rule index + 1; 0: no rule matched */
};

struct psv_app {
	__u32 id;		/* never reused, from psv_app_seq */
	__u32 uid;		/* of the last socket's creator */
	__u32 pid;		/* tgid of the last socket's creator */
	__u8 granularity;	/* enum psv_granularity, as decided */
	__u8 pad[3];
	__u64 sockets;		/* sockets attributed, ever */
	__s64 open;		/* of which not yet closed */
	__u64 last_ns;		/* of the last socket, bpf_ktime_get_coarse_ns() */
	char comm[16];		/* of the last socket's creator */
	char name[32];		/* the rule's name, or comm */
};

/* Map psv_app_seq (ARRAY, 1 entry): the last psv_app.id handed out. */

/* Map psv_sockets (SK_STORAGE): what egress needs of a socket. */
struct psv_sock {
	struct psv_app_key app_key;
	__u32 app;		/* psv_app.id; 0: not in psv_apps (map full) */
	__u32 uid;
	__u8 granularity;	/* enum psv_granularity, for this socket */
	__u8 pad[7];
};

/*
 * Socket path (cgroup connect4/sendmsg4, connect6/sendmsg6): a socket
 * gets its identity's address, so the kernel picks ports, ISN,
 * timestamps and IP IDs for that address.  What cannot be bound is
 * translated at egress (NAT fallback); every outcome is a counter below.
 */

/*
 * Map psv_links (LRU_HASH, PSV_MAX_LINKS): for an empty ready queue under
 * on_exhausted = link, the identity each application and each user took
 * last.  Key: a psv_group_key with only kind (PSV_GRAN_APP or
 * PSV_GRAN_UID) and owner set; value: __be32 virtual IPv4.  A hint: a
 * stale or evicted entry only moves the choice down the list.
 */
#define PSV_MAX_LINKS (2 * PSV_MAX_APPS)

/*
 * Per-CPU counters (map psv_stats, PERCPU_ARRAY of __u64 indexed by enum
 * psv_stat).  One list so the names psvctl prints cannot drift from the
 * indexes BPF counts.
 */
#define PSV_STATS(X)							\
	X(EG_TRANSLATED, "egress_translated")				\
	X(EG_NEW_GROUP, "egress_new_group")				\
	X(EG_NEW_CONN, "egress_new_conn")				\
	X(EG_POOL_EMPTY, "egress_pool_empty")				\
	X(EG_EXHAUSTED_REUSE, "egress_exhausted_reuse")			\
	X(EG_EXHAUSTED_HOST, "egress_exhausted_host")			\
	X(EG_PASS_HOST, "egress_pass_host")				\
	X(EG_PASS_NOT_OURS, "egress_pass_not_ours")			\
	X(EG_DROP_PARSE, "egress_drop_parse")				\
	X(EG_DROP_FRAG, "egress_drop_frag")				\
	X(EG_DROP_TABLE_FULL, "egress_drop_table_full")			\
	X(EG_DROP_NO_IDENTITY, "egress_drop_no_identity")		\
	X(EG_DROP_CSUM, "egress_drop_csum")				\
	X(IN_TRANSLATED, "ingress_translated")				\
	X(IN_ICMP_ERROR, "ingress_icmp_error")				\
	X(IN_ARP_REPLIED, "ingress_arp_replied")			\
	X(IN_DROP_UNSOLICITED, "ingress_drop_unsolicited")		\
	X(IN_DROP_PARSE, "ingress_drop_parse")				\
	X(IN_DROP_FRAG, "ingress_drop_frag")				\
	X(IN_DROP_CSUM, "ingress_drop_csum")				\
	X(IN_HOST_CONN, "ingress_host_conn")				\
	X(IN_PASS, "ingress_pass")					\
	X(SK_ATTRIBUTED, "sock_attributed")				\
	X(SK_APPS_FULL, "sock_apps_full")				\
	X(SK_NO_STORAGE, "sock_no_storage")				\
	X(EG_UNATTRIBUTED, "egress_unattributed")			\
	X(SK_BOUND, "sock_bound")					\
	X(SK_SRC_SET, "sock_src_set")					\
	X(SK_UNBOUND_PORT, "sock_unbound_port")				\
	X(SK_UNBOUND_ROUTE, "sock_unbound_route")			\
	X(SK_UNBOUND_LOCAL, "sock_unbound_local")			\
	X(SK_BIND_FAILED, "sock_bind_failed")				\
	X(EG_IDENTITY_MAC, "egress_identity_mac")			\
	X(EG_ARP_IDENTITY, "egress_arp_identity")			\
	X(EG_ARP_HOST, "egress_arp_host")				\
	X(EG_DROP_ARP, "egress_drop_arp")				\
	X(EG_NAT_UNHOOKED, "egress_nat_unhooked")			\
	X(EG_NAT_UNBOUND, "egress_nat_unbound")				\
	X(EG_DROP_STOPPING, "egress_drop_stopping")			\
	X(IN_IDENTITY_MAC, "ingress_identity_mac")			\
	X(IN_ARP_DROPPED, "ingress_arp_dropped")			\
	X(SK_IPV6_REFUSED, "sock_ipv6_refused")				\
	X(EG_DROP_IPV6, "egress_drop_ipv6")				\
	X(SK_IPV6_NO_ADDR, "sock_ipv6_no_addr")				\
	X(EG_NDP_IDENTITY, "egress_ndp_identity")			\
	X(EG_NDP_HOST, "egress_ndp_host")				\
	X(EG_DROP_NDP, "egress_drop_ndp")				\
	X(EG_DROP_EXTHDR, "egress_drop_exthdr")				\
	X(IN_NDP_REPLIED, "ingress_ndp_replied")			\
	X(IN_NDP_DAD, "ingress_ndp_dad")				\
	X(IN_DROP_NDP, "ingress_drop_ndp")				\
	X(IN_DROP_EXTHDR, "ingress_drop_exthdr")			\
	X(EG_DROP_CHATTER, "egress_drop_chatter")			\
	X(LINKED_BY_EXHAUSTION, "linked_by_exhaustion")			\
	X(EG_DROP_LEASE_EXPIRED, "egress_drop_lease_expired")		\
	X(SK_HELD, "sock_held")

#define PSV_STAT_ENUM(id, name) PSV_STAT_##id,
enum psv_stat {
	PSV_STATS(PSV_STAT_ENUM)
	PSV_STAT_MAX
};
#undef PSV_STAT_ENUM

/* Ring buffer psv_events: egress tells psvd what it took or missed. */
enum psv_event_type {
	PSV_EV_IDENTITY_TAKEN = 1,	/* a ready identity is used: active */
	PSV_EV_POOL_EMPTY = 2,		/* a new flow found no identity */
	/*
	 * A ready identity left the queue for a connected UDP socket that
	 * has sent nothing yet (a route probe may never send): still READY
	 * in psv_identities until its first frame leaves (then TAKEN); psvd
	 * puts it back in the queue if its sockets close unused.
	 */
	PSV_EV_IDENTITY_HELD = 3,
};

struct psv_event {
	__u32 type;		/* enum psv_event_type */
	__be32 vip;
	struct psv_group_key group;
	__u32 pad;
	__u64 ts_ns;
};

/* Map names, for psvd and psvctl to open pins by. */
#define PSV_MAP_CONFIG "psv_config"
#define PSV_MAP_IDENTITIES "psv_identities"
#define PSV_MAP_READY "psv_ready"
#define PSV_MAP_GROUPS "psv_groups"
#define PSV_MAP_CONNS "psv_conns"
#define PSV_MAP_HOST_CONNS "psv_host_conns"
#define PSV_MAP_FRAGS "psv_frags"
#define PSV_MAP_STATS "psv_stats"
#define PSV_MAP_EVENTS "psv_events"
#define PSV_MAP_APP_RULES "psv_app_rules"
#define PSV_MAP_APPS "psv_apps"
#define PSV_MAP_APP_SEQ "psv_app_seq"
#define PSV_MAP_SOCKETS "psv_sockets"
#define PSV_MAP_ROUTES "psv_routes"
#define PSV_MAP_ROUTES6 "psv_routes6"
#define PSV_MAP_ADDRS6 "psv_addrs6"
#define PSV_MAP_CONNS6 "psv_conns6"
#define PSV_MAP_LINKS "psv_links"

_Static_assert(sizeof(struct psv_config) == 40, "psv_config layout");
_Static_assert(sizeof(struct psv_identity) == 32, "psv_identity layout");
_Static_assert(sizeof(struct psv_addr6_owner) == 8, "psv_addr6_owner layout");
_Static_assert(sizeof(struct psv_group_key) == 28, "psv_group_key layout");
_Static_assert(sizeof(struct psv_group) == 16, "psv_group layout");
_Static_assert(sizeof(struct psv_conn_key) == 12, "psv_conn_key layout");
_Static_assert(sizeof(struct psv_conn) == 48, "psv_conn layout");
_Static_assert(sizeof(struct psv_conn6_key) == 24, "psv_conn6_key layout");
_Static_assert(sizeof(struct psv_conn6) == 64, "psv_conn6 layout");
_Static_assert(sizeof(struct psv_frag_key) == 8, "psv_frag_key layout");
_Static_assert(sizeof(struct psv_event) == 48, "psv_event layout");
_Static_assert(sizeof(struct psv_app_rule) == 72, "psv_app_rule layout");
_Static_assert(sizeof(struct psv_app_key) == 16, "psv_app_key layout");
_Static_assert(sizeof(struct psv_app) == 88, "psv_app layout");
_Static_assert(sizeof(struct psv_sock) == 32, "psv_sock layout");
_Static_assert(sizeof(struct psv_route_key) == 8, "psv_route_key layout");
_Static_assert(sizeof(struct psv_route6_key) == 20, "psv_route6_key layout");

#endif /* PSV_H */
