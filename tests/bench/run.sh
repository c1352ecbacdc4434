#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench: psv side by side with no psv and with netfilter NAT, measured
# in one run on one dual-stack testbed (tests/testbed --ipv6, tx checksum
# offload on as on a real deployment), host -> srv1 over gw and r2, IPv4
# and (RTT, TCP) IPv6:
#   B0   no psv, nothing on the host's eth0
#   B1   nftables SNAT of the host's traffic to 192.0.2.250-253 (conntrack);
#        those addresses are /32 secondaries on eth0 so the host answers ARP
#        for them, which is what a user setting up SNAT on a LAN would do;
#        IPv4 only (its IPv6 rows would be B0's), so no IPv6 rows
#   B2   psvd, static pool, flow granularity, TC ingress, ipv6 = virtualize
#        (identities get SLAAC addresses of the gateway's prefix)
#   B2x  the same with XDP ingress (generic XDP on the veth)
#   B2d  psvd with the shipped defaults (static pool): a browser page only
#        (tests/bench/page.sh), against B0
# (B1's addresses are not the suggested .240-.243: those are in psv's static
# pool .200-.249, and the gateway's neighbour cache would carry one
# configuration's MAC for them into the next.)
# The configurations take turns, round after round (BENCH_RUNS rounds), so
# a drift of the machine's speed spreads over all of them; every metric is
# the median over the rounds, with min and max.
#
# Environment:
#   BENCH_QUICK=1      smoke run: 100 pings, 2 s per throughput test, 1 round
#   BENCH_RUNS=N       rounds (3; 1 with BENCH_QUICK)
#   BENCH_CONFIGS=".." subset of "B0 B1 B2 B2x"
#   BENCH_OUT=DIR      where results go (build/bench)
# Results: an aligned table on stdout, DIR/results.json, DIR/rtt.png, the
# raw samples in DIR/raw/.  Goals are reported, not asserted: the exit
# status is 0 whenever the bench itself ran.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/testbed/testbed.sh
. tests/testbed/psvd.sh

BENCH_DIR=tests/bench
OUT=${BENCH_OUT:-build/bench}
RAW=$OUT/raw
SAMPLES=$RAW/samples.tsv
STATUS=$RAW/status.tsv
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	PINGS=100 DUR=2 UDP_DUR=2 HTTP_N=500 RUNS=${BENCH_RUNS:-1}
	PROG_ARGS=(--runs 20000 --repeat 1000000)
else
	PINGS=1000 DUR=10 UDP_DUR=5 HTTP_N=5000 RUNS=${BENCH_RUNS:-3}
	PROG_ARGS=(--runs 100000 --repeat 1000000)
fi
CONFIGS=${BENCH_CONFIGS:-"B0 B1 B2 B2x"}
SRV=198.51.100.10
SRV6=	# srv1's IPv6 address, once the testbed is up
FRESH_PORT=9007		# newflows.py's echo server on srv1
NAT_ADDRS="192.0.2.250 192.0.2.251 192.0.2.252 192.0.2.253"
PSV_READY=8
MEM_IDS=1000
MEM_FLOWS=100000
PIN_DIR=	# psvd's pins, once the testbed (its prefix) is up

bench_log() { echo "bench: $*" >&2; }

# sample CFG ROUND METRIC VALUE: one measurement for report.py.
sample() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$SAMPLES"; }

# status CFG|METRIC WHAT: why a configuration or metric group has no numbers.
status() { printf '%s\t%s\n' "$1" "$2" >>"$STATUS"; bench_log "$1: $2"; }

psv_conf() {
	psv_static_conf "$PSV_READY" 50 policy.default=flow policy.on_exhausted=drop \
		dataplane.ingress="$1"
	cat <<-EOF
	; Rules no program of the bench matches: the hooks try each of them
	; on every socket (hook_attribution_cost).
	[app "browser"]
	match = comm=firefox
	[app "users"]
	match = uid=4242
	granularity = uid
	[app "mail"]
	match = exe=/usr/bin/thunderbird
	EOF
}

# --- cleanup: everything this run changed, also on failure -------------

STATS_SYSCTL_OLD=
ECHO_PID=
RUN_PSV_MADE=

