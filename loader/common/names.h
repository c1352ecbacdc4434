/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * names.h - the names of psv.h's enums as psv.conf, psvd's logs and
 * psvctl spell them.  One table each, here only.
 */
#ifndef PSV_NAMES_H
#define PSV_NAMES_H

#include <stddef.h>

/* NULL-terminated, indexed by the enum (config.c parses with them). */
extern const char *const psv_granularity_names[];	/* enum psv_granularity */
extern const char *const psv_exhausted_names[];	/* enum psv_exhausted */
extern const char *const psv_ingress_names[];	/* enum psv_ingress_mode */
extern const char *const psv_ipv6_names[];	/* enum psv_ipv6 */
extern const char *const psv_chatter_names[];	/* enum psv_chatter */

/* "?" if out of range. */
const char *psv_granularity_name(unsigned int granularity);
const char *psv_exhausted_name(unsigned int on_exhausted);
const char *psv_ipv6_name(unsigned int ipv6);

/* enum psv_id_state: "acquiring" ...; "unknown" if out of range. */
#define PSV_ID_STATE_COUNT (PSV_ID_RETIRED + 1)
const char *psv_id_state_name(unsigned int state);

/* enum psv_tcp_state: "syn_sent" ...; NULL for none or out of range. */
const char *psv_tcp_state_name(unsigned int state);

/* enum psv_stat: the counter's name as psvctl stats prints it. */
const char *psv_stat_name(unsigned int stat);

/*
 * A group (struct psv_group_key) as psvd's debug log shows it: "app 3",
 * "uid 1000", "tcp 198.51.100.10 port 80", "udp 2001:db8::1 port 443
 * from 5353", "udp 192.0.2.1 port 53 of app 3" (DNS).  Returns buf.
 */
struct psv_group_key;
char *psv_group_text(const struct psv_group_key *k, char *buf, size_t len);

#endif
