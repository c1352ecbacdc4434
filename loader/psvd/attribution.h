/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * attribution.h - the cgroup socket hooks of bpf/attribution.bpf.c: the
 * cgroup v2 tree they attach to, their links, pinned next to the maps so
 * a crashed psvd leaves them working, and the [app] rules they match.
 */
#ifndef PSV_ATTRIBUTION_H
#define PSV_ATTRIBUTION_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#include "psvd/config.h"

struct attribution_bpf;
struct bpf_link;

#define ATTRIBUTION_HOOKS 6

struct attribution {
	struct attribution_bpf *skel;
	struct bpf_link *links[ATTRIBUTION_HOOKS];
	char pin_dir[128];
	int rules_fd, apps_fd;		/* owned by the skeleton */
};

/*
 * An fd of the cgroup v2 tree's root: the tree mounted at a usual place,
 * or (cgroup v1 hosts mount none) mounted for the time of the open.
 */
int attribution_cgroup_open(void);

/* The network namespace cookie of the calling thread. */
int attribution_netns_cookie(__u64 *cookie);

/* Opens and loads the hooks, sharing the maps pinned in pin_dir. */
int attribution_load(struct attribution *at, const char *pin_dir);

/*
 * Attaches every hook to the cgroup cgroup_fd (psvd: the root) by a link
 * pinned in pin_dir; a link a previous psvd pinned is taken over and
 * switched to the new programs.
 */
int attribution_attach(struct attribution *at, int cgroup_fd);

/* Unpins and closes the links: the hooks stop. */
void attribution_detach(struct attribution *at);
void attribution_close(struct attribution *at);

/*
 * The rule for one [app] section.  exe= and cgroup= are resolved to
 * inodes now; one that does not exist matches nothing (with a warning):
 * a browser that is not installed must not stop psvd.
 */
void attribution_rule(const struct psv_conf_app *app, int cgroup_fd,
		      struct psv_app_rule *rule);

/*
 * Writes the rules of conf's [app] sections.  An application of a rule
 * that changed is forgotten, so its next socket starts a new one.
 */
int attribution_set_rules(struct attribution *at, const struct psv_conf *conf);

#endif
