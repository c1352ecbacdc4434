/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sockets.h - the TCP and UDP sockets of psvd's network namespace,
 * through NETLINK_SOCK_DIAG: which ones use an identity's address (an
 * identity is retired only when none does), and SOCK_DESTROY to end the
 * virtualized flows before psvd stops.
 */
#ifndef PSV_SOCKETS_H
#define PSV_SOCKETS_H

#include <stdint.h>

/*
 * A socket carrying IPv4: an AF_INET one, or a dual-stack AF_INET6 one
 * whose local address is IPv4-mapped (::ffff:a.b.c.d) - a connection an
 * IPv6 listener accepted on an identity's address, for instance.
 */
#define SOCKETS_STORAGE_MAX 64

struct inet4_sock {
	uint8_t family;		/* AF_INET, or AF_INET6 (mapped addresses) */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	/*
	 * TCP_ESTABLISHED... of netinet/tcp.h, also for UDP (connected:
	 * TCP_ESTABLISHED, else TCP_CLOSE); TCP_NEW_SYN_RECV (12) for a
	 * connection not yet accepted.
	 */
	uint8_t state;
	uint32_t laddr, raddr;	/* network order; raddr 0: unconnected */
	uint16_t lport, rport;	/* network order */
	uint32_t ifindex;	/* SO_BINDTODEVICE, 0 if none */
	uint64_t cookie;	/* the kernel's socket cookie */
	/* Its value in the socket storage map sockets_walk_storage asked
	 * for; storage_len 0: none (or larger than SOCKETS_STORAGE_MAX). */
	uint32_t storage_len;
	uint8_t storage[SOCKETS_STORAGE_MAX];
};

/*
 * Calls cb for every IPv4 TCP socket in every state (listeners,
 * TIME_WAIT, orphans) and every UDP socket of the calling thread's
 * network namespace.  The sockets are collected first: cb may destroy
 * sockets or ask anything.  A non-zero cb return stops the walk and is
 * returned; else 0, or -errno, logged.
 */
int sockets_walk(int (*cb)(void *ctx, const struct inet4_sock *s),
		 void *ctx);
/* The same, with each TCP socket's value in the BPF_MAP_TYPE_SK_STORAGE
 * map map_fd (needs CAP_SYS_ADMIN; the kernel reports none for UDP). */
int sockets_walk_storage(int map_fd,
			 int (*cb)(void *ctx, const struct inet4_sock *s),
			 void *ctx);

/*
 * Destroys s (SOCK_DESTROY, needs CAP_NET_ADMIN): a TCP socket is aborted
 * with an RST to its peer, its owner sees ECONNABORTED; a TIME_WAIT or a
 * connection not yet accepted just goes; a UDP socket's owner sees
 * ECONNABORTED and it is disconnected.  The cookie makes sure it is the
 * same socket.  0, also if it is gone already; else -errno, logged.
 */
int sockets_destroy(const struct inet4_sock *s);

/* A socket carrying IPv6 proper (AF_INET6, not IPv4-mapped). */
struct inet6_sock {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t state;		/* as inet4_sock's */
	uint8_t laddr[16], raddr[16];	/* raddr :: : unconnected */
	uint16_t lport, rport;	/* network order */
	uint32_t ifindex;
	uint64_t cookie;
};

/* sockets_walk() and sockets_destroy() for them. */
int sockets_walk6(int (*cb)(void *ctx, const struct inet6_sock *s),
		  void *ctx);
int sockets_destroy6(const struct inet6_sock *s);

#endif
