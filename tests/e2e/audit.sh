#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# psvctl audit, the user's self-check, judged against what the testbed's
# real applications do: with psvd running nothing unexpected leaves with
# the real identity (exit 0), and the apps' frames are seen with their
# identities' MACs, which only TC egress writes (so the audit's packet
# socket sees frames after psv's rewrite, as they reach the wire); an mDNS
# announcement naming the host is dropped (chatter = drop).  Then it
# reports the leak (exit 1), grouped: with psvd stopped (the apps' flows
# under "other"), with chatter = host (the announcement under "chatter",
# with the host name found in it) and with ipv6 = host (IPv6 flows under
# "ipv6", their source holding the MAC as EUI-64).  An [app] with
# granularity host is expected: its flows are under "host_policy".  Each verdict is also
# held against the observer's capture of the same seconds.
# A long lease: no DHCP renewal of the host during the test.
. "$(dirname "$0")/../testbed/prelude.sh" --ipv6 --lease 3600

SECS=6
NAME=psv-audit-laptop.local
CONF=$(psv_static_conf 6 30 policy.default=flow)

# The host's applications: web, ping, DNS, UDP echo, a short iperf3.
apps() {
	tb_host curl -sf -o /dev/null "http://$SRV1/"
	tb_host curl -sf -o /dev/null "http://$SRV2/"
	tb_host ping -c 2 -i 0.2 -W 2 "$SRV1" >/dev/null
	tb_host dig +short +time=2 +tries=1 @192.0.2.1 srv1.psv.test >/dev/null
	echo psv | tb_host socat -T 1 - "UDP4:$SRV2:7" >/dev/null
	tb_host iperf3 -c "$SRV1" -t 1 -b 10M >/dev/null
}

# An mDNS announcement of the host's name (A record), from UDP port 5353
# to 224.0.0.251, as avahi sends it: through the host's stack and psv.
announce() {
	tb_host /usr/bin/python3 - "$NAME" "$TB_HOST_IP" <<-'EOF' 2>/dev/null
	import socket, sys
	from scapy.all import DNS, DNSRR
	name, ip = sys.argv[1:]
	msg = bytes(DNS(qr=1, aa=1, qd=None,
	                an=DNSRR(rrname=name, type="A", ttl=120, rdata=ip)))
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("", 5353))
	s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
	for _ in range(2):
	    s.sendto(msg, ("224.0.0.251", 5353))
	EOF
}

apps_and_chatter() { apps; announce; }

