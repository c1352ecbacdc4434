#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# psv testbed: network namespaces, veths and real servers on documentation
# prefixes only.  Used two ways:
#
#   source tests/testbed/testbed.sh      library for tests and benchmarks
#   tests/testbed/testbed.sh up [OPTS]   manual use: builds it, prints the
#   tests/testbed/testbed.sh down PREFIX environment, leaves it up until down
#   tests/testbed/testbed.sh status
#
# Library API (names are a contract, see tests/testbed/README.md):
#   tb_up [--lease SECS] [--ping] [--csum-offload] [--transit-mtu MTU]
#	 [--ipv6]
#	builds everything, verifies every server answers, exports TB_* and
#	installs `trap tb_down EXIT` (plus INT and TERM).  A caller that needs
#	its own EXIT trap must call tb_down from it.  On failure it says what
#	failed, shows the relevant log, tears down what it built and returns 1.
#   tb_down            removes every namespace, process and file of this run;
#	idempotent, safe after a partial tb_up.
#   tb_in NS CMD...    runs CMD in namespace NS (ip netns exec)
#   tb_host CMD...     runs CMD in the psv host namespace (ip netns exec)
#   tb_host_nsenter CMD...  same through nsenter --net only: no private
#	mount namespace, so bpffs pins made by CMD (psvd) outlive it
#   tb_capture_start [SNAPLEN]   observer capture of every LAN frame into
#	$TB_PCAP (full frames unless SNAPLEN, or TB_SNAPLEN, is given)
#   tb_capture_stop    stops it, returns once $TB_PCAP is complete
#
# Topology (IPv4 only unless --ipv6; without it IPv6 is disabled in every
# namespace):
#   LAN 192.0.2.0/24, a bridge in ${TB_PREFIX}lan that floods every frame
#     gw   192.0.2.1   dnsmasq: DHCP .10-.199 (static test pools use .200-.249,
#                      outside the range), DNS for *.psv.test, no upstream
#     obs  192.0.2.3   passive observer (tcpdump), can also send probes
#     host DHCP        the psv host: eth0, busybox udhcpc
#   transit 203.0.113.0/24: gw 203.0.113.1 <-> r2 203.0.113.2 (MTU 1500,
#     or --transit-mtu: a path MTU below the LAN's)
#   remote 198.51.100.0/24 behind r2 (198.51.100.1):
#     srv1 198.51.100.10  nginx, UDP echo :7, vsftpd (active+passive), iperf3
#     srv2 198.51.100.20  nginx (other content), UDP echo :7, iperf3
#     web1..web12.psv.test 198.51.100.101-112: addresses of srv2, one
#                         nginx with three images each (img/1.png ..
#                         3.png); srv1's /page.html shows all 36
# --ipv6 adds (the observer and the LAN bridge keep IPv6 disabled):
#   LAN 2001:db8:1::/64: gw 2001:db8:1::1 sends router advertisements
#     (dnsmasq, SLAAC, A flag); the host takes its address from them
#   transit 2001:db8:2::/64: gw ::1 <-> r2 ::2
#   remote 2001:db8:3::/64 behind r2 (::1): srv1 ::10, srv2 ::20 (nginx,
#     UDP echo and iperf3 also on IPv6); DNS adds AAAA records

TB_HOST_IF=eth0
TB_LAN_NET=192.0.2
TB_SRV1_IP=198.51.100.10
TB_SRV2_IP=198.51.100.20
TB_LAN6_NET=2001:db8:1
TB_SRV1_IP6=2001:db8:3::10
TB_SRV2_IP6=2001:db8:3::20
TB_FTP_FILE=pub/data.bin
TB__NAMES="lan gw host obs r2 srv1 srv2"
# The web farm, a page's many servers: web$i.psv.test is $TB_WEB_NET.(100+i).
TB_WEB_N=12
TB_WEB_NET=198.51.100

tb__log() { echo "testbed: $*" >&2; }

# tb__do DESC CMD...: runs CMD; on failure names DESC, the command and its
# output, and returns 1 so the caller can `|| return 1`.
tb__do() {
	local desc=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		tb__log "$desc failed: $*"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/testbed:   /' >&2
		return 1
	fi
}

# tb__names PREFIX: sets TB_DIR and the namespace variables for PREFIX.
tb__names() {
	TB_PREFIX=$1
	TB_LAN=${TB_PREFIX}lan
	TB_GW=${TB_PREFIX}gw
	TB_HOST=${TB_PREFIX}host
	TB_OBS=${TB_PREFIX}obs
	TB_R2=${TB_PREFIX}r2
	TB_SRV1=${TB_PREFIX}srv1
	TB_SRV2=${TB_PREFIX}srv2
	TB_DIR=/tmp/${TB_PREFIX}testbed
	TB_LEASES=$TB_DIR/dnsmasq.leases
	TB_PCAP=$TB_DIR/observer.pcap
}

tb_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

tb_host() { ip netns exec "$TB_HOST" "$@"; }

tb_host_nsenter() { nsenter --net="/run/netns/$TB_HOST" -- "$@"; }

# tb__spawn NAME NS CMD...: starts a long-running CMD in NS, logging to
# $TB_DIR/log/NAME.log.  `ip netns exec` execs CMD, so $! is CMD's own PID;
# it is recorded in $TB_DIR/pids/NAME.pid for tb_down.
tb__spawn() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$TB_DIR/log/$name.log" 2>&1 </dev/null &
	echo $! >"$TB_DIR/pids/$name.pid"
}

# tb__ours PID: true if PID still runs inside one of this run's namespaces
# (guards against killing a recycled PID).
tb__ours() {
	local pid=$1 ns n
	[ -e "/proc/$pid" ] || return 1
	ns=$(ip netns identify "$pid" 2>/dev/null) || return 1
	for n in $TB__NAMES; do
		[ "$ns" = "$TB_PREFIX$n" ] && return 0
	done
	return 1
}

