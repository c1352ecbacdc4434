#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End to end, static pool: real applications on the psv host reach the
# servers while the observer sees a distinct MAC+IP per flow key, never the
# host's real MAC or IP on a virtualized flow, and valid checksums; after
# SIGTERM nothing of psv stays attached or pinned.
# INGRESS=xdp runs the reverse path in XDP (generic mode on the veth)
# instead of the automatic choice (TC ingress on a veth).
INGRESS=${INGRESS:-auto}
# A long lease: no DHCP renewal of the host (nor its ARP) during the test,
# so every ARP frame with the real MAC or IP counts as a leak.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600

tb_capture_start
check "psvd starts with a static pool of 8 ready identities" \
	psv_start "$(psv_static_conf 8 40 pool.idle_retire=300 policy.default=flow \
		policy.on_exhausted=drop dataplane.ingress="$INGRESS")"

ids=$(psv_ctl identities --json)
check "identities --json has the contract's fields" \
	holds 'length >= 4 and all(.[]; has("id") and has("mac") and has("ipv4")
		and has("state") and has("flows") and has("lease_expires"))' <<<"$ids"
check "no identity uses the host's MAC or IP" \
	holds --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
	'all(.[]; .mac != $m and .ipv4 != $i)' <<<"$ids"

# Each identity asked for the gateway when it became ready, so the gateway
# knows it before its first flow: the first reply waits for no ARP.
gw_knows() {
	local ip mac
	while read -r ip mac; do
		ip -n "$TB_GW" neigh show "$ip" | grep -q "lladdr $mac" || return 1
	done < <(jq -r '.[] | select(.state == "ready") | "\(.ipv4) \(.mac)"' <<<"$ids")
}
check "the gateway has a neighbour entry for every ready identity" gw_knows

# Real applications.  Two curls to srv1:80 are two TCP connections to one
# server port: they must share an identity.  The host forgets the
# gateway's MAC first: the kernel then asks for it in the name of the
# first identity that sends.
tb_host ip neigh flush dev eth0
check "curl srv1 (1st connection)" tb_host curl -sf -o /dev/null http://198.51.100.10/
check "curl srv1 (2nd connection)" tb_host curl -sf -o /dev/null http://198.51.100.10/index.html
check "curl srv2" tb_host curl -sf -o /dev/null http://198.51.100.20/
check "ping srv1" tb_host ping -c 2 -i 0.2 -W 2 198.51.100.10
check "ping srv2" tb_host ping -c 2 -i 0.2 -W 2 198.51.100.20
check "dig srv1.psv.test" bash -c "[ \"\$(ip netns exec $TB_HOST dig +short +time=2 +tries=2 @192.0.2.1 srv1.psv.test)\" = 198.51.100.10 ]"
check "iperf3 to srv1 for 2 s" tb_host iperf3 -c 198.51.100.10 -t 2 -b 100M -J --logfile "$TB_DIR/iperf3.json"

# ICMP errors from the routers quote a virtualized flow: they come back to
# its identity and reach traceroute.  UDP probes each have their own key
# (destination port), so each takes an identity of its own.
hops() { tb_host traceroute -n -q 1 -w 2 -m 5 "$@" 198.51.100.10 | awk 'NR > 1 {print $2}' | paste -sd' '; }
check "traceroute -I (ICMP) shows both routers and the server" \
	[ "$(hops -I)" = "192.0.2.1 203.0.113.2 198.51.100.10" ]
check "UDP traceroute shows both routers and the server" \
	[ "$(hops)" = "192.0.2.1 203.0.113.2 198.51.100.10" ]
check "the routers' ICMP errors were translated" holds '.ingress_icmp_error >= 4' < <(psv_ctl stats --json)
flows=$(psv_ctl flows --json)
check "flows --json has the contract's fields" \
	holds 'length >= 1 and all(.[]; has("proto") and has("local_port") and
		has("remote_ip") and has("remote_port") and has("identity") and
		has("mac") and has("ipv4") and has("app"))' <<<"$flows"