bench_cleanup() {
	if [ -n "$STATS_SYSCTL_OLD" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$STATS_SYSCTL_OLD"
		STATS_SYSCTL_OLD=
	fi
	if [ -n "${TB_HOST:-}" ] && [ -e "/run/netns/$TB_HOST" ]; then
		bench_psv_cleanup
		[ -n "$ECHO_PID" ] && tb__kill "$ECHO_PID"
	fi
	tb_down	# namespaces, with the nft table and addresses of B1 in them
	# unless a psvd of another run has put its socket there meanwhile
	[ -n "$RUN_PSV_MADE" ] && rmdir /run/psv 2>/dev/null
	return 0
}

# --- configurations -----------------------------------------------------

nat_up() {
	local a
	for a in $NAT_ADDRS; do
		tb_host ip addr add "$a/32" dev "$TB_HOST_IF" || return 1
	done
	# conntrack is what netfilter NAT costs: it comes with the nat chain.
	tb_host nft -f - <<-EOF
	table ip psv_bench {
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "$TB_HOST_IF" ip saddr $TB_HOST_IP counter snat to ${NAT_ADDRS%% *}-${NAT_ADDRS##* }
		}
	}
	EOF
}

nat_down() {
	local a
	tb_host nft delete table ip psv_bench 2>/dev/null
	for a in $NAT_ADDRS; do
		tb_host ip addr del "$a/32" dev "$TB_HOST_IF" 2>/dev/null
	done
	return 0
}

# psv_start of tests/testbed/psvd.sh, with psvd's control socket in a
# /run/psv of its own: psvd puts it at /run/psv/IF.sock, the same path for
# every testbed on the machine, so concurrent test runs would take over or
# remove each other's.  The pins are on the shared bpffs, under this
# testbed's pin root (psv__pin_root), and psvctl reads the identities from
# them.  unshare and sh exec, so PSV_PID is psvd.  Its state directory is
# in the testbed and emptied first (unless $2 is "restart"): a first start
# (no demand learned by an earlier configuration or round).
bench_psv_start() {
	psv__pin_root
	[ "${2:-}" = restart ] || rm -rf "$TB_DIR/bench-state"
	printf '%s\n[daemon]\nstate_dir = %s\n' "$1" "$TB_DIR/bench-state" \
		>"$TB_DIR/psv.conf"
	if [ ! -d /run/psv ]; then	# the mount point
		mkdir /run/psv && RUN_PSV_MADE=1
	fi
	nsenter --net="/run/netns/$TB_HOST" -- unshare --mount --propagation private \
		sh -c 'mount -t tmpfs -o mode=0700 psv-bench /run/psv && exec "$@"' sh \
		"$PSV_BUILD/psvd" --iface "$TB_HOST_IF" --config "$TB_DIR/psv.conf" \
		--foreground --log-level debug >>"$TB_DIR/psvd.log" 2>&1 &
	PSV_PID=$!
	echo "$PSV_PID" >"$TB_DIR/psvd.pid"
	wait_ready
}

# psv_cleanup without its removal of /run/psv/IF.sock (another run's).
bench_psv_cleanup() {
	psv__pin_root
	psv_stop KILL
	tb_host tc filter del dev "$TB_HOST_IF" egress 2>/dev/null
	tb_host tc filter del dev "$TB_HOST_IF" ingress 2>/dev/null
	tb_host ip link set dev "$TB_HOST_IF" xdpgeneric off 2>/dev/null
	tb_host ip link set dev "$TB_HOST_IF" xdp off 2>/dev/null
	rm -rf "$PSV_PIN_ROOT"
}

# psv_up and cfg_up run in the main shell (PSV_PID must stay set) and
# leave the reason of a failure in CFG_ERR.
CFG_ERR=

psv_up() {
	if [ ! -x "$PSV_BUILD/psvd" ]; then
		CFG_ERR="build/psvd is not built"
		return 1
	fi
	if ! bench_psv_start "$(psv_conf "$1")"; then
		CFG_ERR="psvd did not start (ingress = $1), see $RAW/psvd.log"
		cat "$TB_DIR/psvd.log" >>"$RAW/psvd.log" 2>/dev/null
		bench_psv_cleanup
		return 1
	fi
}

psv_down() {
	psv_stop TERM >&2
	[ "${PSV_RC:-0}" = 0 ] || bench_log "psvd exited with status $PSV_RC"
	cat "$TB_DIR/psvd.log" >>"$RAW/psvd.log" 2>/dev/null
	: >"$TB_DIR/psvd.log"
	bench_psv_cleanup
}

cfg_up() {
	case $1 in
	B0) ;;
	B1) nat_up || { CFG_ERR="nftables SNAT setup failed"; nat_down; return 1; } ;;
	B2) psv_up tc ;;
	B2x) psv_up xdp ;;
	esac
}

