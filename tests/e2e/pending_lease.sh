#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A psvd killed in the middle of an acquisition (its REQUEST sent, the ACK
# not yet in) leaves a lease at the server.  psvd stores such an
# acquisition as "pending" before its REQUEST leaves; the next psvd
# releases it and never uses that identity.  The moment of the kill is
# made exact by marking a stored lease pending while psvd is down, which
# is what the file holds when the kill comes between REQUEST and ACK.
. "$(dirname "$0")/../testbed/prelude.sh"
STATE=$TB_DIR/state/$TB_HOST_IF.json
CONF=$(psv_dhcp_conf 3 10)

check "psvd starts with 3 DHCP identities" psv_start "$CONF"
check "the lease file has no pending acquisition once they are ready" \
	holds '.leases | length == 3 and all(.[]; .pending == false)' <"$STATE"
psv_stop KILL
check "psvd died by SIGKILL" [ "$PSV_RC" = 137 ]

ready=$(psv_ctl identities --json | jq -r '[.[] | select(.state == "ready")][0] | "\(.mac) \(.ipv4)"')
read -r mac ip <<<"$ready"
check "a ready identity to play the interrupted acquisition ($mac $ip)" \
	[ -n "$mac" -a "$mac" != null ]
check "dnsmasq holds its lease" grep -q " $mac $ip " "$TB_LEASES"
jq --arg m "$mac" '.leases |= map(if .mac == $m then .pending = true |
	.lease_s = 0 | .t1_s = 0 | .t2_s = 0 | .server_mac = "00:00:00:00:00:00"
	else . end)' "$STATE" >"$STATE.new" && mv "$STATE.new" "$STATE"

check "psvd restarts" psv_start "$CONF"
released() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q " $mac " "$TB_LEASES" || return 0
		sleep 0.1
	done
	return 1
}
check "the pending lease was released at dnsmasq" released
check "psvd logged the release" grep -q "released $ip, left by a psvd that died acquiring it" "$TB_DIR/psvd.log"
ids=$(psv_ctl identities --json)
check "the identity is not used" holds --arg m "$mac" 'all(.[]; .mac != $m)' <<<"$ids"
check "the pool is refilled with other identities" \
	holds '[.[] | select(.state == "ready")] | length >= 3' <<<"$ids"
check "the lease file dropped the pending record" \
	holds --arg m "$mac" 'all(.leases[]; .mac != $m)' <"$STATE"
check "curl srv1 works" tb_host curl -sf -o /dev/null http://198.51.100.10/

psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
# The host's own lease (its real identity's) stays.
check "every identity's lease released at SIGTERM" \
	bash -c "! grep -v ' $TB_HOST_MAC ' '$TB_LEASES' | grep -q ."
