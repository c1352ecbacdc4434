/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.h - psvd's logger: stderr in the foreground, syslog otherwise.
 * libbpf messages are routed through it too (and libxdp's, by
 * dataplane.c), so a load failure's verifier log lands where the operator
 * looks.
 */
#ifndef PSV_LOG_H
#define PSV_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *ident, bool to_syslog, enum log_level level);
/*
 * Around a libbpf call whose failure is an expected outcome (a clsact
 * qdisc that exists already): its warnings go to debug meanwhile.
 */
void log_libbpf_expected(bool expected);
/* From now on to syslog (a daemon that left its terminal). */
void log_to_syslog(const char *ident);
/* Parses "error|warn|info|debug"; -1 if unknown. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
