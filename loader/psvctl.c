// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * psvctl - shows what psv does on an interface: its identities, the flows
 * wearing them, the applications that made them, the dataplane's counters.
 * It reads the maps psvd pinned, so it works while psvd is down, and asks
 * psvd's control socket only for what no map holds: the DHCP leases.
 * Every command builds one JSON document; --json prints it, otherwise it
 * is rendered as a table.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "config.h"
#include "control.h"
#include "pins.h"
#include "psv.h"
#include "sockets.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

#define PSVD_TIMEOUT_S 2
#define PSVD_REPLY_MAX (8 << 20)	/* 4096 leases take about 400 KiB */
#define MAX_IFACES 16
#define EXE_NAME_LEN 48	/* "4095:1048575:" and a 20-digit inode */

struct ident {
	__be32 vip;
	struct psv_identity v;
	unsigned int flows;
	bool has_lease;
	long long lease_expires;	/* unix time, from psvd */
};

struct conn {
	struct psv_conn_key k;
	struct psv_conn v;
	const struct ident *id;		/* NULL: its identity is gone */
};

/* struct app starts with its psv_app, which starts with its id. */
struct app {
	struct psv_app v;
	struct psv_app_key k;
};

struct ctl {
	const char *ifname;
	char ifbuf[IF_NAMESIZE];
	bool json;
	struct ident *ids;		/* sorted by vip */
	size_t n_ids;
	struct conn *conns;
	size_t n_conns;
	struct app *apps;		/* sorted by id */
	size_t n_apps;
	struct psv_app_rule *rules;	/* rules[i] is slot i */
	size_t n_rules;
	size_t n_groups;
	struct json_object *psvd;	/* psvd's reply, NULL if none */
	char psvd_err[PATH_MAX + 128];	/* why there is none */
};

static const char *const id_state_names[] = {
	[PSV_ID_ACQUIRING] = "acquiring",
	[PSV_ID_READY] = "ready",
	[PSV_ID_ACTIVE] = "active",
	[PSV_ID_IDLE] = "idle",
	[PSV_ID_RETIRED] = "retired",
};
#define N_ID_STATES (sizeof(id_state_names) / sizeof(id_state_names[0]))

static const char *const tcp_state_names[] = {
	[PSV_TCP_SYN_SENT] = "syn_sent",
	[PSV_TCP_ESTABLISHED] = "established",
	[PSV_TCP_FIN_WAIT] = "fin_wait",
	[PSV_TCP_CLOSED] = "closed",
};

#define PSV_STAT_NAME(id, name) [PSV_STAT_##id] = name,
static const char *const stat_names[] = { PSV_STATS(PSV_STAT_NAME) };
#undef PSV_STAT_NAME

