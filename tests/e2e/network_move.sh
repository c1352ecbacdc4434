#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The host moves to another network while psvd runs (a laptop leaving
# home for a cafe): its link goes down, its DHCP client lets the address
# go, the LAN becomes another one (the gateway's LAN port renumbered from
# 192.0.2.1/24 to 203.0.113.129/25, its DHCP range 203.0.113.140-199),
# the link comes up and the client takes an address there, while
# iperf3 runs on an identity of the old network.  The observer captures
# the new network from before the link comes up.  Pass: psvd logs the
# move once and counts it (network_moved), no identity of the old
# network is left; not one frame on the new network carries an old
# identity's MAC or address (no DHCPRELEASE, no ARP, no RST of its ended
# transfer), and there is no DHCPRELEASE at all; the transfer ends (its
# address is gone); the pool refills in the new subnet and new flows (TCP,
# ping through the NAT fallback) leave there from new identities; no
# frame carries the host's real MAC or address for them.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
NEW_GW=203.0.113.129
check "psvd starts with 2 DHCP identities" psv_start "$(psv_conf_dhcp)"
transfer_start 60 1M
old=$(psv_ctl identities --json | jq -c '[.[] | {ipv4, mac}]')
echo "#   identities of the old network: $old; the transfer's: $A"
check "the transfer runs on an identity ($A)" \
	bash -c '[ -n "$1" ] && [ "$1" != null ] && [ "$1" != "$2" ]' _ "$A" "$TB_HOST_IP"

# Away: the link goes down and the host's DHCP client lets its address
# go (its DHCPRELEASE is lost with the link).
check "the host's link goes down" ip -n "$TB_LAN" link set host down
kill -USR2 "$(cat "$TB_DIR/pids/udhcpc.pid")"
for ((i = 0; i < 50; i++)); do
	[ -z "$(ip -n "$TB_HOST" -4 -o addr show dev eth0)" ] && break
	sleep 0.1
done
check "the host's DHCP client let its address go" \
	bash -c '[ -z "$(ip -n "$1" -4 -o addr show dev eth0)" ]' _ "$TB_HOST"
# Another network: the gateway's LAN port and DHCP range renumbered.
check "the gateway leaves 192.0.2.0/24" ip -n "$TB_GW" addr del 192.0.2.1/24 dev lan
check "the gateway's LAN is 203.0.113.128/25" \
	ip -n "$TB_GW" addr add "$NEW_GW/25" dev lan
check "r2 routes it through the gateway" \
	ip -n "$TB_R2" route add 203.0.113.128/25 via 203.0.113.1
sed -i -e "s/^dhcp-range=192.*/dhcp-range=203.0.113.140,203.0.113.199,255.255.255.128,3600/" \
	-e "s/^dhcp-option=option:router,.*/dhcp-option=option:router,$NEW_GW/" \
	-e "s/^dhcp-option=option:dns-server,.*/dhcp-option=option:dns-server,$NEW_GW/" \
	"$TB_DIR/dnsmasq.conf"
check "the DHCP server stops" tb_dhcp_stop
check "it serves the new network" tb_dhcp_start "$NEW_GW"
# From here on the observer sees the new network.
tb_capture_start 256
check "the host's link comes up on the new network" ip -n "$TB_LAN" link set host up
bridge -n "$TB_LAN" link set dev host learning off
rm -f "$TB_DIR/host.ip"
kill -USR1 "$(cat "$TB_DIR/pids/udhcpc.pid")"
for ((i = 0; i < 150; i++)); do
	[ -s "$TB_DIR/host.ip" ] && break
	sleep 0.1
done
NEW=$(cat "$TB_DIR/host.ip" 2>/dev/null)
check "the host's DHCP client took an address on the new network ($NEW)" \
	bash -c 'ip -n "$1" -4 -o addr show dev eth0 | grep -q " $2/25 "' _ "$TB_HOST" "$NEW"

