// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * psvd - the psv daemon: loads and attaches the dataplane on one
 * interface, keeps its identity pool filled, expires connection state and
 * answers psvctl.  One thread, one epoll loop over a signalfd, a timerfd,
 * the dataplane's ring buffer, the control socket and the address
 * source's sockets.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "attribution.h"
#include "config.h"
#include "conntrack.h"
#include "control.h"
#include "dataplane.h"
#include "dhcp_source.h"
#include "identity_pool.h"
#include "local_routes.h"
#include "log.h"
#include "netdev.h"
#include "route_mirror.h"
#include "sockets.h"
#include "static_source.h"

#define SCAN_INTERVAL_MS 2000

struct psvd {
	const char *ifname;
	const char *config_path;
	bool keep_attached;
	struct psv_conf conf;
	struct netdev dev;
	struct dataplane dp;
	struct attribution at;
	__u64 netns_cookie;
	struct identity_pool pool;
	struct static_source static_src;
	struct dhcp_source dhcp_src;
	struct ring_buffer *events;
	struct route_mirror routes;
	bool promisc;
	int epfd, sigfd, timerfd, ctlfd;
	char ctl_path[108];
	time_t started;
	uint64_t next_scan_ms;
	uint64_t pool_empty_logged_ms;
	/* What egress falls back on under on_exhausted = reuse: runtime
	 * state, so every write of psv_config carries it (a SIGHUP must not
	 * leave reuse without an identity until the next scan). */
	__be32 reuse_vip;
	bool stop;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: psvd --iface IF [--config FILE] [--foreground] "
		"[--log-level error|warn|info|debug] [--keep-attached]\n");
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

static void fill_bpf_config(struct psvd *d, struct psv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->host_mac, d->dev.mac, 6);
	cfg->host_ip = d->dev.ip;
	cfg->netmask = d->dev.netmask;
	cfg->ifindex = d->dev.ifindex;
	cfg->on_exhausted = d->conf.on_exhausted;
	cfg->granularity = d->conf.granularity;
	cfg->ipv6 = d->conf.ipv6;
	cfg->netns_cookie = d->netns_cookie;
	cfg->reuse_vip = d->reuse_vip;
	cfg->enabled = 1;
}

/*
 * The identity egress falls back on under on_exhausted = reuse: the least
 * recently used one in use.  Chosen whatever the mode, so a reload that
 * switches to reuse finds one; written only under reuse.
 */
