#!/bin/bash
# test_sync_baud.sh: --sync-baud (issue 4: "the ROM autobauds, so a higher sync baud is an option
# where the adapter copes"). The simulator's ROM locks onto the host's rate as the real one does
# (protocol.md §1), and reports the rate it locked onto (`status`: baud=). Checks: the chip
# answers SYNC at 460800; the crystal is still read right from UART_CLKDIV at that rate (§8.5);
# without the stub the whole session stays there and the written data is byte for byte in the
# flash file; a chip that does not answer makes the engine fall back to 115200 once, and say so.
# Prints TAP.
set -u
B=${ESPDESK_BUILDDIR:-.}
ESPDESK=$B/espdesk
SIM=${ESPDESK_SIM:-$B/espdesk-sim}
CTL=$B/tests/tools/simctl
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/err" | tail -5; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
skip_all() { echo "ok 1 - sync baud # SKIP $1"; echo "1..1"; exit 0; }

[ -x "$SIM" ] && [ -x "$ESPDESK" ] && [ -x "$CTL" ] || skip_all "espdesk, espdesk-sim or simctl is not built"

T=$(mktemp -d /tmp/syncbaud-XXXXXX)
SIMPID=
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
: >"$T/err"

# sim_start [options...]: a 1 MB simulator on $T/flash.bin; sets PORT.
sim_start() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -f "$T/port" "$T/ctl"
	"$SIM" --flash "$T/flash.bin" --flash-size 1MB --speed fast --control "$T/ctl" "$@" \
		>"$T/port" 2>"$T/sim.err" &
	SIMPID=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && [ -S "$T/ctl" ] && break; sleep 0.1; done
	PORT=$(head -n1 "$T/port")
}
E() { local c=$1; shift; timeout 60 "$ESPDESK" "$c" -p "$PORT" --before no-reset --after no-reset "$@"; }

sim_start --download
E flash-id --no-stub --sync-baud 460800 >"$T/out" 2>"$T/err"; rc=$?
check "flash-id with --sync-baud 460800: exits 0" '[ $rc -eq 0 ]'
check "the ROM locked onto 460800 (the simulator says so)" '"$CTL" "$T/ctl" status | grep -q " baud=460800 "'
check "the crystal is still read as 26 MHz at 460800" 'grep -q "crystal 26 MHz" "$T/err"'
check "without the stub the session stays at 460800" 'grep -q "ROM only at 460800 baud" "$T/err"'

head -c 131072 /dev/urandom >"$T/data.bin"
E write-flash --no-stub --sync-baud 460800 0x20000 "$T/data.bin" >"$T/out" 2>"$T/err"; rc=$?
check "ROM-only write at 460800: exits 0, says it is not verified" '[ $rc -eq 0 ] && grep -q "NOT verified" "$T/out"'
check "ROM-only write at 460800: the flash holds the data byte for byte" 'cmp -s -i 0x20000:0 -n 131072 "$T/flash.bin" "$T/data.bin"'

sim_start --download --xtal 40
E flash-id --no-stub --sync-baud 230400 >"$T/out" 2>"$T/err"
check "a 40 MHz crystal is read right at 230400" 'grep -q "crystal 40 MHz" "$T/err"'

# The chip is not in download mode: no answer at 460800, then none at 115200 either.
sim_start
E chip-id --sync-baud 460800 --connect-timeout 4 >"$T/out" 2>"$T/err"; rc=$?
check "no answer: fails with the timeout message" '[ $rc -eq 1 ] && grep -q "timed out waiting for packet header" "$T/err"'
check "no answer at 460800: falls back to 115200 and says so once" '[ $(grep -c "no answer to SYNC at 460800 baud" "$T/err") -eq 1 ]'
check "--sync-baud 12 is a usage error" '! E chip-id --sync-baud 12 >/dev/null 2>"$T/err" && grep -q "9600 to 921600" "$T/err"'

echo "1..$n"
