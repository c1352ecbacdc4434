// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dhcp_exchange - how long psvd's DHCP client takes for one lease: N
 * identities in turn, each a fresh random MAC, DISCOVER to ACK (no ARP
 * probe) against the server on IFACE, each lease released right after.
 * Drives the same dhcp_client and link_socket psvd uses.
 * Usage: dhcp_exchange IFACE [N]   (prints JSON: median_ms, min_ms,
 * max_ms, n, failed)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>

#include "psvd/dhcp/dhcp_client.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/link/link_socket.h"
#include "one_client_rx.h"

static struct dhcp_client client;
static struct link_socket sock;
static bool bound, lost;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct one_client one = { .c = &client };

static int op_send(void *ctx, struct dhcp_client *c, const void *payload,
		   size_t len, uint32_t src_ip, uint32_t dst_ip,
		   const uint8_t *dst_mac)
{
	(void)ctx;
	return link_socket_send_udp(&sock, c->mac, dst_mac, src_ip, dst_ip,
				    payload, len);
}

static int op_probe(void *ctx, struct dhcp_client *c, uint32_t ip)
{
	(void)ctx;
	return link_socket_send_arp(&sock, c->mac, 0, ip);
}

static void op_event(void *ctx, struct dhcp_client *c, enum dhcp_event ev)
{
	(void)ctx;
	(void)c;
	bound |= ev == DHCP_EV_BOUND;
	lost |= ev == DHCP_EV_LOST;
}

static const struct dhcp_ops ops = { .send = op_send,
				     .send_arp_probe = op_probe,
				     .event = op_event };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One exchange; its duration in ms, or a negative number on failure. */
static double one_exchange(const struct dhcp_params *p)
{
	struct pollfd pfd = { .fd = link_socket_fd(&sock), .events = POLLIN };
	uint8_t mac[6];
	double start;
	uint64_t deadline = now_ms() + 5000;

	if (pool_random_mac(mac))
		return -1;
	bound = lost = false;
	dhcp_client_init(&client, mac, p, &ops, NULL);
	link_socket_add_mac(&sock, mac);
	start = now_us();
	dhcp_client_start(&client, now_ms());
	while (!bound && !lost && now_ms() < deadline) {
		if (poll(&pfd, 1, 50) > 0)
			link_socket_read(&sock, now_ms());
		if (now_ms() >= dhcp_client_deadline(&client))
			dhcp_client_timeout(&client, now_ms());
	}
	dhcp_client_release(&client, now_ms());
	link_socket_del_mac(&sock, mac);
	return bound ? (now_us() - start) / 1000.0 : -1;
}

int main(int argc, char **argv)
{
	struct dhcp_params p;
	double *ms;
	int n = argc > 2 ? atoi(argv[2]) : 20, ok = 0, ifindex;

	if (argc < 2 || n < 1 || n > 1000) {
		fprintf(stderr, "usage: dhcp_exchange IFACE [N (1..1000)]\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		perror(argv[1]);
		return 1;
	}
	if (link_socket_open(&sock, ifindex))
		return 1;
	link_socket_set_rx(&sock, &one_client_rx, &one);
	dhcp_params_default(&p);
	p.skip_probe = true;
	ms = calloc(n, sizeof(*ms));
	if (!ms)
		return 1;
	for (int i = 0; i < n; i++) {
		double t = one_exchange(&p);

		if (t >= 0)
			ms[ok++] = t;
	}
	link_socket_close(&sock);
	if (!ok) {
		printf("{\"n\":%d,\"failed\":%d}\n", n, n);
		return 1;
	}
	qsort(ms, ok, sizeof(*ms), cmp_double);
	printf("{\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"n\":%d,"
	       "\"failed\":%d}\n", ms[ok / 2], ms[0], ms[ok - 1], n, n - ok);
	free(ms);
	return 0;
}
