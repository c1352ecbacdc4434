#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make demo: brings up the testbed, runs real applications on the psv host
# (curl, dig, ping, UDP echo, iperf3) and prints what a passive observer on
# the LAN saw: which MAC and IP carried which flow.  Tears everything down.
#
# psvd runs on the host with a DHCP pool leased from the gateway's dnsmasq
# (PSV_DEMO=0 shows the same applications without psv, for comparison).
set -u
cd "$(dirname "$0")/.."
# shellcheck source=tests/testbed/testbed.sh
source tests/testbed/testbed.sh
source tests/testbed/psvd.sh
OBS=tests/testbed/observe.py

say() { printf '\n== %s\n' "$*"; }

# host CMD...: shows and runs CMD on the psv host, output indented.
host() {
	printf 'host$ %s\n' "$*"
	tb_host "$@" 2>&1 | sed 's/^/    /'
}

# Runs once the testbed is up, before any application traffic: psvd on
# the host's eth0, leasing its identities from dnsmasq.
demo_start_psv() {
	if [ "${PSV_DEMO:-1}" = 0 ]; then
		say "PSV_DEMO=0: no psv; flows leave with the host's real identity"
		return
	fi
	say "starting psvd on the host's $TB_HOST_IF: 6 identities leased by DHCP"
	trap 'psv_cleanup; tb_down' EXIT
	psv_start "
[pool]
source = dhcp
ready = 6
max = 20
pace_ms = 300
[policy]
default = flow
on_exhausted = drop
[dhcp]
probe = no
[daemon]
state_dir = $TB_DIR/state
; lftp's control and passive data connections share one identity
; (the FTP server checks that they come from one address).
[app \"ftp\"]
match = comm=lftp
granularity = app
; curl, one identity for all its flows: beside socat's per-flow ones,
; two identities talk to srv1:80 at once.
[app \"web\"]
match = comm=curl
granularity = app" || exit 1
	printf 'host$ psvctl identities\n'
	psv_ctl identities | sed 's/^/    /'
}

# Runs after the applications, before teardown: what psvd says about the
# flows, then SIGTERM (which releases the leases while dnsmasq is up).
demo_stop_psv() {
	[ "${PSV_DEMO:-1}" = 0 ] && return
	say "what psvd says (psvctl flows, psvctl identities, psvctl apps)"
	psv_ctl flows | sed 's/^/    /'
	psv_ctl identities | sed 's/^/    /'
	psv_ctl apps | sed 's/^/    /'
	psv_stop TERM
}

# The host itself is the only LAN sender of IPv4 (besides the gateway), so
# this counts the frames that carried its real address either way.
demo_summary() {
	local total real
	total=$(tshark -n -r "$TB_PCAP" -Y '(ip or arp) and not udp.port == 67' \
		2>/dev/null | wc -l)
	real=$("$OBS" leaks "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" \
		--no-dhcp --json | jq .frames)
	say "$real of $total IPv4 and ARP frames carried the host's real MAC" \
		"$TB_HOST_MAC or IP $TB_HOST_IP"
}

tb_up || exit 1
say "testbed $TB_PREFIX is up: psv host $TB_HOST_IP ($TB_HOST_MAC) on" \
	"192.0.2.0/24, gateway 192.0.2.1, servers 198.51.100.10 and .20"
demo_start_psv

# Headers are all the observer's table needs; 128 bytes keep the capture
# small even with iperf3 running.
tb_capture_start 128 || exit 1
# Forget the gateway's MAC so the observer also sees the host's ARP.
tb_host ip neigh flush dev "$TB_HOST_IF"
say "applications on the host"
host curl -s -w '%{http_code} %{size_download} bytes %{url_effective}\n' \
	-o /dev/null http://srv1.psv.test/ -o /dev/null \
	http://srv1.psv.test/style.css -o /dev/null \
	http://srv1.psv.test/img/photo.png
host curl -s http://srv2.psv.test/
host dig +short srv2.psv.test
host ping -c 2 -i 0.2 srv1.psv.test
printf 'host$ echo hello | socat - UDP4:198.51.100.20:7\n'
echo hello | tb_host socat -T 2 - UDP4:198.51.100.20:7 | sed 's/^/    /'
host lftp -c "set net:max-retries 1; set net:timeout 5; set ftp:passive-mode on; open ftp://198.51.100.10; cls -1"
host iperf3 -c 198.51.100.10 -t 2 -b 100M --format m |
	grep -E 'sender|receiver'
say "curl (app web) and socat (per flow) fetch from srv1:80 in turn, 6 times"
for i in 1 2 3 4 5 6; do
	tb_host curl -s -o /dev/null http://198.51.100.10/
	printf 'GET / HTTP/1.0\r\n\r\n' |
		tb_host socat -T 2 - TCP4:198.51.100.10:80 >/dev/null
done
echo "    done"
tb_capture_stop || exit 1
demo_stop_psv

say "what the observer on the LAN saw (observe.py flows)"
"$OBS" flows "$TB_PCAP"
say "addresses seen on the LAN (observe.py macs)"
"$OBS" macs "$TB_PCAP"
# Each identity is a stack of its own: source ports, TCP timestamps and IP
# IDs relate no two of them (without psv there is one identity, the host).
say "can the observer link identities by what the kernel chose? (observe.py link)"
"$OBS" link "$TB_PCAP" --mac "$TB_HOST_MAC" --ip "$TB_HOST_IP" --exclude 192.0.2.1
demo_summary
tb_down
