#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The DHCP server NAKs the identities' renewals: it restarts with another
# range (192.0.2.100-199 instead of 10-99; the host keeps its address by
# a reservation), so a renewal of an address from the old range gets
# DHCPNAK.  The
# server's T1 is 10 s (dhcp-option T1), so the renewals come within
# seconds, not after half an hour.  Pass: every identity of the old range
# is NAKed and retired (counted as dhcp_naks, logged as "retired: nak"):
# gone from the identities, its local route removed, no DHCP from its
# MAC after the NAK (nothing to release) and no frame from its MAC or
# address later than 500 ms after it; the transfer on one of them ends
# (its socket is destroyed: the address is someone else's now); the pool
# refills from the new range and a new flow takes such an identity;
# nothing leaks.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
tb_dhcp_range 10 99
echo "dhcp-option=option:T1,10" >>"$TB_DIR/dnsmasq.conf"
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with T1 = 10 s and the range 192.0.2.10-99" tb_dhcp_start
check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 8)"
tb_capture_start
transfer_start 30 1M
old=$(psv_ctl identities --json | jq -c '[.[] | {ipv4, mac}]')
n_old=$(jq length <<<"$old")
A_MAC=$(jq -r --arg a "$A" '.[] | select(.ipv4 == $a) | .mac' <<<"$old")
echo "#   identities before: $old; the transfer's: $A $A_MAC"
check "the transfer runs on an identity ($A)" bash -c '[ -n "$1" ]' _ "$A_MAC"
naks0=$(psv_counter dhcp_naks)

tb_dhcp_range 100 199
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with the range 192.0.2.100-199" tb_dhcp_start
t0=$(date +%s%N)
for ((i = 0; i < 250; i++)); do [ "$(psv_holding "$old")" = 0 ] && break; sleep 0.1; done
t1=$(date +%s%N)
echo "#   every old identity gone $(((t1 - t0) / 1000000)) ms after the server's restart"
left=$(psv_holding "$old")
check "no identity of the old range is left ($left)" is "$left == 0"
naks1=$(psv_counter dhcp_naks)
check "each was NAKed: dhcp_naks $naks0 -> $naks1 ($n_old identities)" \
	is "${naks1:-0} - ${naks0:-0} == $n_old"
nak_lines=$(grep -c "retired: nak" "$TB_DIR/psvd.log")
check "psvd logged each NAK ($nak_lines lines 'retired: nak')" is "$nak_lines == $n_old"
left=$(psv_routes_left "$old")
check "their local routes are removed ($left left)" is "$left == 0"
for ((i = 0; i < 50; i++)); do kill -0 "$TRANSFER" 2>/dev/null || break; sleep 0.1; done
check "the transfer on $A ended (its socket destroyed)" bash -c '! kill -0 "$1" 2>/dev/null' _ "$TRANSFER"
wait "$TRANSFER"
rc=$?
check "iperf3 reports the failure (exit $rc)" is "$rc != 0"
psv_wait_ready 2 10	# judged below, with where the addresses come from
new=$(psv_ctl identities --json | jq -c '[.[] | {ipv4, state}]')
echo "#   identities after: $new"
check "the pool refilled from the new range" holds \
	'([.[] | select(.state == "ready")] | length >= 2) and
	 all(.[]; .ipv4 | split(".")[3] | tonumber >= 100)' <<<"$new"
check "a new flow works" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
check "the host kept its address" \
	bash -c 'ip -n "$1" -4 -o addr show dev eth0 | grep -q " $2/24 "' _ "$TB_HOST" "$TB_HOST_IP"
check "the observer's capture is complete" tb_capture_stop

json=$("$OBS" flows "$TB_PCAP" --remote "$SRV2:80" --json)
check "the new flow left from the new range" holds \
	'[.flows[] | select(.frames_out > 0)] | length == 1 and
	 (.[0].ip | split(".")[3] | tonumber >= 100)' <<<"$json"
# Per old identity: its NAK, then anything from its MAC or address.
late=0
for mac in $(jq -r '.[].mac' <<<"$old"); do
	ip=$(jq -r --arg m "$mac" '.[] | select(.mac == $m) | .ipv4' <<<"$old")
	t_nak=$(tshark -r "$TB_PCAP" -Y "dhcp.option.dhcp == 6 && dhcp.hw.mac_addr == $mac" \
		-T fields -e frame.time_epoch 2>/dev/null | head -n 1)
	if [ -z "$t_nak" ]; then
		not_ok "the server NAKed $ip ($mac)"
		continue
	fi
	after=$(tshark -r "$TB_PCAP" -Y "(eth.src == $mac || ip.src == $ip) && frame.time_epoch > $t_nak" \
		-T fields -e frame.time_epoch -e _ws.col.Protocol 2>/dev/null)
	dhcp=$(grep -c "DHCP" <<<"$after")
	n=$(grep -c . <<<"$after")
	last=$(awk -v t="$t_nak" 'NF { l = ($1 - t) * 1000 } END { printf "%d", l }' <<<"$after")
	echo "#   $ip ($mac): $n frames after its NAK, the last $last ms after; $dhcp DHCP"
	check "no DHCP from $mac after its NAK" is "$dhcp == 0"
	[ "$last" -le 500 ] || late=$((late + 1))
done
check "no frame from a NAKed identity later than 500 ms after its NAK ($late)" is "$late == 0"
check_no_leak "no frame with the real MAC or IP" --no-dhcp
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
