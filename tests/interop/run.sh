#!/bin/bash
# run.sh: the interop test under `make check`. Prints TAP.
#
#  1. The Web Serial shim proves itself against pty_echo (shim-loopback.test.mjs); this needs
#     only node and the pty_echo helper that `make check` builds.
#  2. esptool-js, pinned by package.json and package-lock.json, is installed into the build
#     tree ($ESPDESK_BUILDDIR/tests/interop/node_modules; never into the source tree) with
#     `npm ci`, and reused while the lock file is unchanged.
#  3. esptool-js drives espdesk-sim (esptool-js.test.mjs).
#
# Without node (>= 20) or npm, or when the install fails (no network and no npm cache), the
# affected part prints one loud "ok N - ... # SKIP <reason>" line: skipped, never passed.
# A missing or broken espdesk-sim is a failure, not a skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${ESPDESK_BUILDDIR:-$(pwd)}
work=$builddir/tests/interop
n=0

skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
say() { sed 's/^/# /'; }

if ! command -v node >/dev/null 2>&1; then
	echo "# ******** node is not installed: the esptool-js interop test cannot run ********"
	skip "esptool-js drives espdesk-sim" "node not found (apt-get install nodejs npm)"
	exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
	echo "# ******** node $(node --version) is too old: esptool-js needs node 20 or later ********"
	skip "esptool-js drives espdesk-sim" "node $(node --version) < 20"
	exit 0
fi

mkdir -p "$work"
rc=0

# 1. The shim on its own.
echo_bin=$builddir/tests/interop/pty_echo
if [ -x "$echo_bin" ]; then
	TAP_FIRST=$((n + 1)) node "$here/shim-loopback.test.mjs" "$echo_bin" >"$work/loopback.tap" 2>&1 || rc=1
	cat "$work/loopback.tap"
	n=$((n + $(grep -cE '^(not )?ok ' "$work/loopback.tap")))
else
	n=$((n + 1)); echo "not ok $n - the shim's loopback helper is built"
	echo "# $echo_bin is missing: run 'make check' (it builds tests/interop/pty_echo)"
	rc=1
fi

# 2. esptool-js, exactly as pinned.
want=$(node -p 'require(process.argv[1]).packages["node_modules/esptool-js"].version' "$here/package-lock.json")
have=""
if [ -f "$work/node_modules/esptool-js/package.json" ] && cmp -s "$here/package-lock.json" "$work/package-lock.json"; then
	have=$(node -p 'require(process.argv[1]).version' "$work/node_modules/esptool-js/package.json" 2>/dev/null)
fi
if [ "$have" != "$want" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "# ******** npm is not installed: esptool-js cannot be installed ********"
		skip "esptool-js drives espdesk-sim" "npm not found (apt-get install npm)"
		exit $rc
	fi
	cp "$here/package.json" "$here/package-lock.json" "$work/"
	if ! (cd "$work" && timeout 300 npm ci --no-audit --no-fund --prefer-offline \
		--fetch-retries=1 --fetch-timeout=60000 >"$work/npm.log" 2>&1); then
		echo "# ******** npm ci of esptool-js@$want failed (no network and no npm cache?) ********"
		{ grep -E '^npm (error|ERR!) (code|errno|network|syscall|address|404)' "$work/npm.log" ||
			tail -n 8 "$work/npm.log"; } | head -n 8 | say
		skip "esptool-js drives espdesk-sim" "npm ci of esptool-js@$want failed, see $work/npm.log"
		exit $rc
	fi
fi

# 3. The real client against the simulator.
TAP_FIRST=$((n + 1)) node "$here/esptool-js.test.mjs" "$work/node_modules" || rc=1
exit $rc
