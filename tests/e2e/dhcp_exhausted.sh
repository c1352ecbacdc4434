#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The DHCP server's range is exhausted: two addresses (192.0.2.B-B+1, B
# 20 or, if the host's own address falls there, 30; the host keeps its
# own by a reservation) while psvd wants 4 ready.  Pass:
# the pool holds the 2 leases it can get; new groups beyond them follow
# on_exhausted: under link (the default) a third group joins an identity
# in use and works (linked_by_exhaustion counted), under drop a fourth
# fails (egress_pool_empty counted); psvd keeps asking for more at a
# bounded, paced rate (DISCOVERs counted in the observer's capture over
# 40 s: at most (max - 2 leased) x max_tries = 36, at most 6 from one
# MAC);
# nothing leaks; once the range is widened (192.0.2.B-B+9) the
# pool refills by itself.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
# The host's address (dnsmasq gave it one of .10-.199) must not be one
# of the range's: the range would hold one lease less.
B=20
h=${TB_HOST_IP##*.}
[ "$h" -ge 20 ] && [ "$h" -le 29 ] && B=30
tb_dhcp_range $B $((B + 1))
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with 2 addresses (192.0.2.$B-$((B + 1)))" tb_dhcp_start
# psv_start waits for `ready` identities: 2 at first, then 4 are wanted.
check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 8 link)"
tb_capture_start
t_window=$(date +%s)
check "psvd is told to keep 4 ready (SIGHUP)" psv_reload "$(psv_dhcp_conf 4 8 link)"
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0
sleep 3
leased=$(psv_ctl identities --json | jq '[.[] | select(.ipv4 != null and .ipv4 != "0.0.0.0")] | length')
echo "#   identities: $(psv_ctl identities --json | jq -c '[.[] | {ipv4, state}]')"
check "the pool holds the 2 leases the range has ($leased)" is "$leased == 2"
check "a first group takes one" tb_host curl -sf -m 5 -o /dev/null "http://$SRV1/"
check "a second group the other" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
check "no identity is ready now ($(psv_ready))" is "$(psv_ready) == 0"
ids=$(psv_ctl flows --json | jq -c '[.[] | .ipv4] | unique')
check_counted linked_by_exhaustion "a third group works under on_exhausted = link" \
	tcp_connects "$SRV1"

check "on_exhausted = drop (SIGHUP)" psv_reload "$(psv_dhcp_conf 4 8 drop)"
sleep 1
check_counted egress_pool_empty "a fourth group fails under on_exhausted = drop" \
	tcp_connect_fails "$SRV2"
check "psvctl status answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)
# The rest of a 40-second window in which psvd keeps asking.
sleep $((40 - ($(date +%s) - t_window)))
window=$(($(date +%s) - t_window))
noffers=$(psv_counter dhcp_no_offers)
status=$(psv_ctl status --json | jq -c '.psvd.supply')
echo "#   after ${window} s: dhcp_no_offers $noffers; status $status"

tb_dhcp_range $B $((B + 9))
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with 10 addresses (192.0.2.$B-$((B + 9)))" tb_dhcp_start
check_refills 4 60
check "the observer's capture is complete" tb_capture_stop
third=$("$OBS" flows "$TB_PCAP" --remote "$SRV1:5201" --json |
	jq -c '[.flows[] | select(.frames_out > 0) | .ip]')
check "the third group joined an identity in use ($third, of $ids)" \
	holds --argjson ids "$ids" 'length == 1 and (.[0] as $t | $ids | index($t) != null)' <<<"$third"

# DISCOVERs while the range was exhausted (the capture's first $window s).
t_cap=$(tshark -r "$TB_PCAP" -T fields -e frame.time_epoch -c 1 2>/dev/null)
disc=$(tshark -r "$TB_PCAP" -Y "dhcp.option.dhcp == 1 && frame.time_epoch < $t_cap + $window" \
	-T fields -e eth.src 2>/dev/null)
n_disc=$(grep -c . <<<"$disc")
macs=$(sort -u <<<"$disc" | grep -c .)
rate=$(awk -v n="$n_disc" -v w="$window" 'BEGIN { printf "%.2f", n / w }')
echo "#   $n_disc DISCOVERs from $macs MACs in $window s: $rate a second"
check "psvd kept asking ($n_disc DISCOVERs)" is "$n_disc > 0"
# At most max - 2 = 6 clients acquire at once, each sending at most
# max_tries = 6 DISCOVERs (1, 2, 4, 8, 16, 32 s apart, +- 1 s, with
# retransmit_ms = 1000): a client gives up, and a new one starts, only
# after about a minute, so a 40 s window holds at most 6 x 6.
check "bounded: at most 36 DISCOVERs in the window ($n_disc)" is "$n_disc <= 36"
most=$(sort <<<"$disc" | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
check "no MAC sent more than 6 DISCOVERs (max_tries; the most: ${most:-0})" is "${most:-0} <= 6"
check_no_leak "no frame with the real MAC or IP" --no-dhcp
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