# cfg_check CFG ROUND: did the configuration translate the traffic?
# (The nat chain sees the first packet of each connection only.)
cfg_check() {
	local n
	case $1 in
	B1) n=$(tb_host nft list table ip psv_bench |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p') ;;
	B2 | B2x) n=$(psv_ctl stats --json |
		jq '[.egress_translated, .ingress_translated] | min') ;;
	*) return 0 ;;
	esac
	[ "${n:-0}" -gt 0 ] ||
		status "$1" "round $2: translated nothing: these numbers are not its"
}

cfg_down() {
	case $1 in
	B1) nat_down ;;
	B2 | B2x) psv_down ;;
	esac
}

# --- measurements (each appends samples; a failed one says so) ---------

# m_ping CFG ROUND [6]: RTTs of ping to srv1 over IPv4, or with 6 over
# IPv6 (metrics rtt6_*, ping6_lost).
m_ping() {
	local cfg=$1 r=$2 v=${3:-} dst=$SRV
	local f=$RAW/ping$v-$1-$2.txt us=$RAW/rtt$v-$1-$2.us
	[ "$v" = 6 ] && dst=$SRV6
	# warm: ARP or neighbour discovery, identity
	tb_host ping -n -q -i 0.001 -c 20 -W 1 "$dst" >/dev/null 2>&1
	tb_host ping -n -i 0.001 -c "$PINGS" -W 1 "$dst" >"$f" 2>&1
	sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$f" |
		awk '{ printf "%.0f\n", $1 * 1000 }' >"$us"
	if [ ! -s "$us" ]; then
		bench_log "$cfg: ping $dst got no replies: $(tail -n 1 "$f")"
		return 1
	fi
	python3 - "$us" "$PINGS" "$v" <<-'EOF' |
	import sys
	v = sorted(int(x) for x in open(sys.argv[1]))
	n, fam = len(v), sys.argv[3]
	print(f"rtt{fam}_median_us", (v[(n - 1) // 2] + v[n // 2]) / 2)
	print(f"rtt{fam}_p99_us", v[min(n - 1, int(0.99 * n))])
	print(f"ping{fam}_lost", int(sys.argv[2]) - n)
	EOF
	while read -r m v; do sample "$cfg" "$r" "$m" "$v"; done
}

# iperf3 CFG ROUND NAME SECONDS ARGS...: iperf3 -J to srv1 (its IPv6
# address if ARGS has -6), kept in $RAW/iperf-CFG-ROUND-NAME.json; prints
# the file name if it has results.
iperf() {
	local cfg=$1 r=$2 name=$3 secs=$4 f=$RAW/iperf-$1-$2-$3.json dst=$SRV
	shift 4
	[[ " $* " == *" -6 "* ]] && dst=$SRV6
	tb_host timeout $((secs + 20)) iperf3 -c "$dst" -t "$secs" -J "$@" >"$f" 2>&1
	if ! jq -e '.end.sum_received.bytes > 0' "$f" >/dev/null 2>&1; then
		bench_log "$cfg: iperf3 $* failed: $(jq -r '.error // empty' "$f" \
			2>/dev/null || tail -n 1 "$f")"
		return 1
	fi
	echo "$f"
}

# TCP for DUR s; METRIC ARGS...: records Gbit/s received.
m_tcp() {
	local cfg=$1 r=$2 metric=$3 f
	shift 3
	f=$(iperf "$cfg" "$r" "$metric" "$DUR" "$@") || return 1
	sample "$cfg" "$r" "$metric" \
		"$(jq '.end.sum_received.bits_per_second / 1e9' "$f")"
}

# 64-byte UDP as fast as iperf3 sends: delivered packets/s, and the CPU
# time of sender and receiver (iperf3's getrusage; on a veth the stack's
# softirq work runs mostly in their system time) per delivered packet.
# Not /proc/stat: other work on the machine would count too.
m_udp64() {
	local cfg=$1 r=$2 f
	f=$(iperf "$cfg" "$r" udp64 "$UDP_DUR" -u -l 64 -b 0) || return 1
	sample "$cfg" "$r" udp64_kpps "$(jq '.end.sum_received as $s |
		$s.bytes / 64 / $s.seconds / 1e3' "$f")"
	sample "$cfg" "$r" udp64_cpu_ns_per_pkt "$(jq '.end as $e |
		($e.cpu_utilization_percent.host_total +
		 $e.cpu_utilization_percent.remote_total) / 100 *
		$e.sum_received.seconds * 1e9 / ($e.sum_received.bytes / 64)' "$f")"
}

# New TCP connections, no keep-alive: all to srv1:80, so under psv they
# share one identity (TCP groups by daddr, dport).
m_http() {
	local cfg=$1 r=$2 out
	out=$(tb_host timeout 60 ab -q -n "$HTTP_N" -c 4 "http://$SRV/" 2>&1) ||
		{ bench_log "$cfg: ab failed: $(tail -n 1 <<<"$out")"; return 1; }
	sample "$cfg" "$r" http_conn_per_s \
		"$(awk '/^Requests per second/ { print $4 }' <<<"$out")"
	sample "$cfg" "$r" http_failed "$(awk '/^Failed requests/ { print $3 }' <<<"$out")"
}

# Until psvd ($PSV_PID) has its ready queue full (it refills it paced,
# about 0.5 s an identity), as its pinned maps say.
wait_ready() {
	local i n
	for ((i = 0; i < 300; i++)); do
		kill -0 "$PSV_PID" 2>/dev/null || {
			bench_log "psvd $PSV_PID exited; the end of its log:"
			tail -n 15 "$TB_DIR/psvd.log" >&2
			return 1
		}
		n=$(psv_ctl identities --json 2>/dev/null |
			jq '[.[] | select(.state == "ready")] | length')
		[ "${n:-0}" -ge "$PSV_READY" ] && return 0
		sleep 0.1
	done
	bench_log "only ${n:-0} of $PSV_READY identities ready after 30 s"
	return 1
}

# UDP transactions from fresh sockets: under psv each takes a fresh
# identity, as many as the ready queue holds (refilling it is paced on
# purpose: a burst of new MACs would be linkable).
m_fresh() {
	local cfg=$1 r=$2 j
	case $cfg in
	B2*) wait_ready || return 1 ;;
	esac
	j=$(tb_host python3 "$BENCH_DIR/newflows.py" "$SRV" --port "$FRESH_PORT" \
		-n "$PSV_READY") || { bench_log "$cfg: newflows failed"; return 1; }
	sample "$cfg" "$r" fresh_flow_per_s "$(jq .per_s <<<"$j")"
	sample "$cfg" "$r" fresh_flow_median_us "$(jq .median_us <<<"$j")"
	sample "$cfg" "$r" fresh_flow_lost "$(jq .lost <<<"$j")"
}

# Which path the bench's own flows took under psv (B2, B2x), read right
# after the traffic above and before the hooks (sock_churn would add its
# 140,000 sockets): sockets the cgroup hooks bound (sock_bound) and
# unconnected datagrams they gave an identity's source (sock_src_set,
# one per sendto) against new flows of the NAT fallback
# (egress_nat_unbound + egress_nat_unhooked), and the NAT flows still in
# psv_conns by protocol (pings take NAT by design: an unconnected ICMP
# socket passes no cgroup hook).
m_paths() {
	local cfg=$1 r=$2 st fl
	case $cfg in
	B2*) ;;
	*) return 0 ;;
	esac
	st=$(psv_ctl stats --json) || { bench_log "$cfg: psvctl stats failed"; return 1; }
	fl=$(psv_ctl flows --json) || { bench_log "$cfg: psvctl flows failed"; return 1; }
	printf '%s\n' "$st" >"$RAW/stats-$cfg-$r.json"
	printf '%s\n' "$fl" >"$RAW/flows-$cfg-$r.json"
	sample "$cfg" "$r" path_sock_bound "$(jq '.sock_bound' <<<"$st")"
	sample "$cfg" "$r" path_sock_src_set "$(jq '.sock_src_set' <<<"$st")"
	sample "$cfg" "$r" path_nat_new "$(jq '.egress_nat_unbound + .egress_nat_unhooked' <<<"$st")"
	sample "$cfg" "$r" path_socket_share "$(jq '(.sock_bound + .sock_src_set) as $s |
		($s + .egress_nat_unbound + .egress_nat_unhooked) as $t |
		if $t > 0 then $s / $t else 0 end' <<<"$st")"
	for p in tcp udp icmp; do
		sample "$cfg" "$r" "path_nat_${p}_flows" "$(jq --arg p "$p" \
			'(if type == "array" then . else .flows end) |
			[.[] | select(.path == "nat" and (.proto | ascii_downcase) == $p)] | length' \
			<<<"$fl")"
	done
}

