// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sock_churn.c - what the cgroup socket hooks cost a program, run once
 * with psv (hooks attached) and once without.
 *
 *   sock_churn ADDR N
 *
 * lifecycle: socket(), connect() to ADDR:9 and close() of a UDP socket
 * (sock_create attributes it, connect4 finds it attributed, sock_release
 * counts it closed); no packet is sent.  sendto: sendto() of one byte on
 * one unconnected UDP socket to 127.0.0.1:9 (sendmsg4 runs on every call;
 * loopback, so psv's dataplane stays out of it).  tcp_connect: connect()
 * alone of a nonblocking TCP socket to ADDR:9 (socket and close untimed):
 * with psv's hooks connect4 binds it to its group's identity (all of them
 * join one group, the flow policy's (daddr, dport, tcp): one identity),
 * and the SYN leaves; tcp_local is the address the last one got (an
 * identity's under psv, the host's without).  Each is timed over N
 * calls, 7 times; prints the medians in ns per call as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define BATCHES 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int lifecycle(const struct sockaddr_in *to, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
			perror("sock_churn: socket/connect");
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static double tcp_connects(const struct sockaddr_in *to, long n,
			   struct sockaddr_in *local)
{
	socklen_t len = sizeof(*local);
	double sum = 0, t;

	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0) {
			perror("sock_churn: socket");
			return -1;
		}
		t = now_ns();
		if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) &&
		    errno != EINPROGRESS) {
			perror("sock_churn: tcp connect");
			close(fd);
			return -1;
		}
		sum += now_ns() - t;
		if (i == n - 1)
			getsockname(fd, (struct sockaddr *)local, &len);
		close(fd);
	}
	return sum / n;
}

static int sendtos(int fd, const struct sockaddr_in *to, long n)
{
	for (long i = 0; i < n; i++) {
		if (sendto(fd, "x", 1, 0, (const struct sockaddr *)to,
			   sizeof(*to)) < 0 && errno != ECONNREFUSED) {
			perror("sock_churn: sendto");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double life[BATCHES], send[BATCHES], tcp[BATCHES], t;
	struct sockaddr_in local = { 0 };
	char local_s[INET_ADDRSTRLEN] = "?";
	long n = argc == 3 ? atol(argv[2]) : 0;
	int fd;

	if (n <= 0 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: sock_churn ADDR N\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("sock_churn: socket");
		return 1;
	}
	for (int b = 0; b < BATCHES; b++) {
		t = now_ns();
		if (lifecycle(&to, n))
			return 1;
		life[b] = (now_ns() - t) / n;
		t = now_ns();
		if (sendtos(fd, &lo, n))
			return 1;
		send[b] = (now_ns() - t) / n;
		tcp[b] = tcp_connects(&to, n, &local);
		if (tcp[b] < 0)
			return 1;
	}
	inet_ntop(AF_INET, &local.sin_addr, local_s, sizeof(local_s));
	close(fd);
	qsort(life, BATCHES, sizeof(life[0]), cmp_double);
	qsort(send, BATCHES, sizeof(send[0]), cmp_double);
	qsort(tcp, BATCHES, sizeof(tcp[0]), cmp_double);
	printf("{\"lifecycle_ns\": %.1f, \"sendto_ns\": %.1f, "
	       "\"tcp_connect_ns\": %.1f, \"tcp_local\": \"%s\"}\n",
	       life[BATCHES / 2], send[BATCHES / 2], tcp[BATCHES / 2], local_s);
	return 0;
}
