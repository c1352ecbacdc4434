#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: scale across hosts, the paper's switch test.  HOSTS psv hosts
# (default 10) with IDS identities each (default 50) on one learning
# bridge behind one gateway; each host's psvd leases its IDS identities
# by DHCP, then each host opens IDS TCP connections (curl) to IDS ports
# of a server behind the gateway: under [policy] default = flow each
# (address, port) is a group of its own, so every connection leaves from
# an identity of its own.
# Pass: every flow works, each from a distinct identity address of its
# host; dnsmasq holds exactly HOSTS x IDS leases, the identities' MACs;
# the bridge learned every identity's MAC on its own host's port and no
# host's real MAC; the gateway's neighbour table holds every identity
# (its gc_thresh1/2/3, machine-wide, and the table's forced garbage
# collections and overflows are printed); the gateway's capture shows
# HOSTS x IDS identities, one address each, and no frame with a host's
# real MAC or address; every psvd exits 0 and releases its leases.
# About 2 min at 10 x 50.  HOSTS=3 IDS=10 for a quick run.
#
# Addresses: 500 identities do not fit one /24, so the LAN is three
# documentation subnets on one link (the gateway holds an address in
# each, dnsmasq serves a range in each: a shared network); identities in
# another subnet than their host's own reach the gateway all the same.
#   LAN, bridge br0 in ${P}lan (learning, ageing 1200 s):
#     gw eth0 192.0.2.1/24, 198.51.100.1/24, 203.0.113.1/25; dnsmasq DHCP
#       192.0.2.51-254, 198.51.100.2-254, 203.0.113.2-126 (582 leases)
#     host I eth0 192.0.2.(10+I)/24 static, default via 192.0.2.1; psvd
#   203.0.113.128/25: gw wan .129 -- srv .130, nginx on ports 8001..
HOSTS=${HOSTS:-10}
IDS=${IDS:-50}
. "$(dirname "$0")/../testbed/prelude.sh" --no-testbed

SRV=203.0.113.130
LANS=(192.0.2.0/24 198.51.100.0/24 203.0.113.0/25)
GW_IPS=(192.0.2.1 198.51.100.1 203.0.113.1)
# dnsmasq's FIRST,LAST,MASK
# shellcheck disable=SC2054
RANGES=(192.0.2.51,192.0.2.254,255.255.255.0
	198.51.100.2,198.51.100.254,255.255.255.0
	203.0.113.2,203.0.113.126,255.255.255.128)
CAPACITY=$((204 + 253 + 125))
if ! [[ $HOSTS =~ ^[0-9]+$ && $IDS =~ ^[0-9]+$ ]] || [ "$HOSTS" -lt 1 ] ||
   [ "$HOSTS" -gt 40 ] || [ "$IDS" -lt 1 ] || [ "$IDS" -gt 500 ] ||
   [ $((HOSTS * IDS)) -gt "$CAPACITY" ]; then
	not_ok "HOSTS (1..40) x IDS (1..500) fits the $CAPACITY DHCP addresses"
	exit 1
fi
TOTAL=$((HOSTS * IDS))
t_start=$(date +%s)

host_ns() { echo "${TB_PREFIX}h$1"; }
host_dir() { echo "$TB_DIR/h$1"; }
host_pins() { echo "/sys/fs/bpf/psv-${TB_PREFIX%-}-h$1"; }
# host_env I: HOST_ENV, the command prefix that runs a command in host
# I's network namespace with its pin root and control directory
# (nsenter, not ip netns exec: psvd's bpffs pins must outlive it; both
# nsenter and env exec, so a background command's $! is its own PID).
host_env() {
	HOST_ENV=(nsenter --net="/run/netns/$(host_ns "$1")" -- env
		PSV_PIN_ROOT="$(host_pins "$1")"
		PSV_CONTROL_DIR="$(host_dir "$1")/run")
}
host_ctl() {
	host_env "$1"
	shift
	"${HOST_ENV[@]}" "$PSV_BUILD/psvctl" --iface eth0 "$@"
}

# Stops every psvd, one after the other (TERM: each releases its leases
# and detaches; SIGKILL after 10 s), recording its exit status.  One
# after the other, as hosts shut down: each psvd spaces its own
# DHCPRELEASEs, not ten psvds' together, and dnsmasq's socket buffer
# takes a burst only so fast (before psvd spaced them, it lost 313 of
# 500 released at one instant; nothing resends a release).
declare -A PSVD
stop_psvds() {
	local i pid
	for i in "${!PSVD[@]}"; do
		pid=${PSVD[$i]}
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "$?" >"$(host_dir "$i")/psvd.rc"
		unset "PSVD[$i]"
	done
}
# At exit, also on failure: the psvds, what a killed one left pinned, then
# the namespaces, processes and files (tb_down).
cleanup() {
	local i
	stop_psvds
	for ((i = 1; i <= HOSTS; i++)); do
		rm -rf "$(host_pins "$i")"
	done
	tb_down
}

