/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ra.h - router advertisements (RFC 4861 4.2) as psvd reads them: the M
 * and O flags, the router lifetime and the prefix information options
 * (4.6.2).  Other options are skipped by their length.  A pure, bounded
 * parser of network input (fuzzed: tests/fuzz/fuzz_ra.c).
 */
#ifndef PSV_RA_H
#define PSV_RA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prefixes kept of one advertisement; more are counted, not kept. */
#define RA_MAX_PREFIXES 8
/* RFC 4861's "infinity" lifetime. */
#define RA_INFINITE 0xffffffffu

struct ra_prefix {
	uint8_t prefix[16];	/* bits past len are zeroed */
	uint8_t len;		/* 0..128 */
	bool onlink;		/* L */
	bool autonomous;	/* A: usable for address autoconfiguration */
	uint32_t valid_s;	/* seconds; RA_INFINITE */
	uint32_t preferred_s;
};

struct ra {
	bool managed;		/* M: addresses over DHCPv6 */
	bool other;		/* O: other configuration over DHCPv6 */
	uint16_t router_lifetime_s;
	struct ra_prefix prefixes[RA_MAX_PREFIXES];
	unsigned int n_prefixes;
	unsigned int dropped;	/* prefix options beyond RA_MAX_PREFIXES,
				 * or with preferred > valid (4862 5.5.3 c) */
};

/*
 * Parses msg, an ICMPv6 message from its type byte (len bytes), received
 * from src with hop limit hop_limit.  Returns 0 and fills *ra, -EPERM
 * if it cannot be a router's (src not link-local, hop limit not 255:
 * RFC 4861 6.1.2, it came from off the link), or -EBADMSG if it is
 * malformed (not an RA, code not 0, shorter than 16 bytes, an option of
 * length 0 or past the end, a prefix option not 32 bytes long).
 */
int ra_parse(const uint8_t src[16], uint8_t hop_limit, const uint8_t *msg,
	     size_t len, struct ra *ra);

#endif
