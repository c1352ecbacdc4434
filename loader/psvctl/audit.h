/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * audit.h - psvctl audit: what a LAN observer sees of the host.  Watches
 * the frames the interface sends for a while (a packet socket, read-only,
 * no promiscuous mode) and reports every one that carried the host's real
 * MAC or address, grouped by why it left (psvctl(8), "AUDIT").
 */
#ifndef PSVCTL_AUDIT_H
#define PSVCTL_AUDIT_H

#include "psvctl/snapshot.h"

struct json_object;

/*
 * Watches ctl->ifname for ctl->seconds (or until SIGINT) and builds the
 * report, whose "ok" is false if anything unexpected left with the real
 * identity.  0, or -1 with the reason on stderr.
 */
int build_audit(struct ctl *ctl, struct json_object **out);
/* The report for people: groups with frames, their flows, the verdict. */
void print_audit(struct json_object *doc);

#endif