setup() {
	local i ns
	tb__need_tools || return 1
	TB__NAMES="lan gw srv"
	for ((i = 1; i <= HOSTS; i++)); do
		TB__NAMES="$TB__NAMES h$i"
	done
	tb__pick_prefix
	TB_SRV=${TB_PREFIX}srv
	mkdir -p "$TB_DIR/log" "$TB_DIR/pids" "$TB_DIR/srv/www" "$TB_DIR/srv/tmp" || return 1
	trap cleanup EXIT
	trap 'cleanup; trap - INT; kill -INT $$' INT
	trap 'cleanup; trap - TERM; kill -TERM $$' TERM
	tb__namespaces || return 1
	# The gateway's LAN port is eth0 so that tb_capture_start captures
	# there: the observer is the gateway, which every flow reaches.
	# shellcheck disable=SC2034
	TB_OBS=$TB_GW
	local ports="gw"
	tb__veth "$TB_LAN" gw "$TB_GW" eth0 || return 1
	for ((i = 1; i <= HOSTS; i++)); do
		tb__veth "$TB_LAN" "h$i" "$(host_ns "$i")" eth0 || return 1
		ports="$ports h$i"
	done
	# shellcheck disable=SC2086
	tb__bridge "$TB_LAN" br0 $ports || return 1
	# A switch: it learns (the default), and remembers for 20 minutes.
	tb__do "ageing 1200 s on $TB_LAN:br0" ip -n "$TB_LAN" link set br0 \
		type bridge ageing_time 120000 || return 1
	tb__veth "$TB_GW" wan "$TB_SRV" eth0 || return 1
	for i in 0 1 2; do
		tb__addr "$TB_GW" eth0 "${GW_IPS[$i]}/${LANS[$i]#*/}" || return 1
	done
	tb__addr "$TB_GW" wan 203.0.113.129/25 || return 1
	tb__sysctl "$TB_GW" net.ipv4.ip_forward=1 || return 1
	tb__addr "$TB_SRV" eth0 "$SRV/25" || return 1
	tb__route "$TB_SRV" default via 203.0.113.129 || return 1
	for ((i = 1; i <= HOSTS; i++)); do
		ns=$(host_ns "$i")
		tb__addr "$ns" eth0 "192.0.2.$((10 + i))/24" || return 1
		tb__route "$ns" default via 192.0.2.1 || return 1
		mkdir -p "$(host_dir "$i")" || return 1
	done
	dnsmasq_conf >"$TB_DIR/dnsmasq.conf" &&
	nginx_conf >"$TB_DIR/srv/nginx.conf" &&
	echo psv-scale >"$TB_DIR/srv/www/index.html" || return 1
	chmod -R a+rX "$TB_DIR"
	tb__spawn dnsmasq "$TB_GW" dnsmasq -k -C "$TB_DIR/dnsmasq.conf"
	tb__spawn nginx "$TB_SRV" nginx -p "$TB_DIR/srv/" \
		-c "$TB_DIR/srv/nginx.conf" -e "$TB_DIR/log/srv-nginx.error.log"
	# From the gateway: the hosts stay silent until psvd runs.
	tb__wait "nginx on port $((8000 + IDS))" "$TB_DIR/log/srv-nginx.error.log" \
		ip netns exec "$TB_GW" curl -sf -o /dev/null \
		"http://$SRV:$((8000 + IDS))/"
}

# DHCP only (port=0: no DNS), a range in each of the gateway's subnets,
# each with its own router option.
dnsmasq_conf() {
	local i
	cat <<-EOF
	# psv scale test: one shared network of three subnets
	port=0
	interface=eth0
	bind-interfaces
	dhcp-authoritative
	dhcp-leasefile=$TB_DIR/dnsmasq.leases
	log-facility=$TB_DIR/log/dnsmasq.events
	pid-file=
	user=root
	no-ping
	EOF
	for i in 0 1 2; do
		echo "dhcp-range=set:net$i,${RANGES[$i]},3600"
		echo "dhcp-option=tag:net$i,option:router,${GW_IPS[$i]}"
	done
}

