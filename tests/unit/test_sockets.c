// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The namespace's IPv4 sockets through sock_diag, and SOCK_DESTROY, in a
 * private network namespace: the sockets found are exactly the test's.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "netns.h"
#include "common/sockets.h"

#define MAX_SOCKS 32

struct found {
	int n;
	struct inet4_sock s[MAX_SOCKS];
};

static int collect(void *ctx, const struct inet4_sock *s)
{
	struct found *f = ctx;

	if (f->n < MAX_SOCKS)
		f->s[f->n] = *s;
	f->n++;
	return 0;
}

static struct found walk(void)
{
	struct found f = { 0 };

	CHECK_EQ(sockets_walk(collect, &f), 0, "sockets walked");
	return f;
}

/* The found socket with this local address and port and this state. */
static const struct inet4_sock *find(const struct found *f, uint8_t proto,
				     uint32_t laddr, uint16_t lport,
				     uint8_t state)
{
	for (int i = 0; i < f->n && i < MAX_SOCKS; i++)
		if (f->s[i].proto == proto && f->s[i].laddr == laddr &&
		    f->s[i].lport == lport && f->s[i].state == state)
			return &f->s[i];
	return NULL;
}

static struct sockaddr_in local(const char *a, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET,
				     .sin_addr.s_addr = ip4(a),
				     .sin_port = port };
}

static struct sockaddr_in name_of(int fd)
{
	struct sockaddr_in sin = { 0 };
	socklen_t len = sizeof(sin);

	getsockname(fd, (struct sockaddr *)&sin, &len);
	return sin;
}

static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
	return c;
}

/* A socket of type bound to a:0 (-1 on failure), its port in *port. */
static int bound(int type, const char *a, uint16_t *port)
{
	struct sockaddr_in sin = local(a, 0);
	int fd = socket(AF_INET, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	*port = name_of(fd).sin_port;
	return fd;
}

/* A TCP connection to the listener at a:port; *acc is the accepted end. */
static int tcp_connect(const char *a, uint16_t port, int listener, int *acc)
{
	struct sockaddr_in sin = local(a, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	*acc = accept(listener, NULL, NULL);
	return fd;
}

/* The error a socket's next receive gives, waiting up to a second. */
static int recv_error(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	poll(&p, 1, 1000);
	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 ? errno : 0;
}

static void test_tcp(void)
{
	uint16_t lport, tw_port;
	int l = bound(SOCK_STREAM, "127.0.0.1", &lport), acc = -1, tw_acc = -1;
	int c, tw;
	const struct inet4_sock *s;
	struct inet4_sock copy;
	struct found f;

	CHECK(l >= 0 && listen(l, 4) == 0, "TCP listener on 127.0.0.1");
	c = tcp_connect("127.0.0.1", lport, l, &acc);
	CHECK(c >= 0 && acc >= 0, "a connection to it");
	/* A second connection the client closes first: TIME_WAIT. */
	tw = tcp_connect("127.0.0.1", lport, l, &tw_acc);
	CHECK(tw >= 0 && tw_acc >= 0, "a second connection");
	tw_port = name_of(tw).sin_port;
	close(tw);
	CHECK_EQ(recv_error(tw_acc), 0, "its server end sees the FIN");
	close(tw_acc);
	usleep(100000);

	f = walk();
	CHECK_EQ(f.n, 4, "four IPv4 TCP sockets, IPv6 ones ignored (%d)", f.n);
	s = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), lport, TCP_LISTEN);
	CHECK(s && s->family == AF_INET && !s->raddr && !s->rport &&
		      s->cookie == cookie_of(l),
	      "the listener, its cookie that of SO_COOKIE");
	s = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), name_of(c).sin_port,
		 TCP_ESTABLISHED);
	CHECK(s && s->raddr == ip4("127.0.0.1") && s->rport == lport &&
		      s->cookie == cookie_of(c),
	      "the client end, established, with its peer");
	if (s)
		copy = *s;
	s = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), lport, TCP_ESTABLISHED);
	CHECK(s && s->rport == name_of(c).sin_port && s->cookie == cookie_of(acc),
	      "the accepted end");
	s = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), tw_port, TCP_TIME_WAIT);
	CHECK(s && s->rport == lport, "the first closer, in TIME_WAIT");
	CHECK(s && sockets_destroy(s) == 0, "TIME_WAIT destroyed");
	f = walk();
	CHECK(f.n == 3 && !find(&f, IPPROTO_TCP, ip4("127.0.0.1"), tw_port,
				TCP_TIME_WAIT),
	      "TIME_WAIT gone (%d sockets)", f.n);

	if (!find(&f, IPPROTO_TCP, ip4("127.0.0.1"), name_of(c).sin_port,
		  TCP_ESTABLISHED))
		return;
	copy.cookie++;
	CHECK_EQ(sockets_destroy(&copy), 0, "another cookie: nothing to do");
	CHECK_EQ(walk().n, 3, "so nothing destroyed");
	copy.cookie--;
	CHECK_EQ(sockets_destroy(&copy), 0, "the client end destroyed");
	CHECK_EQ(recv_error(c), ECONNABORTED, "its owner sees ECONNABORTED");
	CHECK_EQ(recv_error(acc), ECONNRESET, "its peer got the RST");
	CHECK_EQ(sockets_destroy(&copy), 0, "destroying it again is no error");
	CHECK_EQ(walk().n, 1, "the listener is left");
	close(c);
	close(acc);
	close(l);
}

