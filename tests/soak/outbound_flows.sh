#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: 100,000 new outbound flows to distinct destinations in 10 s
# (one application's unconnected UDP socket to 50,000 ports of each
# server; [policy] default = app puts them on one identity, each flow
# noted in psv_conns).  Pass: psvd answers psvctl status within 100 ms
# in every sample (every 50 ms) while the flows start and for 30 s
# after (its connection scans: a chunk per loop turn), its RSS grows by
# less than 8 MB, the flows are noted and counted by psvd's expiry pass
# (what status shows), a new flow works after, and nothing leaks.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
check "psvd starts" psv_start "$(psv_static_conf 2 10 policy.default=app)"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PSV_PID/status"; }
rss_before=$(rss)
cat >"$TB_DIR/flows.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
n = 0
for port in range(10000, 60000):
    for srv in sys.argv[1:]:
        s.sendto(b"x", (srv, port))
        n += 1
    if n % 10000 == 0:     # 100,000 in 10 s: 1 s per 10,000
        time.sleep(max(0, start + n / 10000 - time.monotonic()))
print(n, round(time.monotonic() - start, 1))
PY
tb_capture_start 96
psv_status_sampler &
sampler_pid=$!
sent=$(tb_host /usr/bin/python3 "$TB_DIR/flows.py" "$SRV1" "$SRV2")
echo "#   flows sent, seconds: $sent"
noted=$(bpftool map dump pinned "$PSV_PIN_ROOT/eth0/psv_conns" -j | jq length)
echo "#   psv_conns entries right after: $noted"
sleep 30
touch "$TB_DIR/sampler.stop"
wait "$sampler_pid"
check "100,000 flows started within 11 s" bash -c 'set -- $1; [ "$1" = 100000 ] && [ "${2%.*}" -le 11 ]' _ "$sent"
check "the flows were noted in psv_conns ($noted)" is "${noted:-0} >= 90000"
counted=$(psv_ctl status --json | jq '.flows // 0')
check "psvctl status counts them (psvd's last expiry pass: $counted)" \
	is "${counted:-0} >= 90000"
samples=$(grep -c . "$TB_DIR/sampler.ms")
worst=$(sort -n "$TB_DIR/sampler.ms" | tail -n 1)
echo "#   psvctl status: $samples samples, slowest $worst ms"
check "psvctl status answered every sample" bash -c '! grep -q fail "$1" && [ "$2" -ge 100 ]' _ "$TB_DIR/sampler.ms" "$samples"
check "psvctl status answered within 100 ms throughout" is "${worst:-1000} < 100"
rss_after=$(rss)
echo "#   psvd RSS: $rss_before kB before, $rss_after kB after"
check "psvd's memory grew by less than 8 MB" is "$rss_after - $rss_before < 8192"
check "a new flow works after" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp
