// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * psvd - the psv daemon: loads and attaches the dataplane on one
 * interface, keeps its identity pool filled, expires connection state and
 * answers psvctl.  One thread, one epoll loop over a signalfd, a timerfd,
 * the dataplane's ring buffer, the control socket and the address
 * source's sockets.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "psvd/attribution.h"
#include "psvd/config.h"
#include "psvd/conntrack.h"
#include "psvd/dataplane.h"
#include "psvd/link/link_socket.h"
#include "psvd/local_routes.h"
#include "psvd/netdev.h"
#include "psvd/pool/demand_store.h"
#include "psvd/pool/dhcp_source.h"
#include "psvd/pool/identity_pool.h"
#include "psvd/pool/pool_maps.h"
#include "psvd/pool/slaac.h"
#include "psvd/pool/static_source.h"
#include "psvd/route_mirror.h"
#include "psvd/settings.h"
#include "common/clock.h"
#include "common/control.h"
#include "common/log.h"
#include "common/names.h"
#include "common/sockets.h"

#define SCAN_INTERVAL_MS 2000
/*
 * Between two DHCPRELEASEs at shutdown: a burst of 50 lost about one in
 * ten at dnsmasq (its socket buffer, tests/soak/ten_hosts.sh).  50 leases
 * take 0.1 s to release, the most (max = 4096) 8 s.
 */
#define SHUTDOWN_RELEASE_GAP_US 2000

struct psvd {
	const char *ifname;
	const char *config_path;
	char config_abs[PATH_MAX];	/* config_path made absolute */
	bool keep_attached;
	struct psv_conf conf;
	struct netdev dev;
	struct dataplane dp;
	struct attribution at;
	__u64 netns_cookie;
	struct identity_pool pool;
	struct pool_io pool_io;
	struct link_socket link;	/* DHCP and ARP of every identity */
	struct static_source static_src;
	struct dhcp_source dhcp_src;
	struct slaac slaac;		/* the identities' IPv6 addresses */
	struct slaac_maps slaac_io;
	bool v6;			/* ipv6 = virtualize: slaac runs */
	struct ring_buffer *events;
	struct route_mirror routes;
	bool promisc;
	int epfd, sigfd, timerfd, ctlfd;
	char ctl_path[108];
	time_t started;
	uint64_t next_scan_ms;
	/* The scan's expiry pass while it runs (a chunk per loop turn),
	 * and what it tells the pool. */
	struct ct_expiry *expiry;
	struct ct_observer scan_obs;
	struct control_tables tables;	/* the last pass's counts */
	uint64_t pool_empty_logged_ms;
	/* What egress falls back on under on_exhausted = reuse: runtime
	 * state, so every write of psv_config carries it (a SIGHUP must not
	 * leave reuse without an identity until the next scan). */
	__be32 reuse_vip;
	unsigned int demand_saved;	/* the peak in the state file, rounded up */
	uint64_t network_moves;		/* follow_host_address: another subnet */
	bool stop;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: psvd --iface IF [--config FILE] [--foreground] "
		"[--log-level error|warn|info|debug] [--keep-attached]\n"
		"       psvd --version\n");
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	/* Inside `ip netns exec` or a fresh container nobody mounted it. */
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		int err = -errno;

		log_err("cannot mount bpffs on /sys/fs/bpf: %s", strerror(-err));
		return err;
	}
	log_info("mounted bpffs on /sys/fs/bpf");
	return 0;
}

/* Socket attribution covers every process: it hooks the cgroup root. */
static int attach_hooks(struct psvd *d)
{
	int fd = attribution_cgroup_open(), err;

	if (fd < 0)
		return fd;
	err = attribution_attach(&d->at, fd);
	close(fd);
	if (!err)
		log_info("%s: socket attribution attached to the cgroup root",
			 d->ifname);
	return err;
}

/* psv_config: the configuration, and the runtime state laid over it. */
static int set_bpf_config(struct psvd *d, bool stopping)
{
	struct psv_config cfg;

	settings_bpf_config(&d->conf, &d->dev, d->netns_cookie, &cfg);
	cfg.reuse_vip = d->reuse_vip;
	cfg.stopping = stopping;
	return dataplane_set_config(&d->dp, &cfg);
}

/*
 * The identity egress falls back on under on_exhausted = reuse, and last
 * under link: the least recently used one in use.  Chosen whatever the
 * mode, so a reload that switches to reuse or link finds one; written
 * only under those.
 */
static void update_reuse_vip(struct psvd *d)
{
	d->reuse_vip = pool_least_recent(&d->pool);
	if (d->conf.on_exhausted != PSV_EXHAUSTED_REUSE &&
	    d->conf.on_exhausted != PSV_EXHAUSTED_LINK)
		return;
	set_bpf_config(d, false);
}

