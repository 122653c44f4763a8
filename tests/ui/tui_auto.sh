#!/bin/bash
# The workstation on a board nobody described (issue 9), in tmux at 80x24: `espdesk tui -p PORT`
# without a profile on an espdesk-sim Sonoff that is switched off. The backup flow (F7) resets,
# finds that nothing answers, shows "waiting for you" and waits; the test then does what a
# person does (holds the button, powers the board, lets go) and the flow stores the whole flash.
# The expected image is the simulator's own flash file. Prints TAP.
NAME=tui-auto
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || skip_all "socat is not installed"

ctl() { printf '%s\n' "$1" | socat - "UNIX-CONNECT:$work/ctl" 2>/dev/null; }
"$B/espdesk-sim" make-firmware "$work/stock.bin" --family stock --flash-size 1MB >/dev/null
cp "$work/stock.bin" "$work/flash.bin"
"$B/espdesk-sim" --flash "$work/flash.bin" --flash-size 1MB --chip esp8285 --speed fast --off \
	--link "$work/dev" --control "$work/ctl" >/dev/null 2>"$work/sim.err" &
simpid=$!
lib_cleanup_sim() { kill "$simpid" 2>/dev/null; wait "$simpid" 2>/dev/null; lib_cleanup; }
trap lib_cleanup_sim EXIT
for _ in $(seq 50); do [ -S "$work/ctl" ] && [ -e "$work/dev" ] && break; sleep 0.1; done

new_server
T new-session -d -x 80 -y 24 "env ESPDESK_DATA_HOME='$ESPDESK_DATA_HOME' LANG=$locale LC_ALL=$locale '$B/espdesk' tui -p '$work/dev' 2>'$work/err'; echo \"EXIT=\$?\" >'$work/exit'; sleep 60"
if wait_for 'F1Help|F1 Help' 15; then ok "tui -p on a switched-off board starts"; else nok "tui starts" "$(cat "$work/err")"; dump; fi

T send-keys -t 0 F7
if wait_for 'Flow: backup' 5; then ok "F7 opens the backup flow"; else nok "F7 backup flow"; dump; fi
if wait_for 'waiting for download mode' 20 && wait_for 'connect: waiting for you' 2; then
	ok "no profile, nothing answers the reset: the flow pane says it waits for the user"
else
	nok "the flow pane says it waits for the user"; dump
fi
if wait_for 'hold GPIO0 low' 3; then
	ok "without a profile the flow pane says what to do (hold GPIO0 low while powering)"
else
	nok "the flow pane says what to do"; dump
fi
ctl "gpio0 down" >/dev/null; ctl "power on" >/dev/null
for _ in $(seq 50); do ctl status | grep -q 'mode=download' && break; sleep 0.1; done
ctl "gpio0 up" >/dev/null
if wait_for 'backup done' 120; then ok "once the board is in download mode the backup goes on"; else nok "backup done"; dump; fi
img=$(ls -t "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | head -1)
if [ -n "$img" ] && cmp -s "$img" "$work/stock.bin"; then
	ok "the stored backup equals the simulator's flash"
else
	nok "the stored backup equals the simulator's flash" "image: '$img'"
fi
T send-keys -t 0 Escape; sleep 0.3
tui_quit
if grep -q 'EXIT=0' "$work/exit" 2>/dev/null; then ok "q quits cleanly"; else nok "q quits cleanly" "$(cat "$work/exit" "$work/err" 2>/dev/null)"; fi
echo "1..$n"
[ $failed = 0 ]
