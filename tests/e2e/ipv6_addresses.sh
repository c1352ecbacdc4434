#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# psvd's side of IPv6 (ipv6 = virtualize) on a dual-stack LAN whose gateway
# advertises 2001:db8:1::/64: psvd solicits routers from :: and a MAC of
# nobody's, learns the prefix, gives every identity a random address in it
# after DAD sent from the identity's MAC, adds it as a tagged /128 on lo,
# holds identities back from the ready queue until then, shows it all in
# psvctl; curl -6 leaves from one of them; a restart after a crash keeps
# the addresses and removes a stray tagged lo address; SIGTERM removes
# them all.  (The IPv6 dataplane itself is tested elsewhere.)
. "$(dirname "$0")/../testbed/prelude.sh" --ipv6 --lease 3600
PFX=$TB_LAN6_NET:

CONF=$(psv_static_conf 3 20 policy.default=flow)

# The global addresses on the host's lo (only psvd puts any there),
# sorted.  (iproute2 6.1 can neither show nor set an address's protocol.)
lo_addrs() {
	ip -n "$TB_HOST" -6 -o addr show dev lo scope global |
		awk '{sub(/\/.*/, "", $4); print $4}' | sort
}

# add_tagged ADDR: ADDR/128 on the host's lo with psv's tag (IFA_PROTO
# 245), as a crashed psvd would have left it, over rtnetlink.
add_tagged() {
	tb_host python3 - "$1" <<'PY'
import socket, struct, sys
def attr(t, data):
    n = 4 + len(data)
    return struct.pack('=HH', n, t) + data + bytes((4 - n % 4) % 4)
a = socket.inet_pton(socket.AF_INET6, sys.argv[1])
body = struct.pack('=BBBBI', socket.AF_INET6, 128, 0, 0,
                   socket.if_nametoindex('lo'))
# IFA_LOCAL, IFA_ADDRESS, IFA_FLAGS (NODAD), IFA_PROTO
body += attr(2, a) + attr(1, a) + attr(8, struct.pack('=I', 2)) + attr(11, b'\xf5')
# RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.send(struct.pack('=IHHII', 16 + len(body), 20, 0x605, 1, 0) + body)
sys.exit(struct.unpack('=i', s.recv(4096)[16:20])[0] != 0)
PY
}

# The identities' IPv6 addresses, as psvctl shows them, sorted.
ctl_addrs() {
	psv_ctl identities --json | jq -r '.[].ipv6[]' | sort
}