static void count_flow(void *ctx, const struct psv_conn *c)
{
	pool_flow_seen(ctx, c->vip, c->last_seen_ns);
}

static bool identity_in_use(void *ctx, __be32 vip)
{
	return pool_in_use(ctx, vip);
}

struct socket_count {
	struct identity_pool *pool;
	uint64_t now_ns;
};

/*
 * A socket on an identity's address is a flow of it; a TCP connection in
 * TIME_WAIT is over (the identity retires all the same, the socket is
 * destroyed before the address's route goes).
 */
static int count_socket(void *ctx, const struct inet4_sock *s)
{
	struct socket_count *sc = ctx;

	if (s->proto != IPPROTO_TCP || s->state != TCP_TIME_WAIT)
		pool_flow_seen(sc->pool, s->laddr, sc->now_ns);
	return 0;
}

struct socket_count6 {
	struct socket_count sc;
	const struct slaac *slaac;
};

/* The same for a socket on one of an identity's IPv6 addresses. */
static int count_socket6(void *ctx, const struct inet6_sock *s)
{
	struct socket_count6 *c = ctx;
	uint32_t vip = slaac_owner(c->slaac, s->laddr);

	if (vip && (s->proto != IPPROTO_TCP || s->state != TCP_TIME_WAIT))
		pool_flow_seen(c->sc.pool, vip, c->sc.now_ns);
	return 0;
}

/*
 * The demand peak into the state file when its whole identities changed
 * (or always, with force): a restart, even after a crash, resumes the
 * ready target from there.
 */
static void save_demand(struct psvd *d, bool force)
{
	double peak = demand_peak(&d->pool.demand, clock_now_ms(),
				  d->pool.params.demand_window_s);
	unsigned int whole = (unsigned int)ceil(peak - 1e-6);

	if ((!force && whole == d->demand_saved) ||
	    demand_store_save(d->conf.state_dir, d->ifname, peak))
		return;
	d->demand_saved = whole;
}

/* The peak the last run saved: the pool's target starts there. */
static void resume_demand(struct psvd *d)
{
	double peak;

	if (demand_store_load(d->conf.state_dir, d->ifname, &peak) || !peak)
		return;
	demand_resume(&d->pool.demand, peak, clock_now_ms());
	d->demand_saved = (unsigned int)ceil(peak - 1e-6);
	log_info("ready target %u: the demand the last run learned (peak %.1f)",
		 pool_ready_target(&d->pool, clock_now_ms()), peak);
}

/*
 * A scan, every SCAN_INTERVAL_MS: the sockets count as flows of their
 * identities, then the expiry pass over the connection tables, a chunk
 * per turn of the loop (a table of 100,000 entries must not keep
 * psvctl waiting), counts the connections; at its end the pool retires
 * what has none.
 */
static void scan_start(struct psvd *d)
{
	struct socket_count sc = { .pool = &d->pool };
	struct socket_count6 sc6 = { .slaac = &d->slaac };

	sc.now_ns = clock_now_ns();
	sc6.sc = sc;
	pool_flows_reset(&d->pool);
	/* A failed walk counts no socket: then the idle timer still waits. */
	if (sockets_walk(count_socket, &sc) ||
	    (d->v6 && sockets_walk6(count_socket6, &sc6)))
		return;
	d->scan_obs = (struct ct_observer){ .live = count_flow,
					    .in_use = identity_in_use,
					    .ctx = &d->pool };
	d->expiry = ct_expiry_start(&d->dp, sc.now_ns, &d->scan_obs);
}

static void scan_end(struct psvd *d, const struct ct_stats *st)
{
	d->tables = (struct control_tables){
		.counted = time(NULL),
		.connections = st->conns + st->conns6,
		.groups = st->groups, .host_connections = st->host_conns,
		.apps = st->apps,
	};
	pool_retire_idle(&d->pool, clock_now_ms());
	update_reuse_vip(d);
	save_demand(d, false);
	/* For systemctl status; nothing without systemd. */
	sd_notifyf(0, "STATUS=%u identities ready, %u active",
		   pool_count_state(&d->pool, PSV_ID_READY),
		   pool_count_state(&d->pool, PSV_ID_ACTIVE));
	if (st->expired)
		log_debug("expired %u entries; %u connections, %u IPv6 "
			  "connections, %u groups, %u host connections, %u "
			  "applications live", st->expired, st->conns,
			  st->conns6, st->groups, st->host_conns, st->apps);
}

