// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <bpf/libbpf.h>

#include "common/log.h"

static bool use_syslog;
static bool libbpf_expected;
static enum log_level max_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > max_level)
		return;
	if (use_syslog) {
		vsyslog(syslog_prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "psvd: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
	/* libbpf lines end in a newline already; ours do not. */
	if (fmt[0] && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/*
 * libbpf's warnings are ours, unless the caller expects the outcome; its
 * info and debug chatter is debug.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	log_vmsg(level == LIBBPF_WARN && !libbpf_expected ? LOG_LVL_WARN :
							     LOG_LVL_DEBUG,
		 fmt, ap);
	return 0;
}

void log_libbpf_expected(bool expected)
{
	libbpf_expected = expected;
}

void log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void log_init(const char *ident, bool to_syslog, enum log_level level)
{
	max_level = level;
	if (to_syslog)
		log_to_syslog(ident);
	libbpf_set_print(libbpf_print);
}

int log_level_parse(const char *name)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(name, level_names[i]))
			return i;
	return -1;
}
