#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The host's own DHCP client moves eth0 to another address while psvd
# runs: the DHCP server now reserves another address for the host's MAC
# and the host renews (busybox udhcpc, SIGUSR1): the server NAKs the old
# address, udhcpc deconfigures eth0 and takes the new one.  Pass: psvd
# follows (its dataplane's host_ip is the new address, its log says so),
# no identity holds the host's old or new address, a transfer on an
# identity goes on with it, new flows get identities (sockets and the
# NAT fallback of ping alike), the host's own ARP for its gateway goes
# out in an identity's name, nothing leaks the real MAC or the old or new
# address; a flow under policy host leaves from the new address with the
# real MAC.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
OLD=$TB_HOST_IP
NEW=192.0.2.150
[ "$OLD" = "$NEW" ] && NEW=192.0.2.151	# dnsmasq gave the host one of .10-.199
cp "$(command -v curl)" "$TB_DIR/hostcurl" || exit 1
check "psvd starts with 2 DHCP identities" psv_start "$(psv_dhcp_conf 2 8)
[app \"hostcurl\"]
match = comm=hostcurl
granularity = host"
tb_capture_start 128
transfer_start 40 2M
check "the transfer runs on an identity ($A)" \
	bash -c '[ -n "$1" ] && [ "$1" != null ] && [ "$1" != "$2" ]' _ "$A" "$OLD"

# The server reserves $NEW for the host; the host renews.
tb_dhcp_reserve "$NEW"
check "the DHCP server stops" tb_dhcp_stop
check "it starts again with the reservation" tb_dhcp_start
kill -USR1 "$(cat "$TB_DIR/pids/udhcpc.pid")"
for ((i = 0; i < 150; i++)); do
	[ "$(cat "$TB_DIR/host.ip" 2>/dev/null)" = "$NEW" ] && break
	sleep 0.1
done
check "the host's DHCP client moved eth0 from $OLD to $NEW" \
	bash -c 'ip -n "$1" -4 -o addr show dev eth0 | grep -q " $2/24 "' _ "$TB_HOST" "$NEW"
echo "#   udhcpc: $(tail -n 4 "$TB_DIR/log/udhcpc.log" | tr '\n' ' ')"
sleep 1
check "psvd still runs" kill -0 "$PSV_PID"
check "psvd's dataplane knows the host's new address" \
	holds --arg a "$NEW" '.host_ip == $a' < <(psv_ctl status --json)
check "psvd's log names the change" grep -q "address changed.*$NEW" "$TB_DIR/psvd.log"
grep "address changed" "$TB_DIR/psvd.log" | sed 's/^/#   log: /'
held=$(psv_ctl identities --json | jq --arg o "$OLD" --arg n "$NEW" \
	'[.[] | select(.ipv4 == $o or .ipv4 == $n)] | length')
check "no identity holds the host's old or new address ($held)" is "${held:-1} == 0"

check "the host's neighbour cache is flushed again" tb_host ip neigh flush dev eth0
check "a new flow works from the new address" tb_host curl -sf -m 5 -o /dev/null "http://$SRV2/"
check "ping (the NAT fallback) works" tb_host ping -c 2 -W 2 "$SRV2"
check "the transfer goes on" kill -0 "$TRANSFER"
wait "$TRANSFER"
check "the transfer ended well" [ $? = 0 ]
check "the observer's capture is complete" tb_capture_stop
rows=$("$OBS" flows "$TB_PCAP" --json)
for f in "tcp $SRV2 80" "icmp $SRV2 null" "tcp $SRV1 5201"; do
	set -- $f
	flow_out "$rows" "$@"
	check "$f left from one identity, not the host" holds --arg m "$TB_HOST_MAC" \
		--arg o "$OLD" --arg n "$NEW" \
		'length == 1 and .[0].mac != $m and .[0].ip != $o and .[0].ip != $n' <<<"$FLOW"
done
# ARP about either address (the gateway asking for the old one during
# the change, for the new one after) is the host's own presence.
check_no_leak "no frame with the real MAC, the old or the new address" --no-dhcp --ip "$NEW"

# A flow under policy host: the host's own, from its new address.
tb_capture_start 128
check "a host-policy flow works" tb_host "$TB_DIR/hostcurl" -sf -m 5 -o /dev/null "http://$SRV1/"
check "the observer's capture is complete" tb_capture_stop
json=$("$OBS" flows "$TB_PCAP" --remote "$SRV1:80" --json)
echo "#   host flow: $(jq -c '[.flows[] | {mac, ip, frames_out, frames_in}]' <<<"$json")"
check "it left from the new address with the real MAC" holds --arg m "$TB_HOST_MAC" \
	--arg n "$NEW" '[.flows[] | select(.frames_out > 0)] |
	length == 1 and .[0].mac == $m and .[0].ip == $n' <<<"$json"
psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
