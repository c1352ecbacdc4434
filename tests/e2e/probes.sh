#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An active adversary on the LAN (the observer, with nmap) probes every
# identity's address (one with a running transfer, the ready ones), an
# address of the pool psv never used, and the host's own address.  Pass:
# the TCP SYN, UDP and ping scans give the same answer for every
# identity and for the unused address (no RST, no ICMP: nothing), ARP
# finds each identity at its own MAC and nothing at the unused address,
# and only the host's own address shows the host's open port; the drops
# are counted.
. "$(dirname "$0")/../testbed/prelude.sh"
check "psvd starts with a static pool" psv_start "
[pool]
source = static
static = 192.0.2.200-192.0.2.208
ready = 3
max = 9"
# A port the host serves on every address: only its own may show it.
tb_host socat TCP-LISTEN:22,fork,reuseaddr EXEC:/bin/cat &
# iperf3 paced: a rate-limited curl would sit in a zero window, and nginx
# closes a connection whose window stays shut for 60 s.
tb_host iperf3 -c "$SRV1" -t 300 -b 2M >/dev/null 2>&1 &
transfer=$!
sleep 1
ids=$(psv_ctl identities --json)
mapfile -t ADDRS < <(jq -r '.[] | select(.state == "active" or .state == "ready") | .ipv4' <<<"$ids")
UNUSED=192.0.2.209
check "an active and three ready identities (${ADDRS[*]})" \
	holds '[.[] | select(.state == "active")] | length == 1' <<<"$ids"
check "the unused address $UNUSED is no identity's" \
	holds --arg u "$UNUSED" 'all(.ipv4 != $u)' <<<"$ids"
# Apart from ARP: the unused address gets a neighbour entry (a MAC
# nobody has) so IP probes reach the wire, and nmap sends through the
# kernel (--send-ip) for every address alike.
check "the observer knows a MAC for the unused address" \
	ip -n "$TB_OBS" neigh replace "$UNUSED" lladdr 02:00:00:00:02:09 nud permanent dev eth0
before=$(psv_ctl stats --json)

# nmap's view per address: "ADDRESS RESULT", the address taken out of
# RESULT so that results compare.
scan() {
	tb_in "$TB_OBS" nmap -n -Pn --send-ip --max-retries 1 "$@" -oG - 2>/dev/null |
		sed -n 's/^Host: \([0-9.]*\) ().*Ports: \(.*\)$/\1 \2/p' |
		sed 's/\tIgnored State.*//'
}
# The result for one address ("none" if nmap printed no line for it).
result() { awk -v a="$2" '$1 == a { $1 = ""; print substr($0, 2); f = 1 } END { if (!f) print "none" }' <<<"$1"; }
# Every identity's address and the unused one got the same result R.
same_for_all() {
	local out=$1 ip want
	want=$(result "$out" "$UNUSED")
	echo "#   $UNUSED: $want"
	for ip in "${ADDRS[@]}"; do
		[ "$(result "$out" "$ip")" = "$want" ] ||
			{ echo "#   $ip: $(result "$out" "$ip")"; return 1; }
	done
}

tcp=$(scan -sS -p 22,80,443,5201 "${ADDRS[@]}" "$UNUSED" "$TB_HOST_IP")
check "TCP SYN scan: every identity as the unused address" same_for_all "$tcp"
check "TCP SYN scan: every port of the unused address filtered (no RST)" \
	bash -c '! grep -qE "/(open|closed)/" <<<"$1" && grep -q 22/filtered <<<"$1"' _ "$(result "$tcp" "$UNUSED")"
echo "#   $TB_HOST_IP: $(result "$tcp" "$TB_HOST_IP")"
check "TCP SYN scan: the host's own address shows its open port 22" \
	grep -q '22/open/' <<<"$(result "$tcp" "$TB_HOST_IP")"

udp=$(scan -sU -p 53,161,5353 "${ADDRS[@]}" "$UNUSED")
check "UDP scan: every identity as the unused address" same_for_all "$udp"
check "UDP scan: no port unreachable" \
	bash -c '! grep -q /closed/ <<<"$1"' _ "$udp"

pings=$(tb_in "$TB_OBS" nmap -n -sn -PE --send-ip "${ADDRS[@]}" "$UNUSED" -oG - 2>/dev/null | grep -c 'Status: Up')
check "ping scan: no identity answers, as the unused address ($pings up)" is "$pings == 0"

# nmap's ARP ping: "ADDRESS MAC" for each address that answered.
arp=$(tb_in "$TB_OBS" nmap -n -sn -PR "${ADDRS[@]}" "$UNUSED" 2>/dev/null |
	awk '/^Nmap scan report for/ { ip = $5 } /^MAC Address:/ { print ip, tolower($3) }')
for ip in "${ADDRS[@]}"; do
	mac=$(jq -r --arg i "$ip" '.[] | select(.ipv4 == $i) | .mac' <<<"$ids")
	check "ARP scan: $ip at its own MAC $mac" grep -qx "$ip $mac" <<<"$arp"
done
check "ARP scan: nothing at the unused address" bash -c '! grep -q "^$1 " <<<"$2"' _ "$UNUSED" "$arp"

after=$(psv_ctl stats --json)
check "the unsolicited probes were dropped and counted" \
	is "$(jq -n --argjson a "$after" --argjson b "$before" '$a.ingress_drop_unsolicited - $b.ingress_drop_unsolicited') >= $(( ${#ADDRS[@]} * (4 + 3 + 1) ))"
check "the transfer ran through the scans" kill -0 "$transfer"
kill "$transfer" 2>/dev/null
wait "$transfer" 2>/dev/null
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
