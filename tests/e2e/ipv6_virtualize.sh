#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# IPv6 virtualized (`[policy] ipv6 = virtualize`, the default) on a
# dual-stack LAN: the gateway advertises 2001:db8:1::/64 (tb_up --ipv6) and
# the host has its EUI-64 SLAAC address.  Every identity gets an address
# of its own in the prefix, and real applications over IPv6 (curl -6 to
# srv1 and srv2, ping -6, traceroute -6 with UDP and ICMP, iperf3 -6, curl
# to a name with A and AAAA) leave with their identity's MAC and address.
# Judged from the observer's capture:
#   - no frame with the real MAC, the host's IPv4 or IPv6 addresses or its
#     EUI-64 interface identifier, and no neighbour discovery serving a
#     flow with them (the host's own RS, DAD and MLD are its presence);
#   - one identity and one address per group; IPv4 and IPv6 flows share a
#     MAC only for the application whose policy groups them
#     (granularity app); psvctl lists the addresses seen on the wire;
#   - `observe.py link` finds no relation between two applications' IPv6
#     identities (source ports, TCP timestamps, ISN, fragment IDs);
#   - the observer's probes (ping -6, TCP SYN) of two identity addresses
#     and of an unused address in the prefix get the same answer: none.
# Then `ipv6 = host`: psvd says so, IPv6 leaves with the host's address.
# A long lease: no DHCP renewal of the host (nor its ARP) during the test.
. "$(dirname "$0")/../testbed/prelude.sh" --ipv6 --lease 3600
LAN6=2001:db8:1
OBS_IP6=$LAN6::3
ROUNDS=5
echo "# host $TB_HOST_MAC $TB_HOST_IP $TB_HOST_IP6 $TB_HOST_LL6"

# The observer probes over IPv6 later: an address without DAD, no RA, no
# link-local address (its own chatter stays small).
if ! { tb_in "$TB_OBS" sysctl -qw net.ipv6.conf.eth0.accept_ra=0 \
	net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.addr_gen_mode=1 \
	net.ipv6.conf.eth0.disable_ipv6=0 &&
	tb_in "$TB_OBS" ip addr add "$OBS_IP6/64" dev eth0 nodad; }; then
	not_ok "the observer gets $OBS_IP6"
	exit 1
fi