__attribute__((format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("psvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fputs("usage: psvctl [--iface IF] COMMAND [--json]\n"
	      "commands:\n"
	      "  status       psvd, the dataplane and counts at a glance\n"
	      "  identities   every identity: id, MAC, IPv4, state, flows, "
	      "lease\n"
	      "  flows        every virtualized connection and its identity\n"
	      "  apps         every application seen: its rule, sockets, "
	      "flows, identities\n"
	      "  stats        the dataplane's counters, summed over CPUs\n"
	      "options:\n"
	      "  -i, --iface IF   interface psvd runs on (default: the only "
	      "one pinned)\n"
	      "  -j, --json       JSON instead of a table\n"
	      "  -h, --help       this text\n", f);
}

/*
 * Makes room for element n of an array that doubles at every power of
 * two; returns the array, perhaps moved, or NULL if out of memory.
 */
static void *vec_reserve(void *arr, size_t n, size_t size)
{
	if (n & (n - 1))
		return arr;
	return reallocarray(arr, n ? n * 2 : 1, size);
}

/* Opens a pinned map and checks it has the layout psv.h describes. */
static int open_map(const struct ctl *ctl, const char *name, __u32 type,
		    __u32 key_size, __u32 value_size, __u32 *max_entries)
{
	char err[PATH_MAX + 256];
	int fd;

	fd = psv_pin_open_map(ctl->ifname, name, err, sizeof(err));
	if (fd >= 0 && psv_pin_check_map(fd, name, type, key_size, value_size,
					 max_entries, err, sizeof(err))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fail("%s", err);
	return fd;
}

typedef int (*entry_fn)(struct ctl *ctl, const void *key, const void *val);

/* Room for the key and the value of every map map_walk reads. */
union walk_key {
	__be32 vip;
	struct psv_conn_key conn;
	struct psv_group_key group;
	struct psv_app_key app;
};

union walk_val {
	struct psv_identity identity;
	struct psv_conn conn;
	struct psv_group group;
	struct psv_app app;
	struct psv_app_rule rule;
};

/*
 * Calls fn for every entry of a hash map, or every slot of an array (in
 * index order).  Entries may come and go while we walk (BPF adds, psvd
 * expires): one deleted under us is skipped, and max_entries bounds the
 * walk should a deletion restart it.
 */
static int map_walk(struct ctl *ctl, const char *name, __u32 type,
		    __u32 key_size, __u32 value_size, entry_fn fn)
{
	union walk_key key, next;
	union walk_val val;
	__u32 max_entries, i;
	void *prev = NULL;
	int fd, err = 0;

	if (key_size > sizeof(key) || value_size > sizeof(val))
		return -EINVAL;
	fd = open_map(ctl, name, type, key_size, value_size, &max_entries);
	if (fd < 0)
		return fd;
	for (i = 0; i < max_entries; i++) {
		if (bpf_map_get_next_key(fd, prev, &next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		memcpy(&key, &next, key_size);
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			break;
		}
		err = fn(ctl, &key, &val);
		if (err)
			break;
	}
	if (err)
		fail("cannot read map %s on %s: %s", name, ctl->ifname,
		     strerror(-err));
	close(fd);
	return err;
}

static int add_ident(struct ctl *ctl, const void *key, const void *val)
{
	struct ident *id = vec_reserve(ctl->ids, ctl->n_ids, sizeof(*id));

	if (!id)
		return -ENOMEM;
	ctl->ids = id;
	id = &ctl->ids[ctl->n_ids++];
	*id = (struct ident){ 0 };
	memcpy(&id->vip, key, sizeof(id->vip));
	memcpy(&id->v, val, sizeof(id->v));
	return 0;
}

static int add_conn(struct ctl *ctl, const void *key, const void *val)
{
	struct conn *c = vec_reserve(ctl->conns, ctl->n_conns, sizeof(*c));

	if (!c)
		return -ENOMEM;
	ctl->conns = c;
	c = &ctl->conns[ctl->n_conns++];
	c->id = NULL;
	memcpy(&c->k, key, sizeof(c->k));
	memcpy(&c->v, val, sizeof(c->v));
	return 0;
}

static int add_app(struct ctl *ctl, const void *key, const void *val)
{
	struct app *a = vec_reserve(ctl->apps, ctl->n_apps, sizeof(*a));

	if (!a)
		return -ENOMEM;
	ctl->apps = a;
	a = &ctl->apps[ctl->n_apps++];
	memcpy(&a->k, key, sizeof(a->k));
	memcpy(&a->v, val, sizeof(a->v));
	return 0;
}

/* An array walks in index order: the n-th rule read is slot n. */
static int add_rule(struct ctl *ctl, const void *key, const void *val)
{
	struct psv_app_rule *r = vec_reserve(ctl->rules, ctl->n_rules,
					     sizeof(*r));

	(void)key;
	if (!r)
		return -ENOMEM;
	ctl->rules = r;
	memcpy(&ctl->rules[ctl->n_rules++], val, sizeof(*r));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static int cmp_vip(const void *a, const void *b)
{
	__u32 x = ntohl(*(const __be32 *)a), y = ntohl(*(const __be32 *)b);

	return (x > y) - (x < y);
}

/* struct ident starts with its vip, so a bare __be32 is a search key. */
static struct ident *find_ident(const struct ctl *ctl, __be32 vip)
{
	return bsearch(&vip, ctl->ids, ctl->n_ids, sizeof(*ctl->ids), cmp_vip);
}

/* A bare __u32 is a search key (struct app starts with its id). */
static const struct app *find_app(const struct ctl *ctl, __u32 id)
{
	return bsearch(&id, ctl->apps, ctl->n_apps, sizeof(*ctl->apps),
		       cmp_u32);
}

/* The [app] section that matched an application, if psvd still has it. */
static const struct psv_app_rule *find_rule(const struct ctl *ctl,
					    __u32 rule)
{
	if (!rule || rule > ctl->n_rules ||
	    ctl->rules[rule - 1].match == PSV_MATCH_NONE)
		return NULL;
	return &ctl->rules[rule - 1];
}

static int load_conns(struct ctl *ctl)
{
	return map_walk(ctl, PSV_MAP_CONNS, BPF_MAP_TYPE_HASH,
			sizeof(struct psv_conn_key), sizeof(struct psv_conn),
			add_conn);
}

/* Applications, sorted by id. */
static int load_apps(struct ctl *ctl)
{
	int err = map_walk(ctl, PSV_MAP_APPS, BPF_MAP_TYPE_HASH,
			   sizeof(struct psv_app_key), sizeof(struct psv_app),
			   add_app);

	if (!err)
		qsort(ctl->apps, ctl->n_apps, sizeof(*ctl->apps), cmp_u32);
	return err;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() counts CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A socket's TCP state (netinet/tcp.h) as far as psvctl shows it. */
static __u8 tcp_state_of(__u8 state)
{
	switch (state) {
	case TCP_ESTABLISHED:
		return PSV_TCP_ESTABLISHED;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return PSV_TCP_SYN_SENT;
	case TCP_TIME_WAIT:
	case TCP_CLOSE:
		return PSV_TCP_CLOSED;
	default:
		return PSV_TCP_FIN_WAIT;
	}
}

struct sock_walk {
	struct ctl *ctl;
	__u64 now;
};

/*
 * A socket bound to an identity's address is a flow of it (the socket
 * path): the kernel's own connection, with no entry in psv_conns unless
 * egress or sendmsg4 noted it (then it is listed once).
 */
static int add_bound_socket(void *ctx, const struct inet4_sock *s)
{
	struct sock_walk *w = ctx;
	struct psv_conn_key k = { .raddr = s->raddr, .lport = s->lport,
				  .rport = s->rport, .proto = s->proto };
	struct psv_conn v = { .vip = s->laddr, .flags = PSV_CONN_BOUND,
			      .last_seen_ns = w->now };
	const struct psv_sock *ps = (const void *)s->storage;

	if (!s->raddr || !find_ident(w->ctl, s->laddr))
		return 0;	/* a listener, an unconnected socket */
	for (size_t i = 0; i < w->ctl->n_conns; i++)
		if (!memcmp(&w->ctl->conns[i].k, &k, sizeof(k)) &&
		    w->ctl->conns[i].v.vip == v.vip)
			return 0;
	if (s->proto == IPPROTO_TCP)
		v.tcp_state = tcp_state_of(s->state);
	if (s->storage_len == sizeof(*ps))
		v.app = ps->app;
	return add_conn(w->ctl, &k, &v);
}

/* The bound sockets, with what the hooks stored of each (TCP only). */
static int load_bound_sockets(struct ctl *ctl)
{
	struct sock_walk w = { .ctl = ctl, .now = monotonic_ns() };
	char err[PATH_MAX + 256];
	int fd, rc;

	fd = psv_pin_open_map(ctl->ifname, PSV_MAP_SOCKETS, err, sizeof(err));
	rc = sockets_walk_storage(fd, add_bound_socket, &w);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Identities and connections, each connection linked to its identity. */
static int load_tables(struct ctl *ctl)
{
	int err;

	err = map_walk(ctl, PSV_MAP_IDENTITIES, BPF_MAP_TYPE_HASH,
		       sizeof(__be32), sizeof(struct psv_identity),
		       add_ident) ?:
	      load_conns(ctl);
	if (err)
		return err;
	qsort(ctl->ids, ctl->n_ids, sizeof(*ctl->ids), cmp_vip);
	err = load_bound_sockets(ctl);
	if (err)
		return err;
	for (size_t i = 0; i < ctl->n_conns; i++) {
		struct ident *id = find_ident(ctl, ctl->conns[i].v.vip);

		ctl->conns[i].id = id;
		if (id)
			id->flows++;
	}
	return 0;
}


/* Connects to psvd, sends "leases" and returns its whole reply. */
static char *psvd_exchange(struct ctl *ctl, const char *path)
{
	struct timeval tmo = { .tv_sec = PSVD_TIMEOUT_S };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(ctl->psvd_err, sizeof(ctl->psvd_err), "%s: path too "
			 "long", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* MSG_NOSIGNAL: a psvd that hangs up early must not kill us. */
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo)) ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    send(fd, "leases\n", 7, MSG_NOSIGNAL) != 7)
		goto err;
	buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *p = NULL;

			if (cap >= PSVD_REPLY_MAX)
				errno = EMSGSIZE;
			else
				p = realloc(buf, cap * 2);
			if (!p)
				goto err;
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0)
			goto err;
		if (n == 0)
			break;
		len += n;
	}
	if (!buf)
		goto err;
	buf[len] = '\0';
	close(fd);
	return buf;
err:
	if (errno == EAGAIN)
		snprintf(ctl->psvd_err, sizeof(ctl->psvd_err), "%s: no answer "
			 "within %d s", path, PSVD_TIMEOUT_S);
	else
		snprintf(ctl->psvd_err, sizeof(ctl->psvd_err), "%s: %s", path,
			 strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Whether the reply has the shape control.h promises. */
static bool psvd_reply_ok(struct json_object *root)
{
	struct json_object *leases, *pid, *ip, *exp;
	struct in_addr a;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "pid", &pid) ||
	    !json_object_is_type(pid, json_type_int) ||
	    !json_object_object_get_ex(root, "leases", &leases) ||
	    !json_object_is_type(leases, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		struct json_object *l = json_object_array_get_idx(leases, i);

		if (!json_object_object_get_ex(l, "ipv4", &ip) ||
		    !json_object_is_type(ip, json_type_string) ||
		    inet_pton(AF_INET, json_object_get_string(ip), &a) != 1 ||
		    !json_object_object_get_ex(l, "lease_expires", &exp) ||
		    (exp && !json_object_is_type(exp, json_type_int)))
			return false;
	}
	return true;
}

/* Asks psvd for its leases; without an answer, ctl->psvd_err says why. */
static void psvd_query(struct ctl *ctl)
{
	char path[PATH_MAX], *reply;

	if (control_path(path, sizeof(path), ctl->ifname)) {
		snprintf(ctl->psvd_err, sizeof(ctl->psvd_err),
			 "control socket path for %s too long", ctl->ifname);
		return;
	}
	reply = psvd_exchange(ctl, path);
	if (!reply)
		return;
	ctl->psvd = json_tokener_parse(reply);
	free(reply);
	if (!ctl->psvd || !psvd_reply_ok(ctl->psvd)) {
		json_object_put(ctl->psvd);
		ctl->psvd = NULL;
		snprintf(ctl->psvd_err, sizeof(ctl->psvd_err), "%s: malformed "
			 "reply", path);
	}
}

static void merge_leases(struct ctl *ctl)
{
	struct json_object *leases, *ip, *exp;
	struct ident *id;
	struct in_addr a;

	if (!ctl->psvd) {
		fail("lease times unknown: psvd does not answer (%s)",
		     ctl->psvd_err);
		return;
	}
	json_object_object_get_ex(ctl->psvd, "leases", &leases);
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		struct json_object *l = json_object_array_get_idx(leases, i);

		json_object_object_get_ex(l, "ipv4", &ip);
		json_object_object_get_ex(l, "lease_expires", &exp);
		inet_pton(AF_INET, json_object_get_string(ip), &a);
		id = find_ident(ctl, a.s_addr);
		if (id && exp) {
			id->has_lease = true;
			id->lease_expires = json_object_get_int64(exp);
		}
	}
}

static struct json_object *json_ip(__be32 addr)
{
	char buf[INET_ADDRSTRLEN];

	return json_object_new_string(inet_ntop(AF_INET, &addr, buf,
						sizeof(buf)));
}

static struct json_object *json_mac(const __u8 *m)
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	return json_object_new_string(buf);
}

/*
 * A name from a map: NUL-padded, perhaps without a NUL.  Any user picks
 * their process's comm (prctl PR_SET_NAME), so bytes other than printable
 * ASCII become '?': no escape sequence reaches a terminal, and no invalid
 * UTF-8 the JSON output.
 */
static const char *printable(const char *src, size_t len, char *buf,
			     size_t buflen)
{
	size_t i;

	for (i = 0; i < len && i + 1 < buflen && src[i]; i++)
		buf[i] = (unsigned char)src[i] >= 0x20 &&
			 (unsigned char)src[i] < 0x7f ? src[i] : '?';
	buf[i] = '\0';
	return buf;
}

static struct json_object *json_name(const char *src, size_t len)
{
	char buf[64];

	return json_object_new_string(printable(src, len, buf, sizeof(buf)));
}

/* An executable as MAJOR:MINOR:INODE (dev is a kernel dev_t). */
static const char *exe_name(__u32 dev, __u64 ino, char buf[EXE_NAME_LEN])
{
	snprintf(buf, EXE_NAME_LEN, "%u:%u:%llu", dev >> 20, dev & 0xfffff,
		 (unsigned long long)ino);
	return buf;
}

/* What a rule matches, as far as its map slot tells: "comm=curl". */
static struct json_object *json_match(const struct psv_app_rule *r)
{
	char buf[64], val[EXE_NAME_LEN];

	switch (r->match) {
	case PSV_MATCH_COMM:
		snprintf(buf, sizeof(buf), "comm=%s",
			 printable(r->comm, sizeof(r->comm), val, sizeof(val)));
		break;
	case PSV_MATCH_EXE:
		snprintf(buf, sizeof(buf), "exe=%s",
			 exe_name(r->dev, r->ino, val));
		break;
	case PSV_MATCH_UID:
		snprintf(buf, sizeof(buf), "uid=%u", r->uid);
		break;
	case PSV_MATCH_CGROUP:
		snprintf(buf, sizeof(buf), "cgroup=%llu",
			 (unsigned long long)r->ino);
		break;
	default:
		return json_object_new_string("unknown");
	}
	return json_object_new_string(buf);
}

static const char *id_state_name(__u8 state)
{
	return state < N_ID_STATES && id_state_names[state] ?
	       id_state_names[state] : "unknown";
}

static int cmp_ident_id(const void *a, const void *b)
{
	const struct ident *x = *(const struct ident *const *)a;
	const struct ident *y = *(const struct ident *const *)b;

	return (x->v.id > y->v.id) - (x->v.id < y->v.id);
}

static struct json_object *build_identities(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	const struct ident **byid = calloc(ctl->n_ids + 1, sizeof(*byid));

	if (!byid)
		return arr;
	for (size_t i = 0; i < ctl->n_ids; i++)
		byid[i] = &ctl->ids[i];
	qsort(byid, ctl->n_ids, sizeof(*byid), cmp_ident_id);
	for (size_t i = 0; i < ctl->n_ids; i++) {
		const struct ident *id = byid[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id",
				       json_object_new_int64(id->v.id));
		json_object_object_add(o, "mac", json_mac(id->v.mac));
		json_object_object_add(o, "ipv4", json_ip(id->vip));
		json_object_object_add(o, "state", json_object_new_string(
			id_state_name(id->v.state)));
		json_object_object_add(o, "flows",
				       json_object_new_int64(id->flows));
		json_object_object_add(o, "lease_expires", !id->has_lease ?
			NULL : json_object_new_int64(id->lease_expires));
		json_object_array_add(arr, o);
	}
	free(byid);
	return arr;
}

static const char *proto_name(__u8 proto, char buf[4])
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	}
	snprintf(buf, 4, "%u", proto);
	return buf;
}

