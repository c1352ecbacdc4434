#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The browser page of tests/bench/run.sh (sourced by it): headless
# Chromium loads srv1's /page.html (36 images from 13 servers, the
# testbed's web farm) without psv (B0) and with psvd as shipped (B2d: the
# default config, a static pool), taking turns round after round.  Per
# round and configuration two loads, each with a new profile: the first
# right after psvd started (its pool at the ready floor), the second after
# the pool refilled to the target the first raised; then psvd restarts
# (keeping its state directory) and a third load follows once the pool
# holds the target the restart resumed.  Samples:
#   page_load_ms, page_load_cold_ms   the page's navigation-to-load time
#                                     (second and first load)
#   page_images_loaded                images loaded, second load
#   page_new_identities               B2d: fresh identities taken (leases
#                                     spent) by the second load
#   page_linked_groups                B2d: its groups linked by exhaustion
#   page_held_probes                  B2d: its route probes (connected UDP
#                                     sockets holding an identity unused)
#   page_cold_new_identities,         B2d: the same for the first load,
#   page_cold_linked_groups           right after psvd started
#   page_restart_new_identities,      B2d: the same for the third load,
#   page_restart_linked_groups        right after psvd restarted
#   page_servers                      servers of the page (the goal's N)
#   pool_refill_per_s                 B2d: identities acquired per second
#                                     from the end of the first load until
#                                     the pool holds its target
#   pool_restart_fill_per_s           B2d: the same after the restart,
#                                     to the resumed target
# Nothing is asserted: report.py sets the ratios against their goals.
# shellcheck source=tests/testbed/chromium.sh
. tests/testbed/chromium.sh

PAGE_CONF="
[pool]
source = static
static = 192.0.2.200-192.0.2.249"

# page_load CFG ROUND METRIC: one load; its time and images as METRIC.
page_load() {
	local cfg=$1 r=$2 dom=$RAW/page-$1-$2-$3.html
	tb_browse "$dom" || { bench_log "$cfg: chromium failed (see $dom.log)"; return 1; }
	sample "$cfg" "$r" "$3" "$(tb_page_count "$dom" load_ms)"
	[ "$3" = page_load_ms ] &&
		sample "$cfg" "$r" page_images_loaded "$(tb_page_count "$dom" loaded)"
	return 0
}

# psvd's counter NAME (0 if this psvd has none), or supply field NAME of
# its status.
page_stat() { psv_ctl stats --json | jq ".$1 // 0"; }
page_supply() { psv_ctl status --json | jq ".psvd.supply.$1"; }

# page_refill CFG ROUND [METRIC]: until the pool holds its ready target
# (30 s at most); the refill rate as METRIC (pool_refill_per_s).
page_refill() {
	local cfg=$1 r=$2 metric=${3:-pool_refill_per_s} a0 t0 i st
	a0=$(page_supply leases_acquired_last_hour) t0=$(date +%s.%N)
	for ((i = 0; i < 300; i++)); do
		st=$(psv_ctl status --json)
		if jq -e '.identities.ready >= .psvd.supply.ready_target' \
			>/dev/null <<<"$st"; then
			sample "$cfg" "$r" "$metric" "$(jq --arg a0 "$a0" \
				--arg t0 "$t0" --arg t "$(date +%s.%N)" \
				'(.psvd.supply.leases_acquired_last_hour - ($a0 | tonumber))
				 / (($t | tonumber) - ($t0 | tonumber))' <<<"$st")"
			return 0
		fi
		sleep 0.1
	done
	bench_log "$cfg: the pool did not reach its target within 30 s"
	return 1
}

# page_counted ROUND PREFIX METRIC: one load as METRIC, with the identities
# it took, the groups it linked (and the probes it held) as PREFIX*.
page_counted() {
	local r=$1 pre=$2 g0 l0 h0
	g0=$(page_stat egress_new_group) l0=$(page_stat linked_by_exhaustion)
	h0=$(page_stat sock_held)
	page_load B2d "$r" "$3"
	sample B2d "$r" "${pre}new_identities" $(($(page_stat egress_new_group) - g0))
	sample B2d "$r" "${pre}linked_groups" $(($(page_stat linked_by_exhaustion) - l0))
	[ "$pre" = page_ ] &&
		sample B2d "$r" page_held_probes $(($(page_stat sock_held) - h0))
	return 0
}

# page_psv_start [restart]: psvd with the page's config.
page_psv_start() {
	bench_psv_start "$PAGE_CONF" "$@" && return 0
	status B2d "psvd did not start, see $TB_DIR/psvd.log"
	bench_psv_cleanup
	return 1
}

page_b2d() {
	local r=$1
	page_psv_start || return 1
	page_counted "$r" page_cold_ page_load_cold_ms
	page_refill B2d "$r"
	page_counted "$r" page_ page_load_ms
	sample B2d "$r" page_servers $((TB_WEB_N + 1))
	psv_down
	page_psv_start restart || return 1
	page_refill B2d "$r" pool_restart_fill_per_s
	page_counted "$r" page_restart_ page_load_restart_ms
	psv_down
}

page_rounds() {
	local r
	command -v chromium >/dev/null || { status B2d "chromium is not installed"; return 0; }
	for ((r = 1; r <= RUNS; r++)); do
		bench_log "browser page, round $r/$RUNS"
		page_load B0 "$r" page_load_cold_ms
		page_load B0 "$r" page_load_ms
		page_b2d "$r"
	done
}
