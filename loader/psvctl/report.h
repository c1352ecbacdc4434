/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.h - every psvctl command's JSON document, built from a snapshot.
 * A field added here shows with --json; a column in commands.c shows it
 * in the table.
 */
#ifndef PSVCTL_REPORT_H
#define PSVCTL_REPORT_H

#include "psvctl/snapshot.h"

struct json_object;

/* Arrays of objects, one per identity (by id), flow, application. */
struct json_object *build_identities(struct ctl *ctl);
struct json_object *build_flows(struct ctl *ctl);
struct json_object *build_apps(struct ctl *ctl);
/* Objects; these load what they need: 0 or -errno (printed). */
int build_stats(struct ctl *ctl, struct json_object **out);
int build_status(struct ctl *ctl, struct json_object **out);
/* psvd's own counters (DHCP, the packet socket) into doc, if it answered. */
void merge_daemon_counters(struct ctl *ctl, struct json_object *doc);

#endif