stats=$(psv_ctl stats --json)
jq -c '{sock_bound, sock_src_set, sock_unbound_port, sock_unbound_route,
	sock_unbound_local, sock_bind_failed, egress_new_conn,
	egress_nat_unbound, egress_nat_unhooked, egress_identity_mac,
	egress_arp_identity, ingress_identity_mac, ingress_translated}' \
	<<<"$stats" | sed 's/^/#   /'
# curl x3 and iperf3's two connections are bound at connect(); only the
# pings (unconnected ICMP sockets pass no hook) are translated.
check "the TCP flows took the socket path" holds '.sock_bound >= 5' <<<"$stats"
check "their frames left with only the identity's MAC set" \
	holds '.egress_identity_mac > 0 and .ingress_identity_mac > 0' <<<"$stats"
check "the kernel's ARP in the identities' name was given their MAC" \
	holds '.egress_arp_identity > 0' <<<"$stats"
check "egress translated the pings" holds '.egress_translated > 0' <<<"$stats"
check "ingress translated their replies" holds '.ingress_translated > 0' <<<"$stats"

check "the observer's capture is complete" tb_capture_stop
view=$("$OBS" flows "$TB_PCAP" --json)
echo "$view" | jq -r '.flows[] | "#   \(.proto) \(.mac) \(.ip) -> \(.remote_ip):\(.remote_port // .icmp_type)"'

# Identity (mac ip) the observer saw for traffic to a remote endpoint.
seen() {
	jq -r --arg r "$1" --arg p "$2" --arg port "${3:-}" \
		'[.flows[] | select(.remote_ip == $r and .proto == $p and
		  ($port == "" or (.remote_port|tostring) == $port)) |
		  "\(.mac) \(.ip)"] | unique | .[]' <<<"$view"
}
http1=$(seen 198.51.100.10 tcp 80)
http2=$(seen 198.51.100.20 tcp 80)
icmp1=$(seen 198.51.100.10 icmp)
icmp2=$(seen 198.51.100.20 icmp)
dns=$(seen 192.0.2.1 udp 53)
iperf=$(seen 198.51.100.10 tcp 5201)
check "both connections to srv1:80 used one identity" [ "$(wc -l <<<"$http1")" = 1 ]
for v in "$http1" "$http2" "$icmp1" "$icmp2" "$dns" "$iperf"; do
	[ -n "$v" ] || not_ok "a flow is missing from the capture"
done
check "six flow keys, six distinct identities" \
	[ "$(printf '%s\n' "$http1" "$http2" "$icmp1" "$icmp2" "$dns" "$iperf" | sort -u | wc -l)" = 6 ]
check "no virtualized flow carried the host's MAC" \
	bash -c "! grep -q -- '$TB_HOST_MAC' <<<'$http1 $http2 $icmp1 $icmp2 $dns $iperf'"
check "no virtualized flow carried the host's IP" \
	bash -c "! grep -qw -- '$TB_HOST_IP' <<<'$http1 $http2 $icmp1 $icmp2 $dns $iperf'"
check_no_leak "the observer saw no frame with the real MAC or IP (ARP counted, the host's DHCP aside)" --no-dhcp
sums=$("$OBS" checksums "$TB_PCAP" --json)
check "every checksum in the capture is valid" \
	holds '([.bad[]] | add) == 0' <<<"$sums"
jq -c '.bad_frames[:5][]' <<<"$sums" | sed 's/^/#   bad checksum: /'

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
check "no TC filter left on eth0" bash -c "[ -z \"\$(ip netns exec $TB_HOST tc filter show dev eth0 egress; ip netns exec $TB_HOST tc filter show dev eth0 ingress)\" ]"
if [ "$INGRESS" = xdp ]; then
	check "psvd attached generic XDP on the veth" grep -q "attached TC egress and generic XDP ingress" "$TB_DIR/psvd.log"
else
	check "psvd chose TC ingress on the veth" grep -q "attached TC egress and TC ingress" "$TB_DIR/psvd.log"
fi
check "no XDP program left on eth0" bash -c "! ip netns exec $TB_HOST ip link show dev eth0 | grep -q xdp"
check "no pins left" [ ! -e $PSV_PIN_ROOT/eth0 ]
check "host traffic works again without psv" tb_host curl -sf -o /dev/null http://198.51.100.10/
