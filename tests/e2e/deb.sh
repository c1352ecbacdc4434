#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package on this machine (CI: root on a throwaway machine):
# make deb builds build/psv_VERSION_ARCH.deb, its version is the
# Makefile's, lintian finds no error; dpkg -i installs every piece; psvd
# starts (systemctl start psvd@IF when systemd is PID 1, with a drop-in
# that puts it in the testbed host's network namespace; otherwise, in a
# container, the unit is checked with systemd-analyze verify and the
# installed /usr/sbin/psvd runs with the installed /etc/psv/psv.conf) and
# the installed psvctl audits it while the host's applications run; then
# dpkg --purge leaves nothing behind: files, unit, state directory with
# its leases.  Refuses to run where psv is installed already.
. "$(dirname "$0")/../testbed/prelude.sh" --lease 3600

VERSION=$(make -s version)
ARCH=$(dpkg --print-architecture)
DEB=build/psv_${VERSION}_$ARCH.deb
UNIT=/lib/systemd/system/psvd@.service
DROPIN=/run/systemd/system/psvd@$TB_HOST_IF.service.d
# Everything the package puts on the machine, or makes there.
LEFT="/usr/sbin/psvd /usr/sbin/psvctl $UNIT /etc/psv /var/lib/psv /run/psv
/etc/NetworkManager/dispatcher.d/90-psv /usr/share/man/man8/psvd.8.gz
/usr/share/man/man8/psvctl.8.gz /usr/share/man/man5/psv.conf.5.gz
/usr/share/doc/psv"

# quiet CMD...: CMD's output only if it fails, its end as comments.
quiet() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || tail -n 20 <<<"$out" | sed 's/^/#   /'
	return "$rc"
}
installed() { dpkg-query -W -f='${Status}' psv 2>/dev/null | grep -q ' installed$'; }
# What of $LEFT exists now.
present() {
	local f
	for f in $LEFT; do [ -e "$f" ] && echo "$f"; done
}

# The other tests' psvd keeps its leases in the default state directory:
# set aside until the end, so that the package's is judged alone.
SAVED=
if ! installed && [ -d /var/lib/psv ]; then
	SAVED=$TB_DIR/var-lib-psv.saved
	mv /var/lib/psv "$SAVED" &&
		echo "# /var/lib/psv of earlier psvd runs set aside until the end"
fi
restore() { [ -n "$SAVED" ] && [ ! -e /var/lib/psv ] && mv "$SAVED" /var/lib/psv; }
if installed || [ -n "$(present)" ]; then
	not_ok "psv is not installed on this machine yet (found: $(present | xargs)); not touching it"
	restore
	exit 1
fi
purge() {
	if [ "${SYSTEMD:-}" = yes ]; then
		systemctl stop "psvd@$TB_HOST_IF.service" 2>/dev/null
		rm -rf "$DROPIN"
		systemctl daemon-reload
	fi
	installed && dpkg --purge psv >/dev/null 2>&1
}
trap 'psv_cleanup; purge; restore; tb_down' EXIT

rm -f "$DEB"
check "make deb builds $DEB" quiet make -s deb
check "debian/changelog says the Makefile's version $VERSION" \
	[ "$(dpkg-parsechangelog -SVersion)" = "$VERSION" ]
check "the package's version is $VERSION" \
	[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ]
lint=$(lintian "$DEB" 2>&1 | grep -v 'running with root privileges')
sed 's/^/#   lintian: /' <<<"$lint"
check "lintian reports no error" bash -c '! grep -q "^E:" <<<"$1"' _ "$lint"

check "dpkg -i installs it" quiet dpkg -i "$DEB"
check "psvd and psvctl in /usr/sbin say version $VERSION" \
	[ "$(/usr/sbin/psvd --version) $(/usr/sbin/psvctl --version)" = "psvd $VERSION psvctl $VERSION" ]
check "the unit runs /usr/sbin/psvd" grep -q '^ExecStart=/usr/sbin/psvd ' "$UNIT"
check "man pages psvd(8), psvctl(8), psv.conf(5) are installed" \
	bash -c 'for m in 8/psvd 8/psvctl 5/psv.conf; do [ -s /usr/share/man/man${m%/*}/${m#*/}.${m%/*}.gz ] || exit 1; done'
