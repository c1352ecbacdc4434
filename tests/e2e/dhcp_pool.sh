#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End to end, DHCP pool against the testbed's dnsmasq: 50 identities
# leased with the RFC 7844 profile (distinct locally administered MACs, no
# hostname, client identifier = the MAC), real applications on DHCP
# addresses, a kill -9 and restart that resumes the leases, and every lease
# released at shutdown.
. "$(dirname "$0")/../testbed/prelude.sh"
N=50
CONF="
[pool]
source = dhcp
ready = $N
max = 60
pace_ms = 200
[dhcp]
probe = no
[daemon]
state_dir = $TB_DIR/state"

tb_capture_start
check "psvd leases $N identities from dnsmasq" psv_start "$CONF"
ids=$(psv_ctl identities --json)
check "$N identities, each with a lease expiry" \
	holds --argjson n "$N" '[.[] | select(.lease_expires != null)] | length >= $n' <<<"$ids"
check "identity addresses come from the DHCP range" \
	holds 'all(.[]; .ipv4 | split(".") | (.[0:3] == ["192","0","2"]) and
		((.[3] | tonumber) >= 10 and (.[3] | tonumber) <= 199))' <<<"$ids"

# dnsmasq's lease file: expiry MAC IP hostname client-id
leases=$(grep -v " $TB_HOST_MAC " "$TB_LEASES")
check "dnsmasq holds $N leases besides the host's" [ "$(wc -l <<<"$leases")" -ge "$N" ]
check "every MAC is distinct" \
	[ "$(awk '{print $2}' <<<"$leases" | sort -u | wc -l)" = "$(wc -l <<<"$leases")" ]
check "every MAC is locally administered unicast" \
	bash -c "! awk '{print \$2}' <<<'$leases' | grep -v '^.[26ae]:'"
check "no lease carries a hostname" bash -c "! awk '\$4 != \"*\"' <<<'$leases' | grep -q ."
check "every client identifier is 01 + the identity's own MAC" \
	bash -c "! awk '\$5 != \"01:\" \$2' <<<'$leases' | grep -q ."
check "psvd stored the leases" holds --argjson n "$N" '.leases | length >= $n' \
	<"$TB_DIR/state/eth0.json"

stats=$(psv_ctl stats --json)
check "psvctl stats shows psvd's DHCP counters (an OFFER and an ACK per identity)" \
	holds --argjson n "$N" '.dhcp_replies_accepted >= 2 * $n and .dhcp_replies_malformed == 0' <<<"$stats"
check "curl srv1 on a DHCP identity" tb_host curl -sf -o /dev/null http://198.51.100.10/
check "curl srv2 on a DHCP identity" tb_host curl -sf -o /dev/null http://198.51.100.20/
check "ping srv1" tb_host ping -c 2 -i 0.2 -W 2 198.51.100.10
check "dig srv2.psv.test" bash -c "[ \"\$(ip netns exec $TB_HOST dig +short +time=2 +tries=2 @192.0.2.1 srv2.psv.test)\" = 198.51.100.20 ]"

# Crash and restart: the leases are resumed, not acquired again.
before=$(psv_ctl identities --json | jq -c '[.[] | {mac, ipv4}] | sort_by(.mac)')
psv_stop KILL
check "psvd restarts after kill -9" psv_start "$CONF"
check "psvd resumed the stored leases" grep -q "resumed [0-9]* stored leases" "$TB_DIR/psvd.log"
after=$(psv_ctl identities --json | jq -c '[.[] | {mac, ipv4}] | sort_by(.mac)')
# The pool may still be refilling: every identity from before must stay.
check "every identity from before the crash is there, same MAC and address" \
	holds --argjson b "$before" --argjson a "$after" '$b - $a == []' <<<null
check "curl srv1 after the restart" tb_host curl -sf -o /dev/null http://198.51.100.10/index.html

# Leases are 120 s: T1 (60 s after each lease began) comes while we wait.
renewals() { grep -c "lease renewed" "$TB_DIR/psvd.log"; }
renewed() {
	local i
	for ((i = 0; i < 900; i++)); do
		[ "$(renewals)" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
exp_before=$(psv_ctl identities --json | jq -c 'map({(.mac): .lease_expires}) | add')
n0=$(renewals)
check "leases are renewed at T1 (unicast REQUEST, ACK to the virtual address)" renewed "$n0"
sleep 0.2
exp_after=$(psv_ctl identities --json | jq -c 'map({(.mac): .lease_expires}) | add')
check "a renewal moved an identity's lease expiry forward" \
	holds --argjson b "$exp_before" --argjson a "$exp_after" \
	'[$a | to_entries[] | select(.value > ($b[.key] // 0))] | length > 0' <<<null

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
sleep 0.5
left=$(grep -v " $TB_HOST_MAC " "$TB_LEASES" | wc -l)
check "every lease was released (dnsmasq holds $left besides the host's)" [ "$left" = 0 ]
check "dnsmasq logged the releases" bash -c "[ \$(grep -c DHCPRELEASE '$TB_DIR/log/dnsmasq.events') -ge $N ]"
check "the observer's capture is complete" tb_capture_stop
# ARP left out here: the host renews its own 120 s lease during the wait
# above, and the ARP that unicast renewal may need carries the real MAC.
check_no_leak "the observer saw no frame with the real MAC or IP (ARP, DHCP aside)" --no-arp --no-dhcp
