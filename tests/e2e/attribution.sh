#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Per-application policy from the cgroup socket hooks, judged from what
# the observer captured: every [app] match kind (comm=, exe=, uid=,
# cgroup=) with every granularity (app, uid, host), unmatched programs on
# the default (flow), a socket older than psvd, psvctl apps and the flows'
# app field, open-socket counts, passive FTP on one identity, a SIGHUP
# that changes a rule, kill -9
# and restart (the pinned hooks keep working, none is attached twice),
# and SIGTERM (no hook left on the cgroup).
# Each application binds its own local ports, so each flow in the capture
# names the application that made it.
# A long lease: no DHCP renewal of the host (nor its ARP) during the test,
# so every ARP frame with the real MAC or IP counts as a leak.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600

# The cgroup v2 tree, where psvd will find it; mounted for the test alone
# on a host without one (psvd mounts its own then: the same tree).
CG_MNT=
for p in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -f -c %T "$p" 2>/dev/null)" = cgroup2fs ] && CG_MNT=$p && break
done
CG_OWN=
if [ -z "$CG_MNT" ]; then
	CG_MNT=$TB_DIR/cgroup2
	mkdir -p "$CG_MNT" && mount -t cgroup2 cgroup2 "$CG_MNT" && CG_OWN=1
fi
CG_NAME=psv-${TB_PREFIX%-}
CG=$CG_MNT/$CG_NAME/jail
mkdir -p "$CG"
cg_cleanup() {
	# Processes of the test are gone by now; an empty cgroup can go.
	rmdir "$CG" "$CG_MNT/$CG_NAME" 2>/dev/null
	[ -n "$CG_OWN" ] && umount "$CG_MNT"
}
trap 'psv_cleanup; cg_cleanup; tb_down' EXIT

BIN=$TB_DIR/bin
mkdir -p "$BIN"
cp "$(command -v dig)" "$BIN/mydig"
id nobody >/dev/null

# A UDP socket made before psvd starts: attributed when it first sends.
PRE_GO=$TB_DIR/pre.go
tb_host /usr/bin/python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 47001))
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
s.settimeout(2)
s.sendto(b"pre", ("'$SRV1'", 7))
print(s.recvfrom(100)[0].decode())
' "$PRE_GO" >"$TB_DIR/pre.out" 2>&1 &
PRE_PID=$!

conf() {
	cat <<-EOF
	[pool]
	source = dhcp
	ready = 4
	max = 30
	pace_ms = 50
	[dhcp]
	probe = no
	[daemon]
	state_dir = $TB_DIR/state
	[policy]
	default = flow
	[app "web"]
	match = comm=curl
	granularity = $1
	[app "resolver"]
	match = exe=$BIN/mydig
	[app "jailed"]
	match = cgroup=/$CG_NAME
	[app "plain"]
	match = uid=4242
	granularity = host
	[app "user"]
	match = uid=4243
	granularity = uid
	[app "ftp"]
	match = comm=lftp
	[app "dns"]
	match = comm=dig
	EOF
}

tb_capture_start 128	# headers are all the checks read; the FTP transfer is 1 MB
check "psvd starts with five [app] rules" psv_start "$(conf app)"

# Applications, each on local ports of its own.
udp() { # udp SPORT DST [UID]: one UDP echo exchange, as root or UID
	local sport=$1 dst=$2 as=()
	[ -n "${3:-}" ] && as=(setpriv --reuid="$3" --regid="$3" --clear-groups)
	[ "$(echo psv | tb_host "${as[@]}" socat -T 2 - "UDP4:$dst:7,sourceport=$sport")" = psv ]
}
check "curl srv1 (web)" tb_host curl -sf -o /dev/null --local-port 41001 http://$SRV1/
check "curl srv2 (web)" tb_host curl -sf -o /dev/null --local-port 41002 http://$SRV2/
check "mydig srv1.psv.test (resolver)" \
	[ "$(tb_host "$BIN/mydig" +short +time=2 +tries=1 -b 0.0.0.0#42001 @192.0.2.1 srv1.psv.test)" = $SRV1 ]
check "mydig srv2.psv.test (resolver)" \
	[ "$(tb_host "$BIN/mydig" +short +time=2 +tries=1 -b 0.0.0.0#42002 @192.0.2.1 srv2.psv.test)" = $SRV2 ]
# dig opens its sockets from a thread named isc-net-0000: comm= matches
# the process.
check "dig srv1.psv.test (dns)" \
	[ "$(tb_host dig +short +time=2 +tries=1 -b 0.0.0.0#48001 @192.0.2.1 srv1.psv.test)" = $SRV1 ]
check "dig srv2.psv.test (dns)" \
	[ "$(tb_host dig +short +time=2 +tries=1 -b 0.0.0.0#48002 @192.0.2.1 srv2.psv.test)" = $SRV2 ]
jailed() { # a shell moved into the cgroup, then socat from it
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$CG" \
		ip netns exec "$TB_HOST" bash -c \
		"[ \"\$(echo psv | socat -T 2 - UDP4:$2:7,sourceport=$1)\" = psv ]"
}
check "socat in the cgroup to srv1 (jailed)" jailed 43001 $SRV1
check "socat in the cgroup to srv2 (jailed)" jailed 43002 $SRV2
check "socat as uid 4242 to srv1 (plain)" udp 44001 $SRV1 4242
check "socat as uid 4243 to srv1 (user)" udp 45001 $SRV1 4243
check "socat as uid 4243 to srv2 (user)" udp 45002 $SRV2 4243
check "socat as root to srv1 (no rule)" udp 46001 $SRV1
check "socat as root to srv2 (no rule)" udp 46002 $SRV2
# Passive FTP: the data connection is another flow key; with one identity
# for the application it comes from the control connection's address,
# which vsftpd checks.
ftp_get() {
	rm -f "$TB_DIR/ftp.bin"
	timeout 30 ip netns exec "$TB_HOST" lftp -c "set net:max-retries 1; \
		set net:timeout 5; set ftp:passive-mode on; \
		open ftp://$SRV1; get $TB_FTP_FILE -o $TB_DIR/ftp.bin" &&
	cmp -s "$TB_DIR/ftp.bin" "$TB_DIR/srv1/ftp/$TB_FTP_FILE"
}
check "lftp passive get (app ftp): file intact" ftp_get
touch "$PRE_GO"
pre_echoed() { wait "$PRE_PID" && grep -qx pre "$TB_DIR/pre.out"; }
check "a socket made before psvd started gets its echo" pre_echoed

flows=$(psv_ctl flows --json)
app_of() { jq -r --argjson p "$1" '[.[] | select(.local_port == $p)][0].app' <<<"$flows"; }
check "flows name curl's app web" [ "$(app_of 41001)" = web ]
check "flows name mydig's app resolver" [ "$(app_of 42002)" = resolver ]
check "flows name dig's app dns" [ "$(app_of 48001)" = dns ]
check "flows name the cgroup's app jailed" [ "$(app_of 43001)" = jailed ]
check "flows name uid 4243's app user" [ "$(app_of 45002)" = user ]
check "flows name an unmatched socat by its comm" [ "$(app_of 46001)" = socat ]
check "flows name the old socket's app by its comm" [ "$(app_of 47001)" = python3 ]
check "uid 4242's flow is not virtualized (no entry)" [ "$(app_of 44001)" = null ]

apps=$(psv_ctl apps --json)
check "apps --json lists the rules' applications" \
	holds 'map(.name) as $n | all("web", "resolver", "jailed", "user", "plain"; IN($n[]))' <<<"$apps"
check "web has granularity app, 2 sockets, none open" \
	holds 'any(.[]; .name == "web" and .granularity == "app" and .sockets == 2 and .open_sockets == 0)' <<<"$apps"
check "plain has granularity host" holds 'any(.[]; .name == "plain" and .granularity == "host")' <<<"$apps"
check "app ids are distinct" holds 'map(.id) | length == (unique | length)' <<<"$apps"
check "the table has a row for each of them" \
	[ "$(psv_ctl apps | grep -cw -e web -e resolver -e jailed -e user -e plain)" -ge 5 ]

check "the observer's capture is complete" tb_capture_stop
seen=$($OBS flows "$TB_PCAP" --json)
# "mac ip" of the flow the observer saw leave from local port $1.
who() {
	jq -r --argjson p "$1" '[.flows[] | select(.local_ports | index($p))] |
		if length == 1 then "\(.[0].mac) \(.[0].ip)" else "none(\(length))" end' <<<"$seen"
}
real="$TB_HOST_MAC $TB_HOST_IP"
virtual() { [ "$1" != "$real" ] && [ "${1#none}" = "$1" ]; }
# Both flows on one identity, or each on its own, none the host's.
shared() { virtual "$(who "$1")" && [ "$(who "$1")" = "$(who "$2")" ]; }
apart() { virtual "$(who "$1")" && virtual "$(who "$2")" && [ "$(who "$1")" != "$(who "$2")" ]; }
check "web's two connections share one identity" shared 41001 41002
check "resolver's two lookups share one identity" shared 42001 42002
check "jailed's two flows share one identity" shared 43001 43002
check "dns's two lookups share one identity" shared 48001 48002
check "uid 4243's two flows share one identity" shared 45001 45002
check "unmatched flows have identities of their own" apart 46001 46002
# lftp's control connection (srv1:21) and its passive data connection
# (vsftpd's ports 30000-30099): bound sockets, gone from psvctl once
# closed, so judged from the capture.
ftp_ids() {
	jq -r --arg s "$SRV1" '[.flows[] | select(.remote_ip == $s and .proto == "tcp" and
		(.remote_port == 21 or (.remote_port >= 30000 and .remote_port < 30100))) |
		"\(.remote_port == 21) \(.mac) \(.ip)"] | unique | .[]' <<<"$seen"
}
check "ftp's control and data connection share its identity" \
	bash -c '[ "$(cut -d" " -f2- <<<"$1" | sort -u | wc -l)" = 1 ] &&
		[ "$(cut -d" " -f1 <<<"$1" | sort -u | wc -l)" = 2 ]' _ "$(ftp_ids)"
