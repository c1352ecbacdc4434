#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A browser with the shipped config: headless Chromium on the psv host
# loads srv1's /page.html, 36 images from the twelve web servers of the
# testbed (13 servers with srv1, names resolved by the gateway's dnsmasq),
# twice with a static pool and twice with a DHCP pool (the first load of
# each starts from the ready floor, the second after the pool followed the
# first one's demand).  The config names only the source (and the state
# directory): every other key is the default.
# Judged from the DOM Chromium dumps (a script in the page writes how many
# images arrived) and from the observer's capture of each load: no frame
# with the real MAC or address, each server's connections on one identity
# (policy flow: TCP groups by server and port), the DNS lookups on at most
# two (one per application and resolver), and at most servers + 2
# identities per page.  Prints the identities, new groups, linked groups
# and leases of each load.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600
# shellcheck source=tests/testbed/chromium.sh
. tests/testbed/chromium.sh

SERVERS=$((TB_WEB_N + 1))
GW=$TB_LAN_NET.1
counter() { psv_ctl stats --json | jq ".$1"; }

# Waits until the pool holds its ready target (at most 40 s).
refilled() {
	local i st
	for ((i = 0; i < 400; i++)); do
		st=$(psv_ctl status --json)
		jq -e '.identities.ready >= .psvd.supply.ready_target' \
			>/dev/null <<<"$st" && return 0
		sleep 0.1
	done
	return 1
}

# page SOURCE N: one load, captured and judged.
page() {
	local src=$1 n=$2 dom=$TB_DIR/page-$1-$2.html flows g0 l0 a0 servers
	g0=$(counter egress_new_group) l0=$(counter linked_by_exhaustion)
	a0=$(psv_ctl status --json | jq '.psvd.supply.leases_acquired_last_hour')
	tb_capture_start || return 1
	check "$src page $n: chromium loads the page" tb_browse "$dom"
	check "$src page $n: the observer's capture is complete" tb_capture_stop
	check "$src page $n: every image loaded (36 of 36)" \
		[ "$(tb_page_count "$dom" loaded)" = 36 ]
	echo "#   $src page $n: DOM says loaded $(tb_page_count "$dom" loaded)," \
		"failed $(tb_page_count "$dom" failed), in $(tb_page_count "$dom" load_ms) ms"
	check_no_leak "$src page $n: no frame with the real MAC or IP (DHCP aside)" \
		--no-dhcp
	flows=$("$OBS" flows "$TB_PCAP" --json)
	servers=$(jq -c --arg gw "$GW" '[.flows[] | select(.proto == "tcp" and
		.remote_port == 80) | .remote_ip] | unique' <<<"$flows")
	check "$src page $n: the page's $SERVERS servers were reached" \
		holds --argjson n "$SERVERS" 'length == $n' <<<"$servers"
	check "$src page $n: each server's connections on one identity" \
		holds '[.flows[] | select(.proto == "tcp" and .remote_port == 80)]
		| group_by(.remote_ip) | all(map(.ip) | unique | length == 1)' \
		<<<"$flows"
	check "$src page $n: the DNS lookups on at most 2 identities" \
		holds --arg gw "$GW" '[.flows[] | select(.remote_ip == $gw and
		.remote_port == 53) | .ip] | unique | length <= 2' <<<"$flows"
	used=$(jq --arg gw "$GW" '[.flows[] | select(.proto == "tcp" and
		.remote_port == 80 or (.remote_ip == $gw and .remote_port == 53))
		| [.mac, .ip]] | unique | length' <<<"$flows")
	check "$src page $n: $used identities for $SERVERS servers (at most servers + 2)" \
		is "$used <= $SERVERS + 2"
	echo "#   $src page $n: identities $used, new groups" \
		"$(($(counter egress_new_group) - g0)), linked by exhaustion" \
		"$(($(counter linked_by_exhaustion) - l0)), leases acquired meanwhile" \
		"$(($(psv_ctl status --json | jq '.psvd.supply.leases_acquired_last_hour') - a0))"
	cp "$TB_PCAP" "$TB_DIR/page-$src-$n.pcap"
}

# run SOURCE CONFIG: psvd with CONFIG, two loads, psvd stopped.
run() {
	local src=$1
	check "$src: psvd starts with the shipped defaults" psv_start "$2"
	check "$src: the ready floor is leased" psv_wait_ready \
		"$(psv_ctl status --json | jq '.psvd.supply.ready_floor')" 40
	page "$src" 1
	check "$src: the pool refills to its new target" refilled
	psv_ctl status | sed -n 's/^\(supply\|leases\|linked\) */#   \1: /p'
	page "$src" 2
	check "$src: no more than max leases held" holds \
		'.psvd.supply.leases_held <= .psvd.supply.lease_budget' \
		<<<"$(psv_ctl status --json)"
	psv_stop TERM
	check "$src: psvd exits 0" [ "$PSV_RC" = 0 ]
}

run static "
[pool]
source = static
static = 192.0.2.200-192.0.2.249"
run dhcp "
[pool]
source = dhcp
[daemon]
state_dir = $TB_DIR/state"
check "dnsmasq holds no lease of psv after the stop" \
	bash -c '[ "$(grep -vc " $1 " "$2")" = 0 ]' _ "$TB_HOST_MAC" "$TB_LEASES"
