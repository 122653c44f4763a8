#!/bin/bash
# test_flow_reset.sh: the flows on the boards users have, without being told which: a Sonoff
# (no auto-reset wiring; the user holds the button and powers the board, often by unplugging
# the USB adapter) and a board whose adapter resets it through DTR/RTS. No --manual is given:
# espdesk resets, notices that nothing happened, tells the user what to do and follows it,
# also when the port disappears and comes back. Against espdesk-sim over a pty (no modem
# lines) and over RFC 2217 (lines that reach its auto-reset circuit, or not with
# --no-autoreset). Flash contents are compared with the simulator's flash file. Prints TAP.
set -u
NAME=flowreset
. "$(dirname "$0")/lib.sh"
check() { if eval "$2"; then ok "$1"; else notok "$1"; sed 's/^/# /' "$T/out" | tail -15; fi; }

# bg ARGS...: espdesk ARGS in the background, output in $T/out, pid in $PID.
bg() { timeout 120 "$ESPDESK" "$@" >"$T/out" 2>&1 & PID=$!; }
# until_said REGEX SECONDS: until the output says REGEX (or espdesk ended).
until_said() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -Eq -- "$1" "$T/out" 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# The user: holds the button, powers the board, lets go once the ROM latched it.
button_power_on() {
	local i
	ctl "gpio0 down" >/dev/null; ctl "power on" >/dev/null
	for i in $(seq 50); do ctl status | grep -q 'mode=download' && break; sleep 0.1; done
	ctl "gpio0 up" >/dev/null
}
rfc=$((30000 + $$ % 20000))

"$SIM" make-firmware "$T/stock.bin" --family stock --flash-size 1MB >/dev/null
"$SIM" make-firmware "$T/tas.bin" --demo --flash-size 1MB >/dev/null

# --- A Sonoff, switched off, on a pty: espdesk tells the user and waits ----------------------
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285 --off
bg backup -p "$T/dev" --yes
asked=no; until_said 'by hand' 15 && until_said 'waiting for download mode' 5 && asked=yes
check "no --manual, board off: says to enter download mode by hand" "[ $asked = yes ]"
sleep 2
button_power_on
wait "$PID"; rc=$?
check "no --manual: the backup goes on once the board is in download mode" "[ $rc = 0 ] && cmp -s \"\$(ls -t \"$ESPDESK_DATA_HOME\"/espdesk/backups/*/*.bin | head -1)\" '$T/stock.bin'"
check "the waiting message is said once, not every second" "[ \$(grep -c 'waiting for download mode' '$T/out') = 1 ]"

# --- The power cycle for the boot watch, done by unplugging the adapter ----------------------
dl
bg flash -p "$T/dev" --yes --watch 5 "$T/tas.bin"
cycled=no
if until_said 'power-cycle the board WITHOUT' 60; then
	ctl unplug >/dev/null; ctl "power off" >/dev/null; ctl "gpio0 up" >/dev/null
	sleep 1.5
	ctl plug >/dev/null; sleep 0.5; ctl "power on" >/dev/null
	cycled=yes
fi
wait "$PID"; rc=$?
check "flash: the watch asks for the power cycle" "[ $cycled = yes ]"
check "flash: the adapter unplugged mid-watch is waited for, not a failure" "grep -q 'is gone (the adapter unplugged)' '$T/out'"
check "flash: after the replug the boot is seen and healthy" "[ $rc = 0 ] && grep -q 'boot: healthy' '$T/out' && grep -q 'ets Jan  8 2013' '$T/out'"
check "flash: the flash holds the new firmware" "cmp -s '$T/flash.bin' '$T/tas.bin'"

# Replugged with the power: the ROM banner may pass before the port is open again; the
# application's text at 115200 is followed instead.
dl
bg flash -p "$T/dev" --yes --watch 5 "$T/tas.bin"
if until_said 'power-cycle the board WITHOUT' 60; then
	ctl unplug >/dev/null; ctl "power off" >/dev/null; ctl "gpio0 up" >/dev/null
	sleep 1
	ctl "power on" >/dev/null; ctl plug >/dev/null
fi
wait "$PID"; rc=$?
check "flash, banner missed while unplugged: still sees the application come up" "[ $rc = 0 ] && grep -q 'boot: healthy' '$T/out'"

# --- A Sonoff on an RFC 2217 adapter: the lines exist but reach nothing ----------------------
"$ESPDESK" flow abort >/dev/null 2>&1
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285 --rfc2217 $rfc --no-autoreset
bg flash -p "rfc2217://127.0.0.1:$rfc" --yes --watch 5 "$T/tas.bin"
told=no
if until_said 'nothing came after the RTS reset' 90; then
	told=yes
	ctl "gpio0 up" >/dev/null; ctl "power cycle" >/dev/null