# audit NAME CMD...: psvctl audit for $SECS s while CMD runs; the report
# in $TB_DIR/NAME.json, its exit status in AUDIT_RC, a summary as comments.
audit() {
	local name=$1 pid
	shift
	psv_ctl audit --seconds "$SECS" --json >"$TB_DIR/$name.json" &
	pid=$!
	sleep 0.5
	"$@"
	wait "$pid"
	AUDIT_RC=$?
	jq -r '"#   \(.verdict)", (.groups[] | select(.frames > 0) |
		"#   \(.group): \(.frames) frames, \([.flows[] | "\(.kind // .proto) \(.src):\(.sport)>\(.dst):\(.dport) \(.name // "")"] | unique | .[:6])")' \
		"$TB_DIR/$name.json"
}

# flows_in NAME GROUP JQ-FILTER: the report holds a flow in GROUP matching.
flows_in() {
	holds --arg g "$2" "[.groups[] | select(.group == \$g) | .flows[] | select($3)] | length > 0" \
		<"$TB_DIR/$1.json"
}

# psvd running, chatter = drop (the default).
tb_capture_start
check "psvd starts (chatter and ipv6 defaults)" psv_start "$CONF"
audit running apps_and_chatter
check "with psvd: audit exits 0 (rc $AUDIT_RC)" [ "$AUDIT_RC" = 0 ]
check "with psvd: no unexpected frame, verdict ok" \
	holds '.ok and .frames.unexpected == 0 and .psvd and (.verdict | startswith("ok"))' \
	<"$TB_DIR/running.json"
check "with psvd: the apps' frames were seen, with identities' MACs (the tap is after TC egress)" \
	holds --arg m "$TB_HOST_MAC" '(.identities | length) >= 3 and
		all(.identities[]; .mac != $m) and .frames.sent > 50' \
	<"$TB_DIR/running.json"
check "with psvd: the mDNS announcement was dropped at egress" \
	holds '.egress_drop_chatter >= 2' < <(psv_ctl stats --json)
check "with psvd: the observer's capture is complete" tb_capture_stop
check_no_leak "with psvd: the observer saw no real identity either (but DHCP)" \
	--no-dhcp
check "with psvd: ... and no mDNS naming the host" \
	bash -c '! tshark -r "$1" -Y "mdns" 2>/dev/null | grep -q .' _ "$TB_PCAP"

# psvd stopped: the same applications leave with the real identity.
psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
audit stopped apps
check "without psvd: audit exits 1 (rc $AUDIT_RC)" [ "$AUDIT_RC" = 1 ]
check "without psvd: verdict LEAK, psvd not running" \
	holds '(.ok | not) and (.psvd | not) and (.verdict | startswith("LEAK"))' \
	<"$TB_DIR/stopped.json"
check "without psvd: HTTP to srv1 under other, with the real MAC and address" \
	flows_in stopped other ".proto == \"tcp\" and .dst == \"$SRV1\" and .dport == 80 and
		(.carried | index(\"mac\")) and (.carried | index(\"address\"))"
check "without psvd: ping, DNS and UDP echo under other too" \
	flows_in stopped other '.proto == "icmp"'
check "without psvd: ... DNS" flows_in stopped other '.proto == "udp" and .dport == 53'
check "without psvd: ... the UDP echo" flows_in stopped other ".dst == \"$SRV2\" and .dport == 7"
check "without psvd: no identity in use" holds '.identities | length == 0' \
	<"$TB_DIR/stopped.json"

# chatter = host: the announcement leaves, named.
check "psvd starts with chatter = host" psv_start "$CONF
chatter = host"
audit chatter announce
check "chatter = host: audit exits 1 (rc $AUDIT_RC)" [ "$AUDIT_RC" = 1 ]
check "chatter = host: the announcement is under chatter, kind mdns, named $NAME" \
	flows_in chatter chatter ".kind == \"mdns\" and .name == \"$NAME\" and .dst == \"224.0.0.251\""
check "chatter = host: nothing but chatter is unexpected" \
	holds '[.groups[] | select(.expected | not) | select(.group != "chatter") | .frames] | add == 0' \
	<"$TB_DIR/chatter.json"
psv_stop TERM

# ipv6 = host: IPv6 flows leave with the real identity (EUI-64 address).
check "psvd starts with ipv6 = host" psv_start "$CONF
ipv6 = host"
audit ipv6 tb_host curl -6 -sf -o /dev/null "http://[$TB_SRV1_IP6]/"
check "ipv6 = host: audit exits 1 (rc $AUDIT_RC)" [ "$AUDIT_RC" = 1 ]
check "ipv6 = host: HTTP to srv1 over IPv6 under ipv6, source with the MAC (EUI-64)" \
	flows_in ipv6 ipv6 ".proto == \"tcp\" and .dst == \"$TB_SRV1_IP6\" and .dport == 80 and
		(.carried | index(\"eui64\")) and (.carried | index(\"address\"))"
check "ipv6 = host: neighbour discovery, if any, is expected (ndp)" \
	holds '[.groups[] | select(.group == "ndp") | .expected] == [true]' \
	<"$TB_DIR/ipv6.json"
psv_stop TERM

# An application psv leaves on the host by policy: expected, with why.
check "psvd starts with curl's flows on the host ([app] granularity host)" \
	psv_start "$CONF
[app \"curl\"]
match = comm=curl
granularity = host"
# A transfer of 2 s: the audit asks for its socket while it is open (a
# connection over before the audit looks is reported under other).
slow_curl() {
	tb_host curl -sf -o /dev/null -r 0-1999999 --limit-rate 1M "http://$SRV1/big.bin"
	tb_host ping -c 2 -i 0.2 -W 2 "$SRV1" >/dev/null
}
audit hostpol slow_curl
check "curl on the host: audit exits 0 (rc $AUDIT_RC)" [ "$AUDIT_RC" = 0 ]
check "curl on the host: its HTTP to srv1 is under host_policy, with the reason" \
	flows_in hostpol host_policy ".proto == \"tcp\" and .dst == \"$SRV1\" and .dport == 80 and
		.reason == \"an application with granularity host\""
check "curl on the host: ping still wears an identity" \
	holds '(.identities | length) >= 1' <"$TB_DIR/hostpol.json"
psv_stop TERM

psv_ctl audit --seconds 0 2>/dev/null
check "psvctl audit --seconds 0 is a usage error (exit $?)" [ $? = 2 ]
[ "$failed" -eq 0 ]
