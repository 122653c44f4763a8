#!/bin/bash
# The guided flows from the TUI, part 2 (issue 9), in tmux at 80x24: the Erase key through the
# erase flow's interlock (typed "no", Esc and "yes" without a backup; a confirmation over a
# verified one), the restore picker (an empty store, this device's backup, another unit's dump
# behind the risky typed question), the boot watch shown in place (a healthy boot, and a QIO
# image on the ESP8285 diagnosed as flash-mode-mismatch in the flow pane and the diagnosis
# pane) and the "waiting for download mode" indicator with the demo's hands off. Expected
# values come from the simulators' flash files (and espdesk-sim make-firmware), never from
# espdesk's output; the diagnosis name is the vocabulary of bootlog.md. Prints TAP.
NAME=tui-flow2
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || true

tui_start 80 24
if wait_for 'MQT: Connected' 30; then ok "demo: the demo firmware boots"; else nok "demo boots" "$(cat "$work/err" 2>/dev/null)"; dump; fi
demo=$(demo_dir)
flash=$demo/flash.bin
[ -f "$flash" ] || nok "demo: the simulator's flash file" "no $flash"
head -c 1048576 /dev/zero | tr '\0' '\377' >"$work/ff.bin"
newest() { ls -t "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | head -1; }
nbackups() { ls "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin 2>/dev/null | wc -l; }
# Waits for the running flow to end: its pane says "flow done" or "flow failed" (the log's
# notes of earlier flows say "<name> done"). Every flow here starts with the last pane closed.
flow_end() { wait_for 'flow (done|failed)' "${2:-120}"; }

# 1. The picker on an empty store says so and how to take a backup.
T send-keys -t 0 F9
if wait_for 'No backup in the store yet' 5 && screen | grep -q 'F7 takes one'; then ok "F9 on an empty store: says so and names F7"; else nok "F9 empty store"; dump; fi
T send-keys -t 0 Escape; sleep 0.3

# 2. Erase without a backup: the flow's risky question; "no" and Esc refuse, the flash stays.
cp "$flash" "$work/before.bin"
T send-keys -t 0 e
if wait_for 'risks your only backup' 30 && screen | grep -q 'no verified backup'; then ok "erase, no backup: the risky question"; else nok "erase: risky question"; dump; fi
T send-keys -t 0 -l no; T send-keys -t 0 Enter
flow_end erase >/dev/null
if screen | grep -q 'flow failed' && cmp -s "$flash" "$work/before.bin"; then ok "erase, no backup, typed no: refused, the flash is unchanged"; else nok "erase typed no"; dump; fi
# The refused flow is unfinished: the next one offers to resume or forget it (a).
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 e
if wait_for 'An unfinished flow' 5; then ok "a flow after a refused one offers resume or forget"; else nok "unfinished flow prompt"; dump; fi
T send-keys -t 0 a
wait_for 'risks your only backup' 30 >/dev/null
T send-keys -t 0 Escape
flow_end erase >/dev/null
if screen | grep -q 'flow failed' && cmp -s "$flash" "$work/before.bin"; then ok "erase, no backup, Esc: refused, the flash is unchanged"; else nok "erase Esc"; dump; fi
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 e; wait_for 'An unfinished flow' 5 >/dev/null; T send-keys -t 0 a
wait_for 'risks your only backup' 30 >/dev/null
T send-keys -t 0 -l yes; T send-keys -t 0 Enter
flow_end erase >/dev/null
if screen | grep -q 'flow done' && cmp -s "$flash" "$work/ff.bin"; then ok "erase, no backup, typed yes: every byte is 0xFF"; else nok "erase typed yes"; dump; fi

# 3. The demo firmware again (0), then a backup (F7) and the Erase key over it: one confirmation.
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 0
wait_for 'MQT: Connected' 30 >/dev/null
T send-keys -t 0 F7
# The engine's READ events drive the flow pane's progress bar: "done/total KB rate KB/s ETA".
if wait_for '[0-9]+/1024 KB [0-9]+ KB/s ETA' 60; then ok "flow pane: the read's progress with bytes, rate and ETA"; else nok "flow progress bar"; dump; fi
flow_end backup >/dev/null
cp "$flash" "$work/a.bin"
if screen | grep -q 'flow done' && cmp -s "$(newest)" "$work/a.bin"; then ok "F7: the stored backup equals the flash"; else nok "F7 backup"; dump; fi
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 e
if wait_for 'Erase ALL' 30 && screen | grep -q 'y goes ahead' && ! screen | grep -q 'risks your only'; then
	ok "erase over a verified backup: an ordinary confirmation"
else
	nok "erase over a backup: confirmation"; dump
fi
T send-keys -t 0 y
flow_end erase >/dev/null
if screen | grep -q 'flow done' && cmp -s "$flash" "$work/ff.bin" && cmp -s "$(newest)" "$work/a.bin"; then
	ok "erase over a verified backup: the flash is blank, the backup intact"
else
	nok "erase over a backup"; dump
fi

# 4. Restore this device's backup through the picker; the boot watch shows in the log pane.
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 F9
if wait_for 'this unit' 5 && screen | grep -q '1 in the store'; then ok "F9: the picker lists this device's backup"; else nok "picker lists the backup"; dump; fi
T send-keys -t 0 Enter
flow_end restore >/dev/null
if screen | grep -q 'flow done' && screen | grep -q '\[x\] watch' && cmp -s "$flash" "$work/a.bin"; then
	ok "restore via the picker: the flash equals the backup byte for byte, the watch step done"
else
	nok "restore via the picker"; dump
fi
# The boot was decoded in the log pane while the flow held the port: between the watch's note
# and the flow's end, the ROM banner of a power-on boot and the application (bootlog.md).
T resize-window -t 0 -x 120 -y 60; sleep 0.8
if screen | awk '/-- boot watch/ { w = NR } w && /rst cause:1, boot mode:\(3,/ { b = NR } b && /MQT: Connected/ { m = NR } m && /-- restore done/ { d = 1 } END { exit !d }'; then
	ok "the boot watch: the log pane decoded the boot while the flow held the port"
else
	nok "boot in the log pane during the watch"; dump
fi
T resize-window -t 0 -x 80 -y 24; sleep 0.5

# 5. Another unit's dump (a second simulated Sonoff with its own MAC, backed up from the CLI):
# newest first in the picker, marked; typed "no" and Esc refuse, typed "yes" restores it.
"$B/espdesk-sim" make-firmware "$work/stock.bin" --family stock --flash-size 1MB >/dev/null
cp "$work/stock.bin" "$work/other.bin"
"$B/espdesk-sim" --flash "$work/other.bin" --flash-size 1MB --chip esp8285 --mac 18:fe:34:00:00:42 \
	--speed fast --download --link "$work/dev2" >"$work/sim2.out" 2>&1 &
sim2=$!
for _ in $(seq 50); do [ -e "$work/dev2" ] && break; sleep 0.1; done
timeout 120 "$B/espdesk" backup -p "$work/dev2" --yes >"$work/other.out" 2>&1
kill $sim2 2>/dev/null; wait $sim2 2>/dev/null
[ "$(nbackups)" = 2 ] && cmp -s "$(newest)" "$work/stock.bin" || nok "the other unit's backup" "$(tail -3 "$work/other.out")"
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 F9
if wait_for 'OTHER unit' 5 && screen | grep -A1 'taken (UTC)' | grep -q 'OTHER unit'; then ok "picker: another unit's dump, newest first, marked OTHER"; else nok "picker: other unit"; dump; fi
T send-keys -t 0 Enter
if wait_for 'ANOTHER unit' 30 && screen | grep -q 'eWeLink' && screen | grep -q 'Type yes'; then ok "restore another unit's dump: the risky typed question says what it means"; else nok "other unit question"; dump; fi
T send-keys -t 0 -l no; T send-keys -t 0 Enter
flow_end restore >/dev/null
if screen | grep -q 'flow failed' && cmp -s "$flash" "$work/a.bin"; then ok "another unit, typed no: refused, the flash is unchanged"; else nok "other unit typed no"; dump; fi
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 F9; wait_for 'OTHER unit' 5 >/dev/null; T send-keys -t 0 Enter
wait_for 'An unfinished flow' 5 >/dev/null; T send-keys -t 0 a
wait_for 'ANOTHER unit' 30 >/dev/null; T send-keys -t 0 Escape
flow_end restore >/dev/null
if screen | grep -q 'flow failed' && cmp -s "$flash" "$work/a.bin"; then ok "another unit, Esc: refused, the flash is unchanged"; else nok "other unit Esc"; dump; fi
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 F9; wait_for 'OTHER unit' 5 >/dev/null; T send-keys -t 0 Enter
wait_for 'An unfinished flow' 5 >/dev/null; T send-keys -t 0 a
wait_for 'ANOTHER unit' 30 >/dev/null
T send-keys -t 0 -l yes; T send-keys -t 0 Enter
flow_end restore >/dev/null
if screen | grep -q 'flow done' && cmp -s "$flash" "$work/stock.bin"; then ok "another unit, typed yes: the flash is that unit's dump byte for byte"; else nok "other unit typed yes"; dump; fi

# 6. A QIO image on the ESP8285 (demo 3), backed up, the demo firmware put back (0), then that
# backup restored: the boot watch fails with flash-mode-mismatch, in the flow pane and in the
# diagnosis pane; the log pane shows the ROM's csum err. Image byte 2 is the flash mode (QIO 0).
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 3
wait_for 'csum err' 15 >/dev/null
[ "$(od -An -tu1 -j2 -N1 "$flash" | tr -d ' ')" = 0 ] || nok "demo 3: a QIO image in the flash"
T send-keys -t 0 F7
flow_end backup >/dev/null
cp "$flash" "$work/qio.bin"
cmp -s "$(newest)" "$work/qio.bin" || nok "backup of the QIO image"
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 0
wait_for 'MQT: Connected' 30 >/dev/null
T send-keys -t 0 F9; wait_for 'this unit' 5 >/dev/null; T send-keys -t 0 Enter
flow_end restore >/dev/null
if screen | grep -q '\[!\] watch' && screen | grep -q 'flash-mode-mismatch' && cmp -s "$flash" "$work/qio.bin"; then
	ok "boot watch after a QIO restore: the flow pane shows flash-mode-mismatch (the flash holds the backup)"
else
	nok "watch: flash-mode-mismatch in the flow pane"; dump
fi
T send-keys -t 0 Escape
if wait_for 'flash-mode-mismatch \(' 5 && screen | grep -q 'csum err'; then
	ok "boot watch: the diagnosis pane agrees and the log pane shows the csum err"
else
	nok "watch: diagnosis pane"; dump
fi

# 7. Hands off (m): the flow waits for download mode, live, until the user presses g and P.
T send-keys -t 0 m; sleep 0.3; T send-keys -t 0 F7
wait_for 'An unfinished flow' 5 >/dev/null && T send-keys -t 0 a
if wait_for 'waiting for download mode' 20 && screen | grep -q '\[?\] connect'; then ok "hands off: the flow pane shows the live download-mode indicator"; else nok "download-mode indicator"; dump; fi
sleep 1.5
if screen | grep -q 'waiting for download mode'; then ok "hands off: it keeps waiting until the board is in download mode"; else nok "keeps waiting"; dump; fi
T send-keys -t 0 g; sleep 0.3; T send-keys -t 0 P
flow_end backup >/dev/null
if screen | grep -q 'flow done' && cmp -s "$(newest)" "$flash"; then ok "hands off: after g and P the backup flow finishes"; else nok "hands-off backup"; dump; fi

T send-keys -t 0 Escape; sleep 0.3
tui_quit
grep -q 'EXIT=0' "$work/exit" 2>/dev/null && ok "q quits with status 0" || nok "q quits" "$(cat "$work/exit" "$work/err" 2>/dev/null)"

# 8. The same unit's 1 MB backup (step 3's, the oldest: End) on a 4 MB board (the demo as an
# ESP8266EX with a W25Q32): the relayout question, then the relaid dump boots. The application
# region is the backup's (from byte 4: byte 3 carries the size code, now 4 MB: high nibble 4,
# protocol.md's image header).
tui_start 80 24 ESPDESK_DEMO_FLASH=4MB
wait_for 'MQT: Connected' 30 >/dev/null
flash=$(demo_dir)/flash.bin
[ "$(stat -c %s "$flash" 2>/dev/null)" = 4194304 ] || nok "the 4 MB demo" "$(ls -l "$flash" 2>&1)"
T send-keys -t 0 F9; wait_for 'in the store' 5 >/dev/null; T send-keys -t 0 End; T send-keys -t 0 Enter
if wait_for 'Relay the backup out' 30 && screen | grep -q '4096 KB' && screen | grep -q 'y goes ahead'; then
	ok "a 1 MB backup on a 4 MB chip: the relayout question"
else
	nok "relayout question"; dump
fi
T send-keys -t 0 y
flow_end restore 180 >/dev/null
if screen | grep -q 'flow done' && screen | grep -q '\[x\] watch' &&
    cmp -s <(head -c 524288 "$work/a.bin" | tail -c +5) <(head -c 524288 "$flash" | tail -c +5) &&
    [ "$(od -An -tu1 -j3 -N1 "$flash" | tr -d ' ')" -ge 64 ] && [ "$(od -An -tu1 -j3 -N1 "$flash" | tr -d ' ')" -lt 80 ]; then
	ok "relaid restore: the application region is the backup's, the header says 4 MB, the watch saw it boot"
else
	nok "relaid restore"; dump
fi
T send-keys -t 0 Escape; sleep 0.3
tui_quit
echo "1..$n"
exit $failed
