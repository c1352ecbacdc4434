#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The NetworkManager dispatcher script (scripts/nm-dispatcher.sh, packaged
# as /etc/NetworkManager/dispatcher.d/90-psv), called as NetworkManager
# calls it ("SCRIPT IFACE ACTION", with its environment), with systemctl
# replaced by a recorder: psvd@IF starts when a listed interface comes up
# and stops when it goes down; anything else is left alone.
. "$(dirname "$0")/../testbed/prelude.sh" --no-testbed

DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
mkdir "$DIR/bin"
cat >"$DIR/bin/systemctl" <<'REC'
#!/bin/sh
echo "$*" >>"$REC_LOG"
exit "${REC_RC:-0}"
REC
chmod +x "$DIR/bin/systemctl"
cat >"$DIR/interfaces" <<'LIST'
# interfaces psvd runs on
eth1
  wlan0   # with a comment
#eth3
LIST

# dispatch IFACE ACTION: runs the script as NetworkManager would; its
# exit status in RC, what it asked systemctl in CALLS.
dispatch() {
	: >"$DIR/calls"
	env -i PATH="$DIR/bin:/usr/sbin:/usr/bin:/sbin:/bin" REC_LOG="$DIR/calls" \
		REC_RC="${REC_RC:-0}" PSV_INTERFACES="${LIST:-$DIR/interfaces}" \
		DEVICE_IFACE="$1" CONNECTION_ID="Wired connection 1" \
		CONNECTION_UUID=0b7e3a0c-5e0c-4c2a-9a55-3c2d1f2c9a11 NM_DISPATCHER_ACTION="$2" \
		scripts/nm-dispatcher.sh "$1" "$2"
	RC=$?
	CALLS=$(cat "$DIR/calls")
}

# expect IFACE ACTION CALLS [RC]
expect() {
	dispatch "$1" "$2"
	check "${LIST:+no list file: }${REC_RC:+systemctl fails: }$1 $2: systemctl '${3:-(nothing)}', exit ${4:-0} (got '$CALLS', $RC)" \
		[ "$CALLS|$RC" = "$3|${4:-0}" ]
}

expect eth1 up "--no-block start psvd@eth1.service"
expect eth1 pre-down "--no-block stop psvd@eth1.service"
expect eth1 down "--no-block stop psvd@eth1.service"
expect wlan0 up "--no-block start psvd@wlan0.service"
expect eth1 dhcp4-change ""
expect eth1 connectivity-change ""
expect eth2 up ""
expect eth3 up ""
expect "" up ""
expect "-eth1" up ""
expect "../eth1" up ""
expect "eth1 x" up ""
LIST=$DIR/missing expect eth1 up ""
REC_RC=1 expect eth1 up "--no-block start psvd@eth1.service" 1
[ "$failed" -eq 0 ]