/* The scan's next chunk; true while it runs. */
static bool scan_step(struct psvd *d)
{
	struct ct_stats st;

	if (!d->expiry)
		return false;
	if (ct_expiry_step(d->expiry, &st))
		return true;
	d->expiry = NULL;
	scan_end(d, &st);
	return false;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct psvd *d = ctx;
	const struct psv_event *ev = data;
	uint64_t now = clock_now_ms();
	char group[96];

	if (len < sizeof(*ev))
		return 0;
	switch (ev->type) {
	case PSV_EV_IDENTITY_TAKEN:
		/* A held identity's first frame names no group: logged held. */
		if (ev->group.proto || ev->group.kind)
			log_debug("new group %s", psv_group_text(&ev->group, group,
								  sizeof(group)));
		pool_identity_taken(&d->pool, ev->vip);
		break;
	case PSV_EV_IDENTITY_HELD:
		log_debug("new group %s, held", psv_group_text(&ev->group, group,
								sizeof(group)));
		pool_identity_held(&d->pool, ev->vip);
		break;
	case PSV_EV_POOL_EMPTY:
		pool_exhausted(&d->pool);
		/* Once a second at most: a flood of new flows must not
		 * become a flood of log lines. */
		if (now - d->pool_empty_logged_ms >= 1000) {
			log_warn("no ready identity for a new flow (on_exhausted=%s)",
				 psv_exhausted_name(d->conf.on_exhausted));
			d->pool_empty_logged_ms = now;
		}
		break;
	}
	return 0;
}

/* What psvd counts beside the dataplane, for psvctl stats. */
static size_t daemon_counters(struct psvd *d, struct control_counter *c)
{
	const struct link_socket_stats *ss = &d->link.stats;
	const struct slaac_stats *v6 = &d->slaac.stats;
	struct dhcp_client_stats cs;
	size_t n = 0;

	dhcp_source_client_stats(&d->dhcp_src, &cs);
#define COUNTER(name_, value_) c[n++] = (struct control_counter){ name_, value_ }
	COUNTER("pool_retired", d->pool.retired);
	COUNTER("pool_reclaimed", d->pool.reclaimed);
	COUNTER("network_moved", d->network_moves);
	COUNTER("dhcp_sent", cs.tx);
	COUNTER("dhcp_send_errors", cs.tx_errors);
	COUNTER("dhcp_replies_accepted", cs.rx_accepted);
	COUNTER("dhcp_replies_malformed", cs.rx_malformed);
	COUNTER("dhcp_replies_bad_xid", cs.rx_bad_xid);
	COUNTER("dhcp_replies_bad_chaddr", cs.rx_bad_chaddr);
	COUNTER("dhcp_replies_ignored", cs.rx_ignored);
	COUNTER("dhcp_arp_probes", cs.arp_probes);
	COUNTER("dhcp_naks", cs.naks);
	COUNTER("dhcp_no_offers", cs.no_offers);
	COUNTER("packet_rx_frames", ss->rx_frames);
	COUNTER("packet_rx_malformed", ss->rx_malformed);
	COUNTER("packet_rx_not_ours", ss->rx_not_ours);
	COUNTER("packet_rx_no_client", ss->rx_no_client);
	COUNTER("packet_rx_errors", ss->rx_errors);
	COUNTER("packet_tx_frames", ss->tx_frames);
	COUNTER("packet_tx_errors", ss->tx_errors);
	COUNTER("packet_rx_nd", ss->rx_nd);
	COUNTER("ra_accepted", v6->ra_accepted);
	COUNTER("ra_malformed", v6->ra_malformed);
	COUNTER("ra_not_router", v6->ra_not_router);
	COUNTER("rs_sent", v6->rs_sent);
	COUNTER("dad_started", v6->dad_started);
	COUNTER("dad_conflicts", v6->dad_conflicts);
	COUNTER("dad_given_up", v6->dad_given_up);
	COUNTER("ipv6_addrs_expired", v6->addrs_expired);
#undef COUNTER
	return n;
}

#define DAEMON_COUNTERS 29

/* Seconds left until a deadline (-1: infinite), for psvctl status. */
static int64_t seconds_left(uint64_t until_ms, uint64_t now_ms)
{
	if (until_ms == SLAAC_INFINITE)
		return -1;
	return until_ms > now_ms ? (int64_t)((until_ms - now_ms) / 1000) : 0;
}

/* What psvctl status says of IPv6. */
static void ipv6_status(struct psvd *d, struct control_ipv6 *v6,
			struct control_prefix6 *prefixes)
{
	const struct slaac *s = &d->slaac;
	uint64_t now = clock_now_ms();

