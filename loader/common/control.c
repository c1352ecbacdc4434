// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control.c - see control.h. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "common/control.h"
#include "common/log.h"

static const char *control_dir(void)
{
	const char *dir = getenv("PSV_CONTROL_DIR");

	return dir && dir[0] ? dir : PSV_CONTROL_DIR;
}

int control_path(char *buf, size_t len, const char *ifname)
{
	struct sockaddr_un sun;

	if ((size_t)snprintf(buf, len, "%s/%s.sock", control_dir(), ifname) >= len ||
	    strlen(buf) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int control_open(const char *ifname, char *path, size_t pathlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int fd, err;

	if (mkdir(control_dir(), 0700) && errno != EEXIST) {
		err = -errno;
		log_err("cannot create %s: %s", control_dir(), strerror(-err));
		return err;
	}
	if (control_path(path, pathlen, ifname)) {
		log_err("control socket path for %s too long", ifname);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("socket(AF_UNIX) for %s: %s", path, strerror(-err));
		return err;
	}
	/* A stale socket of a crashed psvd would make bind fail. */
	unlink(path);
	old_umask = umask(0177);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (err || listen(fd, 8)) {
		err = -errno;
		log_err("cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

void control_serve(int listen_fd, control_handler handler, void *ctx)
{
	/* A client that does not write promptly must not stall the daemon. */
	struct timeval tmo = { .tv_sec = 0, .tv_usec = 200000 };
	char line[64];
	ssize_t n;
	char *reply;
	int fd;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on control socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	reply = handler(ctx, line);
	if (reply) {
		size_t len = strlen(reply), off = 0;

		while (off < len) {
			n = write(fd, reply + off, len - off);
			if (n <= 0)
				break;
			off += n;
		}
		free(reply);
	}
	close(fd);
}

void control_close(int listen_fd, const char *path)
{
	if (listen_fd >= 0)
		close(listen_fd);
	if (path[0])
		unlink(path);
}

char *control_reply_unknown(void)
{
	return strdup("{\"error\":\"unknown command\"}\n");
}

static struct json_object *json_ip_or_null(uint32_t ip)
{
	char buf[INET_ADDRSTRLEN];

	if (!ip)
		return NULL;
	return json_object_new_string(inet_ntop(AF_INET, &ip, buf,
						sizeof(buf)));
}

static struct json_object *json_supply(const struct control_supply *s)
{
	struct json_object *o = json_object_new_object();

#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64(v))
	ADD("ready_target", s->ready_target);
	ADD("ready_floor", s->ready_floor);
	json_object_object_add(o, "demand_per_s",
			       json_object_new_double(s->demand_per_s));
	ADD("leases_held", s->leases_held);
	ADD("lease_budget", s->lease_budget);
	ADD("leases_acquired_last_hour", s->acquired_hour);
	ADD("leases_released_last_hour", s->released_hour);
#undef ADD
	return o;
}

static struct json_object *json_tables(const struct control_tables *t)
{
	struct json_object *o;

	if (!t->counted)
		return NULL;
	o = json_object_new_object();
#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64(v))
	ADD("connections", t->connections);
	ADD("groups", t->groups);
	ADD("host_connections", t->host_connections);
	ADD("apps", t->apps);
	ADD("counted", t->counted);
#undef ADD
	return o;
}

static struct json_object *json_lifetime(int64_t s)
{
	return s < 0 ? NULL : json_object_new_int64(s);
}

static struct json_object *json_ipv6(const struct control_ipv6 *v6)
{
	struct json_object *o = json_object_new_object();
	struct json_object *prefixes = json_object_new_array();
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	json_object_object_add(o, "policy", json_object_new_string(v6->policy));
	json_object_object_add(o, "router_seen",
			       json_object_new_boolean(v6->router_seen));
	json_object_object_add(o, "dhcpv6_only",
			       json_object_new_boolean(v6->dhcpv6_only));
	json_object_object_add(o, "addresses",
			       json_object_new_int(v6->addresses));
	json_object_object_add(o, "addresses_in_dad",
			       json_object_new_int(v6->in_dad));
	for (size_t i = 0; i < v6->n_prefixes; i++) {
		const struct control_prefix6 *p = &v6->prefixes[i];
		struct json_object *po = json_object_new_object();

		snprintf(buf, sizeof(buf), "%s/%u",
			 inet_ntop(AF_INET6, p->prefix, a, sizeof(a)), p->len);
		json_object_object_add(po, "prefix", json_object_new_string(buf));
		json_object_object_add(po, "slaac",
				       json_object_new_boolean(p->slaac));
		json_object_object_add(po, "onlink",
				       json_object_new_boolean(p->onlink));
		json_object_object_add(po, "valid_s", json_lifetime(p->valid_s));
		json_object_object_add(po, "preferred_s",
				       json_lifetime(p->preferred_s));
		json_object_array_add(prefixes, po);
	}
	json_object_object_add(o, "prefixes", prefixes);
	return o;
}

char *control_reply_status(const struct control_status *st)
{
	struct json_object *root = json_object_new_object();
	struct json_object *leases = json_object_new_array();
	struct json_object *counters = json_object_new_object();
	char *out;

	json_object_object_add(root, "pid", json_object_new_int(st->pid));
	json_object_object_add(root, "started",
			       json_object_new_int64(st->started));
	json_object_object_add(root, "source",
			       json_object_new_string(st->source));
	json_object_object_add(root, "host_ipv6_eui64",
			       json_object_new_int(st->host_eui64));
	for (size_t i = 0; i < st->n_leases; i++) {
		const struct control_lease *l = &st->leases[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ipv4", json_ip_or_null(l->ip));
		json_object_object_add(o, "lease_expires", l->expires ?
				       json_object_new_int64(l->expires) : NULL);
		json_object_object_add(o, "server", json_ip_or_null(l->server));
		json_object_array_add(leases, o);
	}
	json_object_object_add(root, "leases", leases);
	json_object_object_add(root, "supply", json_supply(&st->supply));
	json_object_object_add(root, "tables", json_tables(&st->tables));
	if (st->ipv6)
		json_object_object_add(root, "ipv6", json_ipv6(st->ipv6));
	for (size_t i = 0; i < st->n_counters; i++)
		json_object_object_add(counters, st->counters[i].name,
				       json_object_new_uint64(
					       st->counters[i].value));
	json_object_object_add(root, "counters", counters);
	if (asprintf(&out, "%s\n", json_object_to_json_string_ext(
			     root, JSON_C_TO_STRING_PLAIN)) < 0)
		out = NULL;
	json_object_put(root);
	return out;
}

#define QUERY_TIMEOUT_S 2
#define REPLY_MAX (8 << 20)	/* 4096 leases take about 400 KiB */

/* Connects to psvd, sends "leases" and returns its whole reply. */
static char *exchange(const char *path, char *err, size_t errlen)
{
	struct timeval tmo = { .tv_sec = QUERY_TIMEOUT_S };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
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

			if (cap >= REPLY_MAX)
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
		snprintf(err, errlen, "%s: no answer within %d s", path,
			 QUERY_TIMEOUT_S);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Whether the reply has the shape control_reply_status() gives it. */
static bool reply_ok(struct json_object *root)
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

struct json_object *control_query(const char *ifname, char *err,
				  size_t errlen)
{
	char path[PATH_MAX], *text;
	struct json_object *reply;

	if (control_path(path, sizeof(path), ifname)) {
		snprintf(err, errlen, "control socket path for %s too long",
			 ifname);
		return NULL;
	}
	text = exchange(path, err, errlen);
	if (!text)
		return NULL;
	reply = json_tokener_parse(text);
	free(text);
	if (!reply || !reply_ok(reply)) {
		json_object_put(reply);
		snprintf(err, errlen, "%s: malformed reply", path);
		return NULL;
	}
	return reply;
}
