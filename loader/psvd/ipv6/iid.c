// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* iid.c - see iid.h. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "psvd/ipv6/iid.h"
#include "common/log.h"

bool iid_refused(const uint8_t iid[8])
{
	static const uint8_t zero[8], anycast[7] = {
		0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	}, proxy_mip6[5] = { 0x02, 0x00, 0x5e, 0xff, 0xfe };

	/* RFC 5453: the subnet-router anycast (all zero), the reserved
	 * subnet anycasts fdff:ffff:ffff:ff80-ffff (RFC 2526), and
	 * 0200:5eff:fe00:0000-ffff (proxy mobile IPv6 and reserved). */
	if (!memcmp(iid, zero, 8) ||
	    (!memcmp(iid, anycast, 7) && iid[7] >= 0x80) ||
	    (!memcmp(iid, proxy_mip6, 5) && iid[5] == 0))
		return true;
	/* The shape of a MAC's EUI-64 (RFC 4291 appendix A). */
	return iid[3] == 0xff && iid[4] == 0xfe;
}

int iid_random(uint8_t addr[16])
{
	/* A refused value comes about once in 65536 draws: bounded. */
	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(addr + 8, 8, 0) != 8) {
			log_err("getrandom for an IPv6 interface identifier: %s",
				strerror(errno));
			return -EIO;
		}
		if (!iid_refused(addr + 8))
			return 0;
	}
	return -EIO;
}
