// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - psv.conf parser on top of libinih.
 *
 * libinih splits lines into sections and key = value pairs; everything
 * else is ours.  Its handler does not get line numbers (Debian builds it
 * without INI_HANDLER_LINENO), so we feed it through our own line reader,
 * which counts lines, and which also sees every "[section]" line: that way
 * empty and unknown sections are reported too (libinih only calls the
 * handler for keys) and section names are not truncated at 50 bytes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psvd/config.h"
#include "common/names.h"

enum conf_section {
	SEC_NONE,	/* before the first section header */
	SEC_POOL,
	SEC_POLICY,
	SEC_DATAPLANE,
	SEC_DHCP,
	SEC_DAEMON,
	SEC_APP,
	SEC_BAD,	/* a header already reported as wrong: skip its keys */
};

static const char *const section_names[] = {
	[SEC_POOL] = "pool",
	[SEC_POLICY] = "policy",
	[SEC_DATAPLANE] = "dataplane",
	[SEC_DHCP] = "dhcp",
	[SEC_DAEMON] = "daemon",
};

enum conf_type {
	T_U32,		/* decimal, within [min, max] */
	T_ENUM,		/* one of names[], stored as its index */
	T_BOOL,		/* yes | no */
	T_PATH,		/* absolute path */
	T_RANGE,	/* IPv4 address range "first-last" */
	T_MATCH,	/* app match: comm= | exe= | uid= | cgroup= */
};

static const char *const source_names[] = { "dhcp", "static", NULL };
/* Indexed by enum psv_app_match. */
static const char *const match_names[] = { "", "comm", "exe", "uid", "cgroup",
					   NULL };

_Static_assert(PSV_SOURCE_STATIC == 1 && PSV_MATCH_CGROUP == 4,
	       "name tables follow the enums");
/* T_ENUM stores through an unsigned int pointer. */
_Static_assert(sizeof(enum psv_granularity) == sizeof(unsigned int) &&
	       sizeof(enum psv_pool_source) == sizeof(unsigned int) &&
	       sizeof(enum psv_exhausted) == sizeof(unsigned int) &&
	       sizeof(enum psv_ingress_mode) == sizeof(unsigned int) &&
	       sizeof(enum psv_ipv6) == sizeof(unsigned int) &&
	       sizeof(enum psv_chatter) == sizeof(unsigned int),
	       "enums are unsigned int sized");

struct conf_key {
	enum conf_section section;	/* SEC_APP: a psv_conf_app field */
	const char *name;
	enum conf_type type;
	size_t offset;
	uint32_t min, max;		/* T_U32 */
	const char *const *names;	/* T_ENUM */
};

#define CONF_KEY(sec_, name_, type_, field_, ...)			\
	{ .section = sec_, .name = name_, .type = type_,		\
	  .offset = offsetof(struct psv_conf, field_), __VA_ARGS__ }
#define APP_KEY(name_, type_, field_, ...)				\
	{ .section = SEC_APP, .name = name_, .type = type_,		\
	  .offset = offsetof(struct psv_conf_app, field_), __VA_ARGS__ }

