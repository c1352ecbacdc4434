/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane.h - loads psv's BPF objects, pins their maps and programs under
 * /sys/fs/bpf/psv/IF/ and attaches them: TC egress always, the reverse
 * path at XDP or TC ingress.  Maps are pinned by name, so a restarted psvd
 * adopts the state a crashed one left behind; attachments are netlink
 * ones (TC filters, XDP) that outlive the process, so a dead psvd never
 * silently fails open.
 */
#ifndef PSV_DATAPLANE_H
#define PSV_DATAPLANE_H

#include <limits.h>
#include <stdbool.h>

#include "psv.h"
#include "psvd/netdev.h"

struct egress_bpf;
struct ingress_bpf;
struct xdp_program;

struct dataplane_opts {
	enum psv_ingress_mode ingress;	/* AUTO picks per device */
	unsigned int max_conns;		/* 0: PSV_MAX_CONNS */
};

struct dataplane {
	struct egress_bpf *eg;
	struct ingress_bpf *in;
	struct xdp_program *xdp;
	char pin_dir[128];		/* psv_pin_dir(): ROOT/IF */
	int ifindex;
	enum psv_ingress_mode ingress;	/* resolved: XDP or TC */
	bool xdp_generic;		/* XDP in skb mode (plain veth) */
	bool adopted;			/* maps existed: a restart */
	bool fresh;			/* this psvd created the pins */
	bool attached;			/* dataplane_attach() ran */
	/* Map fds, owned by the skeletons. */
	int config_fd, identities_fd, ready_fd, groups_fd, links_fd, conns_fd;
	int host_conns_fd, stats_fd, events_fd, apps_fd, routes_fd;
	int routes6_fd, addrs6_fd, conns6_fd;
};

/* Opens, sizes and loads both objects with maps pinned in pin_dir. */
int dataplane_load(struct dataplane *dp, const struct netdev *dev,
		   const struct dataplane_opts *opts);
/* Attaches egress and ingress, replacing what a previous psvd left. */
int dataplane_attach(struct dataplane *dp);
/* Removes every attachment of psv on the interface. */
void dataplane_detach(struct dataplane *dp);
/* Removes the pins (maps and programs) and the pin directory. */
void dataplane_unpin(struct dataplane *dp);
void dataplane_close(struct dataplane *dp);

int dataplane_set_config(struct dataplane *dp, const struct psv_config *cfg);

#endif
