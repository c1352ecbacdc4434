#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: the DHCP server goes away for longer than a lease (dnsmasq's
# shortest, 120 s) while psvd runs; the host keeps its own address by a
# one-hour lease of its own.  Pass: every identity's renewals and
# rebindings go unanswered, a bounded number of REQUESTs, and it retires
# when its lease ends ("retired: lease expired"), its local route and
# sockets gone (the transfer on it ends), nothing from its MAC or address
# after the lease's end (psvctl shows it in whole seconds, up to 2 s
# early: 2.5 s allowed); meanwhile no identity becomes
# ready and a new flow fails (on_exhausted = drop, egress_pool_empty);
# psvd answers throughout; nothing leaks; once the server is back the
# pool refills by itself and a new flow works.  About 4 min.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 120
LEASE=120
tb_dhcp_reserve "$TB_HOST_IP" 3600
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with an hour's lease for the host" tb_dhcp_start
kill -USR1 "$(cat "$TB_DIR/pids/udhcpc.pid")"
for ((i = 0; i < 50; i++)); do
	grep -q "$TB_HOST_MAC" "$TB_LEASES" &&
		[ $(($(awk -v m="$TB_HOST_MAC" '$2 == m { print $1 }' "$TB_LEASES") - $(date +%s))) -gt 600 ] && break
	sleep 0.1
done
check "the host renewed for an hour" \
	bash -c '[ $(($(awk -v m="$1" '\''$2 == m { print $1 }'\'' "$2") - $(date +%s))) -gt 600 ]' _ \
	"$TB_HOST_MAC" "$TB_LEASES"
check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 6 drop)"
tb_capture_start 400
transfer_start $((LEASE + 60)) 1M
old=$(psv_ctl identities --json | jq -c '[.[] | {ipv4, mac, lease_expires}]')
n_old=$(jq length <<<"$old")
echo "#   identities: $old; the transfer's: $A"
check "the DHCP server stops" tb_dhcp_stop
t0=$(date +%s)
slow=0 samples=0
while [ "$(psv_holding "$old")" -gt 0 ] && [ $(($(date +%s) - t0)) -lt $((LEASE + 20)) ]; do
	s0=$(date +%s%N)
	psv_ctl status --json >/dev/null || slow=$((slow + 1000))
	ms=$((($(date +%s%N) - s0) / 1000000))
	samples=$((samples + 1))
	[ "$ms" -gt "$slow" ] && slow=$ms
	sleep 1
done
gone=$(($(date +%s) - t0))
echo "#   every identity gone $gone s after the server stopped; slowest psvctl status of $samples: $slow ms"
left=$(psv_holding "$old")
check "every identity retired within the lease ($left left after $gone s)" is "$left == 0"
check "psvctl status answered within 100 ms throughout ($slow ms)" is "$slow <= 100"
expired=$(grep -c "retired: lease expired" "$TB_DIR/psvd.log")
check "each for its lease's end ($expired lines 'retired: lease expired', $n_old identities)" \
	is "$expired == $n_old"
check "no identity is ready while the server is away ($(psv_ready))" is "$(psv_ready) == 0"
left=$(psv_routes_left "$old")
check "their local routes are removed ($left left)" is "$left == 0"
check "the transfer on $A ended" bash -c '! kill -0 "$1" 2>/dev/null' _ "$TRANSFER"
wait "$TRANSFER"
check_counted egress_pool_empty "a new flow fails (on_exhausted = drop)" \
	tcp_connect_fails "$SRV2"

check "the DHCP server is back" tb_dhcp_start
check_refills 1 60
check "the observer's capture is complete" tb_capture_stop

# Per identity: its REQUESTs after the server left, its lease's end, and
# anything from its MAC or address after that.
late=0
for mac in $(jq -r '.[].mac' <<<"$old"); do
	ip=$(jq -r --arg m "$mac" '.[] | select(.mac == $m) | .ipv4' <<<"$old")
	reqs=$(tshark -r "$TB_PCAP" -Y "dhcp.option.dhcp == 3 && eth.src == $mac" \
		-T fields -e frame.time_epoch 2>/dev/null)
	n_req=$(grep -c . <<<"$reqs")
	# Its lease's end as psvd showed it, or LEASE s after an ACK the
	# capture saw.  psvctl's whole seconds (wall time now plus the
	# monotonic time left, each rounded down) may be up to 2 s early.
	end=$(jq -r --arg m "$mac" '.[] | select(.mac == $m) | .lease_expires' <<<"$old")
	acked=$(tshark -r "$TB_PCAP" -Y "dhcp.option.dhcp == 5 && dhcp.hw.mac_addr == $mac" \
		-T fields -e frame.time_epoch 2>/dev/null | tail -n 1)
	last=$(tshark -r "$TB_PCAP" -Y "eth.src == $mac || ip.src == $ip" \
		-T fields -e frame.time_epoch 2>/dev/null | tail -n 1)
	after=$(awk -v a="${acked:-0}" -v e="$end" -v l="$LEASE" -v t="${last:-0}" \
		'BEGIN { if (a + l > e) e = a + l; printf "%.2f", t - e }')
	echo "#   $ip ($mac): $n_req REQUESTs; its last frame $after s after its lease's end as shown"
	check "$ip: at most 4 renewal or rebinding REQUESTs ($n_req)" is "$n_req <= 4"
	awk -v x="$after" 'BEGIN { exit !(x <= 2.5) }' || late=$((late + 1))
done
check "nothing from an expired identity later than 2.5 s after its lease's end as shown ($late)" \
	is "$late == 0"
check_no_leak "no frame with the real MAC or IP" --no-dhcp
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
