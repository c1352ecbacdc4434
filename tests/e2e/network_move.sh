#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The host moves to another network while psvd runs (a laptop leaving
# home for a cafe): its link goes down, its DHCP client lets the address
# go, the LAN becomes another one (the gateway's LAN port renumbered from
# 192.0.2.1/24 and 2001:db8:1::1/64 to 203.0.113.129/25 and
# 2001:db8:4::1/64, its DHCP range 203.0.113.140-199, its router
# advertisements for 2001:db8:4::/64), the link comes up and the client
# takes an address there, while iperf3 runs on an identity of the old
# network.  The observer captures the new network from before the link
# comes up.  Pass: psvd logs the move once and counts it
# (network_moved); no identity of the old network is left; not one frame
# on the new network carries an old identity's MAC or IPv4 or IPv6
# address (no DHCPRELEASE, no ARP, no RST of its ended transfer), and
# there is no DHCPRELEASE at all; the transfer ends (its address is
# gone); the pool refills in the new subnet and prefix, and new flows
# (TCP over both families, ping through the NAT fallback) leave there
# from new identities; no frame carries the host's real MAC or
# addresses for them.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600 --ipv6
NEW_GW=203.0.113.129
NEW_LAN=203.0.113.128/25
NEW_LAN6=2001:db8:4::/64
# psvctl identities: each {mac, ipv4, state, ipv6: [addresses]}.
identities() {
	psv_ctl identities --json |
		jq -c '[.[] | {mac, ipv4, state, ipv6: (.ipv6 // [])}]'
}
# new_ready: how many identities are ready in the new subnet and prefix.
on_new='(.ipv4 | test("^203\\.0\\.113\\.(1[3-9][0-9]|2[0-5][0-9])$")) and
	any(.ipv6[]; startswith("2001:db8:4:"))'
new_ready() { identities | jq "[.[] | select(.state == \"ready\" and $on_new)] | length"; }

check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 8)"
transfer_start 60 1M
old=$(identities)
echo "#   identities of the old network: $old; the transfer's: $A"
check "the transfer runs on an identity ($A)" \
	bash -c '[ -n "$1" ] && [ "$1" != null ] && [ "$1" != "$2" ]' _ "$A" "$TB_HOST_IP"
check "the old identities have IPv6 addresses in 2001:db8:1::/64" \
	holds '([.[] | select(.state == "ready" and (.ipv6 | length) > 0)] |
		length >= 2) and all(.[].ipv6[]; startswith("2001:db8:1:"))' <<<"$old"

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
# Another network: the gateway's LAN port, DHCP range and advertised
# prefix renumbered.
check "the gateway leaves the old network" \
	bash -c 'ip -n "$1" addr del 192.0.2.1/24 dev lan &&
		 ip -n "$1" addr del 2001:db8:1::1/64 dev lan' _ "$TB_GW"
check "the gateway's LAN is $NEW_LAN and $NEW_LAN6" \
	bash -c 'ip -n "$1" addr add "$2/25" dev lan &&
		 ip -n "$1" addr add 2001:db8:4::1/64 dev lan' _ "$TB_GW" "$NEW_GW"
check "r2 routes them through the gateway" \
	bash -c 'ip -n "$1" route add "$2" via 203.0.113.1 &&
		 ip -n "$1" route add "$3" via 2001:db8:2::1' _ "$TB_R2" "$NEW_LAN" "$NEW_LAN6"
sed -i -e "s/^dhcp-range=192.*/dhcp-range=203.0.113.140,203.0.113.199,255.255.255.128,3600/" \
	-e "s/^dhcp-range=2001:db8:1::,/dhcp-range=2001:db8:4::,/" \
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

for ((i = 0; i < 200; i++)); do
	[ "$(new_ready)" -ge 2 ] && break
	sleep 0.1
done
ids=$(identities)
echo "#   identities after the move: $ids"
check "psvd still runs" kill -0 "$PSV_PID"
check "no identity of the old network is left" holds --argjson old "$old" \
	'all(.[]; . as $i | $old | all(.mac != $i.mac and .ipv4 != $i.ipv4 and
	 (.ipv6 - $i.ipv6) == .ipv6))' <<<"$ids"
