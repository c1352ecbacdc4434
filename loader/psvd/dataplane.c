// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dataplane.c - see dataplane.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <linux/if_link.h>

#include "psvd/dataplane.h"
#include "common/log.h"
#include "common/mkdir_p.h"
#include "common/pins.h"
#include "egress.skel.h"
#include "ingress.skel.h"

/* TC filter slot psv owns on both hooks; replaced atomically on restart. */
#define PSV_TC_HANDLE 0x5053
#define PSV_TC_PRIORITY 0x5053

static const char *const prog_pins[] = { "prog_egress", "prog_ingress_xdp",
					 "prog_ingress_tc" };

static void size_maps(struct bpf_map *conns, struct bpf_map *conns6,
		      struct bpf_map *groups, unsigned int max_conns)
{
	if (!max_conns)
		return;
	bpf_map__set_max_entries(conns, max_conns);
	bpf_map__set_max_entries(conns6, max_conns);
	/* Every group holds at least one connection. */
	bpf_map__set_max_entries(groups, max_conns);
}

/*
 * Pinned state is adopted only from a psvd that ran on this very
 * interface: the same name in another network namespace, or a NIC whose
 * MAC changed, would otherwise inherit identities that belong elsewhere.
 */
static int check_adopted(struct dataplane *dp, const struct netdev *dev)
{
	struct psv_config cfg;
	__u32 key = 0;

	if (!dp->adopted ||
	    bpf_map_lookup_elem(bpf_map__fd(dp->eg->maps.psv_config), &key, &cfg) ||
	    !cfg.enabled)
		return 0;
	if (cfg.ifindex == (__u32)dev->ifindex && !memcmp(cfg.host_mac, dev->mac, 6))
		return 0;
	log_err("%s: the state pinned in %s belongs to another interface "
		"(ifindex %u, MAC %02x:%02x:%02x:%02x:%02x:%02x); stop the psvd "
		"using it or remove the directory", dev->name, dp->pin_dir,
		cfg.ifindex, cfg.host_mac[0], cfg.host_mac[1], cfg.host_mac[2],
		cfg.host_mac[3], cfg.host_mac[4], cfg.host_mac[5]);
	return -EEXIST;
}

/* libxdp's warnings are ours; its info and debug chatter is debug. */
static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	log_vmsg(level == LIBXDP_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG, fmt, ap);
	return 0;
}

