/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lease_store.h - the DHCP leases of a psvd, kept in STATE_DIR/IF.json so
 * a restarted psvd (after a crash or an upgrade) renews on schedule the
 * leases the pinned maps still use.  Written atomically: a temporary
 * file, fsync, rename.
 */
#ifndef PSV_LEASE_STORE_H
#define PSV_LEASE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lease_record {
	uint32_t id;
	uint8_t mac[6];
	uint8_t server_mac[6];
	uint32_t ip;		/* network order */
	uint32_t server;	/* network order */
	int64_t leased_at;	/* unix seconds: when the lease time counts from */
	uint32_t lease_s, t1_s, t2_s;
	/*
	 * An acquisition in flight (REQUEST sent, or ACKed and still ARP
	 * probing): its identity is in no map yet, and a psvd that dies now
	 * leaves a lease at the server that the next one releases.
	 */
	bool pending;
};

struct lease_file {
	uint32_t next_id;	/* identity numbers are never reused */
	size_t count;
	struct lease_record *leases;
};

/* Writes f to dir/ifname.json; -errno with a message on failure. */
int lease_store_save(const char *dir, const char *ifname,
		     const struct lease_file *f);
/* Reads dir/ifname.json; 0 with f->count == 0 if there is none.  A file
 * that does not parse is an error (never a silent fresh start). */
int lease_store_load(const char *dir, const char *ifname, struct lease_file *f);
/* Parses the JSON text of a lease file (also for the fuzzer). */
int lease_store_parse(const char *text, size_t len, struct lease_file *f);
void lease_store_free(struct lease_file *f);

#endif