/* By identity (gone ones last), then proto, remote end, local port. */
static int cmp_conn(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;
	long long ix = x->id ? x->id->v.id : 1LL << 32;
	long long iy = y->id ? y->id->v.id : 1LL << 32;
	__u32 rx = ntohl(x->k.raddr), ry = ntohl(y->k.raddr);

	if (ix != iy)
		return ix < iy ? -1 : 1;
	if (x->k.proto != y->k.proto)
		return x->k.proto - y->k.proto;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->k.rport != y->k.rport)
		return ntohs(x->k.rport) - ntohs(y->k.rport);
	return ntohs(x->k.lport) - ntohs(y->k.lport);
}

static struct json_object *json_idle(__u64 now, __u64 last_ns)
{
	return json_object_new_int64(now > last_ns ?
				     (now - last_ns) / 1000000000ULL : 0);
}

static struct json_object *build_flows(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	__u64 now = monotonic_ns();
	char pbuf[4];

	qsort(ctl->conns, ctl->n_conns, sizeof(*ctl->conns), cmp_conn);
	for (size_t i = 0; i < ctl->n_conns; i++) {
		const struct conn *c = &ctl->conns[i];
		const struct app *a = c->v.app ? find_app(ctl, c->v.app) : NULL;
		struct json_object *o = json_object_new_object();
		__u8 ts = c->v.tcp_state;

		json_object_object_add(o, "proto", json_object_new_string(
			proto_name(c->k.proto, pbuf)));
		json_object_object_add(o, "local_port",
				       json_object_new_int(ntohs(c->k.lport)));
		json_object_object_add(o, "remote_ip", json_ip(c->k.raddr));
		json_object_object_add(o, "remote_port",
				       json_object_new_int(ntohs(c->k.rport)));
		json_object_object_add(o, "identity", !c->id ? NULL :
				       json_object_new_int64(c->id->v.id));
		json_object_object_add(o, "mac", !c->id ? NULL :
				       json_mac(c->id->v.mac));
		json_object_object_add(o, "ipv4", json_ip(c->v.vip));
		json_object_object_add(o, "app", !a ? NULL :
				       json_name(a->v.name, sizeof(a->v.name)));
		/* socket: the kernel uses the identity's address itself;
		 * nat: egress translates the host's. */
		json_object_object_add(o, "path", json_object_new_string(
			c->v.flags & PSV_CONN_BOUND ? "socket" : "nat"));
		json_object_object_add(o, "state",
			ts && ts < sizeof(tcp_state_names) /
				   sizeof(tcp_state_names[0]) ?
			json_object_new_string(tcp_state_names[ts]) : NULL);
		json_object_object_add(o, "idle_seconds",
				       json_idle(now, c->v.last_seen_ns));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* By application, then identity: each app's flows are one run. */
static int cmp_conn_app(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	if (x->v.app != y->v.app)
		return x->v.app < y->v.app ? -1 : 1;
	return cmp_vip(&x->v.vip, &y->v.vip);
}

/* The distinct identities of n connections sorted by identity. */
static struct json_object *json_vips(const struct conn *c, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		if (!i || c[i].v.vip != c[i - 1].v.vip)
			json_object_array_add(arr, json_ip(c[i].v.vip));
	return arr;
}

static struct json_object *build_apps(struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	__u64 now = monotonic_ns();
	size_t first = 0, end;
	char buf[EXE_NAME_LEN];

	qsort(ctl->conns, ctl->n_conns, sizeof(*ctl->conns), cmp_conn_app);
	for (size_t i = 0; i < ctl->n_apps; i++) {
		const struct app *a = &ctl->apps[i];
		const struct psv_app_rule *r = find_rule(ctl, a->k.rule);
		struct json_object *o = json_object_new_object();

		/* Apps and conns both ascend by app id: merge them. */
		while (first < ctl->n_conns &&
		       ctl->conns[first].v.app < a->v.id)
			first++;
		end = first;
		while (end < ctl->n_conns && ctl->conns[end].v.app == a->v.id)
			end++;
		json_object_object_add(o, "id", json_object_new_int64(a->v.id));
		json_object_object_add(o, "name",
				       json_name(a->v.name, sizeof(a->v.name)));
		json_object_object_add(o, "rule", !r ? NULL :
				       json_name(r->name, sizeof(r->name)));
		json_object_object_add(o, "match", r ? json_match(r) : NULL);
		json_object_object_add(o, "exe", a->k.rule ? NULL :
			json_object_new_string(exe_name(a->k.dev, a->k.ino,
							buf)));
		json_object_object_add(o, "granularity", json_object_new_string(
			psv_conf_granularity_name(a->v.granularity)));
		json_object_object_add(o, "uid",
				       json_object_new_int64(a->v.uid));
		json_object_object_add(o, "pid",
				       json_object_new_int64(a->v.pid));
		json_object_object_add(o, "comm",
				       json_name(a->v.comm, sizeof(a->v.comm)));
		json_object_object_add(o, "sockets",
				       json_object_new_uint64(a->v.sockets));
		json_object_object_add(o, "open_sockets",
				       json_object_new_int64(a->v.open));
		json_object_object_add(o, "flows",
				       json_object_new_int64(end - first));
		json_object_object_add(o, "identities",
				       json_vips(&ctl->conns[first],
						 end - first));
		json_object_object_add(o, "idle_seconds",
				       json_idle(now, a->v.last_ns));
		json_object_array_add(arr, o);
		first = end;
	}
	return arr;
}

static int build_stats(struct ctl *ctl, struct json_object **out)
{
	int ncpus = libbpf_num_possible_cpus(), fd, err = 0;
	__u32 max_entries;
	__u64 *vals;

	if (ncpus < 0) {
		fail("cannot count possible CPUs: %s", strerror(-ncpus));
		return ncpus;
	}
	fd = open_map(ctl, PSV_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
		      sizeof(__u32), sizeof(__u64), &max_entries);
	if (fd < 0)
		return fd;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals || max_entries < PSV_STAT_MAX) {
		fail("map %s: %s", PSV_MAP_STATS, vals ? "fewer entries than "
		     "counters: psvd from another version?" : strerror(ENOMEM));
		free(vals);
		close(fd);
		return -EPROTO;
	}
	*out = json_object_new_object();
	for (__u32 i = 0; i < PSV_STAT_MAX && !err; i++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			fail("cannot read %s[%u]: %s", PSV_MAP_STATS, i,
			     strerror(errno));
			break;
		}
		for (int c = 0; c < ncpus; c++)
			sum += vals[c];
		json_object_object_add(*out, stat_names[i],
				       json_object_new_uint64(sum));
	}
	free(vals);
	close(fd);
	return err;
}

