#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `[policy] ipv6 = block` (and the behaviour of virtualize while an
# identity has no IPv6 address): on a
# dual-stack LAN (tb_up --ipv6, the host has a SLAAC address) a virtualized
# IPv6 socket is refused at connect()/sendmsg() at once (EPERM), so
# applications fall back to IPv4 (Happy Eyeballs) and go out virtualized;
# egress drops every other IPv6 frame of the host (a raw socket's), and the
# observer sees no IPv6 frame with the host's MAC or address except its own
# neighbour discovery and MLD.  Then `[policy] ipv6 = host` lets IPv6
# through untouched (the explicit opt-out).
# A long lease: no DHCP renewal of the host (nor its ARP) during the test.
. "$(dirname "$0")/../testbed/prelude.sh" --ipv6 --lease 3600
echo "# host $TB_HOST_MAC $TB_HOST_IP $TB_HOST_IP6 $TB_HOST_LL6"

CONF=$(psv_static_conf 4 20 policy.default=flow)
# The policy under test is named: the default is virtualize.
BLOCK="$CONF
ipv6 = block"

# The testbed without psv: IPv6 works and is preferred.
read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV1_IP6]/")
check "without psv: curl -6 reaches srv1 over IPv6 (rc $rc, $ip)" \
	[ "$rc $ip" = "0 $TB_SRV1_IP6" ]
read -r rc ms ip < <(curl_to http://srv1.psv.test/)
check "without psv: curl srv1.psv.test (A and AAAA) prefers IPv6 (rc $rc, $ip)" \
	[ "$rc $ip" = "0 $TB_SRV1_IP6" ]

tb_capture_start
check "psvd starts with [policy] ipv6 = block" psv_start "$BLOCK"
# Debian's default SLAAC address (the testbed keeps it) contains the MAC.
check "psvctl status says the host's own IPv6 address contains its MAC" \
	holds '.psvd.host_ipv6_eui64 > 0' < <(psv_ctl status --json)

read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV1_IP6]/")
err=$(cat "$TB_DIR/curl.err")
echo "#   curl -6: rc $rc in $ms ms: $err"
check "curl -6 http://[$TB_SRV1_IP6]/ fails" [ "$rc" != 0 ]
check "... fast: $ms ms (< 2000)" is "$ms < 2000"
check "... refused at connect() (EPERM, or curl's exit 7)" \
	bash -c '[ "$1" = 7 ] || grep -qE "Permission denied|Operation not permitted" <<<"$2"' _ "$rc" "$err"