int dataplane_load(struct dataplane *dp, const struct netdev *dev,
		   const struct dataplane_opts *opts)
{
	char probe[PATH_MAX];
	int err;

	libxdp_set_print(libxdp_print);
	memset(dp, 0, sizeof(*dp));
	dp->ifindex = dev->ifindex;
	err = psv_pin_dir(dp->pin_dir, sizeof(dp->pin_dir), dev->name);
	if (err) {
		log_err("%s: no pin directory for this name: %s", dev->name,
			strerror(-err));
		return err;
	}
	err = mkdir_p(dp->pin_dir);
	if (err) {
		log_err("cannot create pin directory %s: %s", dp->pin_dir,
			strerror(-err));
		return err;
	}
	snprintf(probe, sizeof(probe), "%s/%s", dp->pin_dir, PSV_MAP_CONNS);
	dp->adopted = access(probe, F_OK) == 0;
	dp->fresh = !dp->adopted;

	dp->ingress = opts->ingress;
	if (dp->ingress == PSV_INGRESS_AUTO)
		/* Native XDP on a veth stops GSO on its peer and its XDP_TX
		 * is lost on a plain peer; TC ingress has neither problem. */
		dp->ingress = netdev_is_veth(dev) ? PSV_INGRESS_TC : PSV_INGRESS_XDP;
	dp->xdp_generic = dp->ingress == PSV_INGRESS_XDP && netdev_is_veth(dev);

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = dp->pin_dir);

	dp->eg = egress_bpf__open_opts(&oo);
	if (!dp->eg) {
		err = -errno;
		log_err("%s: cannot open egress BPF object: %s", dev->name,
			strerror(-err));
		return err;
	}
	size_maps(dp->eg->maps.psv_conns, dp->eg->maps.psv_conns6,
		  dp->eg->maps.psv_groups, opts->max_conns);
	err = egress_bpf__load(dp->eg);
	if (err) {
		log_err("%s: cannot load egress BPF object (pins in %s): %s",
			dev->name, dp->pin_dir, strerror(-err));
		return err;
	}

	dp->in = ingress_bpf__open_opts(&oo);
	if (!dp->in) {
		err = -errno;
		log_err("%s: cannot open ingress BPF object: %s", dev->name,
			strerror(-err));
		return err;
	}
	size_maps(dp->in->maps.psv_conns, dp->in->maps.psv_conns6,
		  dp->in->maps.psv_groups, opts->max_conns);
	/* Load only the reverse path that will be attached. */
	bpf_program__set_autoload(dp->in->progs.psv_ingress_xdp,
				  dp->ingress == PSV_INGRESS_XDP);
	bpf_program__set_autoload(dp->in->progs.psv_ingress_tc,
				  dp->ingress == PSV_INGRESS_TC);
	err = ingress_bpf__load(dp->in);
	if (err) {
		log_err("%s: cannot load ingress BPF object (pins in %s): %s",
			dev->name, dp->pin_dir, strerror(-err));
		return err;
	}

	dp->config_fd = bpf_map__fd(dp->eg->maps.psv_config);
	err = check_adopted(dp, dev);
	if (err)
		return err;
	dp->identities_fd = bpf_map__fd(dp->eg->maps.psv_identities);
	dp->ready_fd = bpf_map__fd(dp->eg->maps.psv_ready);
	dp->groups_fd = bpf_map__fd(dp->eg->maps.psv_groups);
	dp->links_fd = bpf_map__fd(dp->eg->maps.psv_links);
	dp->conns_fd = bpf_map__fd(dp->eg->maps.psv_conns);
	dp->host_conns_fd = bpf_map__fd(dp->eg->maps.psv_host_conns);
	dp->stats_fd = bpf_map__fd(dp->eg->maps.psv_stats);
	dp->events_fd = bpf_map__fd(dp->eg->maps.psv_events);
	dp->apps_fd = bpf_map__fd(dp->eg->maps.psv_apps);
	dp->routes_fd = bpf_map__fd(dp->eg->maps.psv_routes);
	dp->routes6_fd = bpf_map__fd(dp->eg->maps.psv_routes6);
	dp->addrs6_fd = bpf_map__fd(dp->eg->maps.psv_addrs6);
	dp->conns6_fd = bpf_map__fd(dp->eg->maps.psv_conns6);
	log_info("%s: BPF objects loaded, maps %s in %s", dev->name,
		 dp->adopted ? "adopted" : "created", dp->pin_dir);
	return 0;
}

static int pin_prog(struct dataplane *dp, struct bpf_program *prog,
		    const char *name)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, name);
	/* A previous psvd's program stays attached until we replace it. */
	if (unlink(path) && errno != ENOENT)
		log_warn("cannot remove old pin %s: %s", path, strerror(errno));
	err = bpf_program__pin(prog, path);
	if (err)
		log_err("cannot pin program %s at %s: %s",
			bpf_program__name(prog), path, strerror(-err));
	return err;
}

static int tc_attach(struct dataplane *dp, enum bpf_tc_attach_point point,
		     struct bpf_program *prog)
{
	const char *where = point == BPF_TC_EGRESS ? "egress" : "ingress";
	int err;

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dp->ifindex,
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PSV_TC_HANDLE,
		    .priority = PSV_TC_PRIORITY, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(prog));

	/* The second hook, or a restart, finds the qdisc there (EEXIST). */
	log_libbpf_expected(true);
	err = bpf_tc_hook_create(&hook);
	log_libbpf_expected(false);
	if (err && err != -EEXIST) {
		log_err("ifindex %d: cannot create clsact qdisc for TC %s: %s",
			dp->ifindex, where, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		log_err("ifindex %d: cannot attach %s at TC %s: %s", dp->ifindex,
			bpf_program__name(prog), where, strerror(-err));
	return err;
}

static void tc_detach(struct dataplane *dp, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dp->ifindex,
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PSV_TC_HANDLE,
		    .priority = PSV_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);

	if (err && err != -ENOENT && err != -EINVAL)
		log_warn("ifindex %d: cannot detach TC %s filter: %s",
			 dp->ifindex, point == BPF_TC_EGRESS ? "egress" : "ingress",
			 strerror(-err));
}