static const struct conf_key conf_keys[] = {
	CONF_KEY(SEC_POOL, "source", T_ENUM, source, .names = source_names),
	CONF_KEY(SEC_POOL, "static", T_RANGE, static_first),
	CONF_KEY(SEC_POOL, "ready", T_U32, ready, .min = 0,
		 .max = PSV_MAX_IDENTITIES),
	CONF_KEY(SEC_POOL, "max", T_U32, max, .min = 1,
		 .max = PSV_MAX_IDENTITIES),
	CONF_KEY(SEC_POOL, "idle_retire", T_U32, idle_retire, .min = 1,
		 .max = 86400),
	CONF_KEY(SEC_POOL, "pace_ms", T_U32, pace_ms, .min = 0, .max = 60000),
	CONF_KEY(SEC_POOL, "demand_window", T_U32, demand_window, .min = 0,
		 .max = 86400),
	CONF_KEY(SEC_POLICY, "default", T_ENUM, granularity,
		 .names = psv_granularity_names),
	CONF_KEY(SEC_POLICY, "on_exhausted", T_ENUM, on_exhausted,
		 .names = psv_exhausted_names),
	CONF_KEY(SEC_POLICY, "ipv6", T_ENUM, ipv6, .names = psv_ipv6_names),
	CONF_KEY(SEC_POLICY, "chatter", T_ENUM, chatter,
		 .names = psv_chatter_names),
	CONF_KEY(SEC_DATAPLANE, "ingress", T_ENUM, ingress,
		 .names = psv_ingress_names),
	CONF_KEY(SEC_DATAPLANE, "max_flows", T_U32, max_flows, .min = 1024,
		 .max = PSV_CONF_MAX_FLOWS),
	CONF_KEY(SEC_DHCP, "probe", T_BOOL, probe),
	CONF_KEY(SEC_DHCP, "probe_wait_ms", T_U32, probe_wait_ms, .min = 0,
		 .max = 10000),
	/* RFC 5227 2.1.1 PROBE_MIN/PROBE_MAX and ANNOUNCE_WAIT. */
	CONF_KEY(SEC_DHCP, "probe_min_ms", T_U32, probe_min_ms, .min = 0,
		 .max = 10000),
	CONF_KEY(SEC_DHCP, "probe_max_ms", T_U32, probe_max_ms, .min = 0,
		 .max = 10000),
	CONF_KEY(SEC_DHCP, "announce_wait_ms", T_U32, announce_wait_ms,
		 .min = 0, .max = 10000),
	/* RFC 2131 4.1: 4 s first, doubling up to 64 s. */
	CONF_KEY(SEC_DHCP, "retransmit_ms", T_U32, retransmit_ms, .min = 1000,
		 .max = 64000),
	CONF_KEY(SEC_DAEMON, "state_dir", T_PATH, state_dir),
	APP_KEY("match", T_MATCH, match),
	APP_KEY("granularity", T_ENUM, granularity, .names = psv_granularity_names),
};

#define N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

struct conf_ctx {
	const char *name;	/* file name, for errors */
	FILE *file;		/* input: a file ... */
	const char *text;	/* ... or a string */
	size_t pos;
	int line;		/* line the reader returned last */
	enum conf_section section;
	struct psv_conf_app *app;	/* current [app] section */
	int key_line[N_KEYS];	/* where each key was set; 0: not set */
	int app_line[PSV_CONF_MAX_APPS];
	struct psv_conf conf;
	int err_line;		/* line of the first error; 0: none yet */
	char *err;
	size_t errlen;
};

void psv_conf_defaults(struct psv_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->source = PSV_SOURCE_DHCP;
	conf->ready = 8;
	conf->max = 64;
	conf->idle_retire = 300;
	conf->pace_ms = 300;
	conf->demand_window = 600;
	conf->granularity = PSV_GRAN_FLOW;
	conf->on_exhausted = PSV_EXHAUSTED_LINK;
	conf->chatter = PSV_CHATTER_DROP;
	conf->ingress = PSV_INGRESS_AUTO;
	conf->max_flows = PSV_MAX_CONNS;
	conf->probe = true;
	conf->probe_wait_ms = 1000;	/* RFC 5227 PROBE_WAIT */
	conf->probe_min_ms = 1000;
	conf->probe_max_ms = 2000;
	conf->announce_wait_ms = 2000;
	conf->retransmit_ms = 4000;
	strcpy(conf->state_dir, "/var/lib/psv");
}

/* Records the first error, at line (0: the current line); returns 0. */
__attribute__((format(printf, 3, 4)))
static int conf_error_at(struct conf_ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->err_line)
		return 0;
	ctx->err_line = line ? line : ctx->line;
	n = snprintf(ctx->err, ctx->errlen, "%s:%d: ", ctx->name,
		     ctx->err_line);
	if (n >= 0 && (size_t)n < ctx->errlen) {
		va_start(ap, fmt);
		vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
		va_end(ap);
	}
	return 0;
}

#define conf_error(ctx, ...) conf_error_at(ctx, 0, __VA_ARGS__)

/*
 * Makes untrusted text safe to echo in a message: at most 40 bytes,
 * non-printable bytes as '?'.
 */
