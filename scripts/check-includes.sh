#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Which room may include which (docs/ARCHITECTURE.md, "The rooms").
# Quoted includes in loader/ name their room ("common/log.h"); this
# fails, listing every offence, when one crosses a wall.  Run by `make`.
cd "$(dirname "$0")/.." || exit 2

bad=0
complain() {
	echo "check-includes: $1: #include \"$2\": $3" >&2
	bad=1
}

# allowed FILE INCLUDE: prints why not, or nothing.
allowed() {
	f=$1 inc=$2
	case $inc in
	*.skel.h)
		case $f in
		loader/psvd/dataplane.c | loader/psvd/attribution.c) return ;;
		esac
		echo "skeletons belong to dataplane.c and attribution.c"
		return ;;
	esac
	case $f in
	bpf/*)
		case $inc in
		psv.h | vmlinux.h | lib/*.h | *.h)
			case $inc in */*) case $inc in lib/*) return ;; esac
				echo "bpf/ includes only include/ and bpf/lib/"
				return ;; esac
			return ;;
		esac ;;
	esac
	case $inc in
	*/*) ;;
	psv.h) ;;
	*) echo "name the room (common/, psvd/, psvctl/)"; return ;;
	esac
	case $f in
	loader/common/*)
		case $inc in psv.h | common/*) return ;; esac
		echo "common/ includes only include/ and common/" ;;
	loader/psvctl/*)
		case $inc in psv.h | common/* | psvctl/*) return ;; esac
		echo "psvctl/ includes only include/, common/ and psvctl/" ;;
	loader/psvd/link/*)
		case $inc in common/* | psvd/link/*) return ;; esac
		echo "link/ includes only common/ and link/" ;;
	loader/psvd/dhcp/*)
		case $inc in common/* | psvd/dhcp/*) return ;; esac
		echo "dhcp/ includes only common/ and dhcp/" ;;
	loader/psvd/pool/*)
		case $inc in psv.h | common/* | psvd/*) return ;; esac
		echo "pool/ includes include/, common/ and psvd/" ;;
	loader/psvd/main.c | loader/psvd/settings.[ch])
		case $inc in psv.h | common/* | psvd/*) return ;; esac
		echo "psvd includes include/, common/ and psvd/" ;;
	loader/psvd/*)
		case $inc in
		psvd/pool/*) echo "only main.c and settings.c include pool/" ;;
		psv.h | common/* | psvd/*) ;;
		*) echo "psvd includes include/, common/ and psvd/" ;;
		esac ;;
	esac
}

for f in $(git ls-files -co --exclude-standard 'bpf/*.[ch]' 'loader/*.[ch]'); do
	[ -f "$f" ] || continue
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		why=$(allowed "$f" "$inc")
		[ -n "$why" ] && complain "$f" "$inc" "$why"
	done
done
exit $bad
