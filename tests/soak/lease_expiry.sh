#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: psvd killed (SIGKILL) during a transfer and kept dead for twice
# the lease time (dnsmasq's shortest, 120 s).  Pass: the transfer goes
# on at its rate to its end, no new flow takes an identity whose lease
# ran out (counted in egress_drop_lease_expired; the connect fails),
# nothing leaks, and a restarted psvd adopts the state, retires the
# identity whose lease ended (its address is no longer ours: a flow
# still on it would end there, so the transfer ends first) and new flows
# work again.  About 5 min.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 120
LEASE=120
CONF=$(psv_dhcp_conf 2 10)
tb_capture_start 128
check "psvd starts with 2 DHCP identities" psv_start "$CONF"
# Paced, so it flows steadily (a rate-limited reader would stall it in
# a zero window for long stretches) and outlasts the wait below.
tb_host iperf3 -c "$SRV1" -t $((2 * LEASE + 30)) -b 2M -J --logfile "$TB_DIR/iperf3.json" &
transfer=$!
sleep 2
A=$(psv_flow_ipv4 5201)
psv_stop KILL
check "psvd died by SIGKILL during the transfer (on $A)" [ "$PSV_RC" = 137 ]
# iperf3's client sends: the data leaves the host.
tx() { ip netns exec "$TB_HOST" cat /sys/class/net/eth0/statistics/tx_bytes; }
sleep $((2 * LEASE + 10))
r0=$(tx); sleep 2; r1=$(tx)
check "the transfer still runs after twice the lease time" kill -0 "$transfer"
check "and still sends data ($((r1 - r0)) bytes in 2 s)" is "$r1 - $r0 > 100000"
check_counted egress_drop_lease_expired \
	"a new flow finds no identity with a running lease: it fails" \
	bash -c '! ip netns exec "$1" curl -s -m 5 -o /dev/null "http://$2/"' _ "$TB_HOST" "$SRV2"
wait "$transfer"
check "the transfer ended well" [ $? = 0 ]
check "iperf3 reported no error" holds '.error == null' <"$TB_DIR/iperf3.json"
check "iperf3 sent data in every second" \
	holds '[.intervals[].sum.bytes] | length > 250 and min > 0' <"$TB_DIR/iperf3.json"
check "and 50 MB or more in all (2 Mbit/s for 270 s: 67.5 MB)" \
	holds '.end.sum_sent.bytes > 50000000' <"$TB_DIR/iperf3.json"
check "psvd restarts and adopts the pinned state" psv_start "$CONF"
check "it retires the identity whose lease ended ($A)" \
	grep -qF "($A): retired: lease expired" "$TB_DIR/psvd.log"
check "a new flow works again" tb_host curl -sf -m 10 -o /dev/null "http://$SRV2/"
psv_stop TERM
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp
