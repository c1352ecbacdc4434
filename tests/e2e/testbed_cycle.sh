#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The testbed comes up and goes down TB_CYCLES times (default 3; the
# acceptance run is TB_CYCLES=10) with rotating options, and after every
# down nothing of that run is left: no namespace, no link in the root
# namespace, no /etc/netns entry, no work directory, no process.  Then the
# failure paths: a tb_up whose server never answers, a teardown after a
# partial setup, a second tb_down, and the up/status/down CLI.
. "$(dirname "$0")/../testbed/prelude.sh" --no-testbed
CYCLES=${TB_CYCLES:-3}

# Link names the testbed uses; none may appear in the root namespace.
OUR_LINKS="gw host obs lan wan s1 s2 br0"
root_links() {
	ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
}
links_before=$(root_links)

# Every process in this run's namespaces, as "pid:starttime" (a recycled
# PID has another start time).
procs_of() {
	local n pid
	for n in $TB__NAMES; do
		for pid in $(ip netns pids "$1$n" 2>/dev/null); do
			echo "$pid:$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)"
		done
	done
}

# leftovers PREFIX DIR PROCS: names what is left of that run: its
# namespaces, /etc/netns entries, work dir, the processes PROCS listed
# while it was up, any process naming DIR on its command line (servers
# run with configs there), and links of ours in the root namespace.
leftovers() {
	local prefix=$1 dir=$2 procs=$3 what= p pid start l f
	ip netns list | grep -q "^$prefix" && what="$what namespaces"
	compgen -G "/etc/netns/$prefix*" >/dev/null && what="$what /etc/netns"
	[ -e "$dir" ] && what="$what $dir"
	for p in $procs; do
		pid=${p%%:*}
		# A zombie is dead; whoever adopted it reaps it (a CLI run's
		# servers outlive the shell that started them).
		start=$(awk '$3 != "Z" {print $22}' "/proc/$pid/stat" 2>/dev/null)
		[ -n "$start" ] && [ "$start" = "${p#*:}" ] &&
			what="$what pid$pid($(cat "/proc/$pid/comm"))"
	done
	for f in /proc/[0-9]*/cmdline; do
		grep -qaF "$dir" "$f" 2>/dev/null || continue
		pid=${f#/proc/}
		what="$what pid${pid%/cmdline}($(tr '\0' ' ' <"$f"))"
	done
	for l in $(comm -13 <(echo "$links_before") <(root_links)); do
		case " $OUR_LINKS " in *" $l "*) what="$what link:$l" ;; esac
	done
	echo "${what# }"
}

check_clean() {
	local desc=$1 left
	left=$(leftovers "$2" "$3" "$4")
	check "$desc: nothing left${left:+ (left: $left)}" [ -z "$left" ]
}

OPTS=("" "--lease 300 --ping" "--csum-offload" "--ipv6")
for i in $(seq "$CYCLES"); do
	opts=${OPTS[$(((i - 1) % ${#OPTS[@]}))]}
	# shellcheck disable=SC2086
	if ! tb_up $opts; then
		not_ok "cycle $i: tb_up $opts"
		continue
	fi
	prefix=$TB_PREFIX dir=$TB_DIR
	procs=$(procs_of "$prefix")
	n=$(ip netns list | grep -c "^$prefix")
	check "cycle $i: tb_up ${opts:-(defaults)}: 7 namespaces,\
 $(wc -w <<<"$procs") processes, host $TB_HOST_IP" [ "$n" -eq 7 ]
	check "cycle $i: resolv.conf for $TB_HOST only in /etc/netns" \
		grep -qx 'nameserver 192.0.2.1' "/etc/netns/$TB_HOST/resolv.conf"
	want=off
	[[ $opts == *--csum-offload* ]] && want=on
	txcsum=$(tb_host ethtool -k "$TB_HOST_IF" |
		 sed -n 's/^tx-checksumming: \([a-z]*\).*/\1/p')
	check "cycle $i: host tx checksum offload $txcsum (want $want)" \
		[ "$txcsum" = "$want" ]
	lease=120
	[[ $opts =~ --lease\ ([0-9]+) ]] && lease=${BASH_REMATCH[1]}
	left=$(($(awk -v m="$TB_HOST_MAC" '$2 == m {print $1}' "$TB_LEASES") -
		$(date +%s)))
	check "cycle $i: host lease expires in ${left}s (lease $lease s)" \
		is "$left > $lease - 15 && $left <= $lease"
	tb_down
	check_clean "cycle $i: tb_down $prefix" "$prefix" "$dir" "$procs"
done

# A server that never answers: tb_up must fail, name it, and clean up.
stub=$(mktemp -d)
printf '#!/bin/sh\nexit 1\n' >"$stub/vsftpd"
chmod 755 "$stub/vsftpd"
err=$(PATH=$stub:$PATH tb_up 2>&1)
rc=$?
rm -rf "$stub"
check "tb_up with a dead vsftpd fails (rc $rc)" [ "$rc" -ne 0 ]
check "tb_up names what failed" grep -q 'srv1 vsftpd does not answer' <<<"$err"
prefix=$(sed -n 's/.*tearing down \(psv[0-9r]*-\).*/\1/p' <<<"$err")
check "failed tb_up tore down ${prefix:-?}" [ -n "$prefix" ]
check_clean "failed tb_up" "${prefix:-none}" "/tmp/${prefix:-none}testbed" ""

# Teardown after a partial setup (namespaces and links, no servers), and
# a second tb_down that finds nothing.
tb__pick_prefix
mkdir -p "$TB_DIR/pids" "$TB_DIR/log"
if tb__namespaces && tb__veth "$TB_LAN" gw "$TB_GW" lan; then
	prefix=$TB_PREFIX dir=$TB_DIR
	tb__spawn sleeper "$TB_GW" sleep 300
	procs=$(procs_of "$prefix")
	check "partial setup runs a process ($procs)" [ -n "$procs" ]
	tb_down
	check_clean "tb_down after partial setup" "$prefix" "$dir" "$procs"
	check "tb_down a second time succeeds" tb_down
else
	not_ok "partial setup for the teardown test"
	tb_down
fi

# The CLI: up prints the environment and leaves the testbed up until down.
env=$(tests/testbed/testbed.sh up)
eval "$env"
prefix=${TB_PREFIX:-none} dir=${TB_DIR:-none}
check "CLI up prints the environment ($prefix, host ${TB_HOST_IP:-?})" \
	[ -e "/run/netns/${prefix}host" ]
procs=$(procs_of "$prefix")
check "CLI status lists $prefix" \
	grep -q "testbed $prefix" <(tests/testbed/testbed.sh status)
tests/testbed/testbed.sh down "$prefix"
check_clean "CLI down $prefix" "$prefix" "$dir" "$procs"
unset TB_PREFIX

[ "$failed" -eq 0 ]
