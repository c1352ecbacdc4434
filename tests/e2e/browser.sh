#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A browser with the shipped config: headless Chromium on the psv host
# loads srv1's /page.html, 36 images from the twelve web servers of the
# testbed (13 servers with srv1, names resolved by the gateway's dnsmasq),
# on a dual-stack testbed (srv1 has an IPv6 address too, so Chromium
# probes routes to both of its addresses and to a public IPv6 address),
# with a static pool and with a DHCP pool, three times each: the first
# load starts from the ready floor, the second after the pool followed
# the first one's demand, the third right after psvd restarted (it
# resumes the demand it learned, kept in its state directory).  The
# config names only the source (and the state directory): every other
# key is the default.
# Judged from the DOM Chromium dumps (a script in the page writes how many
# images arrived), from the observer's capture of each load (no frame
# with the real MAC or address, each server's connections on one identity
# (policy flow: TCP groups by server and port), the DNS lookups on at most
# two (one per application and resolver), at most servers + 2 identities
# on the wire) and from psvd's counters: at most servers + 2 identities
# taken (new groups: a route probe that never sends takes none), and no
# group linked by exhaustion once the pool follows the demand.  Prints the
# identities, new groups, held probes, linked groups and leases of each
# load.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600 --ipv6
# shellcheck source=tests/testbed/chromium.sh
. tests/testbed/chromium.sh

SERVERS=$((TB_WEB_N + 1))
GW=$TB_LAN_NET.1

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

# page SOURCE N [warm]: one load, captured and judged; warm: with the
# pool at the target the demand asks for, no group may be linked.
page() {
	local src=$1 n=$2 warm=${3:-} dom=$TB_DIR/page-$1-$2.html flows g0 l0 h0
	local a0 servers used groups linked
	g0=$(psv_counter egress_new_group) l0=$(psv_counter linked_by_exhaustion)
	h0=$(psv_counter sock_held)
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
		| .mac] | unique | length' <<<"$flows")
	check "$src page $n: $used identities on the wire for $SERVERS servers (at most servers + 2)" \
		is "$used <= $SERVERS + 2"
	groups=$(($(psv_counter egress_new_group) - g0))
	linked=$(($(psv_counter linked_by_exhaustion) - l0))
	check "$src page $n: $groups identities taken (at most servers + 2)" \
		is "$groups <= $SERVERS + 2"
	[ -n "$warm" ] &&
		check "$src page $n: no group linked by exhaustion ($linked)" \
			is "$linked == 0"
	echo "#   $src page $n: identities $used, new groups $groups, held" \
		"by route probes $(($(psv_counter sock_held) - h0)), linked by" \
		"exhaustion $linked, leases acquired meanwhile" \
		"$(($(psv_ctl status --json | jq '.psvd.supply.leases_acquired_last_hour') - a0))"
	cp "$TB_PCAP" "$TB_DIR/page-$src-$n.pcap"
}

# supply: psvd's supply status (target, floor, demand) as a comment.
supply() {
	psv_ctl status | sed -n 's/^\(supply\|leases\|linked\) */#   \1: /p'
}

# run SOURCE CONFIG: psvd with CONFIG, two loads, a restart, a third load,
# psvd stopped.
run() {
	local src=$1 target
	check "$src: psvd starts with the shipped defaults" psv_start "$2"
	check "$src: the ready floor is leased" psv_wait_ready \
		"$(psv_ctl status --json | jq '.psvd.supply.ready_floor')" 40
	page "$src" 1
	check "$src: the pool refills to its new target" refilled
	supply
	page "$src" 2 warm
	check "$src: no more than max leases held" holds \
		'.psvd.supply.leases_held <= .psvd.supply.lease_budget' \
		<<<"$(psv_ctl status --json)"
	target=$(psv_ctl status --json | jq '.psvd.supply.ready_target')
	psv_stop TERM
	check "$src: psvd exits 0" [ "$PSV_RC" = 0 ]
	check "$src: psvd restarts" psv_start "$2"
	check "$src: the ready target resumes the learned demand ($target)" \
		holds --argjson t "$target" '.psvd.supply.ready_target >= $t - 1 and
		.psvd.supply.ready_target > .psvd.supply.ready_floor' \
		<<<"$(psv_ctl status --json)"
	check "$src: the pool fills to it" refilled
	supply
	page "$src" 3 warm
	psv_stop TERM
	check "$src: psvd exits 0 again" [ "$PSV_RC" = 0 ]
}

# Each source its own state directory: each starts from the floor.
run static "
[pool]
source = static
static = 192.0.2.200-192.0.2.249
[daemon]
state_dir = $TB_DIR/state-static"
run dhcp "
[pool]
source = dhcp
[daemon]
state_dir = $TB_DIR/state-dhcp"
check "dnsmasq holds no lease of psv after the stop" \
	bash -c '[ "$(grep -vc " $1 " "$2")" = 0 ]' _ "$TB_HOST_MAC" "$TB_LEASES"