check "two identities are ready in the new subnet and prefix" \
	holds "[.[] | select(.state == \"ready\" and $on_new)] | length >= 2" <<<"$ids"
moves=$(grep -c "moved to another network" "$TB_DIR/psvd.log")
grep "moved to another network" "$TB_DIR/psvd.log" | sed 's/^/#   log: /'
check "psvd logged the move once ($moves)" is "$moves == 1"
check "counted: network_moved 1" holds '.network_moved == 1' < <(psv_ctl stats --json)
check "psvd's dataplane knows the host's new address" \
	holds --arg a "$NEW" '.host_ip == $a' < <(psv_ctl status --json)
for ((i = 0; i < 50; i++)); do kill -0 "$TRANSFER" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$TRANSFER" 2>/dev/null; then
	not_ok "the transfer on $A ended (its address is gone)"
	kill "$TRANSFER"	# a stalled iperf3 waits forever
	wait "$TRANSFER"
else
	ok "the transfer on $A ended (its address is gone)"
	wait "$TRANSFER"
	rc=$?
	check "iperf3 reports the failure (exit $rc)" is "$rc != 0"
fi
check "a new flow works" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
check "a new IPv6 flow works" tb_host curl -sf -m 5 -o /dev/null "http://[$TB_SRV2_IP6]/"
check "ping (the NAT fallback) works" tb_host ping -c 2 -W 2 "$SRV2"
NEW6=$(ip -n "$TB_HOST" -6 -o addr show dev eth0 scope global |
	awk '{sub(/\/.*/, "", $4)} index($4, "2001:db8:4:") == 1 {print $4; exit}')
echo "#   the host's own addresses now: $NEW ${NEW6:-(no IPv6 in $NEW_LAN6)}"
check "the observer's capture is complete" tb_capture_stop

lan=(--lan "$NEW_LAN" --lan "$NEW_LAN6")
rows=$("$OBS" flows "$TB_PCAP" "${lan[@]}" --json)
for f in "tcp $SRV2 80" "icmp $SRV2 null" "tcp $TB_SRV2_IP6 80"; do
	set -- $f
	flow_out "$rows" "$@"
	check "$1 to $2 left from one new identity on the new network" \
		holds --arg m "$TB_HOST_MAC" --argjson old "$old" \
		'length == 1 and .[0].mac != $m and
		 (.[0].ip | test("^203\\.0\\.113\\.1[4-9][0-9]$|^2001:db8:4:")) and
		 (.[0].mac as $i | $old | all(.mac != $i))' <<<"$FLOW"
done
# Every old identity: not one frame with its MAC or addresses, whatever
# it is (its own ARP, DHCP and neighbour discovery included).
for mac in $(jq -r '.[].mac' <<<"$old"); do
	args=(--mac "$mac")
	for a in $(jq -r --arg m "$mac" '.[] | select(.mac == $m) |
		(.ipv4 // empty), .ipv6[]' <<<"$old"); do
		args+=(--ip "$a")
	done
	n=$("$OBS" leaks "$TB_PCAP" "${args[@]}" --json |
		jq '.frames + .own_arp + .own_ndp')
	check "no frame on the new network carries the old identity ${args[*]}: $n" \
		is "${n:-1} == 0"
done
releases=$(tshark -r "$TB_PCAP" -Y 'dhcp.option.dhcp == 7' 2>/dev/null | wc -l)
check "no DHCPRELEASE on the new network ($releases)" is "$releases == 0"
own=(--ip "$NEW")
[ -n "$NEW6" ] && own+=(--ip "$NEW6")
check_no_leak "no frame with the real MAC or any of the host's addresses" \
	--no-dhcp "${own[@]}" "${lan[@]}"
psv_ctl stats --json | jq -r '"#   egress dropped: \(.egress_drop_no_identity) frames of retired identities, \(.egress_drop_arp) ARP"'
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