static const char *conf_quote(const char *s, char buf[48])
{
	size_t i;

	for (i = 0; s[i] && i < 40; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* "a|b|c" from a NULL-terminated name list, skipping "". */
static const char *conf_join(const char *const *names, char buf[64])
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *names && n < 64; names++) {
		if (!**names)
			continue;
		n += snprintf(buf + n, 64 - n, "%s%s", n ? "|" : "", *names);
	}
	return buf;
}

static const char *conf_section_label(const struct conf_ctx *ctx,
				      char buf[48])
{
	if (ctx->section == SEC_APP)
		snprintf(buf, 48, "app \"%s\"", ctx->app->name);
	else
		snprintf(buf, 48, "%s", section_names[ctx->section]);
	return buf;
}

/* Strict unsigned decimal: digits only, no sign, no spaces, fits 32 bits. */
static int conf_parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > UINT32_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Copies s[0..len) without surrounding blanks; -1 if it does not fit. */
static int conf_trim_copy(const char *s, size_t len, char *buf, size_t size)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= size)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* A dotted quad a host can own: not 0/8, 127/8, multicast or above. */
static int conf_parse_unicast(const char *s, size_t len, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	uint8_t first;

	if (conf_trim_copy(s, len, buf, sizeof(buf)) ||
	    inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	first = ntohl(a.s_addr) >> 24;
	if (first == 0 || first == 127 || first >= 224)
		return -1;
	*out = a.s_addr;
	return 0;
}

static int conf_set_range(struct conf_ctx *ctx, const char *key,
			  uint32_t *field, const char *value)
{
	const char *dash = strchr(value, '-');
	size_t len = dash ? (size_t)(dash - value) : strlen(value);
	uint32_t first, last;
	char q[48];

	/* A single address is a range of one. */
	if (conf_parse_unicast(value, len, &first) ||
	    conf_parse_unicast(dash ? dash + 1 : value,
			       dash ? strlen(dash + 1) : len, &last))
		return conf_error(ctx, "bad address range '%s' for %s "
				  "(FIRST-LAST, unicast IPv4 addresses)",
				  conf_quote(value, q), key);
	if (ntohl(first) > ntohl(last))
		return conf_error(ctx, "address range '%s' for %s ends "
				  "before it starts", conf_quote(value, q),
				  key);
	_Static_assert(offsetof(struct psv_conf, static_last) ==
		       offsetof(struct psv_conf, static_first) + 4,
		       "static_last follows static_first");
	field[0] = first;
	field[1] = last;
	return 1;
}

static bool conf_printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static int conf_set_path(struct conf_ctx *ctx, const char *key, char *field,
			 const char *value)
{
	char q[48];

	if (value[0] != '/' || !conf_printable(value) ||
	    strlen(value) >= PSV_CONF_PATH_MAX)
		return conf_error(ctx, "bad path '%s' for %s (an absolute "
				  "path, shorter than %d bytes)",
				  conf_quote(value, q), key, PSV_CONF_PATH_MAX);
	strcpy(field, value);
	return 1;
}

static int conf_set_match(struct conf_ctx *ctx, const char *key,
			  struct psv_conf_app *app, const char *value)
{
	const char *eq = strchr(value, '=');
	char kind[8], arg[PSV_CONF_PATH_MAX], q[48], list[64];
	unsigned int m = PSV_MATCH_NONE;

	if (eq && !conf_trim_copy(value, eq - value, kind, sizeof(kind)))
		for (m = PSV_MATCH_COMM; match_names[m]; m++)
			if (!strcmp(kind, match_names[m]))
				break;
	if (!eq || m == PSV_MATCH_NONE || !match_names[m])
		return conf_error(ctx, "bad match '%s' for %s (%s=VALUE)",
				  conf_quote(value, q), key,
				  conf_join(match_names, list));
	if (conf_trim_copy(eq + 1, strlen(eq + 1), arg, sizeof(arg)) ||
	    !arg[0] || !conf_printable(arg))
		return conf_error(ctx, "bad %s value in match '%s' for %s",
				  kind, conf_quote(value, q), key);
	switch (m) {
	case PSV_MATCH_COMM:
		if (strlen(arg) > PSV_CONF_COMM_MAX)
			return conf_error(ctx, "comm '%s' for %s is longer "
					  "than the kernel's %d bytes",
					  conf_quote(arg, q), key,
					  PSV_CONF_COMM_MAX);
		break;
	case PSV_MATCH_UID:
		/* (uid_t)-1 means "no uid" to the kernel. */
		if (conf_parse_u32(arg, &app->uid) || app->uid == UINT32_MAX)
			return conf_error(ctx, "bad uid '%s' for %s",
					  conf_quote(arg, q), key);
		arg[0] = '\0';
		break;
	default:	/* exe, cgroup */
		if (arg[0] != '/')
			return conf_error(ctx, "%s '%s' for %s is not an "
					  "absolute path", kind,
					  conf_quote(arg, q), key);
	}
	app->match = m;
	strcpy(app->value, arg);
	return 1;
}

static int conf_set(struct conf_ctx *ctx, const struct conf_key *k,
		    void *field, const char *value)
{
	char key[80], label[48], q[48], list[64];
	uint32_t v;
	int ret;

	snprintf(key, sizeof(key), "%s.%s", conf_section_label(ctx, label),
		 k->name);
	switch (k->type) {
	case T_U32:
		ret = conf_parse_u32(value, &v);
		if (ret == -EINVAL)
			return conf_error(ctx, "bad number '%s' for %s",
					  conf_quote(value, q), key);
		if (ret || v < k->min || v > k->max)
			return conf_error(ctx, "%s = %s is out of range "
					  "(%u..%u)", key, conf_quote(value, q),
					  k->min, k->max);
		*(uint32_t *)field = v;
		return 1;
	case T_ENUM:
		for (unsigned int i = 0; k->names[i]; i++)
			if (!strcmp(value, k->names[i])) {
				*(unsigned int *)field = i;
				return 1;
			}
		return conf_error(ctx, "unknown value '%s' for %s (%s)",
				  conf_quote(value, q), key,
				  conf_join(k->names, list));
	case T_BOOL:
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return conf_error(ctx, "unknown value '%s' for %s "
					  "(yes|no)", conf_quote(value, q),
					  key);
		*(bool *)field = !strcmp(value, "yes");
		return 1;
	case T_PATH:
		return conf_set_path(ctx, key, field, value);
	case T_RANGE:
		return conf_set_range(ctx, key, field, value);
	case T_MATCH:
		return conf_set_match(ctx, key, ctx->app, value);
	}
	return 0;
}

static int conf_handler(void *user, const char *section, const char *name,
			const char *value)
{
	struct conf_ctx *ctx = user;
	const struct conf_key *k;
	char label[48], q[48];
	size_t i;

	/* Our reader tracks sections; libinih's copy may be truncated. */
	(void)section;
	if (ctx->section == SEC_BAD)
		return 1;
	if (ctx->section == SEC_NONE)
		return conf_error(ctx, "key '%s' before any [section]",
				  conf_quote(name, q));
	for (i = 0; i < N_KEYS; i++)
		if (conf_keys[i].section == ctx->section &&
		    !strcmp(conf_keys[i].name, name))
			break;
	if (i == N_KEYS)
		return conf_error(ctx, "unknown key '%s' in [%s]",
				  conf_quote(name, q),
				  conf_section_label(ctx, label));
	k = &conf_keys[i];
	if (ctx->key_line[i])
		return conf_error(ctx, "duplicate key %s.%s (first set on "
				  "line %d)", conf_section_label(ctx, label),
				  k->name, ctx->key_line[i]);
	ctx->key_line[i] = ctx->line;
	if (k->section == SEC_APP)
		return conf_set(ctx, k, (char *)ctx->app + k->offset, value);
	return conf_set(ctx, k, (char *)&ctx->conf + k->offset, value);
}

static bool conf_app_name_ok(const char *s, size_t len)
{
	if (!len || len > PSV_CONF_APP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* name: what follows "app" in the header, e.g. ` "browser"`. */
static void conf_app_section(struct conf_ctx *ctx, const char *name)
{
	struct psv_conf *c = &ctx->conf;
	const char *end;
	char q[48];
	size_t len;

	ctx->section = SEC_BAD;
	while (isspace((unsigned char)*name))
		name++;
	end = *name == '"' ? strchr(name + 1, '"') : NULL;
	len = end ? (size_t)(end - name - 1) : 0;
	if (!end || end[1] || !conf_app_name_ok(name + 1, len)) {
		conf_error(ctx, "bad app section name '%s' (want "
			   "[app \"NAME\"], NAME of 1-%d letters, digits, "
			   "'_', '.', '-')",
			   conf_quote(name, q), PSV_CONF_APP_NAME_MAX);
		return;
	}
	for (unsigned int i = 0; i < c->n_apps; i++)
		if (strlen(c->apps[i].name) == len &&
		    !memcmp(c->apps[i].name, name + 1, len)) {
			conf_error(ctx, "duplicate [app \"%s\"] (first on line "
				   "%d)", c->apps[i].name, ctx->app_line[i]);
			return;
		}
	if (c->n_apps == PSV_CONF_MAX_APPS) {
		conf_error(ctx, "more than %d [app] sections",
			   PSV_CONF_MAX_APPS);
		return;
	}
	ctx->app_line[c->n_apps] = ctx->line;
	ctx->app = &c->apps[c->n_apps++];
	memcpy(ctx->app->name, name + 1, len);
	ctx->app->granularity = PSV_GRAN_APP;
	for (size_t i = 0; i < N_KEYS; i++)
		if (conf_keys[i].section == SEC_APP)
			ctx->key_line[i] = 0;
	ctx->section = SEC_APP;
}

/* line starts with '['. */
static void conf_section_header(struct conf_ctx *ctx, const char *line)
{
	const char *end = strchr(line, ']'), *p;
	char name[PSV_CONF_PATH_MAX], q[48];

	ctx->section = SEC_BAD;
	if (!end)
		return;		/* libinih reports the missing ']' */
	for (p = end + 1; isspace((unsigned char)*p); p++)
		;
	if (*p && *p != ';' && *p != '#') {
		conf_error(ctx, "text after section header: '%s'",
			   conf_quote(p, q));
		return;
	}
	if (conf_trim_copy(line + 1, end - line - 1, name, sizeof(name))) {
		conf_error(ctx, "section name too long");
		return;
	}
	if (!strncmp(name, "app", 3) &&
	    (!name[3] || isspace((unsigned char)name[3]) || name[3] == '"')) {
		conf_app_section(ctx, name + 3);
		return;
	}
	for (unsigned int s = SEC_POOL; s < SEC_APP; s++)
		if (!strcmp(name, section_names[s])) {
			ctx->section = s;
			return;
		}
	conf_error(ctx, "unknown section [%s] (pool, policy, dataplane, dhcp, "
		   "daemon, app \"NAME\")", conf_quote(name, q));
}

static int conf_getc(struct conf_ctx *ctx)
{
	if (ctx->file)
		return getc(ctx->file);
	return ctx->text[ctx->pos] ? (unsigned char)ctx->text[ctx->pos++] : EOF;
}

/*
 * Normalizes one line for libinih: a UTF-8 byte order mark on line 1 and
 * leading blanks go, so no line is taken as the continuation of the one
 * before (psv.conf has no multi-line values).
 */
static void conf_normalize(struct conf_ctx *ctx, char *buf)
{
	size_t skip = 0;

	if (ctx->line == 1 && !strncmp(buf, "\xEF\xBB\xBF", 3))
		skip = 3;
	while (isspace((unsigned char)buf[skip]))
		skip++;
	memmove(buf, buf + skip, strlen(buf + skip) + 1);
	if (buf[0] == '[')
		conf_section_header(ctx, buf);
}

/* libinih's fgets-style reader: one whole line per call, without '\n'. */
static char *conf_read_line(char *buf, int num, void *stream)
{
	struct conf_ctx *ctx = stream;
	size_t n = 0, cap = num > 1 ? num - 1 : 0;
	bool any = false, too_long = false, nul = false;
	int c;

	while ((c = conf_getc(ctx)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = true;
		else if (n < cap)
			buf[n++] = c;
		else
			too_long = true;
	}
	if (!any)
		return NULL;
	buf[n] = '\0';
	ctx->line++;
	/* A bad line is reported here and handed on as an empty one. */
	if (too_long)
		conf_error(ctx, "line longer than %zu bytes", cap);
	else if (nul)
		conf_error(ctx, "NUL byte in line");
	if (too_long || nul)
		buf[0] = '\0';
	else
		conf_normalize(ctx, buf);
	return buf;
}

/* Where key was set in the current file; 0 if it was not. */
static int conf_key_line(const struct conf_ctx *ctx, enum conf_section sec,
			 const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (conf_keys[i].section == sec &&
		    !strcmp(conf_keys[i].name, name))
			return ctx->key_line[i];
	return 0;
}

/* Checks that span keys; reported at the line that made them false. */
static void conf_validate(struct conf_ctx *ctx)
{
	const struct psv_conf *c = &ctx->conf;
	int ready_line = conf_key_line(ctx, SEC_POOL, "ready");
	int max_line = conf_key_line(ctx, SEC_POOL, "max");

	for (unsigned int i = 0; i < c->n_apps; i++)
		if (c->apps[i].match == PSV_MATCH_NONE)
			conf_error_at(ctx, ctx->app_line[i],
				      "[app \"%s\"] has no match = key",
				      c->apps[i].name);
	if (c->source == PSV_SOURCE_STATIC && !c->static_first)
		conf_error_at(ctx, conf_key_line(ctx, SEC_POOL, "source"),
			      "pool.source = static needs a pool.static "
			      "address range");
	if (c->ready > c->max)
		conf_error_at(ctx,
			      ready_line > max_line ? ready_line : max_line,
			      "pool.ready = %u exceeds pool.max = %u",
			      c->ready, c->max);
	if (c->probe_min_ms > c->probe_max_ms)
		conf_error_at(ctx, conf_key_line(ctx, SEC_DHCP, "probe_min_ms") >
				   conf_key_line(ctx, SEC_DHCP, "probe_max_ms") ?
				   conf_key_line(ctx, SEC_DHCP, "probe_min_ms") :
				   conf_key_line(ctx, SEC_DHCP, "probe_max_ms"),
			      "dhcp.probe_min_ms = %u exceeds dhcp.probe_max_ms = %u",
			      c->probe_min_ms, c->probe_max_ms);
}

static int conf_run(struct conf_ctx *ctx, struct psv_conf *out)
{
	int ret;

	psv_conf_defaults(&ctx->conf);
	ret = ini_parse_stream(conf_read_line, ctx, conf_handler, ctx);
	if (ret == -2) {
		snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
		return -1;
	}
	/* libinih's own errors: a line that is neither [section] nor key. */
	if (ret > 0 && (!ctx->err_line || ret < ctx->err_line)) {
		ctx->err_line = 0;
		conf_error_at(ctx, ret, "syntax error (want [section], "
			      "key = value, or a ; comment)");
	}
	if (ctx->file && ferror(ctx->file)) {
		snprintf(ctx->err, ctx->errlen, "cannot read %s: %s",
			 ctx->name, strerror(errno));
		return -1;
	}
	if (!ctx->err_line)
		conf_validate(ctx);
	if (ctx->err_line)
		return -1;
	*out = ctx->conf;
	return 0;
}

static struct conf_ctx *conf_ctx_new(const char *name, char *err,
				     size_t errlen)
{
	struct conf_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	ctx->name = name;
	ctx->err = err;
	ctx->errlen = errlen;
	return ctx;
}

int psv_conf_parse_string(const char *text, const char *name,
			  struct psv_conf *out, char *err, size_t errlen)
{
	struct conf_ctx *ctx = conf_ctx_new(name, err, errlen);
	int ret;

	if (!ctx)
		return -1;
	ctx->text = text;
	ret = conf_run(ctx, out);
	free(ctx);
	return ret;
}

int psv_conf_load(const char *path, struct psv_conf *out, char *err,
		  size_t errlen)
{
	struct conf_ctx *ctx;
	int ret;

	ctx = conf_ctx_new(path, err, errlen);
	if (!ctx)
		return -1;
	ctx->file = fopen(path, "re");
	if (!ctx->file) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		free(ctx);
		return -1;
	}
	ret = conf_run(ctx, out);
	fclose(ctx->file);
	free(ctx);
	return ret;
}