# Waits up to 15 s for every ready identity to show an IPv6 address.
wait_addrs() {
	local i
	for i in $(seq 150); do
		psv_ctl identities --json 2>/dev/null | jq -e \
			'[.[] | select(.state == "ready")] | length >= 3 and
			 all(.ipv6 | length == 1)' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

tb_capture_start
check "psvd starts (ipv6 = virtualize, the default)" psv_start "$CONF"
check "every ready identity gets an IPv6 address" wait_addrs
ids=$(psv_ctl identities --json)
echo "$ids" | jq -c '.[] | {id, mac, ipv4, ipv6, state}' | sed 's/^/#   /'
check "... each in the advertised prefix ${PFX}:/64" \
	python3 -c 'import ipaddress, sys
net = ipaddress.IPv6Network(sys.argv[1])
sys.exit(not all(ipaddress.IPv6Address(a) in net for a in sys.argv[2:]))' \
	"${PFX}:/64" $(jq -r '.[].ipv6[]' <<<"$ids")
check "... all different" holds '[.[].ipv6[]] | length == (unique | length)' \
	<<<"$ids"
# An EUI-64 identifier has ff:fe in its middle; ours never do.
check "... none an EUI-64 (no MAC in it)" \
	holds 'all(.[].ipv6[]; test(":[0-9a-f]{0,2}ff:fe[0-9a-f]{2}:") | not)' \
	<<<"$ids"
check "the same addresses are /128s on lo" \
	[ "$(ctl_addrs)" = "$(lo_addrs)" ]
st=$(psv_ctl status --json)
echo "$st" | jq -c '.psvd.ipv6' | sed 's/^/#   /'
check "psvctl status shows the prefix and its lifetimes (null: infinite)" \
	holds --arg p "${PFX}:/64" '.psvd.ipv6.prefixes[0].prefix == $p and
	 .psvd.ipv6.prefixes[0].slaac and
	 (.psvd.ipv6.prefixes[0].valid_s // 1) > 0 and
	 (.psvd.ipv6.dhcpv6_only | not) and .psvd.ipv6.router_seen' <<<"$st"
a=$(echo "$ids" | jq -r '.[0].ipv6[0]')
check "a socket binds to an identity's address ($a)" \
	tb_host python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET6); s.bind((sys.argv[1], 0))' "$a"
check "the host's own flows do not pick one as their source" \
	bash -c '! ip -n "$1" -6 route get 2001:db8:3::10 | grep -q "src $2 "' \
	_ "$TB_HOST" "$a"
lip=$(tb_host curl -sS -m 5 -o /dev/null -w '%{local_ip}' \
	"http://[$TB_SRV1_IP6]/")
echo "#   curl -6 from ${lip:-nowhere}"
check "curl -6 to srv1 leaves from an identity's IPv6 address (identity.ip6)" \
	bash -c '[ -n "$1" ] && grep -qxF "$1" <<<"$2"' _ "$lip" "$(ctl_addrs)"
check "psvctl flows lists it with its IPv6 remote" \
	holds --arg r "$TB_SRV1_IP6" 'any(.[]; .remote_ip == $r)' \
	< <(psv_ctl flows --json)
tb_capture_stop

# What the observer saw of psvd's neighbour discovery.
macs=$(echo "$ids" | jq -r '.[].mac' | sort)
dad=$(tshark -r "$TB_PCAP" -Y 'icmpv6.type == 135 && ipv6.src == ::' \
	-T fields -e eth.src -e icmpv6.nd.ns.target_address -e ipv6.hlim \
	2>/dev/null)
echo "$dad" | sed 's/^/#   DAD: /'
check "a DAD solicitation for every identity address, from its MAC, hop limit 255" \
	bash -c 'for a in $(jq -r ".[] | .mac + \"/\" + .ipv6[0]" <<<"$1"); do
		grep -qP "^${a%%/*}\t${a#*/}\t255$" <<<"$2" || exit 1; done' \
	_ "$ids" "$dad"
rs=$(tshark -r "$TB_PCAP" -Y 'icmpv6.type == 133 && ipv6.src == ::' \
	-T fields -e eth.src 2>/dev/null | sort -u)
echo "#   RS from :: by $rs"
check "a router solicitation from :: and a MAC neither the host's nor an identity's" \
	bash -c '[ -n "$1" ] && ! grep -qxiF "$2" <<<"$1" &&
		! grep -qxFf <(printf "%s\n" $3) <<<"$1"' _ "$rs" "$TB_HOST_MAC" "$macs"
check "no router solicitation from :: carries a link-layer option" \
	[ "$(tshark -r "$TB_PCAP" -Y 'icmpv6.type == 133 && ipv6.src == :: && icmpv6.opt' 2>/dev/null | wc -l)" = 0 ]

# A crash: the addresses stay; a stray tagged lo address goes at restart.
before=$(lo_addrs)
psv_stop KILL
check "a stray tagged address on lo (a crash's)" add_tagged "${PFX}:dead:beef:0:1"
check "psvd restarts after a crash" psv_start "$CONF"
check "the adopted identities keep their addresses" \
	bash -c 'for a in $1; do grep -qxF "$a" <<<"$2" || exit 1; done' \
	_ "$before" "$(ctl_addrs)"
check "the stray tagged lo address is removed" \
	bash -c '! grep -qF "$1" <<<"$2"' _ "${PFX}:dead:beef:0:1" "$(lo_addrs)"
check "lo holds exactly the identities' addresses" wait_addrs
check "... and after their DAD, the new ones too" \
	[ "$(ctl_addrs)" = "$(lo_addrs)" ]

psv_stop TERM
check "SIGTERM: no identity address is left on lo" [ -z "$(lo_addrs)" ]
grep -E "IPv6|RA:|DAD|prefix" "$TB_DIR/psvd.log" | head -n 12 | sed 's/^/#   /'