static int count_group(struct ctl *ctl, const void *key, const void *val)
{
	(void)key;
	(void)val;
	ctl->n_groups++;
	return 0;
}

static int cmp_json_strings(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
		      json_object_get_string(*(struct json_object *const *)b));
}

/* The programs and links psvd pinned next to the maps. */
static struct json_object *pinned_programs(const struct ctl *ctl)
{
	struct json_object *arr = json_object_new_array();
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (psv_pin_dir(dir, sizeof(dir), ctl->ifname) || !(d = opendir(dir)))
		return arr;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "prog_", 5) ||
		    !strncmp(de->d_name, "link_", 5))
			json_object_array_add(
				arr, json_object_new_string(de->d_name));
	closedir(d);
	json_object_array_sort(arr, cmp_json_strings);
	return arr;
}

static struct json_object *psvd_status(const struct ctl *ctl)
{
	struct json_object *o = json_object_new_object(), *v;
	static const char *const keys[] = { "pid", "started", "source" };

	json_object_object_add(o, "running",
			       json_object_new_boolean(ctl->psvd != NULL));
	if (!ctl->psvd) {
		json_object_object_add(o, "error",
				       json_object_new_string(ctl->psvd_err));
		return o;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(ctl->psvd, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
	return o;
}

static int build_status(struct ctl *ctl, struct json_object **out)
{
	struct json_object *o, *ids;
	unsigned int by_state[N_ID_STATES] = { 0 };
	struct psv_config cfg;
	__u32 key = 0, max_entries;
	char dir[PATH_MAX];
	int fd, err;

	err = load_tables(ctl) ?: load_apps(ctl) ?:
	      map_walk(ctl, PSV_MAP_GROUPS, BPF_MAP_TYPE_HASH,
		       sizeof(struct psv_group_key), sizeof(struct psv_group),
		       count_group);
	if (err)
		return err;
	fd = open_map(ctl, PSV_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, sizeof(key),
		      sizeof(cfg), &max_entries);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &key, &cfg) ? -errno : 0;
	close(fd);
	if (err) {
		fail("cannot read map %s: %s", PSV_MAP_CONFIG, strerror(-err));
		return err;
	}
	psvd_query(ctl);
	for (size_t i = 0; i < ctl->n_ids; i++)
		if (ctl->ids[i].v.state < N_ID_STATES)
			by_state[ctl->ids[i].v.state]++;

	o = json_object_new_object();
	psv_pin_dir(dir, sizeof(dir), ctl->ifname);
	json_object_object_add(o, "interface",
			       json_object_new_string(ctl->ifname));
	json_object_object_add(o, "pin_dir", json_object_new_string(dir));
	json_object_object_add(o, "psvd", psvd_status(ctl));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(cfg.enabled));
	json_object_object_add(o, "host_mac", json_mac(cfg.host_mac));
	json_object_object_add(o, "host_ip", json_ip(cfg.host_ip));
	json_object_object_add(o, "granularity", json_object_new_string(
		psv_conf_granularity_name(cfg.granularity)));
	json_object_object_add(o, "on_exhausted", json_object_new_string(
		psv_conf_exhausted_name(cfg.on_exhausted)));
	/* virtualize blocks for now: identities have no IPv6 addresses. */
	json_object_object_add(o, "ipv6", json_object_new_string(
		cfg.ipv6 == PSV_IPV6_HOST ? "host (not protected)" :
					     "blocked"));
	json_object_object_add(o, "programs", pinned_programs(ctl));
	ids = json_object_new_object();
	json_object_object_add(ids, "total", json_object_new_int64(ctl->n_ids));
	for (size_t s = 1; s < N_ID_STATES; s++)
		json_object_object_add(ids, id_state_names[s],
				       json_object_new_int64(by_state[s]));
	json_object_object_add(o, "identities", ids);
	json_object_object_add(o, "flows", json_object_new_int64(ctl->n_conns));
	json_object_object_add(o, "groups",
			       json_object_new_int64(ctl->n_groups));
	json_object_object_add(o, "apps", json_object_new_int64(ctl->n_apps));
	*out = o;
	return 0;
}