static void update_reuse_vip(struct psvd *d)
{
	struct identity *best = NULL;
	struct psv_config cfg;

	for (unsigned int i = 0; i < d->pool.count; i++) {
		struct identity *id = d->pool.ids[i];

		if (id->state != PSV_ID_ACTIVE && id->state != PSV_ID_IDLE)
			continue;
		if (!best || id->last_seen_ns < best->last_seen_ns)
			best = id;
	}
	d->reuse_vip = best ? best->ip : 0;
	if (d->conf.on_exhausted != PSV_EXHAUSTED_REUSE)
		return;
	fill_bpf_config(d, &cfg);
	dataplane_set_config(&d->dp, &cfg);
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

static void scan(struct psvd *d, uint64_t now)
{
	struct ct_observer obs = { .live = count_flow,
				   .in_use = identity_in_use,
				   .ctx = &d->pool };
	struct socket_count sc = { .pool = &d->pool };
	struct timespec ts;
	struct ct_stats st;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sc.now_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	pool_flows_reset(&d->pool);
	/* A failed walk counts no socket: then the idle timer still waits. */
	if (sockets_walk(count_socket, &sc))
		return;
	ct_expire(&d->dp, sc.now_ns, &obs, &st);
	pool_retire_idle(&d->pool, now);
	update_reuse_vip(d);
	if (st.expired)
		log_debug("expired %u entries; %u connections, %u groups, "
			  "%u host connections, %u applications live",
			  st.expired, st.conns, st.groups, st.host_conns,
			  st.apps);
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct psvd *d = ctx;
	const struct psv_event *ev = data;
	uint64_t now = now_ms();

	if (len < sizeof(*ev))
		return 0;
	switch (ev->type) {
	case PSV_EV_IDENTITY_TAKEN:
		pool_identity_taken(&d->pool, ev->vip);
		break;
	case PSV_EV_POOL_EMPTY:
		/* Once a second at most: a flood of new flows must not
		 * become a flood of log lines. */
		if (now - d->pool_empty_logged_ms >= 1000) {
			log_warn("no ready identity for a new flow (on_exhausted=%s)",
				 d->conf.on_exhausted == PSV_EXHAUSTED_DROP ? "drop" :
				 d->conf.on_exhausted == PSV_EXHAUSTED_REUSE ?
				 "reuse" : "host");
			d->pool_empty_logged_ms = now;
		}
		break;
	}
	return 0;
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* What psvd counts beside the dataplane, for psvctl stats. */
static struct json_object *daemon_counters(struct psvd *d)
{
	const struct dhcp_socket_stats *ss = &d->dhcp_src.sock.stats;
	struct json_object *o = json_object_new_object();
	struct dhcp_client_stats cs;

	dhcp_source_client_stats(&d->dhcp_src, &cs);
	add_u64(o, "pool_retired", d->pool.retired);
	add_u64(o, "dhcp_sent", cs.tx);
	add_u64(o, "dhcp_send_errors", cs.tx_errors);
	add_u64(o, "dhcp_replies_accepted", cs.rx_accepted);
	add_u64(o, "dhcp_replies_malformed", cs.rx_malformed);
	add_u64(o, "dhcp_replies_bad_xid", cs.rx_bad_xid);
	add_u64(o, "dhcp_replies_bad_chaddr", cs.rx_bad_chaddr);
	add_u64(o, "dhcp_replies_ignored", cs.rx_ignored);
	add_u64(o, "dhcp_arp_probes", cs.arp_probes);
	add_u64(o, "packet_rx_frames", ss->rx_frames);
	add_u64(o, "packet_rx_malformed", ss->rx_malformed);
	add_u64(o, "packet_rx_not_ours", ss->rx_not_ours);
	add_u64(o, "packet_rx_no_client", ss->rx_no_client);
	add_u64(o, "packet_rx_errors", ss->rx_errors);
	add_u64(o, "packet_tx_frames", ss->tx_frames);
	add_u64(o, "packet_tx_errors", ss->tx_errors);
	return o;
}

static char *control_reply(void *ctx, const char *command)
{
	struct psvd *d = ctx;
	struct json_object *root, *leases;
	char *out;

	if (strcmp(command, "leases"))
		return strdup("{\"error\":\"unknown command\"}\n");
	root = json_object_new_object();
	leases = json_object_new_array();
	json_object_object_add(root, "pid", json_object_new_int(getpid()));
	json_object_object_add(root, "started", json_object_new_int64(d->started));
	json_object_object_add(root, "source", json_object_new_string(
		d->conf.source == PSV_SOURCE_STATIC ? "static" : "dhcp"));
	for (unsigned int i = 0; i < d->pool.count; i++) {
		const struct identity *id = d->pool.ids[i];
		struct json_object *l;
		char ip[INET_ADDRSTRLEN];

		if (!id->ip)
			continue;
		l = json_object_new_object();
		inet_ntop(AF_INET, &id->ip, ip, sizeof(ip));
		json_object_object_add(l, "ipv4", json_object_new_string(ip));
		json_object_object_add(l, "lease_expires", id->lease_expires ?
				       json_object_new_int64(id->lease_expires) : NULL);
		if (id->server) {
			inet_ntop(AF_INET, &id->server, ip, sizeof(ip));
			json_object_object_add(l, "server", json_object_new_string(ip));
		} else {
			json_object_object_add(l, "server", NULL);
		}
		json_object_array_add(leases, l);
	}
	json_object_object_add(root, "leases", leases);
	json_object_object_add(root, "counters", daemon_counters(d));
	if (asprintf(&out, "%s\n", json_object_to_json_string_ext(
			     root, JSON_C_TO_STRING_PLAIN)) < 0)
		out = NULL;
	json_object_put(root);
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

static int setup_loop(struct psvd *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		log_err("sigprocmask: %s", strerror(errno));
		return -errno;
	}
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0) {
		log_err("signalfd/timerfd/epoll_create1: %s", strerror(errno));
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
	return epoll_add(d, d->sigfd) ?: epoll_add(d, d->timerfd) ?:
	       epoll_add(d, ring_buffer__epoll_fd(d->events)) ?:
	       epoll_add(d, d->ctlfd) ?:
	       epoll_add(d, route_mirror_fd(&d->routes)) ?:
	       epoll_add(d, dhcp_socket_fd(&d->dhcp_src.sock));
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
	uint64_t now = now_ms(), next, refill;

	if (now >= d->next_scan_ms) {
		scan(d, now);
		d->next_scan_ms = now + SCAN_INTERVAL_MS;
	}
	next = dhcp_source_run(&d->dhcp_src, now);
	if (next > d->next_scan_ms)
		next = d->next_scan_ms;
	refill = pool_refill(&d->pool, now_ms());
	if (refill < next)
		next = refill;
	arm_timer(d, next);
}

static void reload_config(struct psvd *d)
{
	struct psv_conf conf = d->conf;
	struct psv_config cfg;
	char err[256];

	if (!d->config_path) {
		log_info("SIGHUP: no --config given, nothing to reload");
		return;
	}
	if (psv_conf_load(d->config_path, &conf, err, sizeof(err))) {
		log_err("SIGHUP: keeping the running configuration: %s", err);
		return;
	}
	if (conf.source != d->conf.source || conf.ingress != d->conf.ingress ||
	    conf.max_flows != d->conf.max_flows)
		log_warn("SIGHUP: source, ingress and max_flows change only "
			 "with a restart");
	conf.source = d->conf.source;
	conf.ingress = d->conf.ingress;
	conf.max_flows = d->conf.max_flows;
	conf.static_first = d->conf.static_first;
	conf.static_last = d->conf.static_last;
	d->conf = conf;
	d->pool.params.ready = conf.ready;
	d->pool.params.max = conf.max < d->pool.cap ? conf.max : d->pool.cap;
	d->pool.params.idle_retire_s = conf.idle_retire;
	d->pool.params.pace_ms = conf.pace_ms;
	attribution_set_rules(&d->at, &conf);
	fill_bpf_config(d, &cfg);
	dataplane_set_config(&d->dp, &cfg);
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

static int run(struct psvd *d)
{
	struct epoll_event evs[8];

	d->next_scan_ms = now_ms() + SCAN_INTERVAL_MS;
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
			} else if (fd == dhcp_socket_fd(&d->dhcp_src.sock)) {
				dhcp_socket_read(&d->dhcp_src.sock, now_ms());
			} else {
				ring_buffer__consume(d->events);
			}
		}
		run_timers(d);
	}
	return 0;
}