	*v6 = (struct control_ipv6){
		.policy = psv_ipv6_name(d->conf.ipv6),
		.router_seen = s->ra_seen,
		.dhcpv6_only = s->managed_only,
		.in_dad = slaac_count(s, SLAAC_DAD),
		.addresses = slaac_count(s, SLAAC_DONE),
		.prefixes = prefixes,
		.n_prefixes = s->n_prefixes,
	};
	for (unsigned int i = 0; i < s->n_prefixes; i++) {
		const struct slaac_prefix *p = &s->prefixes[i];

		prefixes[i] = (struct control_prefix6){
			.len = p->len, .slaac = p->autonomous,
			.onlink = p->onlink,
			.valid_s = seconds_left(p->valid_until_ms, now),
			.preferred_s = seconds_left(p->preferred_until_ms, now),
		};
		memcpy(prefixes[i].prefix, p->prefix, 16);
	}
}

/* What psvctl status says of the pool's supply. */
static void pool_supply(struct psvd *d, struct control_supply *s)
{
	uint64_t now = clock_now_ms();

	*s = (struct control_supply){
		.ready_target = pool_ready_target(&d->pool, now),
		.ready_floor = d->pool.params.ready,
		.demand_per_s = demand_rate(&d->pool.demand, now),
		.leases_held = pool_leases_held(&d->pool),
		.lease_budget = d->pool.params.max,
	};
	lease_count_hour(&d->pool.leases, now, &s->acquired_hour,
			 &s->released_hour);
}

static char *control_reply(void *ctx, const char *command)
{
	struct psvd *d = ctx;
	struct control_counter counters[DAEMON_COUNTERS];
	struct control_prefix6 prefixes[SLAAC_MAX_PREFIXES];
	struct control_ipv6 v6;
	struct control_status st = {
		.pid = getpid(), .started = d->started,
		.source = d->conf.source == PSV_SOURCE_STATIC ? "static" : "dhcp",
		.host_eui64 = netdev_eui64_addrs(&d->dev),
		.counters = counters,
		.ipv6 = &v6,
		.tables = d->tables,
	};
	struct control_lease *leases;
	char *out;

	if (strcmp(command, "leases"))
		return control_reply_unknown();
	leases = calloc(pool_size(&d->pool) + 1, sizeof(*leases));
	if (!leases)
		return NULL;
	for (unsigned int i = 0; i < pool_size(&d->pool); i++) {
		const struct identity *id = pool_get(&d->pool, i);
		struct control_lease *l = &leases[st.n_leases];

		if (!id->ip)
			continue;
		l->ip = id->ip;
		pool_lease(&d->pool, id, &l->expires, &l->server);
		st.n_leases++;
	}
	st.leases = leases;
	pool_supply(d, &st.supply);
	ipv6_status(d, &v6, prefixes);
	st.n_counters = daemon_counters(d, counters);
	out = control_reply_status(&st);
	free(leases);
	return out;
}

static int epoll_add(struct psvd *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		log_err("epoll_ctl add fd %d: %s", fd, strerror(-err));
		return err;
	}
	return 0;
}

static void signal_set(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
}

/*
 * The loop's fds but the signalfd.  Signals are blocked from here on:
 * one that comes before watch_signals() waits, pending, for it.
 */
static int setup_loop(struct psvd *d)
{
	sigset_t mask;

	signal_set(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		log_err("sigprocmask: %s", strerror(errno));
		return -errno;
	}
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->timerfd < 0 || d->epfd < 0) {
		log_err("timerfd/epoll_create1: %s", strerror(errno));
		return -errno;
	}
	d->events = ring_buffer__new(d->dp.events_fd, handle_event, d, NULL);
	if (!d->events) {
		log_err("cannot open ring buffer %s: %s", PSV_MAP_EVENTS,
			strerror(errno));
		return -errno;
	}
	d->ctlfd = control_open(d->ifname, d->ctl_path, sizeof(d->ctl_path));
	if (d->ctlfd < 0)
		return d->ctlfd;
	return epoll_add(d, d->timerfd) ?:
	       epoll_add(d, ring_buffer__epoll_fd(d->events)) ?:
	       epoll_add(d, d->ctlfd) ?:
	       epoll_add(d, route_mirror_fd(&d->routes)) ?:
	       epoll_add(d, link_socket_fd(&d->link));
}

/*
 * The signalfd, made by the process that reads it: one made before
 * daemon() forked would wake the parent's epoll waiters, not ours.
 */
static int watch_signals(struct psvd *d)
{
	sigset_t mask;

	signal_set(&mask);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return -errno;
	}
	return epoll_add(d, d->sigfd);
}

static void arm_timer(struct psvd *d, uint64_t at_ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = at_ms / 1000,
			      .tv_nsec = (at_ms % 1000) * 1000000 },
	};

	if (timerfd_settime(d->timerfd, TFD_TIMER_ABSTIME, &its, NULL))
		log_err("timerfd_settime: %s", strerror(errno));
}

/* Runs what is due and arms the timer for the next deadline. */
static void run_timers(struct psvd *d)
{
	uint64_t now = clock_now_ms(), next, refill;

	if (d->expiry || now >= d->next_scan_ms) {
		if (!d->expiry)
			scan_start(d);
		/* A scan that goes on is due again at once: after what
		 * waits in the loop (psvctl) is served. */
		d->next_scan_ms = scan_step(d) ? now :
				  clock_now_ms() + SCAN_INTERVAL_MS;
	}
	next = d->conf.source == PSV_SOURCE_DHCP ?
	       dhcp_source_run(&d->dhcp_src, now) : UINT64_MAX;
	if (next > d->next_scan_ms)
		next = d->next_scan_ms;
	refill = pool_refill(&d->pool, clock_now_ms());
	if (refill < next)
		next = refill;
	if (d->v6) {
		refill = slaac_run(&d->slaac, clock_now_ms());
		if (refill < next)
			next = refill;
	}
	arm_timer(d, next);
}

static void reload_config(struct psvd *d)
{
	struct psv_conf conf = d->conf;
	struct pool_params params;
	char err[256];

	if (!d->config_path) {
		log_info("SIGHUP: no --config given, nothing to reload");
		return;
	}
	if (psv_conf_load(d->config_path, &conf, err, sizeof(err))) {
		log_err("SIGHUP: keeping the running configuration: %s", err);
		return;
	}
	settings_keep_restart_only(&d->conf, &conf);
	d->conf = conf;
	settings_pool(&conf, &params);
	pool_set_params(&d->pool, &params);
	attribution_set_rules(&d->at, &conf);
	set_bpf_config(d, false);
	log_info("SIGHUP: configuration reloaded from %s", d->config_path);
}

static void handle_signals(struct psvd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload_config(d);
		else
			d->stop = true;
	}
}

/*
 * Whether psvd's interface was deleted (its RTM_DELLINK wakes the route
 * mirror's socket).  Nothing is left to protect: psvd stops, cleaning
 * up as on SIGTERM, and says why.
 */
static bool iface_deleted(const struct psvd *d)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(d->dev.ifindex, name) || errno != ENXIO)
		return false;
	log_err("%s: the interface was deleted: psvd stops", d->ifname);
	return true;
}

/*
 * The host moved to another network (a laptop leaving home for a cafe):
 * the identities were made for the old one.  On the new network they
 * would link the flows there to those the old network saw, from
 * addresses off its subnet, so every one goes at once without a frame
 * in its name (no DHCPRELEASE, no announcement, no RST of its ended
 * flows: pool_forget_all), with the prefixes its IPv6 addresses came
 * from; a static range serves only if it lies in the new subnet.  The
 * pool then acquires fresh identities there; new flows follow
 * on_exhausted meanwhile, never on the real identity.
 */
static void leave_network(struct psvd *d, const struct netdev *now)
{
	char was[INET_ADDRSTRLEN], is[INET_ADDRSTRLEN];
	uint32_t old_net = d->dev.ip & d->dev.netmask;
	uint32_t new_net = now->ip & now->netmask;
	unsigned int n;

	n = pool_forget_all(&d->pool);
	if (d->v6)
		slaac_forget_network(&d->slaac, clock_now_ms());
	if (d->conf.source == PSV_SOURCE_STATIC)
		static_source_set_subnet(&d->static_src, now->ip, now->netmask);
	d->reuse_vip = 0;
	d->network_moves++;
	inet_ntop(AF_INET, &old_net, was, sizeof(was));
	inet_ntop(AF_INET, &new_net, is, sizeof(is));
	log_warn("%s: the host moved to another network (%s/%d to %s/%d): "
		 "its %u identities retired without a frame there, acquiring "
		 "new ones", d->ifname, was, __builtin_popcount(d->dev.netmask),
		 is, __builtin_popcount(now->netmask), n);
}

/*
 * The host's DHCP client may move the interface to another address (a
 * NAK, a reservation, another network): psv_config.host_ip follows, or
 * egress would let the new address's untranslated flows (ping, raw and
 * bound sockets) and the host's ARP for its gateway leave with the real
 * MAC, and ingress would hand translated replies to the old address.
 * An identity that holds the new address is retired; in another subnet
 * (netdev_moved) all are.  Address changes wake the route mirror's
 * socket.  While the interface has no address (between the client's
 * deconfig and its new lease) the last one stays: host_ip 0 would make
 * the host's ARP probes (sender 0.0.0.0) look like its ARP requests,
 * which go out in an identity's name.
 */
