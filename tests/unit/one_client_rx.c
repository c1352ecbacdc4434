// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* one_client_rx.c - see one_client_rx.h. */
#include <errno.h>
#include <string.h>

#include "one_client_rx.h"

static int rx_dhcp(void *ctx, const uint8_t chaddr[6], uint64_t now_ms,
		   const struct link_frame *f)
{
	const struct one_client *o = ctx;

	if (!o->any && memcmp(chaddr, o->c->mac, 6))
		return -ENOENT;
	return dhcp_client_receive(o->c, now_ms, f->payload, f->len,
				   f->src_mac);
}

static int rx_arp(void *ctx, uint32_t ip, uint64_t now_ms,
		  const struct link_frame *f)
{
	const struct one_client *o = ctx;

	if (!o->any && (!ip || ip != o->c->yiaddr))
		return -ENOENT;
	return dhcp_client_arp(o->c, now_ms, f->arp_op, f->arp_sha,
			       f->arp_spa, f->arp_tpa);
}

const struct link_rx one_client_rx = { rx_dhcp, rx_arp };
