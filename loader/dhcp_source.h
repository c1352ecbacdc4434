/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_source.h - identities leased by DHCP ([pool] source = dhcp): one
 * dhcp_client per identity, all on the one dhcp_socket, with the leases
 * kept in the lease store so a restarted psvd renews them on schedule.
 * The socket is also how every identity is announced (ARP), static
 * pools included.
 */
#ifndef PSV_DHCP_SOURCE_H
#define PSV_DHCP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "dhcp_client.h"
#include "dhcp_socket.h"
#include "identity_pool.h"

struct dhcp_source {
	struct dhcp_socket sock;
	struct dhcp_params params;
	struct identity_pool *pool;
	const char *state_dir;	/* NULL: leases are not stored */
	const char *ifname;
	uint32_t gateway;	/* the host's default gateway; 0 if none */
	bool dirty;		/* leases changed since the last save */
	struct dhcp_client_stats retired;	/* clients already freed */
};

extern const struct pool_source_ops dhcp_source_ops;

/* Opens the socket on ifindex; the pool is attached by dhcp_source_bind. */
int dhcp_source_open(struct dhcp_source *src, int ifindex, const char *ifname,
		     const struct dhcp_params *params, const char *state_dir);
void dhcp_source_bind(struct dhcp_source *src, struct identity_pool *pool);
void dhcp_source_close(struct dhcp_source *src);

/* After pool_adopt: resumes the stored leases of the adopted identities;
 * an adopted identity without one is retired (it would expire unseen). */
int dhcp_source_resume(struct dhcp_source *src, uint64_t now_ms);

/* Runs what is due (timeouts, retirements, saving); returns the next
 * deadline (monotonic ms) or UINT64_MAX. */
uint64_t dhcp_source_run(struct dhcp_source *src, uint64_t now_ms);

/* The counters of every client, live and retired, summed. */
void dhcp_source_client_stats(const struct dhcp_source *src,
			      struct dhcp_client_stats *sum);

/* Announces a ready identity (RFC 5227 2.3); the static source uses it too. */
void dhcp_source_announce(struct dhcp_source *src, const struct identity *id);

#endif
