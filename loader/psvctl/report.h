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

/* Values: an IPv4 address (network order) and a MAC, as strings. */
struct json_object *json_ip(__be32 addr);
struct json_object *json_mac(const __u8 *mac);

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
