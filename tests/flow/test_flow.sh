#!/bin/bash
# test_flow.sh: the guided flows end to end from the CLI against espdesk-sim over a pty, with
# --yes and the named flags: happy paths, every refusal, a process killed at each step, a pulled
# cable and a power loss mid-write, then `flow resume`, and the simulator's flash file compared
# byte for byte with what should be there. No case may end with the only backup lost.
# Prints TAP.
set -u
NAME=flows
. "$(dirname "$0")/lib.sh"
check() { if eval "$2"; then ok "$1"; else notok "$1"; sed 's/^/# /' "$T/out" | tail -15; fi; }
"$ESPDESK" --help 2>&1 | grep -q ' restore' || skip_all "the flow commands are not in the table"

# Runs espdesk; output in $T/out; returns its exit code.
ed() { timeout 120 "$ESPDESK" "$@" >"$T/out" 2>&1; }
# Runs a flow whose last step watches the boot: when it asks for the power cycle, boot the
# firmware (GPIO0 released).
ed_watch() {
	timeout 120 "$ESPDESK" "$@" >"$T/out" 2>&1 &
	local pid=$! st
	for _ in $(seq 600); do
		grep -q "power-cycle the board WITHOUT" "$T/out" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	ctl "gpio0 up" >/dev/null; ctl "power cycle" >/dev/null
	wait $pid; st=$?
	return $st
}
listed() { "$ESPDESK" backups 2>/dev/null | grep -c ' verified$'; }
# The store's copy of the newest backup.
newest_image() { ls -t "$ESPDESK_DATA_HOME"/espdesk/backups/*/*.bin | head -1; }

"$SIM" make-firmware "$T/stock.bin" --family stock --flash-size 1MB >/dev/null
"$SIM" make-firmware "$T/tas.bin" --demo --flash-size 1MB >/dev/null
"$SIM" make-firmware "$T/dio.bin" --demo --flash-size 1MB --flash-mode dio >/dev/null
head -c 1048576 /dev/zero | tr '\0' '\377' >"$T/ff1m"
# The demo image with 448 KB of random data at 0x80000: a write long enough to be cut.
{ head -c 524288 "$T/tas.bin"; head -c 458752 /dev/urandom; tail -c 65536 "$T/tas.bin"; } >"$T/big.bin"

# --- back up -------------------------------------------------------------------------------
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed backup -p "$T/dev" --yes; rc=$?
check "backup: exit 0" "[ $rc = 0 ]"
check "backup: one verified backup listed" "[ \$(listed) = 1 ]"
check "backup: the stored image is the flash byte for byte" "cmp -s \"\$(newest_image)\" \"$T/stock.bin\""
check "backup: the stored image is read-only" "[ ! -w \"\$(newest_image)\" ] || [ \$(stat -c %a \"\$(newest_image)\") = 444 ]"
check "backup: says what the dump holds" "grep -q 'firmware family: ' '$T/out' && grep -q 'profile: ' '$T/out'"
ed flow status; rc=$?
check "flow status after a finished backup" "[ $rc = 0 ] && grep -q 'finished' '$T/out'"
ed flow resume; rc=$?
check "flow resume: nothing to resume after a finished flow" "[ $rc = 1 ] && grep -q 'nothing to resume' '$T/out'"

# --- erase refusals ----------------------------------------------------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed erase -p "$T/dev" --yes; rc=$?
check "erase without a backup: refused" "[ $rc = 1 ] && grep -q 'no verified backup of this device' '$T/out' && grep -q -- '--no-backup' '$T/out'"
check "erase without a backup: the flash is untouched" "cmp -s '$T/flash.bin' '$T/stock.bin'"
ed flow abort
dl
ed backup -p "$T/dev" --yes
dl
ed erase -p "$T/dev" --yes; rc=$?
check "erase over a verified backup: exit 0" "[ $rc = 0 ]"
check "erase: the chip is blank" "cmp -s '$T/flash.bin' '$T/ff1m'"
check "erase: the backup survives and verifies" "\"$ESPDESK\" backups verify >/dev/null && [ \$(listed) = 1 ]"

# --- erase --no-backup -------------------------------------------------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed erase -p "$T/dev" --no-backup; rc=$?
check "erase --no-backup: names the risk and erases" "[ $rc = 0 ] && grep -q 'will be gone' '$T/out' && cmp -s '$T/flash.bin' '$T/ff1m'"

# --- flash: takes the backup first, writes, verifies, watches ---------------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed_watch flash -p "$T/dev" --yes --watch 4 "$T/tas.bin"; rc=$?
check "flash: exit 0" "[ $rc = 0 ]"
check "flash: took a backup of the stock firmware first" "grep -q 'taking one first' '$T/out' && cmp -s \"\$(newest_image)\" '$T/stock.bin'"
check "flash: the flash holds the new image" "cmp -s '$T/flash.bin' '$T/tas.bin'"
check "flash: the boot watch saw the application" "grep -q 'boot: healthy' '$T/out'"
dl
ed flash -p "$T/dev" --yes --no-watch "$T/nonexistent.bin"; rc=$?
check "flash: a missing file is refused with its name" "[ $rc = 1 ] && grep -q 'nonexistent.bin' '$T/out'"
ed flow abort
dl
ed flash -p "$T/dev" --yes --no-watch "$T/ff1m"; rc=$?
check "flash: a non-image is refused before anything runs" "[ $rc = 1 ] && grep -q 'does not start with an ESP8266 boot image' '$T/out' && ! grep -q 'connect' '$T/out'"
ed flow abort

# --- killed at each step of a flash, then resumed --------------------------------------------------
for step in connect identify need-backup read verify-read store check-image write verify-write watch; do
	rm -rf "$ESPDESK_DATA_HOME"
	cp "$T/stock.bin" "$T/flash.bin"
	sim_start "$T/flash.bin" 1MB --chip esp8285
	ESPDESK_FLOW_TEST_EXIT=$step ed flash -p "$T/dev" --yes --no-watch "$T/tas.bin"; rc=$?
	dl
	ed flow status; st=$?
	ed flow resume --no-watch; rc2=$?
	check "flash killed at '$step': status shows it, resume finishes it" "[ $rc = 99 ] && [ $st = 0 ] && [ $rc2 = 0 ]"
	check "flash killed at '$step': the flash holds the image, the backup is the stock firmware" "cmp -s '$T/flash.bin' '$T/tas.bin' && [ \$(listed) = 1 ] && cmp -s \"\$(newest_image)\" '$T/stock.bin'"
done

# --- a cable pulled during the write, a power loss during the write ------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed backup -p "$T/dev" --yes
sim_start "$T/flash.bin" 1MB --chip esp8285 --faults cut-after=300000
ed flash -p "$T/dev" --yes --no-watch "$T/big.bin"; rc=$?
check "cable pulled mid-write: the flow stops and says how to resume" "[ $rc = 1 ] && grep -q 'flow resume' '$T/out'"
ctl plug >/dev/null; ctl "gpio0 down" >/dev/null; ctl "power on" >/dev/null
sleep 0.3
ed flow resume --no-watch; rc=$?
check "cable pulled mid-write: resume finishes" "[ $rc = 0 ] && grep -q 'already there (skipped)' '$T/out'"
check "cable pulled mid-write: the flash holds the image" "cmp -s '$T/flash.bin' '$T/big.bin'"

rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed backup -p "$T/dev" --yes
sim_start "$T/flash.bin" 1MB --chip esp8285 --faults power-loss=write
ed flash -p "$T/dev" --yes --no-watch "$T/tas.bin"; rc=$?
check "power lost mid-write: the flow stops" "[ $rc = 1 ]"
ctl "gpio0 down" >/dev/null; ctl "power on" >/dev/null
ed flow resume --no-watch; rc=$?
check "power lost mid-write: resume finishes, the flash holds the image" "[ $rc = 0 ] && cmp -s '$T/flash.bin' '$T/tas.bin'"
check "power lost mid-write: the backup is intact" "\"$ESPDESK\" backups verify >/dev/null && cmp -s \"\$(newest_image)\" '$T/stock.bin'"

# --- restore: this device's backup, another unit's, a 1 MB dump to a 4 MB chip ---------------------
dl
ed_watch restore -p "$T/dev" --yes --watch 4; rc=$?
check "restore this device's newest backup: exit 0, the flash is the backup again" "[ $rc = 0 ] && cmp -s '$T/flash.bin' '$T/stock.bin'"
ID=$("$ESPDESK" backups | awk 'NR==2 {print $1}')
cp "$T/ff1m" "$T/flash2.bin"
sim_start "$T/flash2.bin" 1MB --chip esp8285 --mac 18:fe:34:00:00:42
ed restore -p "$T/dev" --yes --no-watch "$ID"; rc=$?
check "restore another unit's backup: refused without --other-unit" "[ $rc = 1 ] && grep -q 'eWeLink' '$T/out' && grep -q -- '--other-unit' '$T/out'"
check "restore another unit's backup: nothing was written" "cmp -s '$T/flash2.bin' '$T/ff1m'"
ed flow abort
dl
ed restore -p "$T/dev" --other-unit --no-watch "$ID"; rc=$?
check "restore another unit's backup with --other-unit: the flash is that dump" "[ $rc = 0 ] && cmp -s '$T/flash2.bin' '$T/stock.bin'"

head -c 4194304 /dev/zero | tr '\0' '\377' >"$T/flash4.bin"
sim_start "$T/flash4.bin" 4MB --chip esp8266 --flash-id 0xEF4016
ed restore -p "$T/dev" --other-unit --no-watch "$ID"; rc=$?
check "restore a 1 MB dump to a 4 MB chip: refused without --relayout" "[ $rc = 1 ] && grep -q -- '--relayout' '$T/out'"
ed flow abort
dl
ed_watch restore -p "$T/dev" --other-unit --relayout --watch 4 "$ID"; rc=$?
check "restore a 1 MB dump to a 4 MB chip relaid: done, the first 1 MB - 16 KB equal the dump" "[ $rc = 0 ] && cmp -s -i 4 -n 1032188 '$T/flash4.bin' '$T/stock.bin'"
check "restore relaid: the boot watch saw the application" "grep -q 'boot: healthy' '$T/out'"
check "restore relaid: the stored backup is unchanged" "\"$ESPDESK\" backups verify >/dev/null"

# --- killed at each step of a restore, a power loss during its erase; then resumed ------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/stock.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed backup -p "$T/dev" --yes
for step in choose erase write verify-write watch; do
	cp "$T/tas.bin" "$T/flash.bin"
	sim_start "$T/flash.bin" 1MB --chip esp8285
	ESPDESK_FLOW_TEST_EXIT=$step ed restore -p "$T/dev" --yes --no-watch; rc=$?
	dl
	ed flow resume --no-watch; rc2=$?
	check "restore killed at '$step': resume finishes, the flash is the backup, the backup verifies" "[ $rc = 99 ] && [ $rc2 = 0 ] && cmp -s '$T/flash.bin' '$T/stock.bin' && \"$ESPDESK\" backups verify >/dev/null"
done
cp "$T/tas.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285 --faults power-loss=erase
ed restore -p "$T/dev" --yes --no-watch; rc=$?
ctl "gpio0 down" >/dev/null; ctl "power on" >/dev/null
ed flow resume --no-watch; rc2=$?
check "restore with the power lost mid-erase: resume finishes, the flash is the backup" "[ $rc = 1 ] && [ $rc2 = 0 ] && cmp -s '$T/flash.bin' '$T/stock.bin'"

# --- Ctrl-C during the read of a backup (a real-speed simulator, so the read is still running
# when the signal arrives), then resume without touching the board ---------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/big.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285 --speed real
timeout 120 "$ESPDESK" backup -p "$T/dev" --yes >"$T/out" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q 'read 0%' "$T/out" && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
check "Ctrl-C during a backup: the flow stops and records why" "[ $rc = 1 ] && grep -q 'cancelled' '$T/out' && [ \$(listed) = 0 ]"
ed flow resume; rc=$?
check "Ctrl-C during a backup: resume (the chip was left in its loader) stores the whole flash" "[ $rc = 0 ] && [ \$(listed) = 1 ] && cmp -s \"\$(newest_image)\" '$T/big.bin'"

# --- a DIO image on an ESP8285: the boot watch names the flash mode ---------------------------------
rm -rf "$ESPDESK_DATA_HOME"
cp "$T/dio.bin" "$T/flash.bin"
sim_start "$T/flash.bin" 1MB --chip esp8285
ed backup -p "$T/dev" --yes
# The demo firmware carries Tasmota's name (doc/sim-firmware.md): image-info's family is recorded.
check "backup of a Tasmota-like dump: the family is shown and recorded" "grep -q 'firmware family: Tasmota' '$T/out' && \"$ESPDESK\" backups | grep -q ' Tasmota '"
dl
ed_watch restore -p "$T/dev" --yes --watch 4; rc=$?
check "DIO on an ESP8285: the watch shows flash-mode-mismatch" "[ $rc = 1 ] && grep -q 'boot: flash-mode-mismatch' '$T/out'"
ed flow abort

echo "1..$n"