/* A table: cells row by row, the first row the header. */
struct table {
	unsigned int ncols;
	char **cells;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void table_add(struct table *t, const char *fmt, ...)
{
	char **cells = vec_reserve(t->cells, t->n, sizeof(*cells));
	va_list ap;
	int ret = -1;

	/* A missing cell would shift every one after it: give up instead. */
	if (cells) {
		t->cells = cells;
		va_start(ap, fmt);
		ret = vasprintf(&cells[t->n++], fmt, ap);
		va_end(ap);
	}
	if (ret < 0) {
		fail("out of memory");
		exit(EXIT_RUNTIME);
	}
}

/* Prints the table with its columns aligned, and frees it. */
static void table_print(struct table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width)), i, col;

	for (i = 0; width && i < t->n; i++) {
		size_t len = strlen(t->cells[i]);

		col = i % t->ncols;
		if (len > width[col])
			width[col] = len;
	}
	for (i = 0; i < t->n; i++) {
		const char *cell = t->cells[i];

		col = i % t->ncols;
		if (col == t->ncols - 1)
			printf("%s\n", cell);
		else
			printf("%-*s  ", width ? (int)width[col] : 0, cell);
		free(t->cells[i]);
	}
	free(t->cells);
	free(width);
}

static const char *duration(long long s, char buf[24])
{
	if (s < 60)
		snprintf(buf, 24, "%llds", s);
	else if (s < 3600)
		snprintf(buf, 24, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, 24, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, 24, "%lldd%02lldh", s / 86400, s / 3600 % 24);
	return buf;
}

