#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kill -9 of psvd during a transfer: the pinned, netlink-attached dataplane
# keeps the transfer running on its identity; a restarted psvd adopts the
# pinned maps, hands out no identity twice, and nothing leaks.  A connected
# UDP socket that never sends holds a ready identity across the crash: once
# it closes, the restarted psvd puts that identity back in the ready queue.
# A long lease: no DHCP renewal of the host (nor its ARP) during the test,
# so every ARP frame with the real MAC or IP counts as a leak.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
CONF="
[pool]
source = static
static = 192.0.2.200-192.0.2.249
ready = 3
max = 20
[policy]
on_exhausted = drop"

tb_capture_start
check "psvd starts" psv_start "$CONF"
# Forget the gateway the host resolved before psvd started: the kernel's
# ARP for it then happens while psvd runs, and the leak check judges it.
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0
before=$(psv_ctl identities --json | jq -c '[.[] | {id, mac, ipv4}] | sort_by(.id)')

counter() { psv_ctl stats --json | jq ".$1"; }
state_of() { psv_ctl identities --json | jq -r --arg a "$1" '.[] | select(.ipv4 == $a) | .state'; }
# The address of the connected UDP socket to $SRV1:9, once psvd lists it.
held_address() {
	local i a
	for ((i = 0; i < 20; i++)); do
		a=$(psv_ctl flows --json | jq -r '.[] | select(.remote_port == 9) | .ipv4')
		[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.1
	done
	return 1
}
# Waits up to 10 s (the grace and two scans take up to 5) for a reclaim.
reclaimed() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(counter pool_reclaimed)" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# socat reads from the socket only: it connects and never sends.
tb__spawn held "$TB_HOST" socat -u "UDP4-CONNECT:$SRV1:9" STDOUT
held_ip=$(held_address)
check "a connected UDP socket holds a ready identity" \
	[ "$(state_of "$held_ip")" = ready ]

tb_host iperf3 -c 198.51.100.10 -t 6 -b 100M -J --logfile "$TB_DIR/iperf3.json" &
iperf=$!
sleep 2
flow_before=$(psv_ctl flows --json | jq -c '[.[] | select(.remote_port == 5201) | {local_port, ipv4, mac}] | sort_by(.local_port)')
psv_stop KILL
check "psvd died by SIGKILL" [ "$PSV_RC" = 137 ]
check "the egress filter stays attached" bash -c "ip netns exec $TB_HOST tc filter show dev eth0 egress | grep -q psv_egress"
check "the maps stay pinned" [ -e $PSV_PIN_ROOT/eth0/psv_conns ]
check "psvctl reads the pinned maps while psvd is down" bash -c "psv_ctl_out=\$(nsenter --net=/run/netns/$TB_HOST $PSV_BUILD/psvctl --iface eth0 flows --json) && [ -n \"\$psv_ctl_out\" ]"
sleep 1
check "psvd restarts and adopts the pinned state" psv_start "$CONF"
check "psvd logged the adoption" grep -q "adopted" "$TB_DIR/psvd.log"
check "the held identity, out of the queue, is adopted as held" \
	grep -q "ready but not queued: held" "$TB_DIR/psvd.log"
# While iperf3 still runs: a bound socket's flow is listed while it lives.
flow_after=$(psv_ctl flows --json | jq -c '[.[] | select(.remote_port == 5201) | {local_port, ipv4, mac}] | sort_by(.local_port)')
wait "$iperf"
check "the iperf3 transfer survived the crash" [ $? = 0 ]
check "iperf3 moved data" holds '.end.sum_received.bytes > 0' <"$TB_DIR/iperf3.json"
check "the transfer kept its identity across the restart" \
	bash -c '[ "$1" != "[]" ] && [ "$1" = "$2" ]' _ "$flow_before" "$flow_after"
after=$(psv_ctl identities --json | jq -c '[.[] | {id, mac, ipv4}] | sort_by(.id)')
check "every identity from before is still there, unchanged" \
	holds --argjson b "$before" --argjson a "$after" '$b - $a == []' <<<"null"
check "no address or MAC is held by two identities" \
	holds '(map(.mac) | unique | length) == length and (map(.ipv4) | unique | length) == length' <<<"$after"
check "a new flow after the restart works" tb_host curl -sf -o /dev/null http://198.51.100.20/
check "the held identity was not reclaimed while its socket lived" \
	[ "$(counter pool_reclaimed)" = 0 ]
tb__pidfile_kill "$TB_DIR/pids/held.pid"
check "its socket closed unused: the identity is queued again (pool_reclaimed)" reclaimed
check "... still ready" [ "$(state_of "$held_ip")" = ready ]
psv_stop TERM
check "SIGTERM detaches" bash -c "! ip netns exec $TB_HOST tc filter show dev eth0 egress | grep -q psv_egress"

# An upgrade: --keep-attached leaves the dataplane working for the next psvd.
PSV_ARGS=--keep-attached
check "psvd starts with --keep-attached" psv_start "$CONF"
kept=$(psv_ctl identities --json | jq -c '[.[] | {mac, ipv4}] | sort_by(.mac)')
psv_stop TERM
check "psvd --keep-attached exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
check "the egress filter stays attached" bash -c "ip netns exec $TB_HOST tc filter show dev eth0 egress | grep -q psv_egress"
check "the maps stay pinned" [ -e "$PSV_PIN_ROOT/eth0/psv_conns" ]
check "traffic still flows on an identity" tb_host curl -sf -o /dev/null http://198.51.100.20/index.html
PSV_ARGS=
check "the next psvd adopts the identities" psv_start "$CONF"
check "the same identities, none released" \
	holds --argjson k "$kept" '[.[] | {mac, ipv4}] as $a | $k - $a == []' < <(psv_ctl identities --json)
psv_stop TERM
check "the observer's capture is complete" tb_capture_stop
check_no_leak "the observer saw no frame with the real MAC or IP" --no-dhcp
