#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Hooks of tests/bench/run.sh for the DHCP pool (sourced by run.sh).

# One DHCP exchange of psvd's client against the testbed's dnsmasq
# (DISCOVER to ACK, no ARP probe), median of 20, each lease released.
hook_dhcp_exchange() {
	local j
	j=$(tb_host_nsenter "$PSV_BUILD/bench/dhcp_exchange" \
		"$TB_HOST_IF" 20) || { bench_log "$1: dhcp_exchange failed"; return 1; }
	sample "$1" "$2" dhcp_exchange_ms "$(jq .median_ms <<<"$j")"
}

# The round trip of a new flow's first packet (a UDP transaction from a
# fresh socket, so under psv a fresh identity from the ready queue):
# against B0 it shows what taking an identity adds.
hook_first_packet_delay() {
	local j
	case $1 in
	B2*) wait_ready || return 1 ;;
	esac
	j=$(tb_host python3 "$BENCH_DIR/newflows.py" "$SRV" --port "$FRESH_PORT" \
		-n 1) || { bench_log "$1: first packet: newflows failed"; return 1; }
	sample "$1" "$2" first_packet_us "$(jq .median_us <<<"$j")"
}
