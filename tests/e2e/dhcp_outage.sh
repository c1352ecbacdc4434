#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The DHCP server stops while psvd runs.  Pass: the ready identities
# are used up by new flows and none comes back while the server is
# away; a further new flow follows on_exhausted = drop (it fails,
# counted as egress_pool_empty) and nothing leaks; psvd keeps answering;
# once the server is back the pool refills by itself and new flows work.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
check "psvd starts with 2 DHCP identities" psv_start "
[pool]
source = dhcp
ready = 2
max = 6
pace_ms = 50
[policy]
on_exhausted = drop
[dhcp]
probe = no
retransmit_ms = 1000"
ready() { psv_ctl identities --json | jq '[.[] | select(.state == "ready")] | length'; }
tb_capture_start 128
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

check "the DHCP server (dnsmasq) is stopped" tb_dhcp_stop
check "a new flow takes the first ready identity" tb_host curl -sf -m 5 -o /dev/null "http://$SRV1/"
check "another takes the second" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
sleep 3
check "no identity is ready while the server is away ($(ready))" is "$(ready) == 0"
before=$(psv_ctl stats --json | jq .egress_pool_empty)
# A TCP connection to srv1's iperf3 port: a group of its own.
connects() { tb_host timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/5201"' _ "$1"; }
refused() { ! connects "$1"; }
check "a third new flow fails (on_exhausted = drop)" refused "$SRV1"
after=$(psv_ctl stats --json | jq .egress_pool_empty)
check "counted as egress_pool_empty ($before -> $after)" is "${after:-0} > ${before:-0}"
check "psvctl status answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)

check "the DHCP server is back" tb_dhcp_start
for ((i = 0; i < 300; i++)); do [ "$(ready)" -ge 1 ] && break; sleep 0.1; done
check "the pool refills by itself once the server is back ($(ready) ready)" is "$(ready) >= 1"
check "a new flow works again" connects "$SRV2"
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp
