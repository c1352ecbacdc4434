// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fill_maps - puts synthetic identities, groups and connections into the
 * pinned maps of a running psvd, so `make bench` can read what psv's maps
 * and psvd cost at a given scale without leasing 1,000 addresses.
 *
 *   fill_maps PIN_DIR IDENTITIES FLOWS    insert, then print the counts
 *   fill_maps PIN_DIR                     print the counts only
 *
 * The entries are map keys only: no frame ever carries them.  Identity
 * addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range) so they
 * cannot collide with the testbed's pool; every connection is an established
 * TCP connection to srv1 seen just now, so psvd's expiry leaves it alone.
 * Each identity owns one group (daddr srv1, its own server port) and
 * FLOWS / IDENTITIES connections (distinct local ports).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "psv.h"

#define FILL_VIP_BASE 0xc6120000u	/* 198.18.0.0 */
#define FILL_SRV_IP 0xc633640au		/* 198.51.100.10, srv1 */
#define FILL_RPORT_BASE 1024
#define FILL_LPORT_BASE 20000

struct fill_maps {
	int identities, groups, conns;
};

static int fill_open(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		fprintf(stderr, "fill_maps: pin path too long: %s/%s\n", dir, name);
		return -1;
	}
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "fill_maps: bpf_obj_get %s: %s\n", path,
			strerror(errno));
	return fd;
}

static void fill_close(struct fill_maps *m)
{
	if (m->identities >= 0)
		close(m->identities);
	if (m->groups >= 0)
		close(m->groups);
	if (m->conns >= 0)
		close(m->conns);
}

static int fill_open_all(const char *dir, struct fill_maps *m)
{
	m->identities = fill_open(dir, PSV_MAP_IDENTITIES);
	m->groups = fill_open(dir, PSV_MAP_GROUPS);
	m->conns = fill_open(dir, PSV_MAP_CONNS);
	if (m->identities < 0 || m->groups < 0 || m->conns < 0) {
		fill_close(m);
		return -1;
	}
	return 0;
}

static int fill_update(int fd, const void *key, const void *val,
		       const char *what, unsigned long n)
{
	if (!bpf_map_update_elem(fd, key, val, BPF_ANY))
		return 0;
	fprintf(stderr, "fill_maps: inserting %s #%lu: %s\n", what, n,
		strerror(errno));
	return -1;
}

static void fill_group_key(struct psv_group_key *g, unsigned long i)
{
	memset(g, 0, sizeof(*g));
	g->daddr = htonl(FILL_SRV_IP);
	g->dport = htons(FILL_RPORT_BASE + i);
	g->proto = IPPROTO_TCP;
}

static int fill_identity(const struct fill_maps *m, unsigned long i,
			 __u64 now_ns)
{
	__be32 vip = htonl(FILL_VIP_BASE + i);
	/* locally administered unicast, as psvd makes them */
	struct psv_identity id = {
		.mac = { 0x02, 0x42, 0x0b, (i >> 16) & 0xff, (i >> 8) & 0xff,
			 i & 0xff },
		.state = PSV_ID_ACTIVE,
		.id = 1000000 + i,
	};
	struct psv_group grp = { .vip = vip, .created_ns = now_ns };
	struct psv_group_key gk;

	fill_group_key(&gk, i);
	if (fill_update(m->identities, &vip, &id, "identity", i))
		return -1;
	return fill_update(m->groups, &gk, &grp, "group", i);
}

static int fill_conn(const struct fill_maps *m, unsigned long j,
		     unsigned long nid, __u64 now_ns)
{
	unsigned long i = j % nid;
	struct psv_conn_key k = {
		.raddr = htonl(FILL_SRV_IP),
		.lport = htons(FILL_LPORT_BASE + j / nid),
		.rport = htons(FILL_RPORT_BASE + i),
		.proto = IPPROTO_TCP,
	};
	struct psv_conn c = {
		.vip = htonl(FILL_VIP_BASE + i),
		.tcp_state = PSV_TCP_ESTABLISHED,
		.last_seen_ns = now_ns,
	};

	fill_group_key(&c.group, i);
	return fill_update(m->conns, &k, &c, "connection", j);
}

static long fill_count(int fd, size_t key_size)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(key))
		return -1;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return errno == ENOENT ? n : -1;
}

static int fill_parse(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *out == 0 || *out > max) {
		fprintf(stderr, "fill_maps: bad count '%s' (1..%lu)\n", s, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Identity addresses stay inside 198.18.0.0/15, server ports in
	 * 1024..65535, and local ports in 20000..65535. */
	const unsigned long max_ids = 65535 - FILL_RPORT_BASE;
	unsigned long nid = 0, nflows = 0, i;
	struct fill_maps m;
	struct timespec ts;
	__u64 now_ns;
	int err = 0;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s PIN_DIR [IDENTITIES FLOWS]\n", argv[0]);
		return 2;
	}
	if (argc == 4 && (fill_parse(argv[2], max_ids, &nid) ||
			  fill_parse(argv[3], nid * (65535 - FILL_LPORT_BASE),
				     &nflows)))
		return 2;
	if (fill_open_all(argv[1], &m))
		return 1;
	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		perror("fill_maps: clock_gettime");
		fill_close(&m);
		return 1;
	}
	now_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (i = 0; i < nid && !err; i++)
		err = fill_identity(&m, i, now_ns);
	for (i = 0; i < nflows && !err; i++)
		err = fill_conn(&m, i, nid, now_ns);
	printf("identities %ld\ngroups %ld\nconns %ld\n",
	       fill_count(m.identities, sizeof(__be32)),
	       fill_count(m.groups, sizeof(struct psv_group_key)),
	       fill_count(m.conns, sizeof(struct psv_conn_key)));
	fill_close(&m);
	return err ? 1 : 0;
}
