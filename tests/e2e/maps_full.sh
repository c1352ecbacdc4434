#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The connection table full: [dataplane] max_flows = 1024 (the smallest
# psvd takes; it sizes psv_conns and psv_groups), then 1100 translated
# flows (a UDP socket bound to its port before sending takes the NAT
# fallback, one psv_conns entry per destination port).  Pass: the
# documented rule (psv.conf(5): new flows are dropped, no live one
# evicted), counted in egress_drop_table_full; no frame with the real
# MAC or IP; a translated flow from before keeps working, and a new flow
# on the socket path (which needs no entry) works.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
check "psvd starts with max_flows = 1024" \
	psv_start "$(psv_static_conf 2 10 policy.default=app \
		policy.on_exhausted=drop dataplane.max_flows=1024)"
check "psv_conns has 1024 entries" \
	holds '.max_entries == 1024' < <(bpftool map show pinned "$PSV_PIN_ROOT/eth0/psv_conns" -j)
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

# A UDP client bound to port 5555 first (so: translated), talking to
# srv1's echo; then FLOWS datagrams from port 5556 to as many ports.
# Prints the echo's answers before and after, and how many it sent.
cat >"$TB_DIR/fill.py" <<'EOF'
import socket, sys
srv, flows = sys.argv[1], int(sys.argv[2])
def echo(s):
    s.sendto(b"ping", (srv, 7))
    try:
        return s.recvfrom(64)[0] == b"ping"
    except socket.timeout:
        return False
old = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
old.bind(("0.0.0.0", 5555))
old.settimeout(2)
print("before", echo(old))
fill = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fill.bind(("0.0.0.0", 5556))
for port in range(20000, 20000 + flows):
    fill.sendto(b"x", (srv, port))
print("sent", flows)
print("after", echo(old))
EOF
tb_capture_start 128
before=$(psv_ctl stats --json)
out=$(tb_host /usr/bin/python3 "$TB_DIR/fill.py" "$SRV1" 1100)
after=$(psv_ctl stats --json)
delta() { jq -n --argjson a "$after" --argjson b "$before" "\$a.$1 - \$b.$1"; }
echo "#   $(tr '\n' ' ' <<<"$out")"
echo "#   egress_new_conn +$(delta egress_new_conn), egress_drop_table_full +$(delta egress_drop_table_full)"
check "the translated flow from before answered" grep -qx "before True" <<<"$out"
check "1100 new flows were sent" grep -qx "sent 1100" <<<"$out"
check "the flows beyond the table were dropped and counted" is "$(delta egress_drop_table_full) >= 1100 + 1 - 1024"
check "the table holds at most 1024 flows" \
	is "$(bpftool map dump pinned "$PSV_PIN_ROOT/eth0/psv_conns" -j | jq length) <= 1024"
check "the translated flow from before still answers with the table full" grep -qx "after True" <<<"$out"
check "a new flow on the socket path works with the table full" \
	tb_host curl -sf -o /dev/null "http://$SRV2/"
check "psvd is alive and answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