static void dhcp_params_from_conf(const struct psv_conf *conf,
				  struct dhcp_params *p)
{
	dhcp_params_default(p);
	p->retrans_base_ms = conf->retransmit_ms;
	p->probe_wait_ms = conf->probe_wait_ms;
	p->probe_min_ms = conf->probe_min_ms;
	p->probe_max_ms = conf->probe_max_ms;
	p->announce_wait_ms = conf->announce_wait_ms;
	p->skip_probe = !conf->probe;
}

static int setup_pool(struct psvd *d)
{
	struct pool_params params = {
		.ready = d->conf.ready,
		.max = d->conf.max,
		.idle_retire_s = d->conf.idle_retire,
		.pace_ms = d->conf.pace_ms,
	};
	const struct pool_source_ops *ops = &dhcp_source_ops;
	void *source = &d->dhcp_src;
	struct dhcp_params dhcp;
	int err;

	/* The static source announces its identities on this socket too. */
	dhcp_params_from_conf(&d->conf, &dhcp);
	err = dhcp_source_open(&d->dhcp_src, d->dev.ifindex, d->ifname, &dhcp,
			       d->conf.state_dir);
	if (err)
		return err;
	d->dhcp_src.gateway = netdev_default_gateway(d->ifname);
	if (d->conf.source == PSV_SOURCE_STATIC) {
		static_source_init(&d->static_src, d->conf.static_first,
				   d->conf.static_last, &d->dhcp_src);
		ops = &static_source_ops;
		source = &d->static_src;
	}
	err = pool_init(&d->pool, &params, ops, source, &d->dp);
	if (err)
		return err;
	dhcp_source_bind(&d->dhcp_src, &d->pool);
	if (!d->dp.adopted)
		return 0;
	err = pool_adopt(&d->pool);
	if (err)
		return err;
	if (d->conf.source == PSV_SOURCE_STATIC)
		static_source_adopted(&d->static_src, &d->pool);
	else
		err = dhcp_source_resume(&d->dhcp_src, now_ms());
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
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:fl:kh", opts, NULL)) != -1) {
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
	struct psv_config cfg;

	fill_bpf_config(d, &cfg);
	cfg.stopping = 1;
	dataplane_set_config(&d->dp, &cfg);
	sockets_walk(end_if_virtualized, &e);
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
	if (d->keep_attached) {
		log_info("%s: leaving the dataplane attached and pinned "
			 "(--keep-attached)", d->ifname);
	} else {
		attribution_detach(&d->at);
		end_virtualized_flows(d);
		dataplane_detach(&d->dp);
		pool_release_all(&d->pool);
		dataplane_unpin(&d->dp);
		if (d->promisc)
			netdev_set_promisc(d->ifname, false);
		log_info("%s: detached, leases released, pins removed", d->ifname);
	}
	control_close(d->ctlfd, d->ctl_path);
	route_mirror_close(&d->routes);
	ring_buffer__free(d->events);
	/* Leases left or released: the store says which. */
	dhcp_source_run(&d->dhcp_src, now_ms());
	dhcp_source_close(&d->dhcp_src);
	pool_free(&d->pool);
	attribution_close(&d->at);
	dataplane_close(&d->dp);
}