tb__alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# tb__kill PID...: SIGTERM, up to 3 s grace, then SIGKILL; reaps our children.
tb__kill() {
	local pid i
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 30); do
		for pid in "$@"; do
			tb__alive "$pid" && break
			pid=
		done
		[ -z "$pid" ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		if tb__alive "$pid"; then
			tb__log "pid $pid ignored SIGTERM, killing"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	return 0
}

tb__pidfile_kill() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	tb__ours "$pid" && tb__kill "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# tb_dhcp_stop / tb_dhcp_start [ADDR]: stops the gateway's dnsmasq (and
# waits until it is gone), starts it again from $TB_DIR/dnsmasq.conf (a test
# may have changed the file: another range, a reservation, an option) and
# waits until it answers DNS at ADDR (default 192.0.2.1; another if the
# test renumbered the gateway's LAN port).  Its leases stay in $TB_LEASES.
tb_dhcp_stop() {
	local pid i
	pid=$(cat "$TB_DIR/pids/dnsmasq.pid") || return 1
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	tb__log "dnsmasq $pid did not stop"
	return 1
}

tb_dhcp_start() {
	tb__spawn dnsmasq "$TB_GW" dnsmasq -k -C "$TB_DIR/dnsmasq.conf"
	tb__wait "dnsmasq DNS" "$TB_DIR/log/dnsmasq.log" \
		tb__dns srv1.psv.test "$TB_SRV1_IP" A "${1:-$TB_LAN_NET.1}"
}

