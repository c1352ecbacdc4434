#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Baseline, without psv: real applications on the testbed host reach every
# server, and the observer sees the host's real MAC and IP on every one of
# those flows with valid checksums.  This is the leak detector's positive
# case; the psv tests run the same observer checks and expect the opposite.
#
# Transfers are kept small (1 MB FTP file, iperf3 paced at 20 Mbit/s for
# 2 s) so the full-frame capture stays a few MB and every checksum in it
# can be judged.
# Its testbed has no psvd: tb_up below.
. "$(dirname "$0")/../testbed/prelude.sh" --no-testbed

# First the analysis itself, on crafted frames whose counts are known.
tests/testbed/observe_test.py || failed=$((failed + 1))

tb_up || {
	not_ok "testbed comes up"
	exit 1
}
ok "testbed up: $TB_PREFIX, host $TB_HOST_IP $TB_HOST_MAC"
work=$TB_DIR/baseline
mkdir -p "$work"

check "dnsmasq leased $TB_HOST_IP to $TB_HOST_MAC" \
	grep -q " $TB_HOST_MAC $TB_HOST_IP " "$TB_LEASES"
tb_capture_start || {
	not_ok "observer capture starts"
	exit 1
}

# The host must resolve the gateway's MAC while the observer listens.
tb_host ip neigh flush dev "$TB_HOST_IF"
GW_MAC=$(ip -n "$TB_GW" -o link show lan |
	sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

pings() {
	tb_host ping -c 3 -i 0.2 -W 1 "$1" | grep -q ' 3 received'
}
check "ping srv1: 3 of 3 replies" pings "$SRV1"
check "ping srv2: 3 of 3 replies" pings "$SRV2"

# Hop list from traceroute: "1 192.0.2.1", "2 203.0.113.2", ...
hops=$(tb_host traceroute -n -w 2 "$SRV1" | awk 'NR > 1 {print $1, $2}')
check "traceroute srv1: hop 1 is 192.0.2.1" grep -qx '1 192.0.2.1' <<<"$hops"
check "traceroute srv1: hop 2 is 203.0.113.2" \
	grep -qx '2 203.0.113.2' <<<"$hops"
check "traceroute srv1: hop 3 is $SRV1" grep -qx "3 $SRV1" <<<"$hops"

# The page, then every resource it references over one keep-alive
# connection, as a browser would; each compared with the file served.
www1=$TB_DIR/srv1/www
page_ok() {
	tb_host curl -sf -o "$work/index1.html" http://srv1.psv.test/ &&
	cmp -s "$work/index1.html" "$www1/index.html"
}
check "curl srv1.psv.test: page intact" page_ok
mapfile -t refs < <(grep -o '\(href\|src\)="/[^"]*"' "$www1/index.html" |
		    sed 's/.*="\/\(.*\)"/\1/')
check "srv1 page references 4 resources (${refs[*]})" [ "${#refs[@]}" -eq 4 ]
resources_ok() {
	local args=() r
	for r in "${refs[@]}"; do
		args+=(-o "$work/res-${r//\//_}" "http://srv1.psv.test/$r")
	done
	tb_host curl -sf "${args[@]}" || return 1
	for r in "${refs[@]}"; do
		cmp -s "$work/res-${r//\//_}" "$www1/$r" || return 1
	done
}
check "curl srv1 resources: all intact" resources_ok
page2_ok() {
	tb_host curl -sf -o "$work/index2.html" http://srv2.psv.test/ &&
	cmp -s "$work/index2.html" "$TB_DIR/srv2/www/index.html" &&
	! cmp -s "$work/index2.html" "$work/index1.html"
}
check "curl srv2.psv.test: its own page, not srv1's" page2_ok

answer=$(tb_host dig +short +time=2 +tries=1 srv1.psv.test @192.0.2.1)
check "dig srv1.psv.test @192.0.2.1 = $SRV1 (got '$answer')" \
	[ "$answer" = "$SRV1" ]

ftp_get() {
	local mode=$1 out=$work/ftp-$1.bin
	rm -f "$out"
	timeout 30 ip netns exec "$TB_HOST" lftp -c "set net:max-retries 1; \
		set net:timeout 5; set ftp:passive-mode $2; \
		open ftp://$SRV1; get $TB_FTP_FILE -o $out" &&
	cmp -s "$out" "$TB_DIR/srv1/ftp/$TB_FTP_FILE"
}
check "lftp passive get from srv1: file intact" ftp_get passive on
check "lftp active get from srv1: file intact" ftp_get active off

token=psv-$RANDOM-$RANDOM
echo_reply=$(echo "$token" | tb_host socat -T 2 - "UDP4:$SRV1:7")
check "UDP echo srv1: reply equals request" [ "$echo_reply" = "$token" ]

iperf_ok() {
	local bytes
	bytes=$(tb_host iperf3 -J -c "$SRV1" -t 2 -b 20M |
		jq '.end.sum_received.bytes') || return 1
	[ "${bytes:-0}" -gt 1000000 ]
}
check "iperf3 to srv1 for 2 s: over 1 MB received" iperf_ok

check "observer capture complete (kernel dropped no frame)" tb_capture_stop

# --- the observer's view ---
flows=$("$OBS" flows "$TB_PCAP" --json) || {
	not_ok "observe.py flows reads the capture"
	exit 1
}
# seen DESC JQ-SELECTOR: the flows matching the selector were carried both
# ways by the host's real MAC and IP, and by no other identity.
seen() {
	local desc=$1 sel=$2 mine others
	mine=$(jq --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
		"[.flows[] | select($sel) | select(.mac == \$m and .ip == \$i
		  and .frames_out > 0 and .frames_in > 0)] | length" <<<"$flows")
	others=$(jq --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
		"[.flows[] | select($sel) | select(.mac != \$m or .ip != \$i)]
		 | length" <<<"$flows")
	check "observer: $desc carried by $TB_HOST_MAC/$TB_HOST_IP only" \
		is "${mine:-0} > 0 && ${others:-1} == 0"
}
tcp() { echo ".proto == \"tcp\" and .remote_ip == \"$1\" and $2"; }
seen "HTTP srv1:80" "$(tcp $SRV1 '.remote_port == 80')"
seen "HTTP srv2:80" "$(tcp $SRV2 '.remote_port == 80')"
seen "FTP control srv1:21" "$(tcp $SRV1 '.remote_port == 21')"
seen "FTP active data srv1:20" "$(tcp $SRV1 '.remote_port == 20')"
seen "FTP passive data srv1:30000-30099" \
	"$(tcp $SRV1 '.remote_port >= 30000 and .remote_port <= 30099')"
seen "iperf3 srv1:5201" "$(tcp $SRV1 '.remote_port == 5201')"
seen "DNS 192.0.2.1:53" \
	'.proto == "udp" and .remote_ip == "192.0.2.1" and .remote_port == 53'
seen "UDP echo srv1:7" \
	".proto == \"udp\" and .remote_ip == \"$SRV1\" and .remote_port == 7"
seen "ICMP echo srv1" ".proto == \"icmp\" and .remote_ip == \"$SRV1\""
seen "ICMP echo srv2" ".proto == \"icmp\" and .remote_ip == \"$SRV2\""
seen "traceroute probes to srv1" \
	".proto == \"udp\" and .remote_ip == \"$SRV1\" and .remote_port > 33433"
routers=$(jq -c "[.flows[] | select(.proto == \"udp\" and
	.remote_ip == \"$SRV1\" and .remote_port > 33433) | .error_sources[]]
	| unique" <<<"$flows")
check "observer: traceroute's ICMP errors from 192.0.2.1 and 203.0.113.2\
 count with its flows ($routers)" holds 'any(.[]; . == "192.0.2.1") and
	any(.[]; . == "203.0.113.2")' <<<"$routers"

# ARP, which psv leaves to the host's real identity (a documented limit):
# the host asked for the gateway and got its answer.
arp=$("$OBS" arp "$TB_PCAP" --json)
n=$(jq --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" '[.arp[] |
	select(.op == "request" and .sender_mac == $m and .eth_src == $m and
	       .sender_ip == $i and .target_ip == "192.0.2.1")] | length' <<<"$arp")
check "observer: ARP who-has 192.0.2.1 tell $TB_HOST_IP from $TB_HOST_MAC" \
	is "${n:-0} > 0"
n=$(jq --arg g "$GW_MAC" --arg m "$TB_HOST_MAC" '[.arp[] |
	select(.op == "reply" and .sender_mac == $g and .eth_dst == $m and
	       .sender_ip == "192.0.2.1")] | length' <<<"$arp")
check "observer: ARP reply 192.0.2.1 is-at $GW_MAC to the host" \
	is "${n:-0} > 0"
macs=$("$OBS" macs "$TB_PCAP" --json)
check "observer: $TB_HOST_MAC used IPv4 source $TB_HOST_IP only and\
 claimed it in ARP" holds --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
	'.macs[] | select(.mac == $m) | .ips == [$i] and .arp_ips == [$i]' \
	<<<"$macs"
check "observer: $TB_HOST_IP was sent by $TB_HOST_MAC only" \
	holds --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP" \
	'.ips[] | select(.ip == $i) | .macs == [$m]' <<<"$macs"

# The leak detector on its positive case: every IPv4 frame but DHCP is the
# host's own traffic, so every one must be flagged.  tshark counts them
# independently of observe.py.
ipv4=$(tshark -n -r "$TB_PCAP" -Y 'ip and not (udp.port == 67 or
	udp.port == 68)' 2>/dev/null | wc -l)
leaks=$("$OBS" leaks "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" \
	--no-arp --no-dhcp --json | jq .frames)
check "observe.py leaks flags all $ipv4 IPv4 frames (got $leaks)" \
	is "$ipv4 > 100 && ${leaks:-0} == $ipv4"

# ... and on a negative one: an identity that never spoke is never flagged.
leaks=$("$OBS" leaks "$TB_PCAP" --mac 02:00:5e:00:53:01 --ip 192.0.2.249 \
	--json | jq .frames)
check "observe.py leaks flags no frame of an unused MAC/IP (got $leaks)" \
	[ "$leaks" = 0 ]

sums=$("$OBS" checksums "$TB_PCAP" --json)
for l in ip tcp udp icmp; do
	read -r good bad unver < <(jq -r ".good.$l, .bad.$l, .unverified.$l" \
		<<<"$sums" | paste -sd' ')
	check "checksums $l: $good good, $bad bad, $unver unverified" \
		is "${good:-0} > 0 && ${bad:-1} == 0 && ${unver:-1} == 0"
done

tb_down
[ "$failed" -eq 0 ]
