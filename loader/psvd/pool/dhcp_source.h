/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dhcp_source.h - identities leased by DHCP ([pool] source = dhcp): one
 * dhcp_client per identity, all on the one link socket, with the leases
 * kept in the lease store so a restarted psvd renews them on schedule.
 */
#ifndef PSV_DHCP_SOURCE_H
#define PSV_DHCP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "psvd/dhcp/dhcp_client.h"
#include "psvd/link/link_socket.h"
#include "psvd/pool/identity_pool.h"

struct dhcp_source {
	struct link_socket *link;
	struct dhcp_params params;
	struct identity_pool *pool;
	const char *state_dir;	/* NULL: leases are not stored */
	const char *ifname;
	bool dirty;		/* leases changed since the last save */
	struct dhcp_client_stats retired;	/* clients already freed */
};

extern const struct pool_source_ops dhcp_source_ops;

/* Takes the frames of link for the pool's clients (the pool may still be
 * empty: attached by dhcp_source_bind). */
void dhcp_source_init(struct dhcp_source *src, struct link_socket *link,
		      const char *ifname, const struct dhcp_params *params,
		      const char *state_dir);
void dhcp_source_bind(struct dhcp_source *src, struct identity_pool *pool);

/* After pool_adopt: resumes the stored leases of the adopted identities;
 * an adopted identity without one is retired (it would expire unseen). */
int dhcp_source_resume(struct dhcp_source *src, uint64_t now_ms);

/* Runs what is due (timeouts, retirements, saving); returns the next
 * deadline (monotonic ms) or UINT64_MAX. */
uint64_t dhcp_source_run(struct dhcp_source *src, uint64_t now_ms);

/* The counters of every client, live and retired, summed. */
void dhcp_source_client_stats(const struct dhcp_source *src,
			      struct dhcp_client_stats *sum);

#endif