conffiles=$(dpkg-query -W -f='${Conffiles}' psv)
check "/etc/psv/psv.conf is a conffile" grep -q '^ /etc/psv/psv.conf ' <<<"$conffiles"
check "/etc/psv/interfaces is a conffile" grep -q '^ /etc/psv/interfaces ' <<<"$conffiles"
check "the state directory /var/lib/psv is there, empty" \
	bash -c '[ -d /var/lib/psv ] && [ -z "$(ls -A /var/lib/psv)" ]'
check "the NetworkManager dispatcher script is installed, executable" \
	bash -c '[ -x "$1" ] && cmp -s "$1" scripts/nm-dispatcher.sh' _ \
	/etc/NetworkManager/dispatcher.d/90-psv

# Start it: by systemd when systemd runs the machine, else by hand.
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	SYSTEMD=yes
	echo "# systemd is PID 1: systemctl start psvd@$TB_HOST_IF"
	mkdir -p "$DROPIN"
	# The testbed's host interface lives in its network namespace.
	cat >"$DROPIN/testbed.conf" <<-EOF
	[Service]
	NetworkNamespacePath=/run/netns/$TB_HOST
	Environment=PSV_PIN_ROOT=/sys/fs/bpf/psv-${TB_PREFIX%-}
	EOF
	systemctl daemon-reload
	check "systemctl start psvd@$TB_HOST_IF" \
		systemctl start "psvd@$TB_HOST_IF.service"
	check "... and it is active" systemctl is-active -q "psvd@$TB_HOST_IF.service"
	PSV_CONTROL_DIR=/run/psv
	export PSV_CONTROL_DIR
	for ((i = 0; i < 300; i++)); do
		psv_ctl identities --json 2>/dev/null |
			holds '[.[] | select(.state == "ready")] | length >= 1' && break
		sleep 0.1
	done
else
	SYSTEMD=no
	echo "# systemd is not PID 1 ($(ps -p 1 -o comm=)): the unit is verified, /usr/sbin/psvd runs by hand"
	verify=$(systemd-analyze verify "$UNIT" 2>&1)
	sed 's/^/#   systemd-analyze: /' <<<"$verify"
	check "systemd-analyze verify finds nothing wrong in the unit" [ -z "$verify" ]
	mkdir -p "$TB_DIR/installed"
	ln -s /usr/sbin/psvd /usr/sbin/psvctl "$TB_DIR/installed/"
	PSV_BUILD=$TB_DIR/installed
	check "/usr/sbin/psvd starts with the installed /etc/psv/psv.conf (DHCP identities)" \
		psv_start "$(cat /etc/psv/psv.conf)"
fi

audit_json=$TB_DIR/audit.json
psv_ctl audit --seconds 5 --json >"$audit_json" &
apid=$!
sleep 0.5
tb_host curl -sf -o /dev/null "http://$SRV1/"
tb_host curl -sf -o /dev/null "http://$SRV2/"
tb_host ping -c 2 -i 0.2 -W 2 "$SRV1" >/dev/null
wait "$apid"
rc=$?
jq -r '"#   audit: \(.verdict)"' "$audit_json"
check "the installed psvctl audit exits 0 while the apps run (rc $rc)" [ "$rc" = 0 ]
check "... having seen identities in use" holds '(.identities | length) >= 2 and .psvd' <"$audit_json"
check "psvd keeps its leases in /var/lib/psv" bash -c '[ -n "$(ls -A /var/lib/psv)" ]'

if [ "$SYSTEMD" = yes ]; then
	check "systemctl stop psvd@$TB_HOST_IF" systemctl stop "psvd@$TB_HOST_IF.service"
	rm -rf "$DROPIN"
	systemctl daemon-reload
else
	psv_stop TERM
	check "psvd exits 0 on SIGTERM" [ "$PSV_RC" = 0 ]
fi

check "dpkg --purge removes it" quiet dpkg --purge psv
check "dpkg knows nothing of psv" bash -c '! dpkg-query -W -f="\${Status}" psv 2>/dev/null | grep -q installed'
check "nothing is left behind (files, unit, /etc/psv, state and runtime directories)" \
	[ -z "$(present)" ]
present | sed 's/^/#   left: /'
[ "$failed" -eq 0 ]