read -r rc ms ip < <(curl_to http://srv1.psv.test/)
check "curl http://srv1.psv.test/ (A and AAAA) succeeds (rc $rc, $ms ms)" [ "$rc" = 0 ]
check "... over IPv4: remote $ip" [ "$ip" = "$TB_SRV1_IP" ]
check "... without waiting for IPv6 ($ms ms < 2000)" is "$ms < 2000"
read -r rc ms ip < <(curl_to http://v6only.psv.test/)
check "curl http://v6only.psv.test/ (AAAA only) fails fast (rc $rc, $ms ms)" \
	is "$rc != 0 && $ms < 2000"

check "ping -6 $TB_SRV1_IP6 gets no reply" \
	bash -c "! ip netns exec $TB_HOST ping -6 -c 1 -W 1 $TB_SRV1_IP6 >/dev/null"
check "UDP over IPv6 (socat to srv1's echo) gets no reply" \
	bash -c "[ -z \"\$(echo psv | ip netns exec $TB_HOST socat -T 1 - 'UDP6:[$TB_SRV1_IP6]:7' 2>/dev/null)\" ]"
# A frame no socket hook sees: written on a packet socket, as a raw
# socket's or a user-space stack's would be.  Egress must drop it.
gwmac=$(ip -n "$TB_GW" -o link show lan | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
tb_host /usr/bin/python3 - "$TB_HOST_IF" "$TB_HOST_MAC" "$gwmac" \
	"$TB_HOST_IP6" "$TB_SRV1_IP6" <<-'EOF' 2>/dev/null
	import sys
	from scapy.all import Ether, IPv6, UDP, Raw, sendp
	dev, mac, gw, src, dst = sys.argv[1:]
	sendp(Ether(src=mac, dst=gw) / IPv6(src=src, dst=dst) /
	      UDP(sport=40007, dport=7) / Raw(b"psv-raw"), iface=dev, verbose=0)
	EOF

stats=$(psv_ctl stats --json)
jq -c '{sock_ipv6_refused, egress_drop_ipv6, sock_bound, egress_identity_mac}' \
	<<<"$stats" | sed 's/^/#   /'
check "psvctl stats: sock_ipv6_refused > 0" holds '.sock_ipv6_refused > 0' <<<"$stats"
check "psvctl stats: egress_drop_ipv6 > 0" holds '.egress_drop_ipv6 > 0' <<<"$stats"

check "the observer's capture is complete" tb_capture_stop
leaks=$("$OBS" leaks "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" \
	--ip "$TB_HOST_IP6" --ip "$TB_HOST_LL6" --no-dhcp --json)
jq -r '"#   leaks: \(.frames) frames (\(.ipv6) IPv6, \(.eth) Ethernet, \(.ip) IP, \(.eui64) EUI-64, \(.arp) ARP), first \(.first_frames[:10]); own presence: \(.own_arp) ARP, \(.own_ndp) NDP/MLD \(.own_ndp_types)"' <<<"$leaks"
jq -c '.flows[:5][]' <<<"$leaks" | sed 's/^/#   leak: /'
check "no IPv6 frame with the host's MAC or addresses but its own NDP/MLD (types 130-137, 143)" \
	holds '.ipv6 == 0 and ((.own_ndp_types | keys | map(tonumber)) -
		[130, 131, 132, 133, 134, 135, 136, 137, 143] | length) == 0' <<<"$leaks"
check "no frame at all carries the host's IPv6 address but its own NDP/MLD" \
	holds '.frames == 0' < <("$OBS" leaks "$TB_PCAP" --ip "$TB_HOST_IP6" --json)
check "no IPv4 or ARP frame with the real MAC or IPv4 address (the host's DHCP aside)" \
	holds '.frames - .ipv6 == 0' <<<"$leaks"
view=$("$OBS" flows "$TB_PCAP" --remote "$TB_SRV1_IP:80" --json)
echo "$view" | jq -r '.flows[] | "#   \(.proto) \(.mac) \(.ip) -> \(.remote_ip):\(.remote_port)"'
check "the IPv4 fallback to srv1:80 went out from an identity" \
	holds --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
	'(.flows | length) > 0 and all(.flows[]; .mac != $m and .ip != $i)' <<<"$view"
check "no IPv6 frame reached srv1 or srv2 through the LAN" \
	holds '[.flows[] | select(.remote_ip | startswith("2001:db8:3:"))] | length == 0' \
	< <("$OBS" flows "$TB_PCAP" --json)

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]

# The explicit opt-out: IPv6 untouched.  Checked only with a psvd that
# runs (else a test without psv would pass them).
if psv_start "$CONF
ipv6 = host"; then
	ok "psvd starts with [policy] ipv6 = host"
	read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV1_IP6]/")
	check "ipv6 = host: curl -6 reaches srv1 over IPv6 (rc $rc, $ip)" \
		[ "$rc $ip" = "0 $TB_SRV1_IP6" ]
	check "ipv6 = host: ping -6 gets its reply" \
		tb_host ping -6 -c 1 -W 2 "$TB_SRV1_IP6"
	read -r rc ms ip < <(curl_to http://srv1.psv.test/)
	check "ipv6 = host: curl srv1.psv.test prefers IPv6 again (rc $rc, $ip)" \
		[ "$rc $ip" = "0 $TB_SRV1_IP6" ]
	check "ipv6 = host: no IPv6 frame refused or dropped" \
		holds '.sock_ipv6_refused == 0 and .egress_drop_ipv6 == 0' \
		< <(psv_ctl stats --json)
	psv_stop TERM
	check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
else
	not_ok "psvd starts with [policy] ipv6 = host (its checks skipped)"
	psv_stop KILL
fi
check "host IPv6 works again without psv" \
	tb_host curl -6 -sf -o /dev/null "http://[$TB_SRV1_IP6]/"
[ "$failed" -eq 0 ]
