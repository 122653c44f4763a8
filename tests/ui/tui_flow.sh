#!/bin/bash
# The guided flows from the TUI (issue 9) in tmux: `espdesk --demo` on espdesk-sim, the backup flow
# (F7) into the backup store, then the flash flow (F8) with the demo firmware. Expected values come
# from the simulator's own flash file and from espdesk-sim make-firmware, never from espdesk's
# output; the boot banner's shape is from the reference (protocol.md, bootlog.md). Prints TAP.
NAME=tui-flow
. "$(dirname "$0")/lib.sh"
tui_start 120 40

if wait_for 'MQT: Connected' 30; then ok "demo: the demo firmware boots"; else nok "demo boots" "$(cat "$work/err" 2>/dev/null)"; dump; fi
demo=$(demo_dir)
flash=$demo/flash.bin
[ -f "$flash" ] && ok "demo: the simulator's flash file exists" || nok "demo: flash file" "no $flash"
cp "$flash" "$work/before.bin" 2>/dev/null

# 1. The backup flow: the checklist reaches done, the store holds the flash byte for byte.
T send-keys -t 0 F7
if wait_for 'Flow: backup' 5; then ok "F7 opens the flow pane with the backup flow"; else nok "flow pane"; dump; fi
if wait_for 'backup done' 120; then ok "backup flow: done"; else nok "backup flow: done"; dump; fi
if screen | grep -q '\[x\] store' && ! screen | grep -q '\[ \]'; then
	ok "backup flow: every step of the checklist is done"
else
	nok "backup flow: checklist all done"; dump
fi
img=$(ls -t "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | head -1)
if [ -n "$img" ] && cmp -s "$img" "$work/before.bin"; then
	ok "backup flow: the stored backup equals the simulator's flash"
else
	nok "backup flow: the stored backup equals the simulator's flash" "image: '$img'"
fi
wait_for 'reconnected' 15 >/dev/null

# 2. Break the board (a QIO image on the ESP8285), then the flash flow with the demo firmware.
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 3
wait_for 'reconnected|csum' 10 >/dev/null; sleep 2
# Image header byte 2 is the SPI flash mode (esptool: QIO 0, QOUT 1, DIO 2, DOUT 3); the Basic R2
# wants DOUT (devices.md row 3).
mode() { od -An -tu1 -j2 -N1 "$1" | tr -d ' '; }
[ "$(mode "$flash")" = 0 ] && ok "demo 3: the flash now holds a QIO image" || nok "demo 3: QIO image" "mode $(mode "$flash")"
"$B/espdesk-sim" make-firmware "$work/fw.bin" --demo --flash-size 1MB >/dev/null
T send-keys -t 0 F8; sleep 0.3; T send-keys -t 0 -l "$work/fw.bin"; T send-keys -t 0 Enter
if wait_for 'Flow: flash' 5; then ok "F8 asks for the file and starts the flash flow"; else nok "flash flow start"; dump; fi
# The flow may ask (e.g. about the image); ordinary questions are answered y here.
for i in $(seq 120); do
	screen | grep -q 'flash done\|flash failed' && break
	screen | grep -q 'y goes ahead' && T send-keys -t 0 y
	sleep 1
done
if screen | grep -q 'flash done'; then ok "flash flow: done"; else nok "flash flow: done"; dump; fi
if ! screen | grep -q '\[ \]\|\[!\]'; then ok "flash flow: the checklist shows every step done"; else nok "flash checklist"; dump; fi
len=$(stat -c %s "$work/fw.bin")
# The header's mode/size bytes (2, 3) may be patched to the profile's; the rest is the image.
if cmp -s <(tail -c +5 "$work/fw.bin") <(head -c "$len" "$flash" | tail -c +5); then
	ok "flash flow: the simulator's flash holds the demo firmware"
else
	nok "flash flow: the simulator's flash holds the demo firmware"
fi
[ "$(mode "$flash")" = 3 ] && ok "flash flow: the header was patched to DOUT" || nok "flash flow: DOUT" "mode $(mode "$flash")"
if wait_for 'MQT: Connected' 40 && wait_for 'boot ROM: rst cause 1' 5; then
	ok "after the flow the log pane shows the new firmware booting"
else
	nok "log after the flash flow"; dump
fi
T send-keys -t 0 Escape
if wait_for 'healthy' 10; then ok "diagnosis: the boot after the flow is healthy"; else nok "healthy after flow"; dump; fi

T send-keys -t 0 q
for i in $(seq 50); do [ -f "$work/exit" ] && break; sleep 0.2; done
grep -q 'EXIT=0' "$work/exit" 2>/dev/null && ok "q quits with status 0" || nok "q quits" "$(cat "$work/exit" "$work/err" 2>/dev/null)"

# 3. A flow that dies (as a crash or a closed SSH session would: the engine's test hook exits at
# the store step) is offered for resume at the next start-up, and resuming finishes it.
tui_start 120 40 ESPDESK_FLOW_TEST_EXIT=store
wait_for 'MQT: Connected' 30 >/dev/null
nb=$(ls "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | wc -l)
T send-keys -t 0 F7
for i in $(seq 100); do [ -f "$work/exit" ] && break; sleep 0.2; done
grep -q 'EXIT=99' "$work/exit" 2>/dev/null && ok "a backup flow killed at its store step" || nok "killed at store" "$(cat "$work/exit" 2>/dev/null)"
tui_start 120 40
if wait_for 'earlier backup flow did not finish' 30; then ok "start-up: the resume prompt names the unfinished flow"; else nok "resume prompt"; dump; fi
T send-keys -t 0 y
if wait_for 'backup done' 120 && screen | grep -q '\[x\] store'; then ok "resume: the backup flow finishes"; else nok "resume finishes"; dump; fi
nb2=$(ls "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | wc -l)
[ "$nb2" -ge "$nb" ] && [ "$nb" -ge 1 ] && ok "resume: the backup store still holds the backup ($nb2)" || nok "store after resume" "$nb -> $nb2"
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 q
for i in $(seq 50); do [ -f "$work/exit" ] && break; sleep 0.2; done
grep -q 'EXIT=0' "$work/exit" 2>/dev/null && ok "q quits with status 0 after the resume" || nok "q quits after resume" "$(cat "$work/exit" "$work/err" 2>/dev/null)"
echo "1..$n"
exit $failed
