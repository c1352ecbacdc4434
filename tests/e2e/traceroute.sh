#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# traceroute (UDP, ICMP -I, TCP -T) and tracepath from the psv host to
# srv1, through the testbed's two routers (gw 192.0.2.1, r2 203.0.113.2):
# every one lists both routers and the destination, so the routers' ICMP
# errors (and srv1's answers) reached the tool on its identity; the
# observer saw no frame with the host's real MAC or IP (ARP counted).
# UDP probes and tracepath's are a flow key each: an identity each under
# the default per-flow policy, so the pool keeps 16 ready.
# A long lease: no DHCP renewal of the host (and its ARP) during the test.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
WANT="192.0.2.1 203.0.113.2 $SRV1"
tb_capture_start
check "psvd starts with 16 ready identities" \
	psv_start "$(psv_static_conf 16 50 pool.pace_ms=20 policy.default=flow policy.on_exhausted=drop)"
# The host resolved the gateway before psvd started: forget it, so the
# kernel's ARP for it happens while psvd runs and the observer judges it.
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

# hops TOOL-ARGS...: the hop addresses a traceroute printed, one probe each.
hops() {
	tb_host timeout 30 traceroute -n -q 1 -w 2 -m 6 "$@" $SRV1 2>"$TB_DIR/tr.err" |
		tee -a "$TB_DIR/tr.out" | awk 'NR > 1 {print $2}' | paste -sd' '
}
tr_check() {
	local what=$1 got
	shift
	psv_wait_ready 16 10 2>/dev/null
	got=$(hops "$@")
	check "traceroute $what lists gw, r2 and srv1 (got: $got)" [ "$got" = "$WANT" ]
}
tr_check "(UDP)"
tr_check "-I (ICMP)" -I
tr_check "-T (TCP to port 80)" -T -p 80
psv_wait_ready 16 10 2>/dev/null
tb_host timeout 60 tracepath -n $SRV1 >"$TB_DIR/tracepath.out" 2>&1
tp=$(awk '$1 ~ /^[0-9]+:$/ && $2 != "no" {print $2}' "$TB_DIR/tracepath.out" | awk '!seen[$0]++' | paste -sd' ')
check "tracepath lists gw, r2 and srv1 (got: $tp)" [ "$tp" = "$WANT" ]
check "tracepath reached srv1" grep -q "reached" "$TB_DIR/tracepath.out"
sed 's/^/#   /' "$TB_DIR/tr.out" "$TB_DIR/tracepath.out"

check "the observer's capture is complete" tb_capture_stop
seen=$($OBS flows "$TB_PCAP" --remote $SRV1 --json)
check "the routers' errors went to identities (gw and r2 among error sources)" \
	holds --arg m "$TB_HOST_MAC" '[.flows[] | select(.mac != $m) | .error_sources[]] |
		index("192.0.2.1") != null and index("203.0.113.2") != null' <<<"$seen"
check_no_leak "no frame carried the real MAC or IP (ARP counted, the host's DHCP aside)" --no-dhcp

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