nginx_conf() {
	local d=$TB_DIR/srv p
	tb_nginx_head srv 4096
	printf '\tserver {\n'
	for ((p = 8001; p <= 8000 + IDS; p++)); do
		printf '\t\tlisten %s:%d;\n' "$SRV" "$p"
	done
	cat <<-EOF
			root $d/www;
		}
	}
	EOF
}

psvd_conf() {
	cat <<-EOF
	[pool]
	source = dhcp
	ready = $IDS
	max = $IDS
	idle_retire = 3600
	[policy]
	default = flow
	on_exhausted = drop
	[daemon]
	state_dir = $1/state
	EOF
}

start_psvd() {
	local i=$1 d
	d=$(host_dir "$i")
	psvd_conf "$d" >"$d/psv.conf"
	host_env "$i"
	"${HOST_ENV[@]}" "$PSV_BUILD/psvd" --iface eth0 --config "$d/psv.conf" \
		--foreground >>"$d/psvd.log" 2>&1 &
	PSVD[$i]=$!
}

# ready_count I: host I's identities in state ready.
ready_count() {
	host_ctl "$1" identities --json 2>/dev/null |
		jq '[.[] | select(.state == "ready")] | length' 2>/dev/null
}

# wait_ready SECS: until every host has IDS ready identities.
wait_ready() {
	local end=$(($(date +%s) + $1)) i n all
	while :; do
		all=1
		for ((i = 1; i <= HOSTS; i++)); do
			n=$(ready_count "$i")
			[ "${n:-0}" -ge "$IDS" ] || { all=0; break; }
		done
		[ "$all" = 1 ] && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

# flows I: host I's IDS connections, one per server port, one after the
# other; a line "I port rc local_ip" each.
flows() {
	local i=$1 p out rc
	for ((p = 8001; p <= 8000 + IDS; p++)); do
		out=$(ip netns exec "$(host_ns "$i")" curl -sS -m 10 -o /dev/null \
			-w '%{local_ip}' "http://$SRV:$p/" 2>>"$TB_DIR/curl.err")
		rc=$?
		echo "$i $p $rc ${out:--}"
	done
}

# neigh_stat FIELD: the machine's ARP table statistic FIELD (the neighbour
# table is one for every network namespace).
neigh_stat() {
	ip -s ntable show name arp_cache |
		awk -v f="$1" '{for (i = 1; i < NF; i++) if ($i == f) {print $(i + 1); exit}}'
}

# udp_rcvbuf_errors: datagrams the gateway dropped for a full socket
# buffer (dnsmasq's).
udp_rcvbuf_errors() {
	ip netns exec "$TB_GW" awk '/^Udp:/ {if (!n++) {for (i = 1; i <= NF; i++) col[$i] = i}
		else print $col["RcvbufErrors"]}' /proc/net/snmp
}

check "$HOSTS hosts, bridge, gateway and server come up" setup || exit 1
gc1=$(neigh_stat thresh1) gc2=$(neigh_stat thresh2) gc3=$(neigh_stat thresh3)
entries0=$(neigh_stat entries)
forced0=$(neigh_stat forced_gc_runs) fulls0=$(neigh_stat table_fulls)
echo "# neighbour table (machine-wide, shared by every namespace): gc_thresh1/2/3 = $gc1/$gc2/$gc3, $entries0 entries before the test"
# The gateway's entries for the identities, each host's for the gateway,
# the server's and the gateway's for each other.
need=$((TOTAL + HOSTS + 2))
echo "# the test adds $need entries: $((entries0 + need)) in all, $([ $((entries0 + need)) -gt "${gc2:-0}" ] && echo "above" || echo "within") gc_thresh2"
check "the observer's capture on the gateway's LAN port starts" tb_capture_start 256

t0=$(date +%s)
for ((i = 1; i <= HOSTS; i++)); do
	start_psvd "$i"
done
check "$HOSTS psvds lease $IDS identities each within 240 s" wait_ready 240
t_ready=$(($(date +%s) - t0))
echo "# leased in $t_ready s"
for ((i = 1; i <= HOSTS; i++)); do
	kill -0 "${PSVD[$i]}" 2>/dev/null ||
		{ echo "# psvd of host $i died; its log:"; tail -n 5 "$(host_dir "$i")/psvd.log" | sed 's/^/#   /'; }
	echo "# host $i: $(ready_count "$i") ready"
done
# Every host's identities: "host mac ip".
for ((i = 1; i <= HOSTS; i++)); do
	host_ctl "$i" identities --json | jq -r --arg h "$i" '.[] | "\($h) \(.mac) \(.ipv4)"'