fi
wait "$PID"; rc=$?
check "RTS reaches nothing: the watch says so and asks for the power cycle" "[ $told = yes ] && grep -q 'no auto-reset' '$T/out'"
check "RTS reaches nothing: after the power cycle the boot is healthy" "[ $rc = 0 ] && grep -q 'boot: healthy' '$T/out'"
check "RTS reaches nothing: the backup first, then the new firmware" "cmp -s \"\$(ls -t \"$ESPDESK_DATA_HOME\"/espdesk/backups/*/*.bin | head -1)\" '$T/stock.bin' && cmp -s '$T/flash.bin' '$T/tas.bin'"
"$ESPDESK" flow status >"$T/out" 2>&1
check "the journal remembers that this board has no auto-reset" "grep -q '^reset:  by hand' '$T/out'"

# --- A board with auto-reset wiring: nobody is asked to do anything --------------------------
"$ESPDESK" flow abort >/dev/null 2>&1
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285 --rfc2217 $((rfc + 1))
ctl "gpio0 up" >/dev/null   # nobody holds a button: DTR does it
timeout 120 "$ESPDESK" flash -p "rfc2217://127.0.0.1:$((rfc + 1))" --yes --watch 4 "$T/tas.bin" >"$T/out" 2>&1; rc=$?
check "auto-reset board: the flow runs through with nobody asked" "[ $rc = 0 ] && ! grep -q 'by hand\|power-cycle' '$T/out'"
check "auto-reset board: reset through RTS, boot healthy" "grep -q 'reset through RTS' '$T/out' && grep -q 'boot: healthy' '$T/out'"

# --- The board named by its profile ------------------------------------------------------
# What the user is told comes from the profile file itself.
prof=$(dirname "$0")/../../profiles/basic-r2.yaml
dm=$(sed -n 's/^download_mode: "\(.*\)"$/\1/p' "$prof")
"$ESPDESK" flow abort >/dev/null 2>&1
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
timeout 60 "$ESPDESK" backup -p "$T/dev" --yes --profile basic-rr2 >"$T/out" 2>&1; rc=$?
check "--profile with a typo: refused before anything, the near names offered" "[ $rc = 1 ] && grep -q \"did you mean 'basic-r2'\" '$T/out' && ! \"$ESPDESK\" flow status >/dev/null 2>&1"
timeout 60 "$ESPDESK" backup -p "$T/dev" --yes --profile nodemcu >"$T/out" 2>&1; rc=$?
check "--profile of another chip: the identify step refuses, naming the contradiction" "[ $rc = 1 ] && grep -q \"does not fit the profile 'nodemcu'\" '$T/out' && grep -q 'ESP8285' '$T/out'"
"$ESPDESK" flow abort >/dev/null 2>&1
timeout 60 "$ESPDESK" backup -p "$T/dev" --yes --profile basic-r2 </dev/null >"$T/out" 2>&1; rc=$?
check "--profile basic-r2: the profile's way into download mode is said before connecting" "[ -n \"\$dm\" ] && grep -B99 'connect: ok' '$T/out' | grep -qF \"download mode on this board: \$dm\""
check "--profile basic-r2: its programming header is shown" "grep -q 'programming header: 3V3, RX, TX, GND' '$T/out'"
check "--profile basic-r2: a Sonoff, so no DTR/RTS reset: the user is told at once" "grep -q 'no auto-reset: put it in download mode as above' '$T/out' && ! grep -q 'after a DTR/RTS reset' '$T/out'"
check "--profile basic-r2: the chip fits it, the backup is stored" "[ $rc = 0 ] && grep -q 'as named; the chip fits it' '$T/out' && cmp -s \"\$(ls -t \"$ESPDESK_DATA_HOME\"/espdesk/backups/*/*.bin | head -1)\" '$T/stock.bin'"

# --- The firmware file is looked at before anything runs -------------------------------------
gzip -c "$T/tas.bin" >"$T/tas.bin.gz"
timeout 60 "$ESPDESK" flash -p "$T/dev" --yes "$T/tas.bin.gz" >"$T/out" 2>&1; rc=$?
check "flash with a .bin.gz: refused at once, says gunzip, no flow started" "[ $rc = 1 ] && grep -q 'gunzip -k' '$T/out' && ! grep -q 'connect' '$T/out' && ! \"$ESPDESK\" flow status 2>&1 | grep -q 'Flash new firmware'"
timeout 60 "$ESPDESK" flash -p "$T/dev" --yes "$T/missing.bin" >"$T/out" 2>&1; rc=$?
check "flash with a missing file: refused at once, names it" "[ $rc = 1 ] && grep -q 'missing.bin' '$T/out' && ! grep -q 'connect' '$T/out'"

# --- A skipped step is journalled as skipped, not as proven ----------------------------------
timeout 120 "$ESPDESK" flash -p "$T/dev" --yes --no-watch "$T/tas.bin" >"$T/out" 2>&1; rc=$?
"$ESPDESK" flow status >"$T/out" 2>&1
check "--no-watch: flow status shows the watch as skipped, nothing proven" "[ $rc = 0 ] && grep -Eq '\\[skip\\] watch +skipped: nothing proven' '$T/out'"

echo "1..$n"
