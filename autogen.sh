#!/bin/sh
# autogen.sh: set up, build and test espdesk from a fresh checkout.
#
#   ./autogen.sh          regenerate configure and Makefile.in (autoreconf) and stop
#   ./autogen.sh deps     install the Debian packages espdesk needs (apt-get; root or sudo)
#   ./autogen.sh demo     deps + build, then open espdesk on a simulated Sonoff
#   ./autogen.sh check    deps + build, then run the whole test suite (normal build and an
#                         ASan+UBSan build); the last line is "N passed, N failed, N skipped"
#
# Builds happen out of tree, in build/ (and build-san/ for the sanitizer run).
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

# Debian packages: build tools, the four libraries, libmd (MD5/SHA-256), the ESP8266 cross
# compiler for the flasher stub, and what the integration tests drive (tmux, node for esptool-js).
PKGS="build-essential autoconf automake autoconf-archive pkg-config clang
libncurses-dev libserialport-dev zlib1g-dev libyaml-dev libmd-dev
gcc-xtensa-lx106 binutils-xtensa-lx106 tmux socat nodejs npm man-db groff-base"

missing_pkgs() {
	m=""
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || m="$m $p"
	done
	# nodejs from another repository may bundle npm; do not fight it.
	case "$m" in *" npm"*) command -v npm >/dev/null 2>&1 && m=$(echo "$m" | sed 's/ npm//') ;; esac
	echo "$m"
}

deps() {
	m=$(missing_pkgs)
	[ -z "$m" ] && return 0
	echo "autogen.sh: installing missing Debian packages:$m"
	if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
		echo "autogen.sh: need root or sudo to install:$m" >&2; exit 1; fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $m >/dev/null
}

regen() {
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
}

build() { # build DIR [configure args...]
	dir=$1; shift
	mkdir -p "$dir"
	( cd "$dir" && { [ -f Makefile ] && [ config.status -nt "$top/configure" ] ||
		"$top/configure" -q "$@"; } && make -s -j"$(nproc)" >/dev/null )
}

case "${1:-}" in
"")
	regen ;;
deps)
	deps ;;
demo)
	shift
	deps; regen; build build
	if [ -x build/espdesk ] && build/espdesk --help 2>/dev/null | grep -q -- '--demo'; then
		exec build/espdesk --demo "$@"
	fi
	exec sh "$top/tests/demo-cli.sh" "$top/build" ;;
check)
	deps; regen
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	# run_check DIR: builds the test programs quietly and runs make check; summary reads the
	# runner's closing line from the log (a missing line counts as a failure).
	run_check() {
		( cd "$1" && make -s -j"$(nproc)" check 2>&1 ) |
			grep -v -E '^  (CC|CCLD|AR|GEN) ' | tee "$log"
	}
	summary() {
		s=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1 || true)
		echo "${s:-0 passed, 1 failed, 0 skipped}"
	}
	build build --enable-werror || { echo "autogen.sh: build failed (see above)"; echo "0 passed, 1 failed"; exit 1; }
	run_check build
	sum1=$(summary)
	if [ "${ESPDESK_SKIP_SANITIZERS:-0}" != 1 ]; then
		echo "autogen.sh: again under ASan+UBSan (build-san/)"
		build build-san --enable-sanitizers --enable-debug ||
			{ echo "autogen.sh: sanitizer build failed (see above)"; echo "0 passed, 1 failed"; exit 1; }
		run_check build-san
		sum2=$(summary)
	else
		sum2="0 passed, 0 failed, 0 skipped"
	fi
	# One closing line for both runs; the exit status follows the failure count, never a pipe.
	total=$(echo "$sum1 $sum2" | awk '{ p = $1 + $7; f = $3 + $9; s = $5 + $11;
		printf "%d passed, %d failed, %d skipped", p, f, s }')
	echo "$total"
	case "$total" in *" 0 failed,"*) exit 0 ;; *) exit 1 ;; esac ;;
*)
	echo "usage: ./autogen.sh [deps|demo|check]" >&2; exit 2 ;;
esac
