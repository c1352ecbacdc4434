// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* names.c - see names.h. */
#include <stddef.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "psv.h"
#include "common/names.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *const psv_granularity_names[] = { "flow", "app", "uid", "host",
					      NULL };
const char *const psv_exhausted_names[] = { "drop", "reuse", "host", "link",
					    NULL };
const char *const psv_ingress_names[] = { "auto", "xdp", "tc", NULL };
const char *const psv_ipv6_names[] = { "virtualize", "block", "host", NULL };
const char *const psv_chatter_names[] = { "host", "drop", NULL };

_Static_assert(PSV_GRAN_HOST == 3 && PSV_EXHAUSTED_LINK == 3 &&
	       PSV_INGRESS_TC == 2 && PSV_IPV6_HOST == 2 &&
	       PSV_CHATTER_DROP == 1,
	       "name tables follow the enums");

static const char *const id_state_names[] = {
	[PSV_ID_ACQUIRING] = "acquiring",
	[PSV_ID_READY] = "ready",
	[PSV_ID_ACTIVE] = "active",
	[PSV_ID_IDLE] = "idle",
	[PSV_ID_RETIRED] = "retired",
};

static const char *const tcp_state_names[] = {
	[PSV_TCP_SYN_SENT] = "syn_sent",
	[PSV_TCP_ESTABLISHED] = "established",
	[PSV_TCP_FIN_WAIT] = "fin_wait",
	[PSV_TCP_CLOSED] = "closed",
};

#define PSV_STAT_NAME(id, name) [PSV_STAT_##id] = name,
static const char *const stat_names[] = { PSV_STATS(PSV_STAT_NAME) };
#undef PSV_STAT_NAME

_Static_assert(ARRAY_LEN(id_state_names) == PSV_ID_STATE_COUNT,
	       "a name for every identity state");

/* names[] NULL-terminated: n - 1 names. */
static const char *name_of(const char *const *names, size_t n,
			   unsigned int value, const char *unknown)
{
	return value < n && names[value] ? names[value] : unknown;
}

const char *psv_granularity_name(unsigned int granularity)
{
	return name_of(psv_granularity_names, PSV_GRAN_HOST + 1, granularity,
		       "?");
}

const char *psv_exhausted_name(unsigned int on_exhausted)
{
	return name_of(psv_exhausted_names, PSV_EXHAUSTED_LINK + 1,
		       on_exhausted, "?");
}

const char *psv_ipv6_name(unsigned int ipv6)
{
	return name_of(psv_ipv6_names, PSV_IPV6_HOST + 1, ipv6, "?");
}

const char *psv_id_state_name(unsigned int state)
{
	return name_of(id_state_names, ARRAY_LEN(id_state_names), state,
		       "unknown");
}

const char *psv_tcp_state_name(unsigned int state)
{
	return name_of(tcp_state_names, ARRAY_LEN(tcp_state_names), state,
		       NULL);
}

const char *psv_stat_name(unsigned int stat)
{
	return name_of(stat_names, ARRAY_LEN(stat_names), stat, NULL);
}

char *psv_group_text(const struct psv_group_key *k, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	int n;

	if (k->kind != PSV_GRAN_FLOW) {
		snprintf(buf, len, "%s %u", psv_granularity_name(k->kind),
			 k->owner);
		return buf;
	}
	inet_ntop(k->ipv6 ? AF_INET6 : AF_INET, k->ipv6 ? (const void *)k->daddr6
							: (const void *)&k->daddr,
		  addr, sizeof(addr));
	n = snprintf(buf, len, "%s %s",
		     k->proto == IPPROTO_TCP ? "tcp" :
		     k->proto == IPPROTO_UDP ? "udp" :
		     k->proto == IPPROTO_ICMP ? "icmp" :
		     k->proto == IPPROTO_ICMPV6 ? "icmpv6" : "?",
		     addr);
	if (n >= 0 && (size_t)n < len && k->dport)
		n += snprintf(buf + n, len - n, " port %u", ntohs(k->dport));
	if (n >= 0 && (size_t)n < len && k->sport)
		n += snprintf(buf + n, len - n, " from %u", ntohs(k->sport));
	if (n >= 0 && (size_t)n < len && k->owner)
		snprintf(buf + n, len - n, " of app %u", k->owner);
	return buf;
}