# conf [IPV6 POLICY LINE]: per-flow identities (UDP traceroute probes are
# a flow each: 16 ready); three applications with an identity each for
# IPv4 and IPv6 alike.
conf() {
	psv_static_conf 16 50 pool.pace_ms=20 policy.default=flow policy.on_exhausted=drop
	echo "${1:-}
[app \"dual\"]
match = comm=dualapp
granularity = app
[app \"one\"]
match = comm=appone
granularity = app
[app \"two\"]
match = comm=apptwo
granularity = app"
}

APP=$TB_DIR/app.py
cat >"$APP" <<'EOF'
# app.py NAME get|big DST...: with the process named NAME (comm) before any
# socket exists, one HTTP GET over a new TCP connection to each DST:80, or
# one UDP datagram of 2000 bytes (fragmented over IPv6) to each DST:7 and
# its echo.  Prints the local ports the kernel chose.
import ctypes, socket, sys
name, what, dsts = sys.argv[1], sys.argv[2], sys.argv[3:]
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)   # PR_SET_NAME
ports, ok = [], True
for dst in dsts:
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    if what == "get":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((dst, 80))
        s.sendall(b"GET / HTTP/1.0\r\nHost: srv1.psv.test\r\n\r\n")
        reply = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            reply += b
        ok = ok and reply.startswith(b"HTTP/1.1 200")
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(b"p" * 2000, (dst, 7))
        ok = ok and s.recvfrom(4000)[0] == b"p" * 2000
    ports.append(str(s.getsockname()[1]))
print(" ".join(ports))
sys.exit(0 if ok else 1)
EOF
# app NAME WHAT DST...: runs one, records its local ports in $TB_DIR/NAME.ports
app() {
	local name=$1 ports
	ports=$(tb_host /usr/bin/python3 "$APP" "$@") || return 1
	tr ' ' '\n' <<<"$ports" >>"$TB_DIR/$name.ports"
}
# The identities (MAC and address) of a flows view whose rows, to port 80
# or 7, carry only local ports an application recorded.  (Two identities'
# sockets draw ports from their own addresses: a port of one can be
# another's too, so a single shared port proves nothing.)
app_idents() {
	jq -r --argjson p "$(jq -s . "$TB_DIR/$2.ports")" \
		'[.flows[] | select(.frames_out > 0 and (.remote_port == 80 or .remote_port == 7)) |
		  select(all(.local_ports[]; IN($p[]))) | "\(.mac) \(.ip)"] | unique | .[]' <<<"$1"
}
# One line per (MAC, address) that sent a flow's frames in a flows view.
senders() { jq -r '[.flows[] | select(.frames_out > 0) | "\(.mac) \(.ip)"] | unique | .[]' <<<"$1"; }

tb_capture_start
check "psvd starts with the default IPv6 policy (no ipv6 key)" psv_start "$(conf)"
st=$(psv_ctl status --json)
jq -c '{ipv6, psvd: .psvd.ipv6}' <<<"$st" | sed 's/^/#   status: /'
check "psvctl status: IPv6 is virtualized (neither blocked nor left to the host)" \
	holds '(.ipv6 | tostring | test("virtualiz")) and
		((.ipv6 | tostring | test("block|host|not protected")) | not)' <<<"$st"
ids=$(psv_ctl identities --json)
jq -r '.[] | "#   identity \(.mac) \(.ipv4) \(.state) ipv6 \(.ipv6)"' <<<"$ids" | head -n 20
# The identities' IPv6 addresses: one per ready identity, in the prefix,
# all different, none made of a MAC (SLAAC's EUI-64, the real or its own).
check "every ready identity has one IPv6 address in $LAN6::/64, random, distinct" \
	/usr/bin/python3 - "$TB_HOST_MAC" "$ids" <<-'EOF'
	import ipaddress, json, sys
	host, ids = sys.argv[1], json.loads(sys.argv[2])
	def eui64(mac):
	    b = bytes.fromhex(mac.replace(":", ""))
	    return int.from_bytes(bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:], "big")
	net, seen, ok = ipaddress.ip_network("2001:db8:1::/64"), set(), True
	ready = [i for i in ids if i.get("state") == "ready"]
	for i in ready:
	    v6 = [ipaddress.ip_address(a if isinstance(a, str) else a.get("address", ""))
	          for a in i.get("ipv6") or []]
	    iids = {int(a) & (2**64 - 1) for a in v6}
	    good = (len(v6) == 1 and v6[0] in net and v6[0] not in seen and
	            not iids & {eui64(host), eui64(i["mac"])})
	    seen.update(v6)
	    ok = ok and good
	    if not good:
	        print(f"#   bad: {i['mac']} {i.get('ipv6')}")
	sys.exit(0 if ok and ready else 1)
	EOF