enum col_kind { COL_VALUE, COL_EXPIRES, COL_SECONDS, COL_LIST };

struct column {
	const char *head, *key;
	enum col_kind kind;
};

/* One row holds an app's identities however many: the first, +N more. */
static void table_add_list(struct table *t, struct json_object *v)
{
	size_t len = json_object_is_type(v, json_type_array) ?
		     json_object_array_length(v) : 0;
	const char *first = !len ? "-" :
		json_object_get_string(json_object_array_get_idx(v, 0));

	if (len > 1)
		table_add(t, "%s +%zu", first, len - 1);
	else
		table_add(t, "%s", first);
}

static void table_add_json(struct table *t, struct json_object *v,
			   enum col_kind kind, time_t now)
{
	long long n = json_object_get_int64(v);
	char buf[24];

	if (kind == COL_LIST)
		table_add_list(t, v);
	else if (!v)
		table_add(t, "-");
	else if (kind == COL_EXPIRES)
		table_add(t, n < now ? "expired" : "in %s",
			  duration(n - now, buf));
	else if (kind == COL_SECONDS)
		table_add(t, "%s", duration(n, buf));
	else
		table_add(t, "%s", json_object_get_string(v));
}

/* A list of objects, one row each, with the given columns. */
static void print_rows(struct json_object *arr, const struct column *cols,
		       unsigned int ncols)
{
	struct table t = { .ncols = ncols };
	time_t now = time(NULL);
	struct json_object *v;

	for (unsigned int c = 0; c < ncols; c++)
		table_add(&t, "%s", cols[c].head);
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		for (unsigned int c = 0; c < ncols; c++) {
			if (!json_object_object_get_ex(
				    json_object_array_get_idx(arr, i),
				    cols[c].key, &v))
				v = NULL;
			table_add_json(&t, v, cols[c].kind, now);
		}
	table_print(&t);
}

