#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Hooks of tests/bench/run.sh for socket attribution (sourced by run.sh).

# What the cgroup socket hooks add to a program's socket calls: a UDP
# socket's lifecycle (socket, connect, close) and an unconnected sendto,
# in ns per call (build/bench/sock_churn); B0 and B1 run without hooks.
# And connect() of a nonblocking TCP socket: under psv connect4 binds it
# to an identity (the socket path), which tcp_local must show.
hook_attribution_cost() {
	local j
	j=$(tb_host "$PSV_BUILD/bench/sock_churn" "$SRV" 20000) ||
		{ bench_log "$1: sock_churn failed"; return 1; }
	sample "$1" "$2" sock_lifecycle_ns "$(jq .lifecycle_ns <<<"$j")"
	sample "$1" "$2" udp_sendto_ns "$(jq .sendto_ns <<<"$j")"
	sample "$1" "$2" tcp_connect_ns "$(jq .tcp_connect_ns <<<"$j")"
	case $1 in
	B2*) [ "$(jq -r .tcp_local <<<"$j")" != "$TB_HOST_IP" ] ||
		status "tcp_connect_ns-$1" "round $2: connect() was not bound to an identity" ;;
	esac
}