# Hooks for later issues.  Define hook_NAME CFG ROUND (in a file sourced
# below, or here) to measure it; it records with `sample`.  Until then the
# report lists the metric as not measured.
LATER_HOOKS="dhcp_exchange first_packet_delay attribution_cost"
# shellcheck source=tests/bench/page.sh
. "$BENCH_DIR/page.sh"
for f in "$BENCH_DIR"/hooks/*.sh; do
	# shellcheck disable=SC1090
	[ -e "$f" ] && . "$f"
done

m_later_hooks() {
	local h
	for h in $LATER_HOOKS; do
		declare -F "hook_$h" >/dev/null && "hook_$h" "$1" "$2"
	done
	return 0
}

# step CFG ROUND WHAT CMD...: one measurement, logged with the time it took
step() {
	local t=$SECONDS
	"${@:4}"
	bench_log "  $1 round $2: $3 ($((SECONDS - t)) s)"
}

measure() {
	local cfg=$1 r=$2
	step "$cfg" "$r" ping m_ping "$cfg" "$r"
	step "$cfg" "$r" "tcp up 1" m_tcp "$cfg" "$r" tcp_up_1_gbps
	step "$cfg" "$r" "tcp up 4" m_tcp "$cfg" "$r" tcp_up_4_gbps -P 4
	step "$cfg" "$r" "tcp down 1" m_tcp "$cfg" "$r" tcp_down_1_gbps -R
	step "$cfg" "$r" "udp 64" m_udp64 "$cfg" "$r"
	step "$cfg" "$r" http m_http "$cfg" "$r"
	# IPv6: B1's SNAT leaves it alone, its rows would be B0's.  Before
	# the fresh flows, which empty psv's ready queue.
	if [ "$cfg" != B1 ]; then
		step "$cfg" "$r" "ping IPv6" m_ping "$cfg" "$r" 6
		step "$cfg" "$r" "tcp6 up 1" m_tcp "$cfg" "$r" tcp6_up_1_gbps -6
		step "$cfg" "$r" "tcp6 down 1" m_tcp "$cfg" "$r" tcp6_down_1_gbps -6 -R
	fi
	step "$cfg" "$r" "fresh flows" m_fresh "$cfg" "$r"
	m_paths "$cfg" "$r"
	m_later_hooks "$cfg" "$r"
}

# --- per-program cost, in situ and by BPF_PROG_TEST_RUN -----------------

# ids of the BPF programs attached to the host's eth0 (tc, xdp, tcx)
attached_progs() {
	tb_host_nsenter bpftool net show dev "$TB_HOST_IF" -j |
		jq -r '.. | objects | select(has("id")) | .id' | sort -u
}

# prints "id name run_time_ns run_cnt" per attached program
prog_stats() {
	local id
	for id in $(attached_progs); do
		bpftool prog show id "$id" -j |
			jq -r '"\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
	done
}

# insitu_delta CFG TAG BEFORE AFTER: ns per program run between snapshots.
insitu_delta() {
	local cfg=$1 tag=$2
	join <(sort "$3") <(sort "$4") |
	while read -r _ name t0 c0 _ t1 c1; do
		[ $((c1 - c0)) -gt 0 ] || continue
		sample "$cfg" 1 "insitu_${name}_${tag}_ns" \
			"$(awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", t / c }')"
		sample "$cfg" 1 "insitu_${name}_${tag}_runs" $((c1 - c0))
	done
}

# kernel.bpf_stats_enabled times every program run (two clock reads per
# run), so it is on only for this extra pass, not for the rounds above.
# A run is one packet where no GSO/GRO merges them: egress in the 64-byte
# UDP test, ingress on the pure ACKs of the TCP upload.
insitu() {
	local cfg=$1 s=$RAW/insitu-$1
	STATS_SYSCTL_OLD=$(sysctl -n kernel.bpf_stats_enabled) || return 1
	sysctl -qw kernel.bpf_stats_enabled=1 || return 1
	prog_stats >"$s.0"
	iperf "$cfg" insitu tcp_up "$DUR" >/dev/null
	prog_stats >"$s.1"
	iperf "$cfg" insitu udp64 "$UDP_DUR" -u -l 64 -b 0 >/dev/null
	prog_stats >"$s.2"
	sysctl -qw kernel.bpf_stats_enabled="$STATS_SYSCTL_OLD"
	STATS_SYSCTL_OLD=
	if [ ! -s "$s.0" ]; then
		status "insitu-$cfg" "no BPF program attached to eth0"
		return 1
	fi
	insitu_delta "$cfg" tcp_up "$s.0" "$s.1"
	insitu_delta "$cfg" udp64 "$s.1" "$s.2"
}

prog_bench() {
	local pb=$PSV_BUILD/bench/prog_bench
	if [ ! -x "$pb" ]; then
		status prog_bench "missing: $pb is not built"
		return 0
	fi
	bench_log "prog_bench ${PROG_ARGS[*]}"
	if ! "$pb" --json "${PROG_ARGS[@]}" >"$RAW/prog_bench.json" \
		2>"$RAW/prog_bench.err"; then
		status prog_bench "failed: $(tail -n 1 "$RAW/prog_bench.err")"
		return 0
	fi
	# report.py reads the JSON lines (each case with its hook's floor)
	grep -q '^{' "$RAW/prog_bench.json" ||
		status prog_bench "no case reported (see prog_bench.err)"
}

# --- memory at scale ----------------------------------------------------

# mem_sample TAG: bytes of every pinned psv map and psvd's RSS.
mem_sample() {
	local tag=$1 f total=0 b name
	for f in "$PIN_DIR"/*; do
		read -r name b < <(bpftool map show pinned "$f" -j 2>/dev/null |
			jq -r 'select(.name) | "\(.name) \(.bytes_memlock // 0)"') ||
			continue	# a pinned program or link
		[ -n "$name" ] || continue
		sample "mem_$tag" 1 "map_${name}_bytes" "$b"
		total=$((total + b))
	done
	sample "mem_$tag" 1 maps_total_bytes "$total"
	# PSV_PID is psvd itself (see bench_psv_start)
	sample "mem_$tag" 1 psvd_rss_kb "$(ps -o rss= -p "$PSV_PID")"
}

# Maps are sized when psvd loads them (hash maps preallocate), so their
# bytes hardly change with the fill; psvd's RSS shows what its expiry pass
# over 100,000 connections costs.  The entries are synthetic (fill_maps).
memory() {
	local fm=$PSV_BUILD/bench/fill_maps line
	if [ ! -x "$fm" ]; then
		status memory "missing: $fm is not built"
		return 0
	fi
	psv_up tc || { status memory "$CFG_ERR"; return 0; }
	sleep 2.5	# one expiry scan of psvd
	mem_sample empty
	"$fm" "$PIN_DIR" "$MEM_IDS" "$MEM_FLOWS" >"$RAW/fill_maps.txt" 2>&1 ||
		status memory "fill_maps failed: $(tail -n 1 "$RAW/fill_maps.txt")"
	sleep 4.5	# two expiry scans walk the filled tables
	mem_sample filled
	"$fm" "$PIN_DIR" >"$RAW/fill_maps_after.txt" 2>&1
	while read -r line; do
		sample mem_filled 1 "entries_${line% *}" "${line#* }"
	done <"$RAW/fill_maps_after.txt"
	psv_down
}

# --- main ----------------------------------------------------------------

main() {
	local r cfg h start=$SECONDS
	rm -rf "$RAW" "$OUT/results.json" "$OUT/rtt.png"
	mkdir -p "$RAW" || exit 1
	: >"$SAMPLES"
	: >"$STATUS"
	for h in $LATER_HOOKS; do
		declare -F "hook_$h" >/dev/null ||
			status "$h" "not measured yet (define hook_$h in $BENCH_DIR/hooks/*.sh)"
	done
	{
		echo "date $(date -u +%FT%TZ)"
		echo "kernel $(uname -r)"
		echo "cpus $(nproc)"
		echo "loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "runs $RUNS"
		echo "quick $QUICK"
		echo "pings $PINGS"
		echo "tcp_seconds $DUR"
		echo "udp_seconds $UDP_DUR"
		echo "http_requests $HTTP_N"
		echo "git $(git rev-parse --short HEAD 2>/dev/null)"
	} >"$RAW/meta.txt"

	# Before the testbed: a quiet machine for the microbenchmark.
	prog_bench

	# The lease outlives the run: udhcpc's renewal would flush eth0's
	# addresses (B1's secondaries among them).
	tb_up --csum-offload --lease 3600 --ipv6 || { bench_log "testbed failed"; exit 1; }
	SRV6=$TB_SRV1_IP6
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tb__spawn bench-echo "$TB_SRV1" python3 "$BENCH_DIR/newflows.py" --serve \
		"$SRV" --port "$FRESH_PORT"
	ECHO_PID=$(cat "$TB_DIR/pids/bench-echo.pid")
	psv__pin_root	# a pin root per testbed: other runs keep theirs
	PIN_DIR=$PSV_PIN_ROOT/$TB_HOST_IF
	tb__wait "fresh-flow echo" "$TB_DIR/log/bench-echo.log" tb_host python3 \
		"$BENCH_DIR/newflows.py" "$SRV" --port "$FRESH_PORT" -n 1 || exit 1

	declare -A broken
	for ((r = 1; r <= RUNS; r++)); do
		for cfg in $CONFIGS; do
			[ -n "${broken[$cfg]:-}" ] && continue
			bench_log "round $r/$RUNS: $cfg ($((SECONDS - start)) s)"
			if ! cfg_up "$cfg"; then
				status "$cfg" "$CFG_ERR"
				broken[$cfg]=1
				continue
			fi
			measure "$cfg" "$r"
			cfg_check "$cfg" "$r"
			cfg_down "$cfg"
		done
	done
	bench_log "browser page ($((SECONDS - start)) s)"
	page_rounds
	for cfg in B2 B2x; do
		if [[ " $CONFIGS " != *" $cfg "* ]] || [ -n "${broken[$cfg]:-}" ]; then
			continue
		fi
		bench_log "in-situ program cost: $cfg ($((SECONDS - start)) s)"
		cfg_up "$cfg" && { insitu "$cfg"; cfg_down "$cfg"; }
	done
	bench_log "memory at $MEM_IDS identities, $MEM_FLOWS flows ($((SECONDS - start)) s)"
	memory
	echo "loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/meta.txt"
	echo "seconds $((SECONDS - start))" >>"$RAW/meta.txt"

	python3 "$BENCH_DIR/report.py" "$RAW" "$OUT" || exit 1
	local cdfs=
	for cfg in B0 B1 B2x B2; do	# B2 drawn last, on top
		[ -s "$RAW/rtt-$cfg.cdf" ] && cdfs="$cdfs $cfg"
	done
	if [ -n "$cdfs" ]; then
		gnuplot -e "raw='$RAW'; out='$OUT/rtt.png'; cfgs='$cdfs'" \
			"$BENCH_DIR/rtt.gp" || bench_log "gnuplot failed"
	fi
	bench_log "done in $((SECONDS - start)) s: $OUT/results.json $OUT/rtt.png"
}

main "$@"