static void print_stats(struct json_object *stats)
{
	struct table t = { .ncols = 2 };

	table_add(&t, "COUNTER");
	table_add(&t, "VALUE");
	json_object_object_foreach(stats, name, val) {
		table_add(&t, "%s", name);
		table_add(&t, "%s", json_object_get_string(val));
	}
	table_print(&t);
}

static const char *join_strings(struct json_object *arr, char *buf,
				size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(arr) && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "",
			      json_object_get_string(
				      json_object_array_get_idx(arr, i)));
	return buf;
}

static void print_status(struct json_object *st)
{
	struct json_object *p = json_object_object_get(st, "psvd");
	struct json_object *ids = json_object_object_get(st, "identities");
	struct json_object *progs = json_object_object_get(st, "programs");
	struct table t = { .ncols = 2 };
	char buf[24], list[512];

#define GET(o, key) json_object_get_string(json_object_object_get(o, key))
	table_add(&t, "interface");
	table_add(&t, "%s (pins in %s)", GET(st, "interface"),
		  GET(st, "pin_dir"));
	table_add(&t, "psvd");
	if (json_object_get_boolean(json_object_object_get(p, "running")))
		table_add(&t, "running, pid %s, up %s, %s pool", GET(p, "pid"),
			  duration(time(NULL) - json_object_get_int64(
				  json_object_object_get(p, "started")), buf),
			  GET(p, "source"));
	else
		table_add(&t, "not answering (%s)", GET(p, "error"));
	table_add(&t, "dataplane");
	table_add(&t, "%s, host %s %s, policy %s, on_exhausted %s, ipv6 %s",
		  json_object_get_boolean(json_object_object_get(st,
								 "enabled")) ?
		  "enabled" : "disabled (passes everything)",
		  GET(st, "host_mac"), GET(st, "host_ip"),
		  GET(st, "granularity"), GET(st, "on_exhausted"),
		  GET(st, "ipv6"));
	table_add(&t, "programs");
	if (!json_object_array_length(progs))
		table_add(&t, "none pinned");
	else
		table_add(&t, "%s", join_strings(progs, list, sizeof(list)));
	table_add(&t, "identities");
	table_add(&t, "%s (acquiring %s, ready %s, active %s, idle %s, "
		  "retired %s)", GET(ids, "total"), GET(ids, "acquiring"),
		  GET(ids, "ready"), GET(ids, "active"), GET(ids, "idle"),
		  GET(ids, "retired"));
	table_add(&t, "flows");
	table_add(&t, "%s", GET(st, "flows"));
	table_add(&t, "groups");
	table_add(&t, "%s", GET(st, "groups"));
	table_add(&t, "apps");
	table_add(&t, "%s", GET(st, "apps"));
#undef GET
	table_print(&t);
}

static void print_json(struct json_object *doc)
{
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

#define COLS(c) (c), sizeof(c) / sizeof((c)[0])

/*
 * The end of every command: doc as JSON, or for people as a table of
 * cols (print NULL) or by print; then doc is freed.
 */
static int emit(const struct ctl *ctl, struct json_object *doc,
		void (*print)(struct json_object *doc),
		const struct column *cols, size_t ncols)
{
	if (ctl->json)
		print_json(doc);
	else if (print)
		print(doc);
	else
		print_rows(doc, cols, ncols);
	json_object_put(doc);
	return 0;
}

static int cmd_identities(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "ID", "id", COL_VALUE }, { "MAC", "mac", COL_VALUE },
		{ "IPV4", "ipv4", COL_VALUE }, { "STATE", "state", COL_VALUE },
		{ "FLOWS", "flows", COL_VALUE },
		{ "LEASE", "lease_expires", COL_EXPIRES },
	};
	if (load_tables(ctl))
		return EXIT_RUNTIME;
	psvd_query(ctl);
	merge_leases(ctl);
	return emit(ctl, build_identities(ctl), NULL, COLS(cols));
}

