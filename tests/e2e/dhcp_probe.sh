#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# RFC 5227 before use: every offered address is ARP-probed from the
# identity's own MAC (sender IP 0) and announced once it is used; an
# address another host answers for is declined at dnsmasq and that
# identity retired, never used.
. "$(dirname "$0")/../testbed/prelude.sh"
# The observer claims two thirds of the DHCP range (.10-.136 of
# .10-.199), so about two offers in three conflict: with half, six
# identities met no conflict about once in 64 runs.  (Not the host's own
# address.)
for i in $(seq 10 136); do
	[ "192.0.2.$i" = "$TB_HOST_IP" ] || echo "addr add 192.0.2.$i/32 dev eth0"
done | ip -n "$TB_OBS" -batch - || not_ok "observer claims addresses"

tb_capture_start
check "psvd leases 6 identities, probing each offer" psv_start "
[pool]
source = dhcp
ready = 6
max = 40
pace_ms = 100
[dhcp]
probe = yes
probe_wait_ms = 50
probe_min_ms = 50
probe_max_ms = 100
announce_wait_ms = 100
[daemon]
state_dir = $TB_DIR/state"
ids=$(psv_ctl identities --json)
check "no identity uses an address the observer holds" \
	holds 'all(.[]; (.ipv4 | split(".")[3] | tonumber) >= 137)' <<<"$ids"
check "conflicts retired identities" grep -q "retired: address conflict" "$TB_DIR/psvd.log"
check "dnsmasq received their DHCPDECLINE" grep -q DHCPDECLINE "$TB_DIR/log/dnsmasq.events"
psv_stop TERM
check "the observer's capture is complete" tb_capture_stop

arp=$(tests/testbed/observe.py arp "$TB_PCAP" --json)
for mac in $(jq -r '.[].mac' <<<"$ids"); do
	ip=$(jq -r --arg m "$mac" '.[] | select(.mac == $m) | .ipv4' <<<"$ids")
	check "$ip was probed three times from $mac with sender 0.0.0.0" \
		holds --arg m "$mac" --arg i "$ip" '[.arp[] | select(.op == "request" and
			.sender_mac == $m and .sender_ip == "0.0.0.0" and .target_ip == $i)]
			| length == 3' <<<"$arp"
	check "$ip was announced by $mac" \
		holds --arg m "$mac" --arg i "$ip" '[.arp[] | select(.sender_mac == $m and
			.sender_ip == $i and .target_ip == $i)] | length >= 1' <<<"$arp"
done
