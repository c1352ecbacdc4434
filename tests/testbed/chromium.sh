#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Headless Chromium on the testbed's psv host (source after testbed.sh,
# after tb_up), for tests/e2e/browser.sh and the bench:
#   tb_browse OUT [URL]   loads URL (srv1's /page.html) and writes the DOM
#                         after the load event to OUT (its stderr to
#                         OUT.log); a new profile each time, removed after
#   tb_page_count DOM ID  the number the page's script wrote into <p id=ID>
#                         (loaded, failed, load_ms); empty if none
# Chromium talks to nothing but the page: no background networking, no
# first-run, sync, update or extension traffic.  It runs as root in the
# host namespace, so without its sandbox (which needs user namespaces of
# its own); `ip netns exec` gives it the testbed's resolv.conf.

tb_browse() {
	local out=$1 url=${2:-http://srv1.psv.test/page.html} profile rc
	profile=$(mktemp -d "$TB_DIR/chromium.XXXXXX") || return 1
	tb_host timeout 60 chromium --headless=new --no-sandbox --dump-dom \
		--disable-background-networking --no-first-run \
		--no-default-browser-check --disable-component-update \
		--disable-sync --disable-gpu --disable-extensions \
		--disable-default-apps --disable-domain-reliability \
		--disable-features=OptimizationHints,MediaRouter,Translate,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater \
		--user-data-dir="$profile" "$url" >"$out" 2>"$out.log"
	rc=$?
	rm -rf "$profile"
	return $rc
}

tb_page_count() {
	sed -n "s/.*<p id=\"$2\">$2 \([0-9]*\)<.*/\1/p" "$1"
}
