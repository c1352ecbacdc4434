#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Bad command lines and configs get a clear error and the usage exit
# status, never a start with half the settings.  Runs in a throwaway
# network namespace, so no interface of the machine is touched.
. "$(dirname "$0")/../testbed/prelude.sh" --no-testbed
B=build
NS=psvcli$$
ip netns add "$NS" || { not_ok "create namespace $NS"; exit 1; }
trap 'ip netns del "$NS" 2>/dev/null; rm -f "$CONF"' EXIT
CONF=$(mktemp /tmp/psvcli-XXXXXX.conf)

# expect STATUS PATTERN CMD...: CMD exits STATUS and says PATTERN on stderr.
expect() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$(nsenter --net="/run/netns/$NS" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && grep -q -- "$pat" <<<"$out"; then
		return 0
	fi
	echo "#   exit $rc (want $want), said: $out"
	return 1
}

check "psvd without --iface: usage error" expect 2 "--iface is required" $B/psvd
check "psvd with an unknown flag: usage error" expect 2 "usage" $B/psvd --iface lo --frobnicate
check "psvd with a stray argument: usage error" expect 2 "unexpected argument" $B/psvd --iface lo extra
check "psvd with an unknown log level names the choices" \
	expect 2 "error|warn|info|debug" $B/psvd --iface lo --log-level loud
check "psvd with a missing config file names it" \
	expect 2 "/nonexistent/psv.conf" $B/psvd --iface lo --config /nonexistent/psv.conf --foreground
printf '[pool]\nready = 5\nmax = 2\n' >"$CONF"
check "psvd with an inconsistent config names file and line" \
	expect 2 "$CONF:[0-9]*:.*max" $B/psvd --iface lo --config "$CONF" --foreground
printf '[policy]\non_exhausted = sometimes\n' >"$CONF"
check "psvd with a bad value names file, line and the choices" \
	expect 2 "$CONF:2:.*drop|reuse|host" $B/psvd --iface lo --config "$CONF" --foreground
printf '[pool]\nsource = static\nstatic = 192.0.2.200-192.0.2.201\n' >"$CONF"
check "psvd on a missing interface names it" \
	expect 1 "nosuch0" $B/psvd --iface nosuch0 --config "$CONF" --foreground
check "psvd on an interface without IPv4 refuses" \
	expect 1 "no IPv4 address" $B/psvd --iface lo --config "$CONF" --foreground
# Without --foreground too: psvd leaves the terminal only once it runs.
check "psvd (daemon) on a missing interface says so on stderr, exit 1" \
	expect 1 "nosuch0" $B/psvd --iface nosuch0 --config "$CONF"
check "psvd (daemon) on an interface without IPv4 says so on stderr, exit 1" \
	expect 1 "no IPv4 address" $B/psvd --iface lo --config "$CONF"
# retry N CMD...: CMD until it holds, N times 0.1 s apart.
retry() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# The version the binaries print is the package's (debian/changelog).
DEB_VERSION=$(dpkg-parsechangelog -l debian/changelog -SVersion)
version() { [ "$("$@" --version)" = "${1##*/} $DEB_VERSION" ]; }

# A start that works: the parent exits 0 once psv runs, the daemon stays.
STATE=$(mktemp -d /tmp/psvcli-state-XXXXXX)
PINS=/sys/fs/bpf/psv-cli-$$
export PSV_PIN_ROOT=$PINS PSV_CONTROL_DIR=$STATE/run
trap 'kill "$(cat "$STATE/pid" 2>/dev/null)" 2>/dev/null; sleep 0.5
	ip netns del "$NS" 2>/dev/null; rm -rf "$CONF" "$STATE" "$PINS"' EXIT
ip -n "$NS" link add v0 type veth peer name v1 &&
	ip -n "$NS" addr add 192.0.2.10/24 dev v0 &&
	ip -n "$NS" link set v0 up && ip -n "$NS" link set v1 up &&
	ip -n "$NS" link set lo up || not_ok "a veth in $NS"
printf '[pool]\nsource = static\nstatic = 192.0.2.200-192.0.2.201\nready = 1\n[dhcp]\nprobe = no\n[daemon]\nstate_dir = %s\n' \
	"$STATE" >"$CONF"
# systemd's notify socket, as Type=notify gives it: READY=1 once it runs.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(4096).decode())' "$STATE/notify" >"$STATE/notify.out" 2>&1 &
NOTIFY_PID=$!
sleep 0.3
check "psvd (daemon) starts and its parent exits 0" \
	env NOTIFY_SOCKET="$STATE/notify" nsenter --net="/run/netns/$NS" \
	$B/psvd --iface v0 --config "$CONF" 2>"$STATE/start.err"
check "a clean start logs no warning" bash -c '! grep -E "warn|error" "$1"' _ \
	"$STATE/start.err"
daemon_pid() {
	nsenter --net="/run/netns/$NS" $B/psvctl --iface v0 status --json |
		jq -e '.psvd.pid' >"$STATE/pid"
}
check "the daemon answers psvctl" retry 50 daemon_pid
wait "$NOTIFY_PID"
check "it told systemd it is ready (sd_notify READY=1, STATUS=)" \
	bash -c 'grep -qx "READY=1" "$1" && grep -q "^STATUS=.*ready" "$1"' _ \
	"$STATE/notify.out"
check "the daemon is not the parent (it left the terminal)" \
	bash -c '[ "$(ps -o sess= -p "$1" | tr -d " ")" = "$1" ]' _ "$(cat "$STATE/pid")"
kill -TERM "$(cat "$STATE/pid")"
gone() { ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }
check "the daemon stops on SIGTERM" retry 100 gone
check "it left no pins" [ ! -e "$PSV_PIN_ROOT/v0" ]
unset PSV_PIN_ROOT PSV_CONTROL_DIR
check "psvd --version names the version of debian/changelog, $DEB_VERSION" version $B/psvd
check "psvctl --version names the version of debian/changelog" version $B/psvctl
check "psvctl with an unknown command: usage error" expect 2 "usage" $B/psvctl frobnicate
check "psvctl apps reads pins like the other commands and names a missing one" \
	expect 1 "psv_apps: No such file or directory - is psvd running on nosuch0" env PSV_PIN_ROOT=/sys/fs/bpf/psv-cli-$$ $B/psvctl --iface nosuch0 apps
check "psvctl on an interface psvd does not run on says so" \
	expect 1 "is psvd running on nosuch0" env PSV_PIN_ROOT=/sys/fs/bpf/psv-cli-$$ $B/psvctl --iface nosuch0 flows
