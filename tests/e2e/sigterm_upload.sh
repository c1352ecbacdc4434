#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# SIGTERM to psvd during an upload on an identity: whatever happens to the
# connection (it may be ended, or go on), no frame of it may ever carry the
# host's real MAC or IP.  Its frames are those to and from srv1:5201
# (iperf3's control and data connections).  A NAT that detaches on SIGTERM
# lets the segments still in the stack leave from the real address.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
tb_capture_start 128
check "psvd starts" \
	psv_start "$(psv_static_conf 4 20 policy.default=flow policy.on_exhausted=drop)"

tb_host timeout 30 iperf3 -c $SRV1 -t 8 -b 20M -J --logfile "$TB_DIR/iperf3.json" &
iperf=$!
sleep 3
check "the upload still runs when psvd gets SIGTERM" kill -0 "$iperf"
psv_ctl flows --json | jq -r '.[] | select(.remote_port == 5201) |
	"#   psvctl flows: \(.proto) :\(.local_port) -> :\(.remote_port) on \(.ipv4)"'
psv_stop TERM
check "psvd exits 0 on SIGTERM during the upload" [ "$PSV_RC" = 0 ]
wait "$iperf"
irc=$?
echo "# iperf3 exited $irc after SIGTERM: $(jq -r '.error // "no error"' "$TB_DIR/iperf3.json" 2>/dev/null)"
sleep 1
check "the observer's capture is complete" tb_capture_stop

seen=$($OBS flows "$TB_PCAP" --remote $SRV1:5201 --json)
jq -r '.flows[] | "#   \(.mac) \(.ip) -> \(.remote_ip):\(.remote_port) out \(.frames_out) in \(.frames_in) conns \(.conns)"' <<<"$seen"
check "the observer saw the upload on a virtual identity" \
	holds --arg m "$TB_HOST_MAC" '[.flows[] | select(.mac != $m and .frames_out > 100)] | length >= 1' <<<"$seen"
check_no_leak "no frame of the upload ever carried the real MAC or IP" --remote $SRV1:5201