static void follow_host_address(struct psvd *d)
{
	char was[INET_ADDRSTRLEN], is[INET_ADDRSTRLEN];
	struct netdev now = d->dev, before;
	struct identity *id;

	if (netdev_query_addr(&now) || !now.ip ||
	    (now.ip == d->dev.ip && now.netmask == d->dev.netmask))
		return;
	inet_ntop(AF_INET, &d->dev.ip, was, sizeof(was));
	inet_ntop(AF_INET, &now.ip, is, sizeof(is));
	if (netdev_moved(&d->dev, &now)) {
		leave_network(d, &now);
	} else {
		/* Given twice (a static range over the host's, a careless
		 * server): the address is the host's now, never an
		 * identity's. */
		id = pool_find_ip(&d->pool, now.ip);
		if (id)
			pool_retire(&d->pool, id, "the host's own address now");
	}
	before = d->dev;
	d->dev = now;		/* a copy but for the address and netmask */
	if (set_bpf_config(d, false)) {
		d->dev = before;	/* the next address event tries again */
		return;
	}
	d->link.gateway = netdev_default_gateway(d->ifname);
	log_info("%s: the host's address changed from %s to %s", d->ifname,
		 was, is);
}

static int run(struct psvd *d)
{
	struct epoll_event evs[8];

	d->next_scan_ms = clock_now_ms() + SCAN_INTERVAL_MS;
	run_timers(d);
	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint64_t ticks;

			if (fd == d->sigfd) {
				handle_signals(d);
			} else if (fd == d->timerfd) {
				if (read(fd, &ticks, sizeof(ticks)) < 0 &&
				    errno != EAGAIN)
					log_err("read timerfd: %s", strerror(errno));
			} else if (fd == d->ctlfd) {
				control_serve(fd, control_reply, d);
			} else if (fd == route_mirror_fd(&d->routes)) {
				route_mirror_read(&d->routes);
				if (iface_deleted(d))
					return -ENODEV;
				follow_host_address(d);
			} else if (fd == link_socket_fd(&d->link)) {
				link_socket_read(&d->link, clock_now_ms());
			} else {
				ring_buffer__consume(d->events);
			}
		}
		run_timers(d);
	}
	return 0;
}

/*
 * The identities' IPv6 addresses, under ipv6 = virtualize: the pool
 * holds new identities back for them, the link socket hands over
 * neighbour discovery, and routers are solicited.  Under block or host
 * slaac only cleans up (slaac_adopt) what an earlier run left.
 */
static int setup_ipv6(struct psvd *d)
{
	struct pool_hooks hooks;
	int err;

	d->v6 = d->conf.ipv6 == PSV_IPV6_VIRTUALIZE;
	slaac_maps_io(&d->slaac_io, &d->dp, &d->link);
	err = slaac_init(&d->slaac, &d->pool, &d->slaac_io.io);
	if (err || !d->v6)
		return err;
	err = netdev_ipv6_own_sources(d->ifname);
	if (err)
		return err;
	slaac_pool_hooks(&d->slaac, &hooks);
	pool_set_hooks(&d->pool, &hooks);
	link_socket_set_nd_rx(&d->link, slaac_nd, &d->slaac);
	slaac_start(&d->slaac, clock_now_ms());
	return 0;
}

static int setup_pool(struct psvd *d)
{
	const struct pool_source_ops *ops = &dhcp_source_ops;
	void *source = &d->dhcp_src;
	struct pool_params params;
	struct dhcp_params dhcp;
	int err;

	/* Both sources announce their identities on the link socket. */
	err = link_socket_open(&d->link, d->dev.ifindex);
	if (err)
		return err;
	d->link.gateway = netdev_default_gateway(d->ifname);
	if (d->conf.source == PSV_SOURCE_STATIC) {
		static_source_init(&d->static_src, d->conf.static_first,
				   d->conf.static_last, &d->link);
		ops = &static_source_ops;
		source = &d->static_src;
	} else {
		settings_dhcp(&d->conf, &dhcp);
		dhcp_source_init(&d->dhcp_src, &d->link, d->ifname, &dhcp,
				 d->conf.state_dir);
	}
	settings_pool(&d->conf, &params);
	pool_maps_io(&d->pool_io, &d->dp);
	err = pool_init(&d->pool, &params, ops, source, &d->pool_io) ?:
	      setup_ipv6(d);
	if (err)
		return err;
	resume_demand(d);
	if (d->conf.source == PSV_SOURCE_DHCP)
		dhcp_source_bind(&d->dhcp_src, &d->pool);
	if (!d->dp.adopted)
		return slaac_adopt(&d->slaac, false, clock_now_ms());
	err = pool_adopt(&d->pool) ?:
	      slaac_adopt(&d->slaac, d->v6, clock_now_ms());
	if (err)
		return err;
	if (d->conf.source == PSV_SOURCE_STATIC)
		static_source_adopted(&d->static_src, &d->pool);
	else
		err = dhcp_source_resume(&d->dhcp_src, clock_now_ms());
	return err;
}

