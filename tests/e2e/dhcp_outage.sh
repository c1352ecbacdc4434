#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The DHCP server stops while psvd runs.  Pass: the ready identities
# are used up by new flows and none comes back while the server is
# away; a further new flow follows on_exhausted = drop (it fails,
# counted as egress_pool_empty) and nothing leaks; psvd keeps answering;
# once the server is back the pool refills by itself and new flows work.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 6 drop)"
tb_capture_start 128
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0

check "the DHCP server (dnsmasq) is stopped" tb_dhcp_stop
check "a new flow takes the first ready identity" tb_host curl -sf -m 5 -o /dev/null "http://$SRV1/"
check "another takes the second" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
sleep 3
check "no identity is ready while the server is away ($(psv_ready))" is "$(psv_ready) == 0"
check_counted egress_pool_empty "a third new flow fails (on_exhausted = drop)" \
	tcp_connect_fails "$SRV1"
check "psvctl status answers" holds ".psvd.pid == $PSV_PID" < <(psv_ctl status --json)

check "the DHCP server is back" tb_dhcp_start
check_refills 1 30
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
check "the observer's capture is complete" tb_capture_stop
check_no_leak "no frame with the real MAC or IP" --no-dhcp