static void test_udp(void)
{
	struct sockaddr_in peer;
	const struct inet4_sock *s;
	uint16_t uport, cport;
	int u = bound(SOCK_DGRAM, "127.0.0.2", &uport);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct found f;

	peer = local("127.0.0.2", uport);
	CHECK(u >= 0 && c >= 0 &&
		      connect(c, (struct sockaddr *)&peer, sizeof(peer)) == 0,
	      "UDP: one bound socket, one connected to it");
	cport = name_of(c).sin_port;
	f = walk();
	CHECK_EQ(f.n, 2, "two sockets (%d)", f.n);
	s = find(&f, IPPROTO_UDP, ip4("127.0.0.2"), uport, TCP_CLOSE);
	CHECK(s && !s->raddr && !s->rport && s->cookie == cookie_of(u),
	      "the bound UDP socket, unconnected");
	s = find(&f, IPPROTO_UDP, ip4("127.0.0.1"), cport, TCP_ESTABLISHED);
	CHECK(s && s->raddr == ip4("127.0.0.2") && s->rport == uport &&
		      s->cookie == cookie_of(c),
	      "the connected UDP socket, with its peer");
	CHECK(s && sockets_destroy(s) == 0, "the connected UDP socket destroyed");
	CHECK_EQ(recv_error(c), ECONNABORTED, "its owner sees ECONNABORTED");
	f = walk();
	CHECK(f.n == 1 && !find(&f, IPPROTO_UDP, ip4("127.0.0.1"), cport,
				TCP_ESTABLISHED),
	      "it is disconnected and unhashed (%d sockets)", f.n);

	/* The address a socket was bound to stays: the kernel locked it. */
	s = find(&f, IPPROTO_UDP, ip4("127.0.0.2"), uport, TCP_CLOSE);
	CHECK(s && sockets_destroy(s) == 0, "the bound UDP socket destroyed");
	CHECK_EQ(recv_error(u), ECONNABORTED, "its owner sees ECONNABORTED");
	CHECK(walk().n == 0 && name_of(u).sin_port == 0 &&
		      name_of(u).sin_addr.s_addr == ip4("127.0.0.2"),
	      "it is unhashed, its port released, its address kept");
	close(c);
	close(u);
}

/* A dual-stack listener's connection to an IPv4 address is IPv4 too. */
static void test_dual_stack(void)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(any);
	int l = socket(AF_INET6, SOCK_STREAM, 0), off = 0, c, acc = -1;
	const struct inet4_sock *s;
	struct found f;

	CHECK(l >= 0 &&
		      !setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off,
				  sizeof(off)) &&
		      !bind(l, (struct sockaddr *)&any, sizeof(any)) &&
		      !getsockname(l, (struct sockaddr *)&any, &len) &&
		      !listen(l, 1),
	      "a dual-stack listener on [::]");
	c = tcp_connect("127.0.0.3", any.sin6_port, l, &acc);
	CHECK(c >= 0 && acc >= 0, "an IPv4 connection to it");
	f = walk();
	s = find(&f, IPPROTO_TCP, ip4("127.0.0.3"), any.sin6_port,
		 TCP_ESTABLISHED);
	CHECK(f.n == 2 && s && s->family == AF_INET6 &&
		      s->rport == name_of(c).sin_port &&
		      s->cookie == cookie_of(acc),
	      "the accepted end is found as AF_INET6, beside its client; "
	      "the [::] listener is not (%d sockets)", f.n);
	CHECK(s && sockets_destroy(s) == 0, "it is destroyed");
	CHECK_EQ(recv_error(c), ECONNRESET, "its IPv4 peer got the RST");
	close(acc);
	close(c);
	close(l);
}

static int stop_at_first(void *ctx, const struct inet4_sock *s)
{
	(void)s;
	++*(int *)ctx;
	return 7;
}

/* A socket's value in a socket storage map comes with the walk. */
static int storage_map(void)
{
	/* Socket storage maps need BTF: an int key, a 24-byte struct. */
	struct btf *btf = btf__new_empty();
	int key, byte, arr, val, fd;

	if (!btf)
		return -1;
	key = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	byte = btf__add_int(btf, "unsigned char", 1, 0);
	arr = btf__add_array(btf, key, byte, 24);
	val = btf__add_struct(btf, "val", 24);
	if (key < 0 || byte < 0 || arr < 0 || val < 0 ||
	    btf__add_field(btf, "b", arr, 0, 0) ||
	    btf__load_into_kernel(btf)) {
		btf__free(btf);
		return -1;
	}
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC,
		    .btf_fd = btf__fd(btf), .btf_key_type_id = key,
		    .btf_value_type_id = val);
	fd = bpf_map_create(BPF_MAP_TYPE_SK_STORAGE, "test_sk", 4, 24, 0, &o);
	btf__free(btf);
	return fd;
}

static void test_storage(void)
{
	int map = storage_map();
	uint8_t val[24] = { 1, 2, 3, [23] = 9 };
	struct found f = { 0 };
	const struct inet4_sock *with, *without;
	uint16_t p1, p2;
	int u1 = bound(SOCK_STREAM, "127.0.0.1", &p1);
	int u2 = bound(SOCK_STREAM, "127.0.0.1", &p2);

	CHECK(map >= 0 && u1 >= 0 && u2 >= 0 && !listen(u1, 1) &&
	      !listen(u2, 1) && !bpf_map_update_elem(map, &u1, val, BPF_ANY),
	      "a socket storage map, one of two TCP sockets has a value");
	CHECK_EQ(sockets_walk_storage(map, collect, &f), 0,
		 "sockets walked with the map's values");
	with = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), p1, TCP_LISTEN);
	without = find(&f, IPPROTO_TCP, ip4("127.0.0.1"), p2, TCP_LISTEN);
	CHECK(with && with->storage_len == sizeof(val) &&
	      !memcmp(with->storage, val, sizeof(val)),
	      "the socket with a value has it, all %zu bytes", sizeof(val));
	CHECK(without && without->storage_len == 0,
	      "the socket without one has none");
	close(u1);
	close(u2);
	close(map);
}

int main(void)
{
	uint16_t port;
	int calls = 0, u1, u2;

	if (netns_enter())
		return check_exit();
	test_tcp();
	test_udp();
	test_dual_stack();
	test_storage();
	u1 = bound(SOCK_DGRAM, "127.0.0.1", &port);
	u2 = bound(SOCK_DGRAM, "127.0.0.1", &port);
	CHECK(u1 >= 0 && u2 >= 0 && sockets_walk(stop_at_first, &calls) == 7 &&
		      calls == 1,
	      "a callback's non-zero return stops the walk and is returned");
	close(u1);
	close(u2);
	return check_exit();
}