static int parse_args(struct psvd *d, int argc, char **argv, bool *foreground,
		      int *level)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "keep-attached", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:fl:khV", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			d->ifname = optarg;
			break;
		case 'c':
			d->config_path = optarg;
			break;
		case 'f':
			*foreground = true;
			break;
		case 'l':
			*level = log_level_parse(optarg);
			if (*level < 0) {
				fprintf(stderr, "psvd: unknown log level '%s' "
					"(error|warn|info|debug)\n", optarg);
				return -1;
			}
			break;
		case 'k':
			d->keep_attached = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("psvd %s\n", PSV_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "psvd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (!d->ifname) {
		fprintf(stderr, "psvd: --iface is required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static int load_config(struct psvd *d)
{
	const char *given;
	char err[512];

	psv_conf_defaults(&d->conf);
	if (!d->config_path) {
		/* The packaged default, when there is one. */
		if (access(PSV_CONF_DEFAULT_PATH, F_OK))
			return 0;
		d->config_path = PSV_CONF_DEFAULT_PATH;
	}
	if (psv_conf_load(d->config_path, &d->conf, err, sizeof(err))) {
		fprintf(stderr, "psvd: %s\n", err);
		return -1;
	}
	/* SIGHUP reads it again after the daemon moved to /. */
	given = d->config_path;
	d->config_path = realpath(given, d->config_abs);
	if (!d->config_path) {
		fprintf(stderr, "psvd: %s: %s\n", given, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Whether s carries a virtualized flow: bound to an identity's address,
 * or translated by egress (a connection of the host's address that psv
 * made, not one the hooks merely noted).
 */
static bool virtualized(struct psvd *d, const struct inet4_sock *s)
{
	struct psv_conn_key k = { .raddr = s->raddr, .lport = s->lport,
				  .rport = s->rport, .proto = s->proto };
	struct psv_conn c;

	if (pool_find_ip(&d->pool, s->laddr))
		return true;
	return s->laddr == d->dev.ip && s->raddr &&
	       !bpf_map_lookup_elem(d->dp.conns_fd, &k, &c) &&
	       !(c.flags & PSV_CONN_BOUND);
}

struct ending {
	struct psvd *d;
	unsigned int n;
};

static int end_if_virtualized(void *ctx, const struct inet4_sock *s)
{
	struct ending *e = ctx;

	if (virtualized(e->d, s) && !sockets_destroy(s))
		e->n++;
	return 0;
}

/* An IPv6 socket on an identity's address. */
static int end_if_virtualized6(void *ctx, const struct inet6_sock *s)
{
	struct ending *e = ctx;

	if (slaac_owner(&e->d->slaac, s->laddr) && !sockets_destroy6(s))
		e->n++;
	return 0;
}

/*
 * Before the dataplane goes, its flows end: once detached, a flow that
 * went on would leave with the real MAC and address and tie its
 * identity to the host.  Egress, still attached, starts no new
 * translated flow meanwhile and gives the RSTs of the ended ones their
 * identities.  (Ping and raw sockets cannot be ended this way; their
 * next packets after the detach are the host's.)
 */
static void end_virtualized_flows(struct psvd *d)
{
	struct ending e = { .d = d };

	set_bpf_config(d, true);
	sockets_walk(end_if_virtualized, &e);
	if (d->v6)
		sockets_walk6(end_if_virtualized6, &e);
	log_info("%s: ended %u virtualized connections", d->ifname, e.n);
	/* The RSTs are sent as the sockets end; let any queue drain. */
	usleep(50 * 1000);
}

/* A local route of psv's whose identity is gone (a crash meanwhile). */
static void drop_stray_route(void *ctx, uint32_t ip)
{
	if (!pool_find_ip(ctx, ip))
		local_route_del(ip);
}

static void shutdown_daemon(struct psvd *d)
{
	save_demand(d, true);
	if (d->keep_attached) {
		log_info("%s: leaving the dataplane attached and pinned "
			 "(--keep-attached)", d->ifname);
	} else {
		attribution_detach(&d->at);
		end_virtualized_flows(d);
		dataplane_detach(&d->dp);
		pool_release_all(&d->pool, d->conf.source == PSV_SOURCE_DHCP ?
					    SHUTDOWN_RELEASE_GAP_US : 0);
		dataplane_unpin(&d->dp);
		if (d->promisc)
			netdev_set_promisc(d->ifname, false);
		log_info("%s: detached, leases released, pins removed", d->ifname);
	}
	ct_expiry_abort(d->expiry);
	control_close(d->ctlfd, d->ctl_path);
	route_mirror_close(&d->routes);
	ring_buffer__free(d->events);
	/* Leases left or released: the store says which. */
	if (d->conf.source == PSV_SOURCE_DHCP)
		dhcp_source_run(&d->dhcp_src, clock_now_ms());
	link_socket_close(&d->link);
	slaac_free(&d->slaac);
	pool_free(&d->pool);
	attribution_close(&d->at);
	dataplane_close(&d->dp);
}

int main(int argc, char **argv)
{
	struct psvd d = { .ctlfd = -1, .link = { .fd = -1 } };
	struct dataplane_opts dpo;
	bool foreground = false;
	int level = LOG_LVL_INFO;
	int err;

	if (parse_args(&d, argc, argv, &foreground, &level) || load_config(&d))
		return 2;
	/*
	 * On the terminal until psv runs: whatever stops the start (the
	 * interface, BTF, bpffs, the config) is said there, with a non-zero
	 * exit status, before psvd leaves it.
	 */
	log_init("psvd", false, level);
	d.started = time(NULL);

	if (netdev_query(d.ifname, &d.dev))
		return 1;
	if (d.dev.wireless) {
		/* An access point accepts frames only from associated MACs:
		 * virtual identities cannot work, and failing loudly beats
		 * silently breaking every flow. */
		log_err("%s is a wireless interface; psv needs a wired (Ethernet) "
			"link", d.ifname);
		return 1;
	}
	if (!d.dev.ip) {
		log_err("%s has no IPv4 address: psv needs the host's own address "
			"to tell its traffic apart", d.ifname);
		return 1;
	}
	if (ensure_bpffs())
		return 1;

	settings_dataplane(&d.conf, &dpo);
	err = attribution_netns_cookie(&d.netns_cookie) ?:
	      dataplane_load(&d.dp, &d.dev, &dpo) ?:
	      attribution_load(&d.at, d.dp.pin_dir) ?:
	      attribution_set_rules(&d.at, &d.conf);
	if (!err)
		err = set_bpf_config(&d, false);
	if (!err && !netdev_is_veth(&d.dev)) {
		/* A NIC filters unicast by MAC; the identities' frames must
		 * get in.  (A veth delivers them anyway.) */
		err = netdev_set_promisc(d.ifname, true);
		d.promisc = !err;
	}
	err = err ?: setup_pool(&d) ?:
	      route_mirror_open(&d.routes, d.dp.routes_fd, d.dp.routes6_fd,
					 d.dev.ifindex) ?:
	      local_routes_list(drop_stray_route, &d.pool) ?:
	      dataplane_attach(&d.dp) ?: attach_hooks(&d) ?: setup_loop(&d);
	if (err) {
		log_err("%s: start-up failed: %s", d.ifname, strerror(-err));
		/* Adopted state stays pinned for the next try; fresh state goes. */
		if (d.dp.fresh) {
			attribution_detach(&d.at);
			if (d.dp.attached)
				dataplane_detach(&d.dp);
			dataplane_unpin(&d.dp);
		}
		route_mirror_close(&d.routes);
		attribution_close(&d.at);
		dataplane_close(&d.dp);
		return 1;
	}
	log_info("%s: running (host %s, %s pool, ready=%u max=%u)", d.ifname,
		 inet_ntoa((struct in_addr){ d.dev.ip }),
		 d.conf.source == PSV_SOURCE_STATIC ? "static" : "dhcp",
		 d.conf.ready, d.conf.max);
	if (d.conf.ipv6 == PSV_IPV6_HOST)
		log_info("%s: ipv6 = host: IPv6 flows use the host's real MAC "
			 "and address", d.ifname);
	else if (d.conf.ipv6 == PSV_IPV6_BLOCK)
		log_info("%s: ipv6 = block: virtualized flows use IPv4 only",
			 d.ifname);
	else
		log_info("%s: ipv6 = virtualize: identities get IPv6 addresses "
			 "from the router's SLAAC prefixes; until one has, its "
			 "IPv6 flows are blocked", d.ifname);
	if (netdev_eui64_addrs(&d.dev) > 0)
		log_info("%s: the host's own IPv6 address contains its MAC "
			 "(EUI-64): stable-privacy addresses hide it, see "
			 "psv.conf(5)", d.ifname);
	if (!foreground) {
		/* Running: the parent exits 0, the daemon logs to syslog. */
		if (daemon(0, 0)) {
			log_err("%s: cannot detach from the terminal (daemon): %s",
				d.ifname, strerror(errno));
			shutdown_daemon(&d);
			return 1;
		}
		log_to_syslog("psvd");
	}
	err = watch_signals(&d);
	/* Type=notify: attached and running (psvd runs --foreground there). */
	if (!err)
		sd_notifyf(0, "READY=1\nSTATUS=%u identities ready",
			   pool_count_state(&d.pool, PSV_ID_READY));
	err = err ?: run(&d);
	sd_notify(0, "STOPPING=1");
	shutdown_daemon(&d);
	return err ? 1 : 0;
}
