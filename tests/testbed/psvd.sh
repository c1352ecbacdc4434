#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs psvd on the testbed's psv host (source after testbed.sh, after tb_up).
#   psv_start CONFIG_TEXT   writes $TB_DIR/psv.conf (state_dir in $TB_DIR
#                           unless it names one), starts build/psvd (with
#                           $PSV_ARGS, if set) on
#                           eth0 in the host netns (nsenter, so its bpffs pins
#                           outlive it), waits for the ready identities
#   psv_conf_dhcp [TEXT]    the DHCP tests' config: 2 ready, at most 8, paced
#                           50 ms, no ARP probe, 1 s retransmissions; TEXT
#                           (more sections) follows
#   psv_ctl ARGS...         build/psvctl --iface eth0 ARGS in the host netns
#   psv_stop [SIGNAL]       stops psvd (default TERM) and waits for it
#   psv_status_sampler      times psvctl status every 50 ms (background)
#   psv_cleanup             kills psvd, detaches and unpins what it left
#   psv_testbed [TB_UP ARGS]  the start of every psv end-to-end test: a
#                           testbed whose teardown also undoes what psvd left
# psvd's log: $TB_DIR/psvd.log.  tb_down also stops a psvd left running.

PSV_BUILD=${PSV_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
# Every testbed's host calls its interface eth0: a pin root of its own keeps
# two runs (or a run and a real psvd) apart.  psvd and psvctl honour it.
# The control socket likewise gets a directory of the testbed's own.
psv__pin_root() {
	export PSV_PIN_ROOT=${PSV_PIN_ROOT:-/sys/fs/bpf/psv-${TB_PREFIX%-}}
	export PSV_CONTROL_DIR=${PSV_CONTROL_DIR:-$TB_DIR/run}
}

psv_conf_dhcp() {
	printf '[pool]\nsource = dhcp\nready = 2\nmax = 8\npace_ms = 50\n'
	printf '[dhcp]\nprobe = no\nretransmit_ms = 1000\n%s\n' "${1:-}"
}

psv_ctl() { psv__pin_root; tb_host_nsenter "$PSV_BUILD/psvctl" --iface "$TB_HOST_IF" "$@"; }

# Waits until the psvd just started ($PSV_PID) answers on its control
# socket and psvctl shows at least $1 ready identities (max $2 seconds).
# The pid matters after a restart: the pins of the old one are still there.
psv_wait_ready() {
	local want=$1 secs=${2:-20} n pid i
	for ((i = 0; i < secs * 10; i++)); do
		pid=$(psv_ctl status --json 2>/dev/null | jq '.psvd.pid // 0' 2>/dev/null)
		n=$(psv_ctl identities --json 2>/dev/null |
			jq '[.[] | select(.state == "ready")] | length' 2>/dev/null)
		[ "${pid:-0}" = "$PSV_PID" ] && [ "${n:-0}" -ge "$want" ] && return 0
		kill -0 "$PSV_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "psv_wait_ready: psvd $PSV_PID: ${n:-0} of $want identities ready, control pid ${pid:-none}" >&2
	return 1
}

psv_start() {
	psv__pin_root
	# The leases stay in the testbed: never in the machine's /var/lib/psv.
	case $1 in
	*state_dir*) printf '%s\n' "$1" ;;
	*) printf '[daemon]\nstate_dir = %s\n%s\n' "$TB_DIR/state" "$1" ;;
	esac > "$TB_DIR/psv.conf"
	# nsenter itself, not a shell function, so $! is psvd (nsenter execs).
	nsenter --net="/run/netns/$TB_HOST" -- "$PSV_BUILD/psvd" --iface "$TB_HOST_IF" \
		--config "$TB_DIR/psv.conf" --foreground --log-level debug ${PSV_ARGS:-} \
		>>"$TB_DIR/psvd.log" 2>&1 &
	PSV_PID=$!
	echo "$PSV_PID" > "$TB_DIR/psvd.pid"
	local ready
	ready=$(sed -n 's/^ready *= *\([0-9]*\).*/\1/p' "$TB_DIR/psv.conf")
	if ! psv_wait_ready "${ready:-1}" 30; then
		echo "psvd did not come up; its log:" >&2
		tail -n 30 "$TB_DIR/psvd.log" >&2
		return 1
	fi
}

# psv_status_sampler: times `psvctl status` every 50 ms, one line per
# sample into $TB_DIR/sampler.ms (milliseconds, or "fail"), until
# $TB_DIR/sampler.stop exists.  Run it in the background.
psv_status_sampler() {
	local t0 t1
	while [ ! -e "$TB_DIR/sampler.stop" ]; do
		t0=$(date +%s%N)
		if psv_ctl status --json >/dev/null 2>&1; then
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000000))
		else
			echo fail
		fi
		sleep 0.05
	done >"$TB_DIR/sampler.ms"
}

psv_stop() {
	local sig=${1:-TERM} i
	[ -n "${PSV_PID:-}" ] || return 0
	kill -"$sig" "$PSV_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$PSV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PSV_PID" 2>/dev/null; then
		echo "psvd $PSV_PID ignored SIG$sig; killing it" >&2
		kill -KILL "$PSV_PID" 2>/dev/null
	fi
	wait "$PSV_PID" 2>/dev/null
	PSV_RC=$?
	PSV_PID=
	if [ "$sig" != KILL ] && [ "$PSV_RC" != 0 ]; then
		echo "# psvd exited $PSV_RC on SIG$sig; the end of its log:"
		tail -n 15 "$TB_DIR/psvd.log" | sed 's/^/#   /'
	fi
}

# Detaches and unpins whatever a killed psvd left on the host's eth0.
psv_cleanup() {
	psv__pin_root
	psv_stop KILL
	tb_host tc filter del dev "$TB_HOST_IF" egress 2>/dev/null
	tb_host tc filter del dev "$TB_HOST_IF" ingress 2>/dev/null
	tb_host ip link set dev "$TB_HOST_IF" xdp off 2>/dev/null
	rm -rf "$PSV_PIN_ROOT"
	rm -rf "$PSV_CONTROL_DIR"
}

psv_testbed() {
	tb_up "$@" || { not_ok "testbed comes up"; exit 1; }
	trap 'psv_cleanup; tb_down' EXIT
}