# tb_dhcp_reserve IP [LEASE]: dnsmasq.conf reserves IP for the host's MAC
# (for LEASE seconds, else the range's lease) instead of any earlier
# reservation.  tb_dhcp_range FIRST LAST: the IPv4 range becomes
# $TB_LAN_NET.FIRST-LAST, and the host keeps its address by a reservation
# (outside the range, its renewal would be NAKed).  Both take effect at
# the next tb_dhcp_start.
tb_dhcp_reserve() {
	local net=${TB_LAN_NET//./\\.}
	sed -i -e '/^dhcp-host=/d' \
		-e "/^dhcp-range=$net\./a dhcp-host=$TB_HOST_MAC,$1${2:+,$2}" \
		"$TB_DIR/dnsmasq.conf"
}

tb_dhcp_range() {
	local net=${TB_LAN_NET//./\\.}
	sed -i "s/^dhcp-range=$net\..*/dhcp-range=$TB_LAN_NET.$1,$TB_LAN_NET.$2,255.255.255.0,$TB_LEASE/" \
		"$TB_DIR/dnsmasq.conf" && tb_dhcp_reserve "$TB_HOST_IP"
}

tb_capture_start() {
	local snap=${1:-${TB_SNAPLEN:-262144}} i
	[ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || {
		tb__log "tb_capture_start: no testbed is up"
		return 1
	}
	rm -f "$TB_PCAP"
	# Immediate mode: without it libpcap hands frames over a ring block at
	# a time (up to a timeout), and frames of a block not yet handed over
	# when tcpdump stops are lost without being counted as drops.
	# -U: write every frame as it arrives; -Z root: TB_DIR is root's.
	tb__spawn tcpdump "$TB_OBS" tcpdump -n -i eth0 -s "$snap" \
		--immediate-mode -B 65536 -U -Z root -w "$TB_PCAP"
	# tcpdump says "listening on" once the socket is bound: from then on
	# nothing the test sends can be missed.
	for i in $(seq 50); do
		grep -q 'listening on' "$TB_DIR/log/tcpdump.log" && return 0
		tb__alive "$(cat "$TB_DIR/pids/tcpdump.pid")" || break
		sleep 0.1
	done
	tb__log "observer capture did not start:"
	sed 's/^/testbed:   /' "$TB_DIR/log/tcpdump.log" >&2
	return 1
}

# tb__count LOG WHAT: the number tcpdump reported as "N packets WHAT".
tb__count() {
	sed -n "s/^\([0-9]*\) packets\{0,1\} $2\$/\1/p" "$1"
}

# Fails unless tcpdump wrote every frame the kernel gave its socket: a
# leak check on an incomplete capture proves nothing.
tb_capture_stop() {
	local f=$TB_DIR/pids/tcpdump.pid log=$TB_DIR/log/tcpdump.log
	local captured received dropped size i
	[ -f "$f" ] || return 0
	# On SIGTERM tcpdump stops reading: let it drain its socket first.
	# With -U the file grows with every frame written, so it has caught
	# up once the size holds still (up to 20 s after a traffic burst).
	for i in $(seq 100); do
		size=$(stat -c %s "$TB_PCAP" 2>/dev/null)
		sleep 0.2
		[ "$(stat -c %s "$TB_PCAP" 2>/dev/null)" = "$size" ] && break
	done
	tb__pidfile_kill "$f"
	captured=$(tb__count "$log" captured)
	received=$(tb__count "$log" "received by filter")
	dropped=$(tb__count "$log" "dropped by kernel")
	if [ -z "$captured" ] || [ "$captured" != "$received" ] ||
	   [ "$dropped" != 0 ]; then
		tb__log "observer capture incomplete:"
		sed 's/^/testbed:   /' "$log" >&2
		return 1
	fi
}

tb_down() {
	local n ns pids f
	[ -n "${TB_PREFIX:-}" ] || return 0
	tb__names "$TB_PREFIX"
	if [ -d "$TB_DIR/pids" ]; then
		# The DHCP client first, so its release reaches dnsmasq.
		tb__pidfile_kill "$TB_DIR/pids/udhcpc.pid"
		for f in "$TB_DIR"/pids/*.pid; do
			tb__pidfile_kill "$f"
		done
	fi
	# Anything else still running in our namespaces (psvd started by a
	# test, socat's per-datagram children) was started for this run too.
	for n in $TB__NAMES; do
		ns=$TB_PREFIX$n
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && tb__kill $pids
	done
	for n in $TB__NAMES; do
		ns=$TB_PREFIX$n
		if [ -e "/run/netns/$ns" ]; then
			ip netns del "$ns" 2>/dev/null ||
				tb__log "could not delete namespace $ns"
		fi
		rm -rf "/etc/netns/$ns"
	done
	if [ "${TB_KEEP_DIR:-0}" = 1 ]; then
		[ -d "$TB_DIR" ] && tb__log "kept $TB_DIR"
	else
		rm -rf "$TB_DIR"
	fi
	return 0
}

tb__need_tools() {
	local t missing=
	for t in ip bridge ethtool nsenter dnsmasq nginx vsftpd socat iperf3 \
		 busybox tcpdump curl dig python3; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		tb__log "missing tools:$missing (run scripts/install-deps.sh)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		tb__log "must run as root"
		return 1
	fi
}

tb__pick_prefix() {
	local p=psv$$-
	while ip netns list | grep -q "^$p"; do
		p=psv$$r$RANDOM-
	done
	tb__names "$p"
}

tb__namespaces() {
	local n ns
	for n in $TB__NAMES; do
		ns=$TB_PREFIX$n
		tb__do "create namespace $ns" ip netns add "$ns" || return 1
		tb__do "lo up in $ns" ip -n "$ns" link set lo up || return 1
		case "${TB_IPV6:-0}:$n" in
		1:host) continue ;;	# the kernel's defaults: what users have
		1:gw|1:r2|1:srv1|1:srv2)
			# Routers and servers: static addresses, no DAD delay
			# (dnsmasq cannot bind a tentative address), no RA taken.
			tb__do "IPv6 settings in $ns" ip netns exec "$ns" sh -c \
				'sysctl -qw net.ipv6.conf.default.accept_dad=0 &&
				 sysctl -qw net.ipv6.conf.all.accept_dad=0 &&
				 sysctl -qw net.ipv6.conf.default.accept_ra=0' ||
				return 1
			continue ;;
		esac
		# IPv6 chatter (DAD, RS, MLD) would only add noise to the
		# observer's view: off, and with --ipv6 still off on the
		# observer and the LAN bridge.  Set before any link exists.
		tb__do "disable IPv6 in $ns" ip netns exec "$ns" sh -c \
			'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
			 sysctl -qw net.ipv6.conf.default.disable_ipv6=1' || return 1
	done
}

# tb__veth NS1 IF1 NS2 IF2: one veth pair, each end in its namespace.
tb__veth() {
	tb__do "veth $1:$2 <-> $3:$4" \
		ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
}

# tb__bridge NS BR PORT...: a bridge with stp off and the given ports.
tb__bridge() {
	local ns=$1 br=$2 p
	shift 2
	tb__do "bridge $br in $ns" ip -n "$ns" link add "$br" type bridge \
		stp_state 0 mcast_snooping 0 || return 1
	# A switch forwards what it gets: with br_netfilter loaded (Docker
	# loads it), a new namespace's bridges would validate IPv4 headers
	# and drop the malformed frames tests send (bad IHL, checksum).
	if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
		tb__do "no netfilter on $ns's bridges" ip netns exec "$ns" \
			sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0 \
			net.bridge.bridge-nf-call-arptables=0 || return 1
	fi
	for p in "$@"; do
		tb__do "port $p on $ns:$br" \
			ip -n "$ns" link set "$p" master "$br" up || return 1
	done
	tb__do "$ns:$br up" ip -n "$ns" link set "$br" up
}

tb__addr() {
	tb__do "address $3 on $1:$2" ip -n "$1" addr add "$3" dev "$2" &&
	tb__do "$1:$2 up" ip -n "$1" link set "$2" up
}

# --ipv6: static addresses, routes and forwarding of gw, r2 and the servers.
tb__links6() {
	local ns
	tb__addr "$TB_GW" lan "$TB_LAN6_NET::1/64" || return 1
	tb__addr "$TB_GW" wan 2001:db8:2::1/64 || return 1
	tb__route "$TB_GW" 2001:db8:3::/64 via 2001:db8:2::2 || return 1
	tb__addr "$TB_R2" wan 2001:db8:2::2/64 || return 1
	tb__addr "$TB_R2" br0 2001:db8:3::1/64 || return 1
	tb__route "$TB_R2" default via 2001:db8:2::1 || return 1
	tb__addr "$TB_SRV1" eth0 "$TB_SRV1_IP6/64" || return 1
	tb__route "$TB_SRV1" default via 2001:db8:3::1 || return 1
	tb__addr "$TB_SRV2" eth0 "$TB_SRV2_IP6/64" || return 1
	tb__route "$TB_SRV2" default via 2001:db8:3::1 || return 1
	for ns in "$TB_GW" "$TB_R2"; do
		tb__sysctl "$ns" net.ipv6.conf.all.forwarding=1 || return 1
	done
	for ns in "$TB_GW" "$TB_R2" "$TB_SRV1" "$TB_SRV2"; do
		tb__sysctl "$ns" net.ipv6.icmp.ratelimit=0 || return 1
	done
}

tb__route() {
	local ns=$1
	shift
	tb__do "route $* in $ns" ip -n "$ns" route add "$@"
}

tb__sysctl() {
	local ns=$1
	shift
	tb__do "sysctl $* in $ns" ip netns exec "$ns" sysctl -qw "$@"
}

tb__links() {
	local ns p
	tb__veth "$TB_LAN" gw "$TB_GW" lan || return 1
	tb__veth "$TB_LAN" host "$TB_HOST" "$TB_HOST_IF" || return 1
	tb__veth "$TB_LAN" obs "$TB_OBS" eth0 || return 1
	tb__veth "$TB_GW" wan "$TB_R2" wan || return 1
	tb__veth "$TB_R2" s1 "$TB_SRV1" eth0 || return 1
	tb__veth "$TB_R2" s2 "$TB_SRV2" eth0 || return 1
	tb__bridge "$TB_LAN" br0 gw host obs || return 1
	# A passive LAN observer sees every frame: ageing 0 forgets every
	# learned address at once, and ports do not learn, so the bridge
	# floods all unicast like a hub.
	tb__do "ageing 0 on $TB_LAN:br0" ip -n "$TB_LAN" link set br0 \
		type bridge ageing_time 0 || return 1
	for p in gw host obs; do
		tb__do "learning off on $TB_LAN:$p" \
			bridge -n "$TB_LAN" link set dev "$p" learning off || return 1
	done
	tb__bridge "$TB_R2" br0 s1 s2 || return 1

	tb__addr "$TB_GW" lan "$TB_LAN_NET.1/24" || return 1
	tb__addr "$TB_GW" wan 203.0.113.1/24 || return 1
	if [ "$TB_TRANSIT_MTU" != 1500 ]; then
		tb__do "MTU $TB_TRANSIT_MTU on $TB_GW:wan" ip -n "$TB_GW" link \
			set wan mtu "$TB_TRANSIT_MTU" || return 1
		tb__do "MTU $TB_TRANSIT_MTU on $TB_R2:wan" ip -n "$TB_R2" link \
			set wan mtu "$TB_TRANSIT_MTU" || return 1
	fi
	tb__route "$TB_GW" 198.51.100.0/24 via 203.0.113.2 || return 1
	tb__addr "$TB_R2" wan 203.0.113.2/24 || return 1
	tb__addr "$TB_R2" br0 198.51.100.1/24 || return 1
	tb__route "$TB_R2" default via 203.0.113.1 || return 1
	tb__addr "$TB_OBS" eth0 "$TB_LAN_NET.3/24" || return 1
	tb__route "$TB_OBS" default via "$TB_LAN_NET.1" || return 1
	tb__do "promiscuous observer" \
		ip -n "$TB_OBS" link set eth0 promisc on || return 1
	tb__addr "$TB_SRV1" eth0 "$TB_SRV1_IP/24" || return 1
	tb__route "$TB_SRV1" default via 198.51.100.1 || return 1
	tb__addr "$TB_SRV2" eth0 "$TB_SRV2_IP/24" || return 1
	tb__route "$TB_SRV2" default via 198.51.100.1 || return 1
	tb__web_addrs || return 1
	tb__do "$TB_HOST:$TB_HOST_IF up" \
		ip -n "$TB_HOST" link set "$TB_HOST_IF" up || return 1
	if [ "$TB_IPV6" = 1 ]; then
		tb__links6 || return 1
	fi

	for ns in "$TB_GW" "$TB_R2"; do
		tb__sysctl "$ns" net.ipv4.ip_forward=1 || return 1
	done
	# Deterministic traceroutes and port scans: no ICMP error rate limit.
	for ns in "$TB_GW" "$TB_R2" "$TB_SRV1" "$TB_SRV2"; do
		tb__sysctl "$ns" net.ipv4.icmp_ratelimit=0 || return 1
	done
	# With tx checksum offload a veth hands on CHECKSUM_PARTIAL skbs and
	# GSO super-frames: the capture would show unfinished checksums and
	# 64 KB "frames".  Off, every frame on the LAN is final, as on a wire.
	if [ "$TB_CSUM_OFFLOAD" = 0 ]; then
		tb__do "tx offload off on $TB_HOST:$TB_HOST_IF" ip netns exec \
			"$TB_HOST" ethtool -K "$TB_HOST_IF" tx off || return 1
		tb__do "tx offload off on $TB_GW:lan" ip netns exec \
			"$TB_GW" ethtool -K lan tx off || return 1
	fi
	tb__do "tx offload off on $TB_OBS:eth0" \
		ip netns exec "$TB_OBS" ethtool -K eth0 tx off
}

# tb__web_ip I: the address of web$I.psv.test.
tb__web_ip() { echo "$TB_WEB_NET.$((100 + $1))"; }

# The web farm's addresses, /32 on srv2 (it answers ARP for them on r2's
# bridge like for its own).
tb__web_addrs() {
	local i
	for ((i = 1; i <= TB_WEB_N; i++)); do
		tb__do "address web$i on $TB_SRV2" ip -n "$TB_SRV2" addr add \
			"$(tb__web_ip "$i")/32" dev eth0 || return 1
	done
}

tb__web_dns() {
	local i
	for ((i = 1; i <= TB_WEB_N; i++)); do
		echo "host-record=web$i.psv.test,$(tb__web_ip "$i")"
	done
}

# The start of an nginx.conf for server NAME (its files in $TB_DIR/NAME,
# temporary ones in $TB_DIR/NAME/tmp, logs $TB_DIR/log/NAME-nginx.*.log)
# with CONNS connections per worker, up to the open http block: the
# caller writes its types and servers and closes the block.
tb_nginx_head() {
	local name=$1 conns=$2 d=$TB_DIR/$1
	cat <<-EOF
	daemon off;
	master_process on;
	worker_processes 1;
	user nobody nogroup;
	pid $d/nginx.pid;
	error_log $TB_DIR/log/$name-nginx.error.log;
	events { worker_connections $conns; }
	http {
		access_log $TB_DIR/log/$name-nginx.access.log;
		client_body_temp_path $d/tmp/body;
		proxy_temp_path $d/tmp/proxy;
		fastcgi_temp_path $d/tmp/fastcgi;
		uwsgi_temp_path $d/tmp/uwsgi;
		scgi_temp_path $d/tmp/scgi;
	EOF
}

# One nginx for the web farm: every address serves $TB_DIR/web/www.
tb__web_conf() {
	local d=$TB_DIR/web i
	echo "# psv testbed web farm web1..web$TB_WEB_N.psv.test"
	tb_nginx_head web 1024
	cat <<-EOF
		types { image/png png; }
		default_type application/octet-stream;
		server {
	EOF
	for ((i = 1; i <= TB_WEB_N; i++)); do
		printf '		listen %s:80;\n' "$(tb__web_ip "$i")"
	done
	cat <<-EOF
			root $d/www;
		}
	}
	EOF
}

# srv1's /page.html: three images from each web server; when the page has
# loaded, a script writes how many arrived into <p id="loaded">, how many
# did not into <p id="failed">, and the ms from navigation to the load
# event into <p id="load_ms">.
tb__web_page() {
	local i j
	cat <<-'EOF'
	<!DOCTYPE html>
	<html><head><title>psv testbed page of many servers</title></head>
	<body><h1>many servers</h1>
	EOF
	for ((i = 1; i <= TB_WEB_N; i++)); do
		for j in 1 2 3; do
			printf '<img src="http://web%s.psv.test/img/%s.png">\n' "$i" "$j"
		done
	done
	cat <<-'EOF'
	<p id="loaded">none</p><p id="failed">none</p><p id="load_ms">none</p>
	<script>
	window.addEventListener("load", function () {
		var ok = 0, bad = 0;
		for (var im of document.images)
			if (im.complete && im.naturalWidth > 0) ok++; else bad++;
		document.getElementById("loaded").textContent = "loaded " + ok;
		document.getElementById("failed").textContent = "failed " + bad;
		document.getElementById("load_ms").textContent =
			"load_ms " + Math.round(performance.now());
	});
	</script>
	</body></html>
	EOF
}

tb__web_content() {
	local w=$TB_DIR/web/www j
	mkdir -p "$w/img" "$TB_DIR/web/tmp" || return 1
	for j in 1 2 3; do
		tb__png "$w/img/$j.png" $((8 * j)) $((8 * j)) || return 1
	done
	tb__web_page >"$TB_DIR/srv1/www/page.html"
}

tb__dnsmasq_conf() {
	cat <<-EOF
	# psv testbed gateway: DHCP and DNS on the LAN only, no upstream.
	interface=lan
	bind-interfaces
	no-resolv
	no-hosts
	local=/psv.test/
	domain=psv.test
	host-record=gw.psv.test,$TB_LAN_NET.1
	EOF
	if [ "$TB_IPV6" = 1 ]; then
		cat <<-EOF
		host-record=srv1.psv.test,$TB_SRV1_IP,$TB_SRV1_IP6
		host-record=srv2.psv.test,$TB_SRV2_IP,$TB_SRV2_IP6
		host-record=v6only.psv.test,$TB_SRV1_IP6
		# SLAAC on the LAN: router advertisements with the A flag, no
		# DHCPv6.  An RA every 10 s at most, router lifetime 1800 s
		# (dnsmasq would send 0 as the gateway has no IPv6 default route).
		enable-ra
		dhcp-range=$TB_LAN6_NET::,ra-only,64
		ra-param=lan,10,1800
		EOF
	else
		cat <<-EOF
		host-record=srv1.psv.test,$TB_SRV1_IP
		host-record=srv2.psv.test,$TB_SRV2_IP
		EOF
	fi
	tb__web_dns
	cat <<-EOF
	# .200-.249 are left for static pools of the tests.
	dhcp-range=$TB_LAN_NET.10,$TB_LAN_NET.199,255.255.255.0,$TB_LEASE
	dhcp-option=option:router,$TB_LAN_NET.1
	dhcp-option=option:dns-server,$TB_LAN_NET.1
	dhcp-authoritative
	dhcp-leasefile=$TB_LEASES
	log-dhcp
	log-queries
	log-facility=$TB_DIR/log/dnsmasq.events
	pid-file=
	user=root
	EOF
	[ "$TB_PING" = 1 ] || echo no-ping
}

tb__nginx_conf() {
	local name=$1 ip=$2 ip6=${3:-} d=$TB_DIR/$1
	echo "# psv testbed web server $name.psv.test"
	tb_nginx_head "$name" 256
	cat <<-EOF
		types {
			text/html html;
			text/css css;
			application/javascript js;
			image/png png;
			text/plain txt;
		}
		default_type application/octet-stream;
		sendfile on;
		server {
			listen $ip:80;$([ -n "$ip6" ] && printf '\n\t\t\tlisten [%s]:80;' "$ip6")
			server_name $name.psv.test;
			root $d/www;
		}
	}
	EOF
}

tb__vsftpd_conf() {
	local d=$TB_DIR/srv1
	cat <<-EOF
	# psv testbed FTP server: anonymous download, active and passive.
	listen=YES
	listen_ipv6=NO
	listen_address=$TB_SRV1_IP
	background=NO
	anonymous_enable=YES
	no_anon_password=YES
	anon_root=$d/ftp
	anon_world_readable_only=YES
	local_enable=NO
	write_enable=NO
	pasv_enable=YES
	pasv_min_port=30000
	pasv_max_port=30099
	port_enable=YES
	connect_from_port_20=YES
	secure_chroot_dir=$d/empty
	xferlog_enable=YES
	xferlog_std_format=NO
	log_ftp_protocol=YES
	vsftpd_log_file=$TB_DIR/log/vsftpd.events
	ftp_username=ftp
	hide_ids=YES
	EOF
}

# tb__png FILE W H: a valid RGB PNG with a gradient (real image bytes).
tb__png() {
	python3 - "$@" <<-'EOF'
	import struct, sys, zlib
	path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	raw = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 128))
					 for x in range(w)) for y in range(h))
	def chunk(kind, data):
	    crc = zlib.crc32(kind + data) & 0xffffffff
	    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
	with open(path, "wb") as f:
	    f.write(b"\x89PNG\r\n\x1a\n")
	    f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
	    f.write(chunk(b"IDAT", zlib.compress(raw)))
	    f.write(chunk(b"IEND", b""))
	EOF
}

tb__content() {
	local w1=$TB_DIR/srv1/www w2=$TB_DIR/srv2/www
	mkdir -p "$w1/img" "$w2" "$TB_DIR/srv1/ftp/pub" "$TB_DIR/srv1/empty" \
		"$TB_DIR/srv1/tmp" "$TB_DIR/srv2/tmp" || return 1
	cat >"$w1/index.html" <<-'EOF'
	<!DOCTYPE html>
	<html><head><title>srv1.psv.test</title>
	<link rel="stylesheet" href="/style.css">
	<script src="/app.js"></script></head>
	<body><h1>srv1</h1><p>psv testbed server one.</p>
	<img src="/img/logo.png" alt="logo"><img src="/img/photo.png" alt="photo">
	</body></html>
	EOF
	printf 'body { font-family: sans-serif; }\nh1 { color: #336; }\n' \
		>"$w1/style.css"
	printf 'document.title += " (loaded)";\n' >"$w1/app.js"
	tb__png "$w1/img/logo.png" 16 16 || return 1
	tb__png "$w1/img/photo.png" 320 240 || return 1
	# 100 MB without writing 100 MB: a sparse file reads as zeros.
	truncate -s 100M "$w1/big.bin" || return 1
	cat >"$w2/index.html" <<-'EOF'
	<!DOCTYPE html>
	<html><head><title>srv2.psv.test</title></head>
	<body><h1>srv2</h1><p>psv testbed server two, other content.</p>
	</body></html>
	EOF
	tb__web_content || return 1
	head -c 1M /dev/urandom >"$TB_DIR/srv1/ftp/$TB_FTP_FILE" || return 1
	printf 'psv testbed FTP\n' >"$TB_DIR/srv1/ftp/README.txt"
	chmod -R a+rX "$TB_DIR"
}

tb__servers() {
	local v6_1='' v6_2=''
	if [ "$TB_IPV6" = 1 ]; then
		v6_1=$TB_SRV1_IP6 v6_2=$TB_SRV2_IP6
	fi
	tb__dnsmasq_conf >"$TB_DIR/dnsmasq.conf" &&
	tb__nginx_conf srv1 "$TB_SRV1_IP" "$v6_1" >"$TB_DIR/srv1/nginx.conf" &&
	tb__nginx_conf srv2 "$TB_SRV2_IP" "$v6_2" >"$TB_DIR/srv2/nginx.conf" &&
	tb__web_conf >"$TB_DIR/web/nginx.conf" &&
	tb__vsftpd_conf >"$TB_DIR/srv1/vsftpd.conf" || {
		tb__log "writing server configs to $TB_DIR failed"
		return 1
	}
	tb__spawn dnsmasq "$TB_GW" dnsmasq -k -C "$TB_DIR/dnsmasq.conf"
	tb__spawn srv1-nginx "$TB_SRV1" nginx -p "$TB_DIR/srv1/" \
		-c "$TB_DIR/srv1/nginx.conf" -e "$TB_DIR/log/srv1-nginx.error.log"
	tb__spawn srv2-nginx "$TB_SRV2" nginx -p "$TB_DIR/srv2/" \
		-c "$TB_DIR/srv2/nginx.conf" -e "$TB_DIR/log/srv2-nginx.error.log"
	tb__spawn web-nginx "$TB_SRV2" nginx -p "$TB_DIR/web/" \
		-c "$TB_DIR/web/nginx.conf" -e "$TB_DIR/log/web-nginx.error.log"
	tb__spawn srv1-vsftpd "$TB_SRV1" vsftpd "$TB_DIR/srv1/vsftpd.conf"
	tb__spawn srv1-echo "$TB_SRV1" socat \
		"UDP4-RECVFROM:7,bind=$TB_SRV1_IP,fork" PIPE
	tb__spawn srv2-echo "$TB_SRV2" socat \
		"UDP4-RECVFROM:7,bind=$TB_SRV2_IP,fork" PIPE
	tb__spawn srv1-iperf3 "$TB_SRV1" iperf3 -s -B "$TB_SRV1_IP"
	tb__spawn srv2-iperf3 "$TB_SRV2" iperf3 -s -B "$TB_SRV2_IP"
	[ "$TB_IPV6" = 1 ] || return 0
	tb__spawn srv1-echo6 "$TB_SRV1" socat \
		"UDP6-RECVFROM:7,bind=[$TB_SRV1_IP6],fork" PIPE
	tb__spawn srv2-echo6 "$TB_SRV2" socat \
		"UDP6-RECVFROM:7,bind=[$TB_SRV2_IP6],fork" PIPE
	tb__spawn srv1-iperf3-6 "$TB_SRV1" iperf3 -s -B "$TB_SRV1_IP6"
	tb__spawn srv2-iperf3-6 "$TB_SRV2" iperf3 -s -B "$TB_SRV2_IP6"
}

# tb__wait DESC LOG CMD...: retries CMD for up to 5 s; on failure names
# DESC and shows the end of LOG.
tb__wait() {
	local desc=$1 log=$2 i
	shift 2
	for i in $(seq 50); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tb__log "$desc does not answer: $*"
	[ -f "$log" ] && tail -n 5 "$log" | sed 's/^/testbed:   /' >&2
	return 1
}

tb__udp_echo() {
	local r
	r=$(echo psv-echo | ip netns exec "$TB_GW" socat -T 1 - "UDP4:$1:7") &&
	[ "$r" = psv-echo ]
}

tb__udp_echo6() {
	local r
	r=$(echo psv-echo | ip netns exec "$TB_GW" socat -T 1 - "UDP6:[$1]:7") &&
	[ "$r" = psv-echo ]
}

# tb__dns NAME ANSWER [TYPE [SERVER]]
tb__dns() {
	[ "$(ip netns exec "$TB_GW" dig +short +time=1 +tries=1 \
		@"${4:-$TB_LAN_NET.1}" "$1" "${3:-A}")" = "$2" ]
}

tb__verify6() {
	local l=$TB_DIR/log n
	tb__wait "dnsmasq DNS (AAAA)" "$l/dnsmasq.log" \
		tb__dns srv1.psv.test "$TB_SRV1_IP6" AAAA || return 1
	tb__wait "dnsmasq DNS (AAAA only)" "$l/dnsmasq.log" \
		tb__dns v6only.psv.test "$TB_SRV1_IP6" AAAA || return 1
	tb__wait "dnsmasq DNS (no A for the AAAA-only name)" "$l/dnsmasq.log" \
		tb__dns v6only.psv.test "" A || return 1
	for n in 1 2; do
		local ip6=TB_SRV${n}_IP6
		tb__wait "srv$n nginx (IPv6)" "$l/srv$n-nginx.error.log" \
			ip netns exec "$TB_GW" curl -sf -o /dev/null \
			"http://[${!ip6}]/" || return 1
		tb__wait "srv$n UDP echo (IPv6)" "$l/srv$n-echo6.log" \
			tb__udp_echo6 "${!ip6}" || return 1
		tb__wait "srv$n iperf3 (IPv6)" "$l/srv$n-iperf3-6.log" \
			ip netns exec "$TB_GW" iperf3 -c "${!ip6}" -n 1K || return 1
	done
}

# Every check runs from the gateway, so it also proves the route over r2,
# and the LAN stays silent until the test starts its capture.
tb__verify() {
	local l=$TB_DIR/log
	tb__wait "dnsmasq DNS" "$l/dnsmasq.log" \
		tb__dns srv1.psv.test "$TB_SRV1_IP" || return 1
	tb__wait "srv1 nginx" "$l/srv1-nginx.error.log" ip netns exec "$TB_GW" \
		curl -sf -o /dev/null "http://$TB_SRV1_IP/" || return 1
	tb__wait "srv2 nginx" "$l/srv2-nginx.error.log" ip netns exec "$TB_GW" \
		curl -sf -o /dev/null "http://$TB_SRV2_IP/" || return 1
	tb__wait "web farm DNS" "$l/dnsmasq.log" \
		tb__dns "web$TB_WEB_N.psv.test" "$(tb__web_ip "$TB_WEB_N")" || return 1
	tb__wait "web farm nginx" "$l/web-nginx.error.log" \
		ip netns exec "$TB_GW" curl -sf -o /dev/null \
		"http://$(tb__web_ip "$TB_WEB_N")/img/3.png" || return 1
	tb__wait "srv1 vsftpd" "$l/srv1-vsftpd.log" ip netns exec "$TB_GW" \
		curl -sf -o /dev/null "ftp://$TB_SRV1_IP/README.txt" || return 1
	tb__wait "srv1 UDP echo" "$l/srv1-echo.log" \
		tb__udp_echo "$TB_SRV1_IP" || return 1
	tb__wait "srv2 UDP echo" "$l/srv2-echo.log" \
		tb__udp_echo "$TB_SRV2_IP" || return 1
	tb__wait "srv1 iperf3" "$l/srv1-iperf3.log" ip netns exec "$TB_GW" \
		iperf3 -c "$TB_SRV1_IP" -n 1K || return 1
	tb__wait "srv2 iperf3" "$l/srv2-iperf3.log" ip netns exec "$TB_GW" \
		iperf3 -c "$TB_SRV2_IP" -n 1K || return 1
	[ "$TB_IPV6" = 1 ] || return 0
	tb__verify6
}

# The host's DHCP client.  Its event script only configures eth0 and the
# default route: it never writes resolv.conf (the host namespace has
# /etc/netns/$TB_HOST/resolv.conf, bind-mounted by `ip netns exec`).
tb__dhcp_script() {
	cat <<-'EOF'
	#!/bin/sh
	# udhcpc event script for the psv testbed host.
	case $1 in
	deconfig)
		ip -4 addr flush dev "$interface" ;;
	bound|renew)
		old=$(ip -4 -o addr show dev "$interface" | awk '{print $4}')
		if [ "$old" != "$ip/$mask" ]; then
			ip -4 addr flush dev "$interface"
			ip addr add "$ip/$mask" dev "$interface"
		fi
		ip route replace default via "${router%% *}" dev "$interface"
		echo "$ip" >"$TB_DIR/host.ip" ;;
	esac
	exit 0
	EOF
}

tb__host_dhcp() {
	local i ip=
	mkdir -p "/etc/netns/$TB_HOST" &&
	printf 'nameserver %s.1\nsearch psv.test\n' "$TB_LAN_NET" \
		>"/etc/netns/$TB_HOST/resolv.conf" || {
		tb__log "writing /etc/netns/$TB_HOST/resolv.conf failed"
		return 1
	}
	tb__dhcp_script >"$TB_DIR/udhcpc.script" &&
	chmod 755 "$TB_DIR/udhcpc.script" || return 1
	tb__spawn udhcpc "$TB_HOST" env TB_DIR="$TB_DIR" busybox udhcpc -f \
		-i "$TB_HOST_IF" -s "$TB_DIR/udhcpc.script" -t 10 -T 1 -A 1 -R
	for i in $(seq 100); do
		[ -s "$TB_DIR/host.ip" ] && ip=$(cat "$TB_DIR/host.ip") && break
		sleep 0.1
	done
	if [ -z "$ip" ]; then
		tb__log "host got no DHCP lease within 10 s"
		tail -n 5 "$TB_DIR/log/udhcpc.log" "$TB_DIR/log/dnsmasq.events" \
			2>/dev/null | sed 's/^/testbed:   /' >&2
		return 1
	fi
	TB_HOST_IP=$ip
	TB_HOST_MAC=$(ip -n "$TB_HOST" -o link show "$TB_HOST_IF" |
		sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	[ -n "$TB_HOST_MAC" ] || {
		tb__log "cannot read the MAC of $TB_HOST:$TB_HOST_IF"
		return 1
	}
}

# --ipv6: the host's address by SLAAC from the gateway's RA (the kernel's
# defaults: accept_ra, autoconf, EUI-64 interface ID) and its default
# route via the gateway's link-local address.  Waits until the address has
# passed DAD.
tb__host_slaac() {
	local i ip6='' gw6=''
	for i in $(seq 150); do
		ip6=$(ip -n "$TB_HOST" -6 -o addr show dev "$TB_HOST_IF" \
			scope global | grep -v tentative |
			awk -v p="$TB_LAN6_NET:" '{sub(/\/.*/, "", $4)}
				index($4, p) == 1 {print $4; exit}')
		gw6=$(ip -n "$TB_HOST" -6 route show default dev "$TB_HOST_IF" |
			sed -n 's/.*via \([0-9a-f:]*\).*/\1/p' | head -n 1)
		[ -n "$ip6" ] && [ -n "$gw6" ] && break
		sleep 0.1
	done
	if [ -z "$ip6" ] || [ -z "$gw6" ]; then
		tb__log "host got no SLAAC address in $TB_LAN6_NET::/64 or no" \
			"IPv6 default route within 15 s (address '${ip6}'," \
			"router '${gw6}')"
		ip -n "$TB_HOST" -6 addr show dev "$TB_HOST_IF" |
			sed 's/^/testbed:   /' >&2
		tail -n 5 "$TB_DIR/log/dnsmasq.events" 2>/dev/null |
			sed 's/^/testbed:   /' >&2
		return 1
	fi
	TB_HOST_IP6=$ip6
	TB_HOST_LL6=$(ip -n "$TB_HOST" -6 -o addr show dev "$TB_HOST_IF" \
		scope link | awk '{sub(/\/.*/, "", $4); print $4; exit}')
	tb__wait "host -> srv1 ping (IPv6)" "" ip netns exec "$TB_HOST" \
		ping -6 -c 1 -W 1 "$TB_SRV1_IP6"
}

tb__build() {
	tb__need_tools || return 1
	tb__pick_prefix
	mkdir -p "$TB_DIR/log" "$TB_DIR/pids" && chmod 755 "$TB_DIR" || {
		tb__log "cannot create $TB_DIR"
		return 1
	}
	tb__namespaces || return 1
	tb__links || return 1
	tb__content || {
		tb__log "writing server content to $TB_DIR failed"
		return 1
	}
	tb__servers || return 1
	tb__verify || return 1
	tb__host_dhcp || return 1
	tb__wait "host -> srv1 ping" "" ip netns exec "$TB_HOST" \
		ping -c 1 -W 1 "$TB_SRV1_IP" || return 1
	[ "$TB_IPV6" = 1 ] || return 0
	tb__host_slaac
}

tb__env() {
	local v
	for v in TB_PREFIX TB_LAN TB_GW TB_HOST TB_OBS TB_R2 TB_SRV1 TB_SRV2 \
		 TB_HOST_IF TB_HOST_MAC TB_HOST_IP TB_DIR TB_LEASES TB_PCAP \
		 TB_IPV6; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	if [ "$TB_IPV6" = 1 ]; then
		for v in TB_HOST_IP6 TB_HOST_LL6 TB_SRV1_IP6 TB_SRV2_IP6; do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
	fi
}

tb_up() {
	TB_LEASE=120
	TB_PING=0
	TB_CSUM_OFFLOAD=0
	TB_TRANSIT_MTU=1500
	TB_IPV6=0
	TB_HOST_IP6=
	TB_HOST_LL6=
	while [ $# -gt 0 ]; do
		case $1 in
		--lease)
			TB_LEASE=${2:-}
			shift ;;
		--ping) TB_PING=1 ;;
		--csum-offload) TB_CSUM_OFFLOAD=1 ;;
		--transit-mtu)
			TB_TRANSIT_MTU=${2:-}
			shift ;;
		--ipv6) TB_IPV6=1 ;;
		*)
			tb__log "tb_up: unknown option $1"
			return 2 ;;
		esac
		shift
	done
	if ! [[ $TB_LEASE =~ ^[0-9]+$ ]] || [ "$TB_LEASE" -lt 120 ]; then
		tb__log "--lease wants seconds >= 120 (dnsmasq's minimum)"
		return 2
	fi
	if ! [[ $TB_TRANSIT_MTU =~ ^[0-9]+$ ]] || [ "$TB_TRANSIT_MTU" -lt 576 ] ||
	   [ "$TB_TRANSIT_MTU" -gt 1500 ]; then
		tb__log "--transit-mtu wants 576..1500"
		return 2
	fi
	trap tb_down EXIT
	trap 'tb_down; trap - INT; kill -INT $$' INT
	trap 'tb_down; trap - TERM; kill -TERM $$' TERM
	if ! tb__build; then
		tb__log "tb_up failed; tearing down ${TB_PREFIX:-}"
		tb_down
		return 1
	fi
	tb__env >"$TB_DIR/env"
	export TB_PREFIX TB_LAN TB_GW TB_HOST TB_OBS TB_R2 TB_SRV1 TB_SRV2 \
		TB_HOST_IF TB_HOST_MAC TB_HOST_IP TB_DIR TB_LEASES TB_PCAP TB_IPV6
	if [ "$TB_IPV6" = 1 ]; then
		export TB_HOST_IP6 TB_HOST_LL6 TB_SRV1_IP6 TB_SRV2_IP6
	fi
}

