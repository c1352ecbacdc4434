#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs every fuzzer in build/fuzz: "short" (seconds, from make test) or
# "long" (make fuzz: FUZZ_RUNS executions each, default 10 million; at a
# few thousand a second that is most of an hour per target).  Corpora
# start from tests/fuzz/corpus/<name>/ when present (fuzz_dhcp's cve_*
# seeds come from dhcp_cve_seeds.py); findings go to
# build/fuzz/artifacts/.
set -u
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
mode=${1:-short}
case $mode in
short) limit=-max_total_time=${FUZZ_SECONDS:-10}; what="${FUZZ_SECONDS:-10}s" ;;
long) limit=-runs=${FUZZ_RUNS:-10000000}; what="${FUZZ_RUNS:-10000000} executions" ;;
*) echo "usage: $0 short|long" >&2; exit 2 ;;
esac
mkdir -p "$build/fuzz/artifacts"
n=0
for f in "$build"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f")
	work=$(mktemp -d)
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
	if "$f" "$limit" -artifact_prefix="$build/fuzz/artifacts/$name-" \
		"$work" >"$build/fuzz/$name.log" 2>&1; then
		echo "ok - $name ran $what without a crash"
	else
		echo "not ok - $name crashed, see $build/fuzz/$name.log"
		tail -n 20 "$build/fuzz/$name.log"
	fi
	rm -rf "$work"
done
[ "$n" -gt 0 ] || echo "not ok - no fuzzer was built"
