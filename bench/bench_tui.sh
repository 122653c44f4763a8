#!/bin/bash
# bench_tui.sh: the workstation under a continuous 921600-baud log (not part of make check).
# espdesk-sim runs an application that prints without pause at 921600; espdesk tui follows it
# in a tmux pane through script(1), which records every byte the TUI writes to its terminal.
# Over DURATION seconds we measure the TUI's CPU time (utime+stime from /proc) and the bytes it
# wrote, next to the bytes the device sent. Targets: < 5% of one core; terminal output bounded
# by the redraw rate (30 frames/s), not by the log rate.
#   usage: bench/bench_tui.sh [BUILDDIR]   (DURATION=10 by default; COLS/ROWS = pane size)
set -u
B=${1:-${ESPDESK_BUILDDIR:-.}}
DURATION=${DURATION:-10}
COLS=${COLS:-120}
ROWS=${ROWS:-40}
command -v tmux >/dev/null || { echo "bench_tui: needs tmux"; exit 1; }
command -v script >/dev/null || { echo "bench_tui: needs script (bsdutils)"; exit 1; }
w=$(mktemp -d /tmp/bench-tui-XXXXXX)
sock=benchtui$$
cleanup() { tmux -L "$sock" kill-server 2>/dev/null; [ -n "${simpid:-}" ] && kill "$simpid" 2>/dev/null; rm -rf "$w"; }
trap cleanup EXIT

# An application that talks as fast as the line allows: each 1 ms step prints four ~100-byte
# lines (a script line holds at most 512 bytes; 8 steps of 400 bytes are 35 ms at 921600 baud;
# whether the UART idles between steps the measured log rate below tells).
line='MQT: tele/sonoff/SENSOR = {"Time":"2026-11-30T08:00:00","ENERGY":{"Power":42,"Voltage":230}}'
{
	echo "name bench flood"
	echo "baud 921600"
	for i in 0 1 2 3 4 5 6 7; do
		printf 'every 1 ms print %s' "$i $line"
		for k in 1 2 3; do printf '\\r\\n%s' "$i.$k $line"; done
		echo
	done
} >"$w/flood.app"
"$B/espdesk-sim" make-firmware "$w/flash.bin" --layout arduino --script "$w/flood.app" >/dev/null || exit 1
"$B/espdesk-sim" --flash "$w/flash.bin" --flash-size 1MB --link "$w/port" --control "$w/ctl" --off \
	>/dev/null 2>&1 &
simpid=$!
for i in $(seq 50); do [ -e "$w/port" ] && [ -e "$w/ctl" ] && break; sleep 0.1; done

# The log rate the device really reaches, measured with the plain monitor first.
printf 'power on\n' | socat - "UNIX-CONNECT:$w/ctl" >/dev/null
sleep 1.5
rate=$("$B/espdesk" monitor -p "$w/port" -b 921600 --no-follow --no-diagnosis --duration 3 2>/dev/null | wc -c)
printf 'power off\n' | socat - "UNIX-CONNECT:$w/ctl" >/dev/null

tmux -L "$sock" new-session -d -x "$COLS" -y "$ROWS" \
	"script -q -f -c '$B/espdesk tui -p $w/port -b 921600' $w/typescript"
for i in $(seq 50); do pid=$(pgrep -f "espdesk tui -p $w/port" | head -1); [ -n "$pid" ] && break; sleep 0.1; done
[ -n "${pid:-}" ] || { echo "bench_tui: espdesk did not start"; exit 1; }
sleep 1
printf 'power on\n' | socat - "UNIX-CONNECT:$w/ctl" >/dev/null
sleep 2  # past the ROM and the boot loader; the flood is running

hz=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
c0=$(cpu); o0=$(stat -c %s "$w/typescript"); t0=$(date +%s.%N)
sleep "$DURATION"
c1=$(cpu); o1=$(stat -c %s "$w/typescript"); t1=$(date +%s.%N)
status=$(printf 'status\n' | socat - "UNIX-CONNECT:$w/ctl")
tail=$(tmux -L "$sock" capture-pane -p -t 0 | grep -c 'MQT: tele')
awk -v c0="$c0" -v c1="$c1" -v o0="$o0" -v o1="$o1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
    -v cols="$COLS" -v rows="$ROWS" 'BEGIN {
	dt = t1 - t0
	printf "TUI %dx%d following a continuous 921600-baud log (92160 B/s on the wire) for %.1f s\n", cols, rows, dt
	printf "  CPU: %.1f%% of one core\n", 100 * (c1 - c0) / hz / dt
	printf "  terminal output: %.0f bytes/s (%.0f bytes per frame at 30 frames/s)\n", (o1 - o0) / dt, (o1 - o0) / dt / 30
}'
echo "  the device's log rate (espdesk monitor, 3 s): $((rate / 3)) bytes/s"
echo "  log lines on screen at the end: $tail"
echo "  simulator: $status"
