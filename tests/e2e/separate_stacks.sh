#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Two applications, each with an identity of its own ([app] rules,
# granularity app), talk to the same server: the observer must not be able
# to link the two identities from what the kernel puts in the headers.
# A NAT after the stack leaves one source-port counter, one TCP timestamp
# offset and one IP ID bucket for both (all keyed by the real address);
# sockets bound to their identity's address give each identity its own.
#   - "appone" and "apptwo" (python3 with its comm set by prctl) fetch
#     http://srv1/ 10 times each, taking turns, then 10 times each at once;
#   - then they take turns sending 10 UDP datagrams each without DF
#     (IP_PMTUDISC_DONT, so the IP ID comes from the kernel's buckets) to
#     srv1's echo port.
# Judged by `observe.py link` (no relation between the two identities, with
# enough data for each relation), by the identities the observer saw per
# application, and by `observe.py leaks` counting ARP frames too.
ROUNDS=10
# A long lease: no DHCP renewal of the host (and its ARP) during the test.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600

APP=$TB_DIR/app.py
cat >"$APP" <<'EOF'
# app.py NAME get|udp: one HTTP GET over a new TCP connection, or one UDP
# echo exchange without DF, with the process named NAME (comm) before the
# socket exists.  Prints the local port the kernel chose.
import ctypes, socket, sys
name, what, dst = sys.argv[1], sys.argv[2], sys.argv[3]
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)   # PR_SET_NAME
if what == "get":
    s = socket.create_connection((dst, 80), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\nHost: srv1.psv.test\r\n\r\n")
    reply = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        reply += b
    ok = reply.startswith(b"HTTP/1.1 200")
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER, PMTUDISC_DONT
    s.settimeout(3)
    s.sendto(b"psv", (dst, 7))
    ok = s.recvfrom(100)[0] == b"psv"
print(s.getsockname()[1])
sys.exit(0 if ok else 1)
EOF

tb_capture_start
check "psvd starts with two [app] rules" \
	psv_start "$(psv_static_conf 4 20 pool.pace_ms=50 policy.default=flow policy.on_exhausted=drop)
[app \"one\"]
match = comm=appone
granularity = app
[app \"two\"]
match = comm=apptwo
granularity = app"
# The host resolved the gateway before psvd started: forget it, so the
# kernel's ARP for it happens while psvd runs and the observer judges it.
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

# app NAME WHAT: runs one transaction, records its local port in $TB_DIR/NAME.ports
app() {
	local port
	port=$(tb_host /usr/bin/python3 "$APP" "$1" "$2" "$SRV1") || return 1
	echo "$port" >>"$TB_DIR/$1.ports"
}
fails=0
for ((i = 0; i < ROUNDS; i++)); do
	app appone get || fails=$((fails + 1))
	app apptwo get || fails=$((fails + 1))
done
check "appone and apptwo fetch srv1 $ROUNDS times each, taking turns" is "fails == 0"
par() {
	local n=0
	for ((i = 0; i < ROUNDS; i++)); do app "$1" get || n=$((n + 1)); done
	return $n
}
par appone & p1=$!
par apptwo & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "appone and apptwo fetch srv1 $ROUNDS times each at once" is "r1 == 0 && r2 == 0"
fails=0
for ((i = 0; i < ROUNDS; i++)); do
	app appone udp || fails=$((fails + 1))
	app apptwo udp || fails=$((fails + 1))
done
check "appone and apptwo get $ROUNDS UDP echoes each (no DF), taking turns" is "fails == 0"
# How the socket path fared (sockets bound, or left to the NAT, and why).
psv_ctl stats --json | jq -r 'to_entries | map(select(.key | test("^sock_|_nat_|identity_mac"))) |
	map("\(.key)=\(.value)") | "#   stats: " + join(" ")' 2>/dev/null
apps=$(psv_ctl apps --json)
check "psvctl apps shows one identity for each of one and two" \
	holds '[.[] | select(.name == "one" or .name == "two") | .identities | length] == [1, 1]' <<<"$apps"
check "the observer's capture is complete" tb_capture_stop

# The identities the observer saw for each application's local ports.
seen=$($OBS flows "$TB_PCAP" --remote $SRV1 --json)
idents() {
	# local_ports lists up to 20 ports of a row: one in it names the row.
	jq -r --argjson p "$(jq -s . "$TB_DIR/$1.ports")" \
		'[.flows[] | select(.frames_out > 0) | select(any(.local_ports[]; IN($p[]))) |
		  "\(.mac) \(.ip)"] | unique | .[]' <<<"$seen"
}
one=$(idents appone)
two=$(idents apptwo)
echo "# appone left as: $(echo $one)"
echo "# apptwo left as: $(echo $two)"
real="$TB_HOST_MAC $TB_HOST_IP"
check "appone used exactly one identity" [ "$(grep -c . <<<"$one")" = 1 ]
check "apptwo used exactly one identity" [ "$(grep -c . <<<"$two")" = 1 ]
two_ids() { [ -n "$one" ] && [ -n "$two" ] && [ "$one" != "$two" ]; }
check "the two applications used two identities" two_ids
check "neither is the host's real identity" \
	bash -c '! grep -qxF -e "$1" <<<"$2"' _ "$real" "$one
$two"
link=$($OBS link "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" \
	--exclude 192.0.2.1 --exclude 192.0.2.3 --json)
$OBS link "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" \
	--exclude 192.0.2.1 --exclude 192.0.2.3 | sed 's/^/#   /'
ip1=${one#* } ip2=${two#* }
# The relations of the pair (appone, apptwo) that match a jq filter.
rel() {
	jq --arg a "$ip1" --arg b "$ip2" "[.pairs[] |
		select([.a.ip, .b.ip] | sort == ([\$a, \$b] | sort)) |
		.relations[] | $1]" <<<"$link"
}
enough() { [ "$(rel "select(.relation == \"$1\" and .server == \"$2\" and .enough)" | jq length)" = 1 ]; }
unlinked() { [ "$(rel "select(.relation == \"$1\" and .server == \"$2\" and .linked)" | jq length)" = 0 ]; }
check "link: enough SYNs to judge source ports to srv1:80" enough tcp_ports $SRV1:80
check "link: enough connections to judge TCP timestamps to srv1" enough tcp_ts $SRV1
check "link: enough datagrams to judge IP IDs to srv1 (udp)" enough ip_id "$SRV1 udp"
check "link: no shared source-port counter (tcp_ports $SRV1:80)" unlinked tcp_ports $SRV1:80
check "link: no shared TCP timestamp offset (tcp_ts $SRV1)" unlinked tcp_ts $SRV1
check "link: no shared ISN clock offset (tcp_isn $SRV1)" unlinked tcp_isn $SRV1
check "link: no shared IP ID bucket (ip_id $SRV1 udp)" unlinked ip_id "$SRV1 udp"
check "link: no relation between any two identities" holds '.linked_relations == 0' <<<"$link"

check_no_leak "no frame carried the real MAC or IP (ARP counted, the host's DHCP aside)" --no-dhcp
sums=$($OBS checksums "$TB_PCAP" --json)
check "every checksum in the capture is valid" holds '([.bad[]] | add) == 0' <<<"$sums"

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