ids="$(who 41001)|$(who 42001)|$(who 43001)|$(who 45001)|$(who 46001)|$(who 46002)|$(who 47001)|$(who 48001)"
check "every virtualized application has its own identity, none the host's" \
	bash -c 'IFS="|" read -ra a <<<"$1"; [ $(printf "%s\n" "${a[@]}" | sort -u | wc -l) = 8 ] &&
		! printf "%s\n" "${a[@]}" | grep -qx -e "$2" -e "none.*"' _ "$ids" "$real"
check "uid 4242 (granularity host) left on the host's identity" [ "$(who 44001)" = "$real" ]

# The six hooks are attached once each, to the cgroup root. Counted by
# this psvd's program ids (from its pinned links; a restart updates them
# to its own programs), so another psv on the machine does not count.
# hooks IDS: how many of the programs IDS (a JSON list) are attached.
link_progs() {
	for l in "$PSV_PIN_ROOT"/*/link_*; do
		bpftool link show pinned "$l" -j | jq .prog_id
	done | jq -sc .
}
hooks() {
	bpftool cgroup show "$CG_MNT" -j 2>/dev/null |
		jq -s --argjson ids "$1" '[.[][]? | select(.id as $i | $ids | index($i))] | length'
}
progs=$(link_progs)
check "psvd pinned six hook links" [ "$(jq length <<<"$progs")" = 6 ]
check "six hooks on the cgroup root" [ "$(hooks "$progs")" = 6 ]

# A reload changes web to per-flow: its next connections split.
sed -i '0,/^granularity = app/s//granularity = flow/' "$TB_DIR/psv.conf"
kill -HUP "$PSV_PID"
sleep 0.5
tb_capture_start 128
# Forget the neighbours the host resolved so far: the kernel's ARP for the
# gateway then happens in this capture, and the leak check judges it.
check "the host's neighbour cache is flushed" tb_host ip neigh flush dev eth0
check "curl srv1 after SIGHUP" tb_host curl -sf -o /dev/null --local-port 41011 http://$SRV1/
check "curl srv2 after SIGHUP" tb_host curl -sf -o /dev/null --local-port 41012 http://$SRV2/
check "apps shows web's new granularity" \
	holds 'any(.[]; .name == "web" and .granularity == "flow")' < <(psv_ctl apps --json)

# kill -9: the pinned hooks and dataplane go on; a restart takes them over.
psv_stop KILL
check "curl srv1 while psvd is down" tb_host curl -sf -o /dev/null --local-port 41021 http://$SRV1/
check "psvd restarts" psv_start "$(conf app)"
# Its links now run its own programs; the old ones count too, so a
# second attachment would show.
progs=$(jq -sc 'add | unique' <<<"$progs $(link_progs)")
check "still six hooks after the restart" [ "$(hooks "$progs")" = 6 ]
check "curl srv1 after the restart" tb_host curl -sf -o /dev/null --local-port 41031 http://$SRV1/
check "curl srv2 after the restart" tb_host curl -sf -o /dev/null --local-port 41032 http://$SRV2/
check "the observer's second capture is complete" tb_capture_stop
seen=$($OBS flows "$TB_PCAP" --json)
check "after SIGHUP web's connections have identities of their own" apart 41011 41012
check "with granularity app again they share one" shared 41031 41032
check "the connection made while psvd was down was virtualized" virtual "$(who 41021)"
check_no_leak "nothing left on the real identity in the second capture" --no-dhcp

psv_stop TERM
check "psvd exits 0" [ "$PSV_RC" = 0 ]
check "no hook left on the cgroup after SIGTERM" [ "$(hooks "$progs")" = 0 ]