tb__status() {
	local p n
	p=$(ip netns list | sed -n 's/^\(psv[0-9r]*-\)lan\b.*/\1/p')
	if [ -z "$p" ]; then
		echo "no testbed is up"
		return 0
	fi
	for p in $p; do
		tb__names "$p"
		echo "testbed $p  dir $TB_DIR"
		for n in $TB__NAMES; do
			printf '  %-6s %s\n' "$n" \
				"$(ip netns pids "$p$n" 2>/dev/null |
				   xargs -r ps -o comm= -p | sort | uniq -c |
				   awk '{printf "%s(%s) ", $2, $1}')"
		done
	done
}

tb__main() {
	case ${1:-} in
	up)
		shift
		tb_up "$@" || exit 1
		trap - EXIT INT TERM
		cat "$TB_DIR/env"
		echo "# down with: $0 down $TB_PREFIX"
		;;
	down)
		[ -n "${2:-}" ] || {
			echo "usage: $0 down PREFIX" >&2
			exit 2
		}
		tb__names "$2"
		tb_down ;;
	status) tb__status ;;
	*)
		echo "usage: $0 up [--lease SECS] [--ping] [--csum-offload]" \
			"[--transit-mtu MTU] [--ipv6]" \
			"| down PREFIX | status" >&2
		exit 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	tb__main "$@"
fi
