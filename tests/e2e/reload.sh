#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# SIGHUP reloads psv.conf while a transfer runs: a good config takes effect
# (the pool grows), a bad one is refused with file and line and the running
# config stays; the transfer never notices.  Then, with on_exhausted = reuse
# and a drained pool, a new flow right after a SIGHUP still gets the
# identity to reuse (a reload used to clear it until psvd's next scan).
. "$(dirname "$0")/../testbed/prelude.sh"
conf() { psv_static_conf "$1" 20 pool.pace_ms=100; }
check "psvd starts with 2 ready identities" psv_start "$(conf 2)"
tb_host iperf3 -c 198.51.100.10 -t 5 -b 50M -J --logfile "$TB_DIR/iperf3.json" &
iperf=$!
sleep 1

psv_reload "$(conf 5)"
check "a good config is reloaded: 5 identities ready" psv_wait_ready 5 10
check "psvd logged the reload" grep -q "configuration reloaded" "$TB_DIR/psvd.log"

psv_reload "[pool]
ready = lots"
sleep 0.5
bad=$(grep -n 'ready = lots' "$TB_DIR/psv.conf" | cut -d: -f1)
check "a bad config is refused with file and line" \
	grep -q "keeping the running configuration: $TB_DIR/psv.conf:$bad:" "$TB_DIR/psvd.log"
check "psvd still runs after the bad reload" kill -0 "$PSV_PID"
check "the running config stays (5 identities ready)" psv_wait_ready 5 2

wait "$iperf"
check "the transfer ran through both reloads" [ $? = 0 ]
check "with data received" holds '.end.sum_received.bytes > 0' <"$TB_DIR/iperf3.json"
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]

# One address, max 1: the first flow takes the only identity, and every
# later flow (a new source port, a new flow key) finds the pool empty.
printf '[pool]\nsource = static\nstatic = 192.0.2.200\nready = 1\nmax = 1\n'\
'[policy]\non_exhausted = reuse\n' >"$TB_DIR/reuse.conf"
check "psvd starts with on_exhausted = reuse, max 1" \
	psv_start "$(cat "$TB_DIR/reuse.conf")"
# One datagram from a new socket: a new flow.
new_flow() { echo psv | tb_host socat -u - "UDP4:198.51.100.10:7"; }
# A new flow's counters as "reused dropped": a reuse counts both
# egress_pool_empty and egress_exhausted_reuse, a drop the first only.
flow_outcome() {
	local r0 e0 r1 e1
	r0=$(psv_counter egress_exhausted_reuse) e0=$(psv_counter egress_pool_empty)
	new_flow
	r1=$(psv_counter egress_exhausted_reuse) e1=$(psv_counter egress_pool_empty)
	echo "$((r1 - r0)) $((e1 - e0 - (r1 - r0)))"
}
new_flow
sleep 2.5	# psvd's scan (every 2 s) picks the identity to reuse
out=$(flow_outcome)
check "before any reload, a flow on the drained pool reuses (reused dropped: $out)" \
	[ "$out" = "1 0" ]
# The next scan would set it again: send the flow as soon as psvd logged
# the reload, three times so a scan in between cannot hide the bug.
for i in 1 2 3; do
	n=$(grep -c "configuration reloaded" "$TB_DIR/psvd.log")
	kill -HUP "$PSV_PID"
	for ((t = 0; t < 200; t++)); do
		[ "$(grep -c "configuration reloaded" "$TB_DIR/psvd.log")" -gt "$n" ] &&
			break
		sleep 0.01
	done
	out=$(flow_outcome)
	check "reload $i: a new flow right after SIGHUP reuses (reused dropped: $out)" \
		[ "$out" = "1 0" ]
done
psv_stop TERM
check "psvd (reuse) exits 0" [ "$PSV_RC" = 0 ]
