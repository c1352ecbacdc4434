// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* settings.c - see settings.h. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "psvd/settings.h"
#include "common/log.h"

void settings_dataplane(const struct psv_conf *conf,
			struct dataplane_opts *opts)
{
	*opts = (struct dataplane_opts){ .ingress = conf->ingress,
					 .max_conns = conf->max_flows };
}

void settings_bpf_config(const struct psv_conf *conf, const struct netdev *dev,
			 __u64 netns_cookie, struct psv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->host_mac, dev->mac, 6);
	cfg->host_ip = dev->ip;
	cfg->netmask = dev->netmask;
	cfg->ifindex = dev->ifindex;
	cfg->on_exhausted = conf->on_exhausted;
	cfg->granularity = conf->granularity;
	cfg->ipv6 = conf->ipv6;
	cfg->chatter = conf->chatter;
	cfg->netns_cookie = netns_cookie;
	cfg->enabled = 1;
}

void settings_pool(const struct psv_conf *conf, struct pool_params *params)
{
	*params = (struct pool_params){
		.ready = conf->ready,
		.max = conf->max,
		.idle_retire_s = conf->idle_retire,
		.pace_ms = conf->pace_ms,
		.demand_window_s = conf->demand_window,
	};
}

void settings_dhcp(const struct psv_conf *conf, struct dhcp_params *p)
{
	dhcp_params_default(p);
	p->retrans_base_ms = conf->retransmit_ms;
	p->probe_wait_ms = conf->probe_wait_ms;
	p->probe_min_ms = conf->probe_min_ms;
	p->probe_max_ms = conf->probe_max_ms;
	p->announce_wait_ms = conf->announce_wait_ms;
	p->skip_probe = !conf->probe;
}

/* The keys a SIGHUP does not change; named ones are warned about. */
static const struct {
	const char *name;	/* NULL: follows a named one (static range) */
	size_t offset, size;
} restart_only[] = {
#define KEY(name, field) { name, offsetof(struct psv_conf, field), \
			   sizeof(((struct psv_conf *)0)->field) }
	KEY("source", source),
	KEY("ingress", ingress),
	KEY("max_flows", max_flows),
	KEY("ipv6", ipv6),
	KEY(NULL, static_first),
	KEY(NULL, static_last),
#undef KEY
};

#define N_RESTART_ONLY (sizeof(restart_only) / sizeof(restart_only[0]))

void settings_keep_restart_only(const struct psv_conf *running,
				struct psv_conf *next)
{
	char names[128] = "";
	bool changed = false;
	size_t n = 0, named = 0;

	for (size_t i = 0; i < N_RESTART_ONLY; i++)
		named += restart_only[i].name != NULL;
	for (size_t i = 0; i < N_RESTART_ONLY; i++) {
		const char *a = (const char *)running + restart_only[i].offset;
		char *b = (char *)next + restart_only[i].offset;

		if (restart_only[i].name) {
			changed |= memcmp(a, b, restart_only[i].size) != 0;
			snprintf(names + strlen(names), sizeof(names) -
				 strlen(names), "%s%s", !n ? "" :
				 n + 1 == named ? " and " : ", ",
				 restart_only[i].name);
			n++;
		}
		memcpy(b, a, restart_only[i].size);
	}
	if (changed)
		log_warn("SIGHUP: %s change only with a restart", names);
}
