#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# An active adversary on the LAN (the observer, with nmap) probes two
# virtual addresses: both answer ARP with their own MAC and nothing else,
# identically (no RST, no ICMP), so a probe cannot tell them apart or tie
# them to the host; the drops are counted.
. "$(dirname "$0")/../testbed/prelude.sh"
check "psvd starts with a static pool" psv_start "
[pool]
source = static
static = 192.0.2.200-192.0.2.249
ready = 2
max = 10"
ids=$(psv_ctl identities --json)
A=$(jq -r '.[0].ipv4' <<<"$ids"); MAC_A=$(jq -r '.[0].mac' <<<"$ids")
B=$(jq -r '.[1].ipv4' <<<"$ids"); MAC_B=$(jq -r '.[1].mac' <<<"$ids")

# nmap's view of one address, its own address taken out.
scan() {
	tb_in "$TB_OBS" nmap -n -Pn "$@" -oG - 2>/dev/null |
		grep '^Host' | sed 's/^Host: [0-9.]* ()//; s/Ignored State.*//'
}
arp_mac() {
	tb_in "$TB_OBS" nmap -n -sn -PR "$1" 2>/dev/null |
		sed -n 's/^MAC Address: \([0-9A-F:]*\).*/\1/p' | tr 'A-F' 'a-f'
}
check "ARP ping finds $A at its own MAC" [ "$(arp_mac "$A")" = "$MAC_A" ]
check "ARP ping finds $B at its own MAC" [ "$(arp_mac "$B")" = "$MAC_B" ]

tcp_a=$(scan -sS -p 22,80,443,5201 --max-retries 1 "$A")
tcp_b=$(scan -sS -p 22,80,443,5201 --max-retries 1 "$B")
echo "#   TCP scan of $A: $tcp_a"
check "a TCP SYN scan finds every port filtered (no RST)" \
	bash -c "grep -q 'Ports: 22/filtered' <<<'$tcp_a' && ! grep -qE '/(open|closed)/' <<<'$tcp_a'"
check "both virtual addresses answer the TCP scan identically" [ "$tcp_a" = "$tcp_b" ]
udp_a=$(scan -sU -p 53,161,5353 --max-retries 1 "$A")
udp_b=$(scan -sU -p 53,161,5353 --max-retries 1 "$B")
echo "#   UDP scan of $A: $udp_a"
check "a UDP scan gets no port unreachable" bash -c "! grep -q '/closed/' <<<'$udp_a'"
check "both virtual addresses answer the UDP scan identically" [ "$udp_a" = "$udp_b" ]
check "ping to a virtual address gets no reply" \
	bash -c "! ip netns exec $TB_OBS ping -c 2 -i 0.2 -W 1 $A"
check "the unsolicited probes were dropped and counted" \
	holds '.ingress_drop_unsolicited >= 14' < <(psv_ctl stats --json)
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
