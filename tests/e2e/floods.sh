#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Inbound floods from the LAN: 100,000 TCP SYNs, then 100,000 UDP
# datagrams, spread over every identity's address (each at its own MAC;
# one identity carries a running transfer), as fast as the observer's
# raw socket sends them.  Pass: the dataplane drops and counts them
# (ingress_drop_unsolicited; only what the veth itself dropped may be
# missing, at most 10%), psvd stays up, answers psvctl status within
# 100 ms throughout (a sampler measures it), its memory does not grow
# by more than 1 MB, the transfer runs on its identity, and a new flow
# of the host works right after.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
FRAMES=100000
check "psvd starts with a static pool" psv_start "$(psv_static_conf 3 10)"
# iperf3 paced: a rate-limited curl would sit in a zero window, and nginx
# closes a connection whose window stays shut for 60 s.
tb_host iperf3 -c "$SRV1" -t 300 -b 2M >/dev/null 2>&1 &
transfer=$!
sleep 1
ids=$(psv_ctl identities --json)
mapfile -t targets < <(jq -r '.[] | select(.state == "active" or .state == "ready") | .mac, .ipv4' <<<"$ids")
A=$(jq -r '[.[] | select(.state == "active")][0].ipv4' <<<"$ids")
check "the transfer has an identity ($A) and $(( ${#targets[@]} / 2 )) identities are flooded" \
	bash -c '[ "$1" != null ] && [ "$2" -ge 4 ]' _ "$A" "$(( ${#targets[@]} / 2 ))"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PSV_PID/status"; }
rss_before=$(rss)

psv_status_sampler &
sampler_pid=$!

for kind in flood_syn flood_udp; do
	before=$(psv_ctl stats --json)
	sent=$(tb_in "$TB_OBS" tests/testbed/inject.py eth0 "$kind" "${targets[@]}" --count "$FRAMES")
	sleep 0.5
	after=$(psv_ctl stats --json)
	dropped=$(jq -n --argjson a "$after" --argjson b "$before" '$a.ingress_drop_unsolicited - $b.ingress_drop_unsolicited')
	echo "#   $kind: sent, seconds: $sent; dropped as unsolicited: $dropped"
	check "$kind: dropped and counted in the dataplane" \
		is "${dropped:-0} >= $FRAMES * 9 / 10 && ${dropped:-0} <= $FRAMES"
	check "$kind: psvd is alive" kill -0 "$PSV_PID"
done
touch "$TB_DIR/sampler.stop"
wait "$sampler_pid"
samples=$(grep -c . "$TB_DIR/sampler.ms")
worst=$(sort -n "$TB_DIR/sampler.ms" | tail -n 1)
echo "#   psvctl status: $samples samples, slowest $worst ms"
check "psvctl status answered every sample" bash -c '! grep -q fail "$1" && [ "$2" -ge 10 ]' _ "$TB_DIR/sampler.ms" "$samples"
check "psvctl status answered within 100 ms throughout" is "${worst:-1000} < 100"
rss_after=$(rss)
echo "#   psvd RSS: $rss_before kB before, $rss_after kB after"
check "psvd's memory grew by less than 1 MB" is "$rss_after - $rss_before < 1024"
check_transfer_kept "$transfer" "$A"
check "a new flow of the host works" tb_host curl -sf -o /dev/null "http://$SRV2/"
kill "$transfer" 2>/dev/null
wait "$transfer" 2>/dev/null
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
