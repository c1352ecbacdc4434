#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs every fuzzer in build/fuzz: "short" (seconds, from make test) or
# "long" (make fuzz).  Corpora start from tests/fuzz/corpus/<name>/ when
# present; findings go to build/fuzz/artifacts/.
set -u
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
mode=${1:-short}
case $mode in
short) secs=${FUZZ_SECONDS:-10} ;;
long) secs=${FUZZ_SECONDS:-600} ;;
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
	if "$f" -max_total_time="$secs" -artifact_prefix="$build/fuzz/artifacts/$name-" \
		"$work" >"$build/fuzz/$name.log" 2>&1; then
		echo "ok - $name ran ${secs}s without a crash"
	else
		echo "not ok - $name crashed, see $build/fuzz/$name.log"
		tail -n 20 "$build/fuzz/$name.log"
	fi
	rm -rf "$work"
done
[ "$n" -gt 0 ] || echo "not ok - no fuzzer was built"