done >"$TB_DIR/identities"
check "$TOTAL identities, distinct MACs and addresses" bash -c \
	'[ "$(wc -l <"$1")" = "$2" ] && [ "$(cut -d" " -f2 "$1" | sort -u | wc -l)" = "$2" ] &&
	 [ "$(cut -d" " -f3 "$1" | sort -u | wc -l)" = "$2" ]' _ "$TB_DIR/identities" "$TOTAL"

setup_requests=$(wc -l <"$TB_DIR/log/srv-nginx.access.log")
t0=$(date +%s)
flow_pids=()
for ((i = 1; i <= HOSTS; i++)); do
	flows "$i" >"$(host_dir "$i")/flows" &
	flow_pids+=($!)
done
wait "${flow_pids[@]}"
t_flows=$(($(date +%s) - t0))
cat "$TB_DIR"/h*/flows >"$TB_DIR/flows"
ok_flows=$(awk '$3 == 0' "$TB_DIR/flows" | wc -l)
echo "# $ok_flows of $TOTAL flows in $t_flows s"
awk '$3 != 0' "$TB_DIR/flows" | head -n 5 | sed 's/^/#   failed: host port rc /'
sort -u "$TB_DIR/curl.err" 2>/dev/null | head -n 3 | sed 's/^/#   curl: /'
check "every flow works ($ok_flows of $TOTAL)" [ "$ok_flows" = "$TOTAL" ]
# Each flow's source address: an identity of its own host, never twice.
# own_sources: the distinct source addresses of flows that are an
# identity of the flow's own host.
own_sources() {
	awk 'NR == FNR {own[$1 " " $3] = 1; next} ($1 " " $4) in own {print $4}' \
		"$TB_DIR/identities" "$TB_DIR/flows" | sort -u | wc -l
}
check "each flow left from a distinct identity address of its host" \
	[ "$(own_sources)" = "$TOTAL" ]
served=$(tail -n +$((setup_requests + 1)) "$TB_DIR/log/srv-nginx.access.log" |
	awk '{print $1}' | sort -u | wc -l)
check "the server saw $TOTAL distinct client addresses ($served)" [ "$served" = "$TOTAL" ]

# The switch and the gateway, right after the flows.
fdb=$(bridge -n "$TB_LAN" fdb show br br0 | grep -v permanent)
echo "# bridge FDB: $(grep -c . <<<"$fdb") learned entries (expected $TOTAL identities + the gateway), $(bridge -n "$TB_LAN" fdb show br br0 | grep -c permanent) permanent (ports, bridge)"
# unlearned: identities whose MAC the bridge did not learn on their
# host's port (FDB lines: MAC dev PORT master br0).
unlearned() {
	awk 'NR == FNR {if ($2 == "dev") learned[$1 " " $3] = 1; next}
		!(($2 " h" $1) in learned)' <(printf '%s\n' "$fdb") \
		"$TB_DIR/identities" | wc -l
}
check "the bridge learned every identity's MAC on its host's port" \
	[ "$(unlearned)" = 0 ]
host_macs=$(for ((i = 1; i <= HOSTS; i++)); do
	ip -n "$(host_ns "$i")" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2
done)
check "no host's real MAC in the bridge's table" bash -c \
	'! grep -qiFf <(printf "%s\n" "$2") <<<"$1"' _ "$fdb" "$host_macs"
# Besides the identities: the gateway, and on each host's port the fresh
# MACs of psvd's router solicitations at start (3 on an IPv4-only LAN)
# and of identities dnsmasq refused: it offers an address to a second
# client before the first took it, and NAKs the later REQUEST ("address
# in use"); psvd retires that identity and leases another.
echo "# learned MACs that are no identity, per port: $(grep -vFf <(cut -d' ' -f2 "$TB_DIR/identities") <<<"$fdb" |
	awk '{print $3}' | sort -V | uniq -c | awk '{printf "%s %s, ", $2, $1}')"
echo "# router solicitations expected: $((3 * HOSTS)); dnsmasq's DHCPNAKs: $(grep -c DHCPNAK "$TB_DIR/log/dnsmasq.events")"