# The host resolved its neighbours (the gateway) before psvd started:
# forget them, so its ARP and neighbour discovery happen while psvd runs.
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV1_IP6]/")
check "curl -6 http://[$TB_SRV1_IP6]/ (rc $rc, $ip)" [ "$rc $ip" = "0 $TB_SRV1_IP6" ]
read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV2_IP6]/")
check "curl -6 http://[$TB_SRV2_IP6]/ (rc $rc, $ip)" [ "$rc $ip" = "0 $TB_SRV2_IP6" ]
read -r rc ms ip < <(curl_to -4 "http://$SRV2/")
check "curl -4 http://$SRV2/ (rc $rc, $ip)" [ "$rc $ip" = "0 $SRV2" ]
# Without psv the host prefers IPv6 for a dual-stack name (RFC 6724): so
# must it with psv, whose identity addresses it then uses.
echo "#   getaddrinfo's order: $(tb_host getent ahosts srv1.psv.test | awk '$2 == "STREAM" {print $1}' | paste -sd' ')"
# (RFC 6724 sorts by the source a connected UDP socket gets: psv binds it
# to an identity's address, preferred on lo for this reason.)
echo "#   a UDP socket connected to [$TB_SRV1_IP6]:80 gets source $(tb_host /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 80))
print(s.getsockname()[0])' "$TB_SRV1_IP6" 2>&1), lo has: $(tb_host ip -6 -o addr show dev lo scope global | awk '{print $4, $NF}' | head -n 2 | paste -sd' ')"
read -r rc ms ip < <(curl_to http://srv1.psv.test/)
check "curl http://srv1.psv.test/ (A and AAAA) succeeds (rc $rc, $ip, $ms ms)" [ "$rc" = 0 ]
check "... without waiting for a fallback ($ms ms < 2000)" is "$ms < 2000"
check "... over IPv6, as without psv ($ip)" [ "$ip" = "$TB_SRV1_IP6" ]
check "ping -6 $TB_SRV2_IP6 gets 3 replies" \
	tb_host ping -6 -c 3 -i 0.2 -W 2 "$TB_SRV2_IP6"

# hops ARGS...: the hop addresses traceroute -6 printed, one probe each.
WANT6="$LAN6::1 2001:db8:2::2 $TB_SRV1_IP6"
hops() {
	psv_wait_ready 16 10 2>/dev/null
	tb_host timeout 30 traceroute -6 -n -q 1 -w 2 -m 6 "$@" "$TB_SRV1_IP6" \
		2>>"$TB_DIR/tr.err" | tee -a "$TB_DIR/tr.out" |
		awk 'NR > 1 {print $2}' | paste -sd' '
}
got=$(hops)
check "traceroute -6 (UDP) lists gw, r2 and srv1 (got: $got)" [ "$got" = "$WANT6" ]
got=$(hops -I)
check "traceroute -6 -I (ICMP) lists gw, r2 and srv1 (got: $got)" [ "$got" = "$WANT6" ]
sed 's/^/#   /' "$TB_DIR/tr.out" "$TB_DIR/tr.err"

# Paced: the full capture keeps up (tests/testbed/README.md).
check "iperf3 -6 to srv1 for 3 s at 20 Mbit/s" \
	bash -c 'ip netns exec "$1" iperf3 -6 -c "$2" -t 3 -b 20M -J >"$3" &&
		jq -e ".end.sum_received.bytes > 1000000" "$3" >/dev/null' \
	_ "$TB_HOST" "$TB_SRV1_IP6" "$TB_DIR/iperf3.json"

# One application grouped (granularity app) over both families.
check "dualapp fetches srv1 over IPv4 and over IPv6" \
	app dualapp get "$SRV1" "$TB_SRV1_IP6"
# Two applications take turns: a new connection each to srv1:80, then a
# fragmented UDP datagram each (fragment IDs for `link`).
fails=0
for ((i = 0; i < ROUNDS * 2; i++)); do
	app appone get "$TB_SRV1_IP6" || fails=$((fails + 1))
	app apptwo get "$TB_SRV1_IP6" || fails=$((fails + 1))
done
check "appone and apptwo fetch [srv1]:80 $((ROUNDS * 2)) times each, taking turns" is "fails == 0"
fails=0
for ((i = 0; i < ROUNDS; i++)); do
	app appone big "$TB_SRV1_IP6" || fails=$((fails + 1))
	app apptwo big "$TB_SRV1_IP6" || fails=$((fails + 1))
done
check "appone and apptwo get $ROUNDS fragmented UDP echoes each, taking turns" is "fails == 0"

# What psvd lists while every identity used above still lives.
ids=$(psv_ctl identities --json)
psv_ctl stats --json | jq -r 'to_entries | map(select(.key | test("6|ndp|_ns|_na|unsolicited"))) |
	map("\(.key)=\(.value)") | "#   stats: " + join(" ")' 2>/dev/null

# The observer's probes: two identity addresses, one nobody has.
read -r A6 B6 < <(jq -r '[.[] | select(.state == "active" or .state == "ready") |
	(.ipv6 // [])[] | if type == "object" then .address else . end] | .[:2] | join(" ")' <<<"$ids")
U6=$LAN6:0:5eed:1:2:3
PROBE=$TB_DIR/probe6.py
cat >"$PROBE" <<'EOF'
# probe6.py SRC TARGET...: the observer asks who has each target (NS),
# then sends it an echo request and TCP SYNs to ports 22, 80 and 443, to
# the MAC that answered, else to all nodes (33:33:00:00:00:01: the psv
# host gets them too, without its MAC in the frames), and counts what
# comes back from the target within 2 s other than neighbour discovery.
# One line each: "TARGET na MAC|none answers N".
import socket, sys, time
from scapy.all import (AsyncSniffer, Ether, ICMPv6EchoRequest, ICMPv6ND_NA,
                       ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6, TCP, conf,
                       get_if_hwaddr, in6_getnsma, in6_getnsmac, sendp, srp1)
src, targets = sys.argv[1], sys.argv[2:]
conf.verb = 0
me = get_if_hwaddr("eth0")
for t in targets:
    sn = in6_getnsma(socket.inet_pton(socket.AF_INET6, t))
    na = srp1(Ether(src=me, dst=in6_getnsmac(sn)) /
              IPv6(src=src, dst=socket.inet_ntop(socket.AF_INET6, sn),
                   hlim=255) /
              ICMPv6ND_NS(tgt=t) / ICMPv6NDOptSrcLLAddr(lladdr=me),
              iface="eth0", timeout=1)
    mac = na[Ether].src if na and na.haslayer(ICMPv6ND_NA) else None
    sniff = AsyncSniffer(iface="eth0", filter=f"ip6 src {t}",
                         lfilter=lambda p: not (p.haslayer(ICMPv6ND_NA) or
                                                p.haslayer(ICMPv6ND_NS)))
    sniff.start()
    time.sleep(0.2)
    to = Ether(src=me, dst=mac or "33:33:00:00:00:01") / IPv6(src=src, dst=t)
    sendp([to / ICMPv6EchoRequest(id=77)] +
          [to / TCP(sport=40077, dport=p, flags="S") for p in (22, 80, 443)],
          iface="eth0")
    time.sleep(2)
    got = sniff.stop()
    print(f"{t} na {mac or 'none'} answers {len(got)}")
EOF
if [ -n "${A6:-}" ] && [ -n "${B6:-}" ]; then
	probes=$(tb_in "$TB_OBS" /usr/bin/python3 "$PROBE" "$OBS_IP6" "$A6" "$B6" "$U6" \
		2>"$TB_DIR/probe6.err")
	sed 's/^/#   probe /' <<<"$probes"
	sed 's/^/#   /' "$TB_DIR/probe6.err"
	check "two identity addresses answer neighbour solicitations, each with a MAC of its own" \
		is "$(awk -v m="$TB_HOST_MAC" '$3 != "none" && $3 != m {print $3}' <<<"$probes" |
			sort -u | grep -c .) == 2"
	check "the unused address answers no neighbour solicitation" \
		grep -q "^$U6 na none " <<<"$probes"
	check "ping -6 and TCP SYNs (22, 80, 443) get no answer from any of the three, alike" \
		is "$(grep -c ' answers 0$' <<<"$probes") == 3"
else
	not_ok "psvctl lists two identity IPv6 addresses to probe (got '${A6:-}' '${B6:-}')"
fi
check "the observer's capture is complete" tb_capture_stop
# Identities made while the capture ran, up to its end (the ready queue
# refills): psvctl must list every address the observer saw, once the
# DAD of the last ones is over (it lists addresses past DAD).
for ((i = 0; i < 50; i++)); do
	holds '.psvd.ipv6.addresses_in_dad == 0' < <(psv_ctl status --json) && break
	sleep 0.1
done
ids_end=$(psv_ctl identities --json)

# ---- the observer's judgement ------------------------------------------
HOSTIPS=(--ip "$TB_HOST_IP" --ip "$TB_HOST_IP6" --ip "$TB_HOST_LL6")
NOT_IDS=(--exclude 192.0.2.1 --exclude 192.0.2.3 --exclude "$LAN6::1" --exclude "$OBS_IP6")
check_no_leak "no frame with the real MAC, the host's addresses or its EUI-64, no NDP serving a flow (the host's DHCP aside)" \
	--no-dhcp
# The identities (MAC, address) of each group: per policy flow, the
# applications' by their local ports.
group() { senders "$("$OBS" flows "$TB_PCAP" --remote "$1" --proto "$2" --json)"; }
v6flows=$("$OBS" flows "$TB_PCAP" --remote "$TB_SRV1_IP6" --json)
v4flows=$("$OBS" flows "$TB_PCAP" --remote "$SRV1" --json)
ping6=$(group "$TB_SRV2_IP6" icmpv6)
iperf6=$(group "[$TB_SRV1_IP6]:5201" tcp)
curl4=$(group "$SRV2:80" tcp)
curl6=$(group "[$TB_SRV2_IP6]:80" tcp)
one=$(app_idents "$v6flows" appone)
two=$(app_idents "$v6flows" apptwo)
dual=$(app_idents "$v4flows" dualapp; app_idents "$v6flows" dualapp)
for g in ping6 iperf6 curl4 curl6 one two dual; do
	echo "# $g left as: $(paste -sd' ' <<<"${!g}")"
done
lines() { grep -c . <<<"$1"; }
check "ping -6, iperf3 -6, curl -6 and -4 to srv2, appone, apptwo: one identity each" \
	is "$(lines "$ping6") == 1 && $(lines "$iperf6") == 1 && $(lines "$curl6") == 1 &&
		$(lines "$curl4") == 1 && $(lines "$one") == 1 && $(lines "$two") == 1"
v6s=$(printf '%s\n' "$ping6" "$iperf6" "$curl6" "$one" "$two" | grep .)
check "the IPv6 groups went out from addresses in $LAN6::/64 ($(lines "$v6s") senders)" \
	bash -c '[ "$(grep -c . <<<"$2")" -ge 5 ] && ! grep -qv " $1:" <<<"$2"' _ "$LAN6" "$v6s"
all=$(printf '%s\n' "$v6s" "$curl4" | grep .)
check "... every group its own identity: $(lines "$all") senders, as many MACs" \
	is "$(lines "$all") >= 6 && $(awk '{print $1}' <<<"$all" | sort -u | grep -c .) == $(lines "$all")"
dual_mac=$(awk '{print $1}' <<<"$dual" | sort -u)
check "dualapp's IPv4 and IPv6 connections share one identity (granularity app)" \
	is "$(lines "$dual") == 2 && $(lines "$dual_mac") == 1"

idv=$("$OBS" identities "$TB_PCAP" --mac "$TB_HOST_MAC" "${HOSTIPS[@]}" "${NOT_IDS[@]}" --json)
"$OBS" identities "$TB_PCAP" --mac "$TB_HOST_MAC" "${HOSTIPS[@]}" "${NOT_IDS[@]}" |
	sed 's/^/#   /'
check "identities on the wire: one IPv4 address and one IPv6 address per prefix per MAC, no address on two MACs" \
	holds '.problems == 0 and (.identities | length) > 4' <<<"$idv"
check "... only dualapp's MAC carried both IPv4 and IPv6 traffic" \
	holds --arg m "$dual_mac" '[.identities[] | select(.dual_stack) | .mac] == [$m]' <<<"$idv"
# psvd gives back ready identities demand no longer needs: one seen only
# by its DAD and announcements may be gone.  One that carried flows may not.
check "psvctl identities lists the IPv6 address of every MAC that carried IPv6 flows" \
	/usr/bin/python3 - "$idv" "$ids_end" <<-'EOF'
	import json, sys
	wire, ctl = json.loads(sys.argv[1]), json.loads(sys.argv[2])
	listed = {(i["mac"], a) for i in ctl for a in i.get("ipv6") or []}
	ok = True
	for i in wire["identities"]:
	    for a in i["ipv6"]:
	        if (i["mac"], a) in listed:
	            continue
	        used = "ipv6" in i["traffic"]
	        ok = ok and not used
	        got = [{k: c.get(k) for k in ("id", "ipv4", "state", "ipv6")}
	               for c in ctl if c["mac"] == i["mac"]]
	        print(f"#   not listed: {i['mac']} {a} ({'carried flows' if used else 'no flow'}); "
	              f"psvctl has {got or 'no such MAC'}")
	sys.exit(0 if ok and listed else 1)
	EOF
# What psvd said of identities the observer saw and psvctl no longer has.
gone=$(comm -23 <(jq -r '.identities[].ipv4[]' <<<"$idv" | sort -u) \
	<(jq -r '.[].ipv4' <<<"$ids_end" | sort -u))
if [ -n "$gone" ]; then
	grep -F "$(sed 's/$/)/' <<<"$gone")" "$TB_DIR/psvd.log" | head -n 10 |
		sed 's/^/#   psvd: /'
fi

link=$("$OBS" link "$TB_PCAP" --mac "$TB_HOST_MAC" "${HOSTIPS[@]}" "${NOT_IDS[@]}" \
	--lan "$LAN6::/64" --json)
"$OBS" link "$TB_PCAP" --mac "$TB_HOST_MAC" "${HOSTIPS[@]}" "${NOT_IDS[@]}" \
	--lan "$LAN6::/64" | grep -v '^  2001' | sed 's/^/#   /'
ip1=${one#* } ip2=${two#* }
# The relations of the pair (appone, apptwo) that match a jq filter.
rel() {
	jq --arg a "$ip1" --arg b "$ip2" "[.pairs[] |
		select([.a.ip, .b.ip] | sort == ([\$a, \$b] | sort)) |
		.relations[] | $1]" <<<"$link"
}
enough() { [ "$(rel "select(.relation == \"$1\" and .server == \"$2\" and .enough)" | jq length)" = 1 ]; }
unlinked() { [ "$(rel "select(.relation == \"$1\" and .server == \"$2\" and .linked)" | jq length)" = 0 ]; }
for r in "tcp_ports [$TB_SRV1_IP6]:80" "tcp_ts $TB_SRV1_IP6" "tcp_isn $TB_SRV1_IP6" \
	"ip_id $TB_SRV1_IP6 udp"; do
	name=${r%% *} server=${r#* }
	[ "$name" = tcp_ports ] && server="$TB_SRV1_IP6:80"
	check "link: enough data to judge $r" enough "$name" "$server"
	check "link: no relation $r" unlinked "$name" "$server"
done
check "link: no relation between any two IPv6 identities" holds '.linked_relations == 0' <<<"$link"
sums=$("$OBS" checksums "$TB_PCAP" --json)
check "every checksum in the capture is valid" holds '([.bad[]] | add) == 0' <<<"$sums"

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]

# ---- ipv6 = host: the explicit opt-out ------------------------------------
tb_capture_start
if psv_start "$(conf "ipv6 = host")"; then
	ok "psvd starts with [policy] ipv6 = host"
	check "psvctl status says IPv6 is the host's (not protected)" \
		holds '.ipv6 | tostring | test("host")' < <(psv_ctl status --json)
	read -r rc ms ip < <(curl_to -6 "http://[$TB_SRV1_IP6]/")
	check "ipv6 = host: curl -6 reaches srv1 (rc $rc, $ip)" [ "$rc $ip" = "0 $TB_SRV1_IP6" ]
	psv_stop TERM
	check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
else
	not_ok "psvd starts with [policy] ipv6 = host (its checks skipped)"
	psv_stop KILL
fi
check "the observer's capture is complete" tb_capture_stop
check "ipv6 = host: [srv1]:80 left with the host's MAC and SLAAC address" \
	holds --arg m "$TB_HOST_MAC" --arg i "$TB_HOST_IP6" \
	'(.flows | length) > 0 and all(.flows[]; .mac == $m and .ip == $i)' \
	< <("$OBS" flows "$TB_PCAP" --remote "[$TB_SRV1_IP6]:80" --json)
[ "$failed" -eq 0 ]
