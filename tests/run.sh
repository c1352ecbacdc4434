#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs every test: unit binaries (build/tests/test_*), the same built with
# ASan and UBSan (build/san/tests/test_*, make san), short fuzz runs, and
# the end-to-end scripts (tests/e2e/*.sh); the soak suite (make soak,
# tests/soak/*.sh: long runs) only when named.  Each prints TAP-like lines,
# "ok - what" or "not ok - what"; this counts them and closes with
# "N passed, N failed".  A program that exits non-zero without a "not ok"
# line counts as one failure, so nothing fails silently.
# Usage: tests/run.sh [unit|san|fuzz|e2e|soak]...   (default: all but soak)
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
passed=0
failed=0

run_one() {
	local name=$1; shift
	local out rc
	echo "# $name"
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	local p f
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited $rc"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name reported no result"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

suites=${*:-unit san fuzz e2e}
for suite in $suites; do
	case $suite in
	unit)
		for t in "$build"/tests/test_*; do
			[ -x "$t" ] || continue
			case $t in *.d) continue ;; esac
			run_one "unit/$(basename "$t")" "$t"
		done ;;
	san)
		# The same unit tests built with ASan and UBSan (make san).
		ls "$build"/san/tests/test_* >/dev/null 2>&1 ||
			{ echo "not ok - no sanitized unit tests in $build/san (make san)"
			  failed=$((failed + 1)); continue; }
		for t in "$build"/san/tests/test_*; do
			case $t in *.d) continue ;; esac
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
			UBSAN_OPTIONS=print_stacktrace=1 \
				run_one "san/$(basename "$t")" "$t"
		done ;;
	fuzz)
		run_one "fuzz (short)" tests/fuzz/run.sh short ;;
	e2e|soak)
		for t in tests/"$suite"/*.sh; do
			[ -f "$t" ] || continue
			run_one "$suite/$(basename "$t" .sh)" bash "$t"
		done ;;
	*) echo "unknown suite: $suite" >&2; exit 2 ;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