neigh=$(ip -n "$TB_GW" neigh show dev eth0)
echo "# gateway neighbours on the LAN: $(awk '{print $NF}' <<<"$neigh" | sort | uniq -c | tr '\n' ' ')"
held=$(awk 'NR == FNR {id[$3 " " $2] = 1; next}
	($1 " " $3) in id && $NF ~ /REACHABLE|STALE|DELAY|PROBE/' \
	"$TB_DIR/identities" <(grep lladdr <<<"$neigh") | wc -l)
entries1=$(neigh_stat entries)
forced=$(($(neigh_stat forced_gc_runs) - forced0))
fulls=$(($(neigh_stat table_fulls) - fulls0))
echo "# the machine's neighbour table: $entries1 entries (gc_thresh2 $gc2, gc_thresh3 $gc3); during the test $forced forced garbage collections, $fulls overflows"
check "the gateway's neighbour table holds every identity ($held of $TOTAL)" [ "$held" = "$TOTAL" ]
check "the neighbour table never overflowed (gc_thresh3)" [ "$fulls" = 0 ]

# dnsmasq's lease file: expiry MAC IP hostname client-id
leases=$TB_DIR/dnsmasq.leases
echo "# dnsmasq leases: $(wc -l <"$leases") ($(for n in 192.0.2. 198.51.100. 203.0.113.; do printf '%s %s ' "$n" "$(awk -v n="$n" 'index($3, n) == 1' "$leases" | wc -l)"; done))"
check "dnsmasq holds exactly the $TOTAL identities' leases" bash -c \
	'[ "$(awk "{print \$2, \$3}" "$1" | sort)" = "$(awk "{print \$2, \$3}" "$2" | sort)" ]' _ \
	"$leases" "$TB_DIR/identities"

# The gateway checks each neighbour it used (DELAY, then a unicast ARP
# in PROBE) about 5 s after the flows: a capture stopped meanwhile misses
# frames in flight.  Wait until it is done (at most 30 s).
probing() { ip -n "$TB_GW" neigh show dev eth0 | grep -qE 'DELAY|PROBE'; }
for ((i = 0; i < 300; i++)); do probing || break; sleep 0.1; done
echo "# the gateway's neighbour probes ended after $((i / 10)) s"
check "the gateway's capture is complete" tb_capture_stop
lan_args=() gw_args=()
for i in 0 1 2; do
	lan_args+=(--lan "${LANS[$i]}")
	gw_args+=(--exclude "${GW_IPS[$i]}")
done
host_args=()
for m in $host_macs; do host_args+=(--mac "$m"); done
for ((i = 1; i <= HOSTS; i++)); do host_args+=(--ip "192.0.2.$((10 + i))"); done
seen=$("$OBS" identities "$TB_PCAP" "${lan_args[@]}" "${gw_args[@]}" "${host_args[@]}" --json)
echo "# the gateway saw $(jq '.identities | length' <<<"$seen") identities, $(jq '.several | length' <<<"$seen") with several addresses, $(jq '.shared | length' <<<"$seen") addresses shared"
check "the gateway saw $TOTAL identities, one address each, none shared" \
	holds --argjson n "$TOTAL" '(.identities | length) == $n and (.several | length) == 0 and (.shared | length) == 0' <<<"$seen"
conns=$("$OBS" flows "$TB_PCAP" "${lan_args[@]}" --remote "$SRV" --proto tcp --json)
check "$TOTAL distinct (MAC, address) pairs carried the flows, both ways" \
	holds --argjson n "$TOTAL" '[.flows[] | select(.frames_out > 0 and .frames_in > 0) | [.mac, .ip]] | unique | length == $n' <<<"$conns"
leaks=$("$OBS" leaks "$TB_PCAP" "${lan_args[@]}" "${host_args[@]}" --json)
jq -r '"#   leaks: \(.frames) frames, \(.eth) Ethernet, \(.ip) IP, \(.arp) ARP, own ARP \(.own_arp)"' <<<"$leaks"
check "no frame carried a host's real MAC or address" holds '.frames == 0' <<<"$leaks"

rcvbuf0=$(udp_rcvbuf_errors)
stop_psvds
rcs=$(cat "$TB_DIR"/h*/psvd.rc | sort | uniq -c | tr '\n' ' ')
check "every psvd exits 0 on SIGTERM ($rcs)" bash -c '! grep -qvx 0 "$@"' _ "$TB_DIR"/h*/psvd.rc
sleep 1
echo "# the gateway's UDP receive buffer errors while the psvds stopped: $(($(udp_rcvbuf_errors) - rcvbuf0))"
check "every lease was released ($(wc -l <"$leases") left)" [ ! -s "$leases" ]
echo "# total $(($(date +%s) - t_start)) s: leasing $t_ready s, flows $t_flows s"
[ "$failed" -eq 0 ]
