#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An identity whose flows are gone is retired after idle_retire: its lease
# is released at dnsmasq, it leaves every map, and the next flow to the
# same server gets a new identity (a MAC and address never used before).
. "$(dirname "$0")/../testbed/prelude.sh"
check "psvd starts with a DHCP pool" psv_start "
[pool]
source = dhcp
ready = 2
max = 10
idle_retire = 2
pace_ms = 100
[dhcp]
probe = no
[daemon]
state_dir = $TB_DIR/state"

check "curl srv1" tb_host curl -sf -o /dev/null http://198.51.100.10/
first=$(psv_ctl flows --json | jq -r '[.[] | select(.remote_port == 80)][0].mac')
check "the connection got an identity" [ -n "$first" -a "$first" != null ]
check "its lease is at dnsmasq" grep -q " $first " "$TB_LEASES"

# A closed TCP connection expires after 10 s, then 2 s idle: retired.
gone() {
	local i
	for ((i = 0; i < 300; i++)); do
		if ! psv_ctl identities --json | jq -e --arg m "$first" \
			'any(.[]; .mac == $m)' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
check "the idle identity is retired within 30 s" gone
check "psvd logged why" grep -q "retired: idle" "$TB_DIR/psvd.log"
sleep 0.3
check "its lease was released at dnsmasq" bash -c "! grep -q ' $first ' '$TB_LEASES'"
check "curl srv1 again" tb_host curl -sf -o /dev/null http://198.51.100.10/
second=$(psv_ctl flows --json | jq -r '[.[] | select(.remote_port == 80)][0].mac')
check "the new connection has a new identity" [ -n "$second" -a "$second" != null -a "$second" != "$first" ]
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
