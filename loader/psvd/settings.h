/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * settings.h - the only reader of a parsed psv.conf: every shape psvd
 * derives from it (the dataplane's options, the BPF config map, the pool's
 * parameters, the DHCP clients' parameters), and the keys a SIGHUP cannot
 * change, listed once.  Runtime state (the identity reused under
 * on_exhausted = reuse, stopping) is not configuration: main.c lays it
 * over the config map's value.
 */
#ifndef PSV_SETTINGS_H
#define PSV_SETTINGS_H

#include "psv.h"
#include "psvd/config.h"
#include "psvd/dataplane.h"
#include "psvd/dhcp/dhcp_client.h"
#include "psvd/netdev.h"
#include "psvd/pool/identity_pool.h"

void settings_dataplane(const struct psv_conf *conf,
			struct dataplane_opts *opts);
/* psv_config from the config and the host (reuse_vip and stopping 0). */
void settings_bpf_config(const struct psv_conf *conf, const struct netdev *dev,
			 __u64 netns_cookie, struct psv_config *cfg);
void settings_pool(const struct psv_conf *conf, struct pool_params *params);
void settings_dhcp(const struct psv_conf *conf, struct dhcp_params *params);

/*
 * A reload: next keeps running's value of every restart-only key (pool
 * source and static range, dataplane ingress and max_flows), with a
 * warning if the file changed one.
 */
void settings_keep_restart_only(const struct psv_conf *running,
				struct psv_conf *next);

#endif