int main(int argc, char **argv)
{
	struct psvd d = { .ctlfd = -1 };
	struct dataplane_opts dpo;
	struct psv_config cfg;
	bool foreground = false;
	int level = LOG_LVL_INFO;
	int err;

	if (parse_args(&d, argc, argv, &foreground, &level) || load_config(&d))
		return 2;
	if (!foreground && daemon(0, 0)) {
		fprintf(stderr, "psvd: daemon: %s\n", strerror(errno));
		return 1;
	}
	log_init("psvd", !foreground, level);
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

	dpo = (struct dataplane_opts){ .ingress = d.conf.ingress,
				       .max_conns = d.conf.max_flows };
	err = attribution_netns_cookie(&d.netns_cookie) ?:
	      dataplane_load(&d.dp, &d.dev, &dpo) ?:
	      attribution_load(&d.at, d.dp.pin_dir) ?:
	      attribution_set_rules(&d.at, &d.conf);
	if (!err) {
		fill_bpf_config(&d, &cfg);
		err = dataplane_set_config(&d.dp, &cfg);
	}
	if (!err && !netdev_is_veth(&d.dev)) {
		/* A NIC filters unicast by MAC; the identities' frames must
		 * get in.  (A veth delivers them anyway.) */
		err = netdev_set_promisc(d.ifname, true);
		d.promisc = !err;
	}
	err = err ?: setup_pool(&d) ?:
	      route_mirror_open(&d.routes, d.dp.routes_fd, d.dev.ifindex) ?:
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
	else
		log_info("%s: IPv6 is blocked for virtualized flows (identities "
			 "have no IPv6 addresses yet): applications fall back "
			 "to IPv4", d.ifname);
	err = run(&d);
	shutdown_daemon(&d);
	return err ? 1 : 0;
}
