#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The start of every end-to-end test, the first command of tests/e2e/*.sh:
#   . "$(dirname "$0")/../testbed/prelude.sh" [TB_UP ARGS...]
#   . "$(dirname "$0")/../testbed/prelude.sh" --no-testbed
# Sets -u, moves to the repository root, loads the testbed (testbed.sh,
# psvd.sh) and result-line (tap.sh) libraries, names the observer's
# analysis ($OBS) and the remote servers ($SRV1, $SRV2), defines the
# checks, probes and steps several tests share (check_no_leak,
# check_counted, check_refills, check_transfer_kept, curl_to,
# tcp_connects, transfer_start, flow_out), then brings up a psv testbed:
# psv_testbed with the arguments (tb_up's: --lease 3600, --transit-mtu
# MTU...), whose teardown at exit also undoes what psvd left.  With
# --no-testbed the script brings up what it needs itself (baseline: a
# testbed without psvd; testbed_cycle: many; cli: none).
# A sourced file without arguments sees the script's own: the e2e
# scripts take none.
# OBS, SRV1, SRV2 are for the scripts that source this:
# shellcheck disable=SC2034
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# shellcheck source=tests/testbed/testbed.sh
. tests/testbed/testbed.sh
# shellcheck source=tests/testbed/psvd.sh
. tests/testbed/psvd.sh
# shellcheck source=tests/testbed/tap.sh
. tests/testbed/tap.sh

OBS=tests/testbed/observe.py
SRV1=198.51.100.10
SRV2=198.51.100.20

# check_no_leak DESC [observe.py leaks options...]: the check DESC holds
# if no frame of $TB_PCAP carried the host's real MAC or one of its
# addresses (IPv4, and with --ipv6 its SLAAC and link-local addresses: the
# host's own neighbour discovery about them is its presence, not a leak);
# options narrow it: --no-dhcp, --remote ...; the counts and the first
# offending flows are printed as comments either way.
check_no_leak() {
	local desc=$1 leaks a own=(--ip "$TB_HOST_IP")
	shift
	for a in "${TB_HOST_IP6:-}" "${TB_HOST_LL6:-}"; do
		[ -n "$a" ] && own+=(--ip "$a")
	done
	leaks=$("$OBS" leaks "$TB_PCAP" --mac "$TB_HOST_MAC" "${own[@]}" \
		"$@" --json)
	check "$desc" holds '.frames == 0' <<<"$leaks"
	jq -r '"#   leaks: \(.frames) frames, \(.eth) Ethernet, \(.ip) IP, \(.inner_ip) in ICMP errors, \(.arp) ARP, \(.ipv6) IPv6 (\(.eui64) EUI-64, \(.ndp) NDP/MLD), first \(.first_frames[:10]); own presence \(.own_arp) ARP, \(.own_ndp) NDP/MLD \(.own_ndp_types)"' <<<"$leaks"
	jq -c '.flows[:5][]' <<<"$leaks" | sed 's/^/#   leak: /'
}

# transfer_start SECS RATE: iperf3 from the host to srv1 for SECS at
# RATE in the background (its PID in $TRANSFER), the host's neighbour
# cache flushed first (a check); 2 s later A is the address of the
# identity it runs on ("null" if none).
transfer_start() {
	check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0
	tb_host iperf3 -c "$SRV1" -t "$1" -b "$2" >/dev/null 2>&1 &
	TRANSFER=$!
	sleep 2
	A=$(psv_flow_ipv4 5201)
}

# flow_out ROWS PROTO REMOTE PORT: FLOW is the JSON array of the rows of
# ROWS (observe.py flows --json) for that flow that sent frames (PORT
# null for ICMP); a comment line shows them.
flow_out() {
	FLOW=$(jq --arg p "$2" --arg r "$3" --argjson port "$4" \
		'[.flows[] | select(.proto == $p and .remote_ip == $r and
		  .remote_port == $port and .frames_out > 0)]' <<<"$1")
	echo "#   $2 $3 $4: $(jq -c '[.[] | {mac, ip, frames_out, frames_in}]' <<<"$FLOW")"
}

# curl_to ARGS...: curl on the host; prints "rc ms remote_ip" (curl's exit
# status, the milliseconds it took, the address it reached) and leaves
# curl's error in $TB_DIR/curl.err.
curl_to() {
	local t0 t1 out rc
	t0=$(date +%s%N)
	out=$(tb_host curl -sS -m 5 -o /dev/null -w '%{remote_ip}' "$@" \
		2>"$TB_DIR/curl.err")
	rc=$?
	t1=$(date +%s%N)
	echo "$rc $(((t1 - t0) / 1000000)) ${out:--}"
}

# tcp_connects IP: the host opens a TCP connection to IP's iperf3 port
# (5201) within 5 s and closes it: a new flow, a group of its own, that
# needs nothing of the server but the handshake.  tcp_connect_fails IP:
# it does not (for check).
tcp_connects() { tb_host timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/5201"' _ "$1"; }
tcp_connect_fails() { ! tcp_connects "$1"; }

# check_counted COUNTER DESC CMD...: the check DESC by CMD's exit status,
# then the check that psvd's counter COUNTER rose meanwhile (the outcome
# was counted where psvctl stats shows it).
check_counted() {
	local counter=$1 desc=$2 before after
	shift 2
	before=$(psv_counter "$counter")
	check "$desc" "$@"
	after=$(psv_counter "$counter")
	check "counted as $counter ($before -> $after)" is "${after:-0} > ${before:-0}"
}

# check_refills READY SECS: the checks that psvd's pool refills by itself
# to READY ready identities within SECS seconds (once the DHCP server is
# back, its range widened) and that a new flow then works.
check_refills() {
	local t0
	t0=$(date +%s)
	check "the pool refills by itself (to $1 ready within $2 s)" psv_wait_ready "$1" "$2"
	echo "#   $(psv_ready) ready after $(($(date +%s) - t0)) s"
	check "a new flow works again" tcp_connects "$SRV2"
}

# check_transfer_kept PID ADDR: the checks that the transfer PID (an
# iperf3 client, to port 5201) still runs and that psvd lists its flows,
# all on the identity ADDR it had before.
check_transfer_kept() {
	check "the transfer still runs" kill -0 "$1"
	check "the transfer kept its identity" \
		holds --arg a "$2" '[.[] | select(.remote_port == 5201)] | length >= 1 and all(.ipv4 == $a)' \
		< <(psv_ctl flows --json)
}

if [ "${1:-}" != --no-testbed ]; then
	psv_testbed "$@"
fi
