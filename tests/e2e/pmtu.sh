#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Path MTU discovery through psv: the transit link between gw and r2 has
# an MTU of 1280 (tb_up --transit-mtu), the LAN 1500.  The gateway answers
# the host's 1500-byte DF packets with "fragmentation needed" (ICMP 3/4,
# MTU 1280) to the identity that sent them; the host's stack must get it.
#   - a 3 s iperf3 upload to srv1 completes, its segments shrink to the
#     path MTU after the gateway's ICMP error quoting them;
#   - a 10 MB HTTP download from srv1 completes (srv1 learns the path MTU
#     from r2; the host's ACKs are small);
#   - tracepath to srv1 reports pmtu 1280;
#   - no frame carried the host's real MAC or IP (ARP counted).
MTU=1280
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600 --transit-mtu $MTU
# Headers only: the 10 MB download runs unpaced.
tb_capture_start 128
check "psvd starts" \
	psv_start "$(psv_static_conf 8 40 pool.pace_ms=20 policy.default=flow policy.on_exhausted=drop)"
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

# The upload first: the host learns the path MTU (for srv1, whatever the
# source) from the first ICMP error, and keeps it for the rest.
tb_host timeout 30 iperf3 -c $SRV1 -t 3 -b 50M -J --logfile "$TB_DIR/iperf3.json"
check "a 3 s iperf3 upload to srv1 completes" [ $? = 0 ]
check "srv1 received more than 1 MB of it" \
	holds '.end.sum_received.bytes > 1000000' <"$TB_DIR/iperf3.json"


size=$((10 * 1024 * 1024))
code=$(tb_host timeout 60 curl -s -r 0-$((size - 1)) -o "$TB_DIR/big.part" \
	-w '%{http_code}' http://$SRV1/big.bin)
got=$(stat -c %s "$TB_DIR/big.part" 2>/dev/null)
check "a 10 MB HTTP download from srv1 completes (HTTP $code, $got bytes)" \
	[ "$code.$got" = "206.$size" ]
rm -f "$TB_DIR/big.part"

tb_host timeout 60 tracepath -n $SRV1 >"$TB_DIR/tracepath.out" 2>&1
sed 's/^/#   /' "$TB_DIR/tracepath.out"
check "tracepath reports pmtu $MTU" grep -q "Resume: pmtu $MTU " "$TB_DIR/tracepath.out"
check "tracepath reached srv1" grep -q "reached" "$TB_DIR/tracepath.out"


check "the observer's capture is complete" tb_capture_stop
# Frame lengths of the upload's data segments, and the first fragmentation
# needed from the gateway quoting them.
up=$(tshark -n -r "$TB_PCAP" -Y "tcp.dstport == 5201 && ip.dst == $SRV1 && tcp.len > 0" \
	-T fields -e frame.number -e frame.len 2>/dev/null)
# (tcp.dstport inside an ICMP error is the quoted segment's.)
ferr=$(tshark -n -r "$TB_PCAP" -Y "icmp.type == 3 && icmp.code == 4 && ip.src == 192.0.2.1 && tcp.dstport == 5201" \
	-T fields -e frame.number -e ip.dst -e icmp.mtu -e eth.dst 2>/dev/null)
printf '%s\n' "$ferr" | head -n 3 | sed 's/^/#   frag needed (frame, to, mtu, eth.dst): /'
first=$(head -n 1 <<<"$ferr" | cut -f1)
frag_to_identity() {
	# Whole words: the host's 192.0.2.20 must not match 192.0.2.200.
	[ -n "$first" ] && ! grep -qwF -e "$TB_HOST_IP" -e "$TB_HOST_MAC" <<<"$ferr" &&
		grep -q "	$MTU	" <<<"$ferr"
}
check "the gateway sent fragmentation needed (MTU $MTU) for the upload to an identity" \
	frag_to_identity
# Segments in flight when the error came were sent at the old size;
# the rest of the upload must fit the path MTU.
big_after=$(awk -v f="${first:-0}" -v m=$((MTU + 14)) '$1 > f && $2 > m' <<<"$up" | wc -l)
late=$(awk -v f="${first:-0}" '$1 > f' <<<"$up" | wc -l)
big_last=$(awk -v f="${first:-0}" '$1 > f' <<<"$up" | tail -n 1000 |
	awk -v m=$((MTU + 14)) '$2 > m' | wc -l)
echo "# $late upload segments after the first error, $big_after larger than $MTU bytes of IP"
check "the upload's last 1000 segments fit the path MTU ($big_last larger)" \
	is "late > 1000 && big_last == 0"

check_no_leak "no frame carried the real MAC or IP (ARP counted, the host's DHCP aside)" --no-dhcp

psv_stop TERM
check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