# in_new IP: whether IP is in 203.0.113.128/25.
in_new='test("^203\\.0\\.113\\.(1[3-9][0-9]|2[0-5][0-9])$")'
for ((i = 0; i < 100; i++)); do
	[ "$(psv_ctl identities --json | jq "[.[] | select(.state == \"ready\" and (.ipv4 | $in_new))] | length")" -ge 2 ] && break
	sleep 0.1
done
ids=$(psv_ctl identities --json | jq -c '[.[] | {ipv4, mac, state}]')
echo "#   identities after the move: $ids"
check "psvd still runs" kill -0 "$PSV_PID"
check "no identity of the old network is left" holds --argjson old "$old" \
	'all(.[]; . as $i | $old | all(.mac != $i.mac and .ipv4 != $i.ipv4))' <<<"$ids"
check "two identities are ready on the new network" \
	holds "[.[] | select(.state == \"ready\" and (.ipv4 | $in_new))] | length >= 2" <<<"$ids"
moves=$(grep -c "moved to another network" "$TB_DIR/psvd.log")
grep "moved to another network" "$TB_DIR/psvd.log" | sed 's/^/#   log: /'
check "psvd logged the move once ($moves)" is "$moves == 1"
check "counted: network_moved 1" holds '.network_moved == 1' < <(psv_ctl stats --json)
check "psvd's dataplane knows the host's new address" \
	holds --arg a "$NEW" '.host_ip == $a' < <(psv_ctl status --json)
for ((i = 0; i < 50; i++)); do kill -0 "$transfer" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$transfer" 2>/dev/null; then
	not_ok "the transfer on $A ended (its address is gone)"
	kill "$transfer"	# a stalled iperf3 waits forever
	wait "$transfer"
else
	ok "the transfer on $A ended (its address is gone)"
	wait "$transfer"
	rc=$?
	check "iperf3 reports the failure (exit $rc)" is "$rc != 0"
fi
check "a new flow works" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
check "ping (the NAT fallback) works" tb_host ping -c 2 -W 2 "$SRV2"
check "the observer's capture is complete" tb_capture_stop

rows=$("$OBS" flows "$TB_PCAP" --lan 203.0.113.128/25 --json)
for f in "tcp 80" "icmp null"; do
	set -- $f
	json=$(jq --arg p "$1" --arg r "$SRV2" --argjson port "$2" \
		'[.flows[] | select(.proto == $p and .remote_ip == $r and
		  .remote_port == $port and .frames_out > 0)]' <<<"$rows")
	echo "#   $f: $(jq -c '[.[] | {mac, ip, frames_out, frames_in}]' <<<"$json")"
	check "$1 to srv2 left from one new identity on the new network" \
		holds --arg m "$TB_HOST_MAC" --arg n "$NEW" --argjson old "$old" \
		"length == 1 and .[0].mac != \$m and .[0].ip != \$n and
		 (.[0].ip | $in_new) and
		 (.[0].mac as \$i | \$old | all(.mac != \$i))" <<<"$json"
done
# Every old identity: not one frame with its MAC or address, whatever
# it is (its own ARP and DHCP included).
for mac in $(jq -r '.[].mac' <<<"$old"); do
	ip=$(jq -r --arg m "$mac" '.[] | select(.mac == $m) | .ipv4 // empty' <<<"$old")
	args=(--mac "$mac")
	[ -n "$ip" ] && args+=(--ip "$ip")
	n=$("$OBS" leaks "$TB_PCAP" "${args[@]}" --json |
		jq '.frames + .own_arp + .own_ndp')
	check "no frame on the new network carries the old identity ${ip:-acquiring} ($mac): $n" \
		is "${n:-1} == 0"
done
releases=$(tshark -r "$TB_PCAP" -Y 'dhcp.option.dhcp == 7' 2>/dev/null | wc -l)
check "no DHCPRELEASE on the new network ($releases)" is "$releases == 0"
check_no_leak "no frame with the real MAC, the old or the new address" --no-dhcp \
	--ip "$NEW" --lan 203.0.113.128/25
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
