#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The interface under psvd: down and up (the kernel drops its routes; the
# host's DHCP client, or here the test, puts the default route back), the
# gateway's neighbour table flushed, the gateway restarted (its LAN port
# down and up), then the interface deleted.  Pass: after down/up psvd
# still runs with its dataplane attached and flows work again on
# identities; after the flush and after the restart the gateway resolves
# the identities again through psv's ARP replies and a running transfer
# goes on; nothing leaks; after the deletion psvd exits with one clear message
# and leaves no pin, local route or control socket behind.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
check "psvd starts" psv_start "$(psv_static_conf 2 10)"
tb_capture_start 128
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0
check "a flow on an identity before" tb_host curl -sf -m 5 -o /dev/null "http://$SRV1/"

# Down and up.
tb_host ip link set eth0 down
sleep 1
tb_host ip link set eth0 up
sleep 1
tb_host ip route replace default via 192.0.2.1 dev eth0
check "psvd survived eth0 down and up" kill -0 "$PSV_PID"
check "egress is still attached" bash -c 'ip netns exec "$1" tc filter show dev eth0 egress | grep -q psv_egress' _ "$TB_HOST"
check "psvctl status answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)
check "a new flow works after down and up" tb_host curl -sf -m 10 -o /dev/null "http://$SRV2/"

# The gateway forgets every neighbour while a transfer runs.
tb_host iperf3 -c "$SRV1" -t 60 -b 2M >/dev/null 2>&1 &
transfer=$!
sleep 1
A=$(psv_flow_ipv4 5201)
arp_before=$(psv_counter ingress_arp_replied)
check "the gateway's neighbour table is flushed" ip -n "$TB_GW" neigh flush dev lan
sleep 3
arp_after=$(psv_counter ingress_arp_replied)
check "psv answered the gateway's ARP again ($arp_before -> $arp_after)" is "${arp_after:-0} > ${arp_before:-0}"
check "the gateway resolved $A to its identity's MAC" \
	bash -c 'ip -n "$1" neigh show "$2" dev lan | grep -qi "$3"' _ "$TB_GW" "$A" \
	"$(psv_ctl identities --json | jq -r --arg a "$A" '.[] | select(.ipv4 == $a) | .mac')"
check "the transfer goes on after the flush" kill -0 "$transfer"

# The gateway restarts: its LAN port down and up drops its neighbours
# and routes; the connected route comes back with the link.
ip -n "$TB_GW" link set lan down
sleep 2
ip -n "$TB_GW" link set lan up
sleep 4
arp_restart=$(psv_counter ingress_arp_replied)
check "psv answered the restarted gateway's ARP ($arp_after -> $arp_restart)" \
	is "${arp_restart:-0} > ${arp_after:-0}"
check "the restarted gateway resolved $A to its identity's MAC" \
	bash -c 'ip -n "$1" neigh show "$2" dev lan | grep -qi "$3"' _ "$TB_GW" "$A" \
	"$(psv_ctl identities --json | jq -r --arg a "$A" '.[] | select(.ipv4 == $a) | .mac')"
# Bytes the server acknowledged, over the transfer's connections.
acked() {
	tb_host ss -tinH dst "$SRV1" dport = 5201 |
		grep -o 'bytes_acked:[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }'
}
a1=$(acked)
sleep 2
a2=$(acked)
check "the transfer moves data after the gateway's restart ($a1 -> $a2 bytes)" \
	is "$a2 > $a1"
kill "$transfer" 2>/dev/null
wait "$transfer" 2>/dev/null
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp

# Deleted: psvd cannot go on without its interface.
pid=$PSV_PID
lines=$(wc -l <"$TB_DIR/psvd.log")
tb_host ip link del eth0
for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "psvd exits when eth0 is deleted" bash -c '! kill -0 "$1" 2>/dev/null' _ "$pid"
psv_stop KILL
tail -n 3 "$TB_DIR/psvd.log" | sed 's/^/#   log: /'
check "psvd said why" grep -q "eth0.*\(deleted\|gone\|disappeared\)" "$TB_DIR/psvd.log"
errors=$(tail -n +"$((lines + 1))" "$TB_DIR/psvd.log" | grep -c 'error:')
check "in one error line ($errors)" is "$errors == 1"
check "psvd exited 1" [ "$PSV_RC" = 1 ]
check "no pin left" bash -c '[ -z "$(ls -A "$1" 2>/dev/null)" ]' _ "$PSV_PIN_ROOT"
check "no local route of an identity left" \
	bash -c '[ -z "$(ip -n "$1" route show table local proto 245)" ]' _ "$TB_HOST"
check "no control socket left" bash -c '[ ! -e "$1/eth0.sock" ]' _ "$PSV_CONTROL_DIR"