static int cmd_flows(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "PROTO", "proto", COL_VALUE },
		{ "LPORT", "local_port", COL_VALUE },
		{ "REMOTE", "remote_ip", COL_VALUE },
		{ "RPORT", "remote_port", COL_VALUE },
		{ "ID", "identity", COL_VALUE }, { "MAC", "mac", COL_VALUE },
		{ "IPV4", "ipv4", COL_VALUE }, { "STATE", "state", COL_VALUE },
		{ "IDLE", "idle_seconds", COL_SECONDS },
		{ "APP", "app", COL_VALUE },
	};
	if (load_tables(ctl) || load_apps(ctl))
		return EXIT_RUNTIME;
	return emit(ctl, build_flows(ctl), NULL, COLS(cols));
}

/* psvd's own counters (DHCP, the packet socket), when it answers. */
static void merge_daemon_counters(struct ctl *ctl, struct json_object *doc)
{
	struct json_object *counters;

	if (!ctl->psvd ||
	    !json_object_object_get_ex(ctl->psvd, "counters", &counters) ||
	    !json_object_is_type(counters, json_type_object))
		return;
	json_object_object_foreach(counters, name, val)
		if (json_object_is_type(val, json_type_int))
			json_object_object_add(doc, name, json_object_get(val));
}

static int cmd_stats(struct ctl *ctl)
{
	struct json_object *doc;

	if (build_stats(ctl, &doc))
		return EXIT_RUNTIME;
	psvd_query(ctl);
	merge_daemon_counters(ctl, doc);
	return emit(ctl, doc, print_stats, NULL, 0);
}

static int cmd_status(struct ctl *ctl)
{
	struct json_object *doc;

	if (build_status(ctl, &doc))
		return EXIT_RUNTIME;
	return emit(ctl, doc, print_status, NULL, 0);
}

static int cmd_apps(struct ctl *ctl)
{
	static const struct column cols[] = {
		{ "ID", "id", COL_VALUE }, { "NAME", "name", COL_VALUE },
		{ "RULE", "rule", COL_VALUE }, { "MATCH", "match", COL_VALUE },
		{ "GRAN", "granularity", COL_VALUE },
		{ "UID", "uid", COL_VALUE }, { "PID", "pid", COL_VALUE },
		{ "COMM", "comm", COL_VALUE },
		{ "SOCKETS", "sockets", COL_VALUE },
		{ "OPEN", "open_sockets", COL_VALUE },
		{ "FLOWS", "flows", COL_VALUE },
		{ "IDENTITIES", "identities", COL_LIST },
		{ "IDLE", "idle_seconds", COL_SECONDS },
	};
	if (load_apps(ctl) ||
	    map_walk(ctl, PSV_MAP_APP_RULES, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
		     sizeof(struct psv_app_rule), add_rule) ||
	    load_conns(ctl))
		return EXIT_RUNTIME;
	return emit(ctl, build_apps(ctl), NULL, COLS(cols));
}

static const struct command {
	const char *name;
	int (*run)(struct ctl *ctl);
} commands[] = {
	{ "status", cmd_status },
	{ "identities", cmd_identities },
	{ "flows", cmd_flows },
	{ "apps", cmd_apps },
	{ "stats", cmd_stats },
};

/* Without --iface: the one interface that has pins. */
static int pick_iface(struct ctl *ctl)
{
	char names[MAX_IFACES][IF_NAMESIZE], err[PATH_MAX + 64];
	int n = psv_pin_list_ifaces(names, MAX_IFACES, err, sizeof(err));

	if (n < 0) {
		fail("%s", err);
		return -1;
	}
	if (n == 0) {
		fail("no interface has psv pins under %s - is psvd running?",
		     psv_pin_root());
		return -1;
	}
	if (n > 1) {
		fprintf(stderr, "psvctl: psv runs on %d interfaces, choose one "
			"with --iface:", n);
		for (int i = 0; i < n && i < MAX_IFACES; i++)
			fprintf(stderr, " %s", names[i]);
		fputs(n > MAX_IFACES ? " ...\n" : "\n", stderr);
		return -1;
	}
	strcpy(ctl->ifbuf, names[0]);
	ctl->ifname = ctl->ifbuf;
	return 0;
}

static void ctl_free(struct ctl *ctl)
{
	free(ctl->ids);
	free(ctl->conns);
	free(ctl->apps);
	free(ctl->rules);
	json_object_put(ctl->psvd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	struct ctl ctl = { 0 };
	int c, ret;

	while ((c = getopt_long(argc, argv, "i:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ctl.ifname = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fail("no command given");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd || optind + 1 < argc) {
		fail("%s '%s'", cmd ? "unexpected argument" : "unknown command",
		     argv[cmd ? optind + 1 : optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ctl.ifname && !psv_pin_ifname_ok(ctl.ifname)) {
		fail("bad interface name '%s'", ctl.ifname);
		return EXIT_USAGE;
	}
	/* Our messages say what failed; libbpf's would repeat them. */
	libbpf_set_print(NULL);
	if (!ctl.ifname && pick_iface(&ctl))
		return EXIT_RUNTIME;
	ret = cmd->run(&ctl);
	ctl_free(&ctl);
	if (fflush(stdout) || ferror(stdout)) {
		fail("cannot write output: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return ret;
}
