// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ra.c - see ra.h. */
#include <errno.h>
#include <string.h>

#include "psvd/ipv6/ra.h"

#define RA_HLEN 16		/* type .. retrans timer */
#define OPT_PREFIX_INFO 3
#define OPT_PREFIX_LEN 32
#define RA_FLAG_M 0x80
#define RA_FLAG_O 0x40
#define PIO_FLAG_L 0x80
#define PIO_FLAG_A 0x40

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;	/* fe80::/10 */
}

/* A prefix information option (32 bytes), kept if there is room. */
static void prefix_option(const uint8_t *o, struct ra *ra)
{
	struct ra_prefix p = { .len = o[2] > 128 ? 128 : o[2] };

	p.onlink = o[3] & PIO_FLAG_L;
	p.autonomous = o[3] & PIO_FLAG_A;
	p.valid_s = get32(o + 4);
	p.preferred_s = get32(o + 8);
	memcpy(p.prefix, o + 16, 16);
	/* Bits past the length are ignored (RFC 4861 4.6.2): zero them. */
	for (unsigned int bit = p.len; bit < 128; bit++)
		p.prefix[bit / 8] &= ~(0x80 >> (bit % 8));
	if (p.preferred_s > p.valid_s || ra->n_prefixes >= RA_MAX_PREFIXES) {
		ra->dropped++;
		return;
	}
	ra->prefixes[ra->n_prefixes++] = p;
}

int ra_parse(const uint8_t src[16], uint8_t hop_limit, const uint8_t *msg,
	     size_t len, struct ra *ra)
{
	size_t off = RA_HLEN;

	memset(ra, 0, sizeof(*ra));
	if (!link_local(src) || hop_limit != 255)
		return -EPERM;
	if (len < RA_HLEN || msg[0] != 134 || msg[1] != 0)
		return -EBADMSG;
	ra->managed = msg[5] & RA_FLAG_M;
	ra->other = msg[5] & RA_FLAG_O;
	ra->router_lifetime_s = (uint16_t)(msg[6] << 8 | msg[7]);
	/* Options: type, length in units of 8 bytes (0 is invalid). */
	while (off < len) {
		size_t olen;

		if (len - off < 2 || !msg[off + 1])
			return -EBADMSG;
		olen = msg[off + 1] * 8u;
		if (olen > len - off)
			return -EBADMSG;
		if (msg[off] == OPT_PREFIX_INFO) {
			if (olen != OPT_PREFIX_LEN)
				return -EBADMSG;
			prefix_option(msg + off, ra);
		}
		off += olen;
	}
	return 0;
}
