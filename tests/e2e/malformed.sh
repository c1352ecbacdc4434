#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Malformed and hostile frames from the LAN (tests/testbed/inject.py, run
# by the observer): truncated headers, bad IHL and lengths, IP options,
# tiny, overlapping and orphan fragments, bad checksums, VLAN and
# priority tags, full-size and empty payloads, ARP with odd lengths,
# runts.  Aimed at an active and a ready identity (their own MACs), at
# an identity's address through the host's real MAC (the cross probe),
# and at the host's own address.  Pass: psvd stays up and answers, each
# frame is counted (the drops at identities exactly: the table below),
# the identities answer nothing, nothing carries the host's real MAC or
# IP, and the host's own traffic and a running transfer are unaffected.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
INJECT=tests/testbed/inject.py
COPIES=2
# Frames of one copy of each class psv drops when aimed at an identity:
# every one but a VLAN 5 frame (another L2 network, passed: the kernel
# drops it without a VLAN device), ARP for another protocol or hardware
# length (passed: the kernel's ARP ignores it) and a runt (passed: no
# Ethernet header to judge).
declare -A DROPS=([ip_truncated]=2 [tcp_truncated]=2 [bad_ihl]=2
	[bad_tot_len]=2 [ip_options]=2 [bad_checksum]=3 [tiny_fragments]=3
	[overlapping_fragments]=3 [orphan_fragment]=1 [zero_payload]=4
	[jumbo]=2 [vlan]=2 [arp_odd]=1 [runt]=0)
DROP_KEYS='.ingress_drop_parse + .ingress_drop_unsolicited + .ingress_drop_frag + .ingress_arp_dropped'
SEEN_KEYS="$DROP_KEYS + .ingress_pass + .ingress_host_conn + .ingress_arp_replied"

check "psvd starts with a static pool" psv_start "$(psv_static_conf 2 10)"
# A listener on every address of the host, so a probe that reached its
# stack through an identity would be answered (a SYN-ACK from port 22).
tb_host socat TCP-LISTEN:22,fork,reuseaddr EXEC:/bin/cat &
# A transfer that runs throughout, paced: its identity is the active one.
# iperf3 paced: a rate-limited curl would sit in a zero window, and nginx
# closes a connection whose window stays shut for 60 s.
tb_host iperf3 -c "$SRV1" -t 300 -b 2M >/dev/null 2>&1 &
transfer=$!
sleep 1
ids=$(psv_ctl identities --json)
A=$(jq -r '[.[] | select(.state == "active")][0].ipv4' <<<"$ids")
MAC_A=$(jq -r '[.[] | select(.state == "active")][0].mac' <<<"$ids")
B=$(jq -r '[.[] | select(.state == "ready")][0].ipv4' <<<"$ids")
MAC_B=$(jq -r '[.[] | select(.state == "ready")][0].mac' <<<"$ids")
check "the transfer took an identity ($A), another is ready ($B)" \
	bash -c '[ "$1" != null ] && [ "$2" != null ]' _ "$A" "$B"
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

# inject CLASS MAC IP EXPECTED: sends the class, then checks what psv
# counted.  EXPECTED: "drops" (an identity: exactly DROPS per copy) or
# "seen" (the host: every frame counted, passed or dropped).
inject() {
	local cls=$1 mac=$2 ip=$3 expect=$4 before after sent delta want
	before=$(psv_ctl stats --json)
	sent=$(tb_in "$TB_OBS" "$INJECT" eth0 "$cls" "$mac" "$ip" --count "$COPIES")
	sleep 0.1
	after=$(psv_ctl stats --json)
	if [ -z "$after" ]; then
		not_ok "$cls at $ip: psvctl stats answers"
		return
	fi
	if [ "$expect" = drops ]; then
		want=$((DROPS[$cls] * COPIES))
		delta=$(jq -n --argjson a "$after" --argjson b "$before" \
			"(\$a | $DROP_KEYS) - (\$b | $DROP_KEYS)")
		check "$cls at $ip ($mac): $sent frames, $want dropped and counted (counted $delta)" \
			[ "${delta:-x}" = "$want" ]
	else
		delta=$(jq -n --argjson a "$after" --argjson b "$before" \
			"(\$a | $SEEN_KEYS) - (\$b | $SEEN_KEYS)")
		check "$cls at $ip ($mac): $sent frames, each counted (counted $delta)" \
			is "${delta:-0} >= ${sent:-1}"
	fi
}

# Nothing from the identities but the transfer and ARP replies.
identities_silent() {
	local n
	n=$(tshark -r "$TB_PCAP" -Y "(eth.src == $MAC_A || eth.src == $MAC_B ||
		ip.src == $A || ip.src == $B) && !arp &&
		!(ip.src == $A && ip.dst == $SRV1 && tcp.srcport != 22)" 2>/dev/null | wc -l)
	echo "#   frames from the identities other than the transfer and ARP: $n"
	[ "$n" = 0 ]
}

classes=$("$INJECT" --list)
tb_capture_start
for cls in $classes; do
	inject "$cls" "$MAC_A" "$A" drops
	inject "$cls" "$MAC_B" "$B" drops
done
check "the observer's capture is complete" tb_capture_stop
check "the identities answered none of it" identities_silent
check_no_leak "no frame carried the host's real MAC or IP" --no-dhcp

# The cross probe and the host's own address: the host answers for
# itself, never through an identity.
tb_capture_start
for cls in $classes; do
	inject "$cls" "$TB_HOST_MAC" "$A" drops
	inject "$cls" "$TB_HOST_MAC" "$TB_HOST_IP" seen
done
check "the observer's capture is complete" tb_capture_stop
check "no identity answered the frames at the host's MAC" identities_silent

check "psvd is alive" kill -0 "$PSV_PID"
check "psvctl status answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)
check_transfer_kept "$transfer" "$A"
check "a new flow of the host works" tb_host curl -sf -o /dev/null "http://$SRV2/"
kill "$transfer" 2>/dev/null
wait "$transfer" 2>/dev/null
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