/* Removes an XDP program a previous psvd left attached (name match only). */
static void xdp_detach_ours(struct dataplane *dp)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(dp->ifindex);
	struct xdp_program *main_prog;
	int err;

	if (!mp || libxdp_get_error(mp))
		return;
	main_prog = xdp_multiprog__main_prog(mp);
	if (main_prog && xdp_multiprog__is_legacy(mp) &&
	    !strcmp(xdp_program__name(main_prog), "psv_ingress_xdp")) {
		err = xdp_multiprog__detach(mp);
		if (err)
			log_warn("ifindex %d: cannot detach old XDP program: %s",
				 dp->ifindex, strerror(-err));
	}
	xdp_multiprog__close(mp);
}

static int xdp_attach(struct dataplane *dp)
{
	enum xdp_attach_mode mode = dp->xdp_generic ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	int err;

	dp->xdp = xdp_program__from_fd(bpf_program__fd(dp->in->progs.psv_ingress_xdp));
	err = libxdp_get_error(dp->xdp);
	if (err) {
		dp->xdp = NULL;
		log_err("ifindex %d: libxdp cannot use psv_ingress_xdp: %s",
			dp->ifindex, strerror(-err));
		return err;
	}
	xdp_detach_ours(dp);
	err = xdp_program__attach(dp->xdp, dp->ifindex, mode, 0);
	if (err)
		log_err("ifindex %d: cannot attach psv_ingress_xdp in %s mode: %s",
			dp->ifindex, dp->xdp_generic ? "generic" : "native",
			strerror(-err));
	return err;
}

int dataplane_attach(struct dataplane *dp)
{
	struct bpf_program *in_prog;
	int err;

	in_prog = dp->ingress == PSV_INGRESS_XDP ? dp->in->progs.psv_ingress_xdp :
						   dp->in->progs.psv_ingress_tc;
	err = pin_prog(dp, dp->eg->progs.psv_egress, prog_pins[0]) ?:
	      pin_prog(dp, in_prog, dp->ingress == PSV_INGRESS_XDP ?
				     prog_pins[1] : prog_pins[2]);
	if (err)
		return err;
	dp->attached = true;

	/* Ingress first: a reply must never meet an egress that translated
	 * its request but no reverse path. */
	if (dp->ingress == PSV_INGRESS_XDP) {
		tc_detach(dp, BPF_TC_INGRESS);
		err = xdp_attach(dp);
	} else {
		xdp_detach_ours(dp);
		err = tc_attach(dp, BPF_TC_INGRESS, in_prog);
	}
	if (err)
		return err;
	err = tc_attach(dp, BPF_TC_EGRESS, dp->eg->progs.psv_egress);
	if (err)
		return err;
	log_info("ifindex %d: attached TC egress and %s ingress", dp->ifindex,
		 dp->ingress == PSV_INGRESS_TC ? "TC" :
		 dp->xdp_generic ? "generic XDP" : "native XDP");
	return 0;
}

void dataplane_detach(struct dataplane *dp)
{
	/* Egress first, so no flow is translated without a reverse path. */
	tc_detach(dp, BPF_TC_EGRESS);
	tc_detach(dp, BPF_TC_INGRESS);
	xdp_detach_ours(dp);
}

void dataplane_unpin(struct dataplane *dp)
{
	char path[PATH_MAX];

	if (dp->eg)
		bpf_object__unpin_maps(dp->eg->obj, NULL);
	for (unsigned int i = 0; i < sizeof(prog_pins) / sizeof(prog_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, prog_pins[i]);
		unlink(path);
	}
	if (rmdir(dp->pin_dir) && errno != ENOENT)
		log_warn("cannot remove %s: %s", dp->pin_dir, strerror(errno));
	/* The per-psv root goes too once no interface uses it. */
	rmdir(psv_pin_root());
}

void dataplane_close(struct dataplane *dp)
{
	xdp_program__close(dp->xdp);
	ingress_bpf__destroy(dp->in);
	egress_bpf__destroy(dp->eg);
	dp->xdp = NULL;
	dp->in = NULL;
	dp->eg = NULL;
}

int dataplane_set_config(struct dataplane *dp, const struct psv_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_update_elem(dp->config_fd, &key, cfg, BPF_ANY)) {
		int err = -errno;

		log_err("cannot write %s/%s: %s", dp->pin_dir, PSV_MAP_CONFIG,
			strerror(-err));
		return err;
	}
	return 0;
}
