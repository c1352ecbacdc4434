#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What psvd leaves readable: its pins, its state directory (the leases)
# and its control socket are root's alone; psvctl run by an unprivileged
# user (nobody) says what it cannot read and exits non-zero.
. "$(dirname "$0")/../testbed/prelude.sh"
check "psvd starts with DHCP identities and a state directory" psv_start "
[pool]
source = dhcp
ready = 2
max = 4
pace_ms = 50
[dhcp]
probe = no
[daemon]
state_dir = $TB_DIR/state"
PINS=$PSV_PIN_ROOT/eth0
SOCK=$PSV_CONTROL_DIR/eth0.sock
# Files under $1 that anyone but root may read, write or enter.
open_to_others() { find "$1" \( ! -uid 0 -o -perm /077 \) -printf '%m %u %p\n'; }
modes() { stat -c '%a %U %n' "$@" | sed 's/^/#   /'; }

modes "$PINS" "$PINS/psv_identities" "$TB_DIR/state" "$TB_DIR/state/eth0.json" \
	"$PSV_CONTROL_DIR" "$SOCK"
check "the pin directory and every pin are root's alone" \
	bash -c '[ -z "$1" ]' _ "$(open_to_others "$PINS")"
check "the state directory and the lease file are root's alone" \
	bash -c '[ -z "$1" ]' _ "$(open_to_others "$TB_DIR/state")"
check "the control directory and socket are root's alone" \
	bash -c '[ -z "$1" ]' _ "$(open_to_others "$PSV_CONTROL_DIR")"

# psvctl as nobody: exit status and the first line of its error.
as_nobody() {
	nsenter --net="/run/netns/$TB_HOST" runuser -u nobody -- \
		env PSV_PIN_ROOT="$PSV_PIN_ROOT" PSV_CONTROL_DIR="$PSV_CONTROL_DIR" \
		"$PSV_BUILD/psvctl" --iface eth0 "$@" 2>&1 >/dev/null
}
for cmd in status identities flows stats; do
	msg=$(as_nobody "$cmd")
	rc=$?
	echo "#   psvctl $cmd as nobody (exit $rc): $(head -n 1 <<<"$msg")"
	check "psvctl $cmd as nobody exits non-zero" [ "$rc" != 0 ]
	check "psvctl $cmd as nobody says what it cannot read and why" \
		grep -qE "(Permission denied|Operation not permitted).*(root|CAP_)" <<<"$msg"
done
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
