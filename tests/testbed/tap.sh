#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The e2e tests' result lines, counted by tests/run.sh.
#   ok DESC / not_ok DESC     one result line; not_ok counts in $failed
#   check DESC CMD...         ok or not ok by CMD's exit status
#   holds JQ-ARGS...          true if the jq filter holds for JSON on stdin
#                             (check "x" holds '.n == 0' <<<"$json")
#   is EXPR                   bash arithmetic as a command, for check

failed=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# jq -e alone holds on empty input (a command that printed nothing).
holds() {
	local in
	in=$(cat)
	[ -n "$in" ] && jq -e "$@" >/dev/null <<<"$in"
}
is() { (($1)); }
