#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# NetworkManager dispatcher script for psv, installed as
# /etc/NetworkManager/dispatcher.d/90-psv: NetworkManager runs it as
# "90-psv IFACE ACTION" (environment: CONNECTION_ID, DEVICE_IFACE...).
# When an interface listed in /etc/psv/interfaces comes up, psvd@IFACE
# starts; when it goes down, psvd@IFACE stops (before its address goes,
# on pre-down, and again on down, which does nothing if it is stopped).
# Every other interface and action is left alone.  PSV_INTERFACES names
# another list (for tests).
set -u
iface=${1:-}
action=${2:-}
list=${PSV_INTERFACES:-/etc/psv/interfaces}

case $action in
up) verb=start ;;
pre-down | down) verb=stop ;;
*) exit 0 ;;
esac
# A unit instance name: an interface name as the kernel allows it.
case $iface in
'' | *[!A-Za-z0-9_.:-]* | -*) exit 0 ;;
esac
[ "${#iface}" -le 15 ] || exit 0
[ -r "$list" ] || exit 0
# The first word of each line, comments and blank lines skipped.
if ! sed 's/#.*//' "$list" | awk -v i="$iface" '$1 == i { f = 1 } END { exit !f }'; then
	exit 0
fi
# Without waiting: psvd's start (DHCP for its identities) may outlast the
# dispatcher's timeout.
if ! systemctl --no-block "$verb" "psvd@$iface.service"; then
	logger -t psv "cannot $verb psvd@$iface.service" 2>/dev/null
	exit 1
fi
exit 0
