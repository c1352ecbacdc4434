#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# SIGHUP reloads psv.conf while a transfer runs: a good config takes effect
# (the pool grows), a bad one is refused with file and line and the running
# config stays; the transfer never notices.
set -u
cd "$(dirname "$0")/../.."
. tests/testbed/testbed.sh
. tests/testbed/psvd.sh
. tests/testbed/tap.sh

psv_testbed
conf() {
	printf '[pool]\nsource = static\nstatic = 192.0.2.200-192.0.2.249\n'
	printf 'ready = %s\nmax = 20\npace_ms = 100\n' "$1"
}
check "psvd starts with 2 ready identities" psv_start "$(conf 2)"
tb_host iperf3 -c 198.51.100.10 -t 5 -b 50M -J --logfile "$TB_DIR/iperf3.json" &
iperf=$!
sleep 1

conf 5 >"$TB_DIR/psv.conf"
kill -HUP "$PSV_PID"
check "a good config is reloaded: 5 identities ready" psv_wait_ready 5 10
check "psvd logged the reload" grep -q "configuration reloaded" "$TB_DIR/psvd.log"

printf '[pool]\nready = lots\n' >"$TB_DIR/psv.conf"
kill -HUP "$PSV_PID"
sleep 0.5
check "a bad config is refused with file and line" \
	grep -q "keeping the running configuration: $TB_DIR/psv.conf:2:" "$TB_DIR/psvd.log"
check "psvd still runs after the bad reload" kill -0 "$PSV_PID"
check "the running config stays (5 identities ready)" psv_wait_ready 5 2

wait "$iperf"
check "the transfer ran through both reloads" [ $? = 0 ]
check "with data received" holds '.end.sum_received.bytes > 0' <"$TB_DIR/iperf3.json"
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
