#!/bin/bash
# test_cli.sh: the flasher's subcommands end to end: espdesk against espdesk-sim over a pty.
# Checks exit codes, the files written (byte for byte against the simulator's flash file), the
# atomic read-flash (.part until verified, --resume after a pulled cable), --json output and the
# one-message failures. Prints TAP.
set -u
B=${ESPDESK_BUILDDIR:-.}
ESPDESK=$B/espdesk
SIM=${ESPDESK_SIM:-$B/espdesk-sim}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
skip_all() { echo "ok 1 - cli # SKIP $1"; echo "1..1"; exit 0; }

[ -x "$SIM" ] || skip_all "espdesk-sim is not built"
[ -x "$ESPDESK" ] || skip_all "espdesk is not built"
"$ESPDESK" --help 2>&1 | grep -q read-flash || skip_all "the flasher commands are not in the table yet"

T=$(mktemp -d /tmp/flcli-XXXXXX)
SIMPID=
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# sim_start SIZE [options...]: starts the simulator on $T/flash.bin; sets PORT.
# --boot instead of the first option: power on with GPIO0 high (boots from flash).
sim_start() {
	local size=$1 dl=--download; shift
	if [ "${1:-}" = --boot ]; then dl=; shift; fi
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -f "$T/port"
	"$SIM" --flash "$T/flash.bin" --flash-size "$size" --speed fast $dl \
		--control "$T/ctl" "$@" >"$T/port" 2>"$T/sim.err" &
	SIMPID=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	PORT=$(head -n1 "$T/port")
}

# A 1 MB random flash image.
# Random data behind the 0xE9 a boot image starts with (write-flash wants one at 0x0).
{ printf '\351'; head -c 1048575 /dev/urandom; } >"$T/orig.bin"
cp "$T/orig.bin" "$T/flash.bin"
sim_start 1MB
E() { local c=$1; shift; "$ESPDESK" "$c" -p "$PORT" --before no-reset --after no-reset "$@"; }

out=$(E chip-id 2>"$T/err"); rc=$?
check "chip-id exits 0" '[ $rc -eq 0 ]'
check "chip-id prints 'Chip ID: 0x'" 'echo "$out" | grep -q "^Chip ID: 0x[0-9a-f]\{8\}$"'
out=$(E read-mac 2>/dev/null)
check "read-mac prints a MAC" 'echo "$out" | grep -q "^MAC: \([0-9a-f][0-9a-f]:\)\{5\}[0-9a-f][0-9a-f]$"'
out=$(E flash-id 2>/dev/null)
check "flash-id prints the size" 'echo "$out" | grep -q "^Detected flash size: 1MB$"'

# Backup.
E read-flash 0 all "$T/backup.bin" >"$T/out" 2>"$T/err"; rc=$?
check "read-flash all exits 0" '[ $rc -eq 0 ]'
check "backup equals the flash" 'cmp -s "$T/backup.bin" "$T/orig.bin"'
check "no .part left after success" '[ ! -e "$T/backup.bin.part" ] && [ ! -e "$T/backup.bin.part.meta" ]'
check "progress goes to stderr as plain lines when piped" 'grep -q "^read: 100%" "$T/err"'

# --store lands the whole-chip backup in the store, verified against the chip's MD5 (issue 8).
ESPDESK_DATA_HOME="$T/store" E read-flash --store 0 all "$T/stored.bin" >"$T/out" 2>"$T/err"; rc=$?
check "read-flash --store exits 0" '[ $rc -eq 0 ]'
check "read-flash --store says where it stored it" 'grep -q "^Stored as backup [0-9a-f]\{8\}-[0-9a-f]\{12\}/" "$T/out"'
out=$(ESPDESK_DATA_HOME="$T/store" "$ESPDESK" backups 2>&1)
check "the stored backup is listed as verified" 'echo "$out" | grep -q "1MB .*verified"'
stored=$(ls "$T"/store/espdesk/backups/*/*.bin 2>/dev/null | head -n 1)
check "the stored image equals the flash" '[ -n "$stored" ] && cmp -s "$stored" "$T/orig.bin"'
ESPDESK_DATA_HOME="$T/store" E read-flash --store 0 0x1000 "$T/partial.bin" >"$T/out" 2>"$T/err"; rc=$?
check "--store refuses a partial read before reading" '[ $rc -eq 1 ] && grep -q "whole-chip backups only" "$T/err" && [ ! -e "$T/partial.bin" ]'

# JSON.
E read-flash --json 0x10000 0x20000 "$T/part.bin" >"$T/json" 2>"$T/err"; rc=$?
check "--json read exits 0" '[ $rc -eq 0 ]'
check "--json prints only JSON objects" '! grep -qv "^{.*}$" "$T/json"'
check "--json has a result event" 'grep -q "\"event\":\"result\"" "$T/json"'
check "partial read equals the flash" 'cmp -s "$T/part.bin" <(tail -c +65537 "$T/orig.bin" | head -c 131072)'

# Erase, then restore.
E erase-flash >/dev/null 2>&1; rc=$?
check "erase-flash exits 0" '[ $rc -eq 0 ]'
check "the flash is all 0xFF" 'cmp -s "$T/flash.bin" <(head -c 1048576 /dev/zero | tr "\0" "\377")'
E write-flash 0 "$T/backup.bin" >"$T/out" 2>"$T/err"; rc=$?
check "write-flash exits 0" '[ $rc -eq 0 ]'
check "write-flash says verified" 'grep -q "verified by MD5" "$T/out"'
check "restored flash equals the backup" 'cmp -s "$T/flash.bin" "$T/orig.bin"'
E verify-flash 0 "$T/backup.bin" >"$T/out" 2>&1; rc=$?
check "verify-flash OK" '[ $rc -eq 0 ] && grep -q "verify OK" "$T/out"'
printf 'x' | dd of="$T/backup.bin" bs=1 seek=70000 conv=notrunc 2>/dev/null
E verify-flash 0 "$T/backup.bin" >"$T/out" 2>&1; rc=$?
check "verify-flash finds the changed sector" '[ $rc -eq 1 ] && grep -q "0x11000" "$T/out"'

# Refusals: one message each.
: >"$T/empty.bin"
E write-flash 0 "$T/empty.bin" >/dev/null 2>"$T/err"; rc=$?
check "empty file refused" '[ $rc -eq 1 ] && grep -q "empty" "$T/err" && [ $(wc -l <"$T/err") -eq 1 ]'
head -c 8192 /dev/urandom >"$T/small.bin"
E write-flash 0xFF000 "$T/small.bin" >/dev/null 2>"$T/err"; rc=$?
check "image past the end refused" '[ $rc -eq 1 ] && grep -q "past the end" "$T/err"'
cp "$T/flash.bin" "$T/before.bin"
gzip -c "$T/orig.bin" >"$T/fw.bin.gz"
E write-flash 0 "$T/fw.bin.gz" >/dev/null 2>"$T/err"; rc=$?
check "a .bin.gz at 0x0 refused: says gunzip, the flash untouched" '[ $rc -eq 1 ] && grep -q "gzip-compressed" "$T/err" && grep -q "gunzip -k" "$T/err" && cmp -s "$T/flash.bin" "$T/before.bin"'
head -c 8192 /dev/urandom | tr '\351' '\0' >"$T/noimg.bin"
E write-flash 0 "$T/noimg.bin" >/dev/null 2>"$T/err"; rc=$?
check "a non-image at 0x0 refused in one line naming --force, the flash untouched" '[ $rc -eq 1 ] && grep -q "would not boot" "$T/err" && grep -q -- "--force" "$T/err" && [ $(wc -l <"$T/err") -eq 1 ] && cmp -s "$T/flash.bin" "$T/before.bin"'
E write-flash --force 0 "$T/noimg.bin" >/dev/null 2>"$T/err"; rc=$?
check "--force writes it all the same" '[ $rc -eq 0 ] && cmp -s "$T/noimg.bin" <(head -c 8192 "$T/flash.bin")'
E write-flash 0 "$T/before.bin" >/dev/null 2>&1
E read-flash 0 1MB "$T/x.bin" --no-stub >/dev/null 2>"$T/err"; rc=$?
check "read-flash --no-stub refused" '[ $rc -eq 1 ] && grep -q "needs the stub" "$T/err"'
E erase-region 0x1001 0x1000 >/dev/null 2>"$T/err"; rc=$?
check "unaligned erase-region is a usage error" '[ $rc -eq 2 ]'

# ROM only write: says plainly that nothing was verified.
E write-flash --no-stub 0x20000 "$T/small.bin" >"$T/out" 2>"$T/err"; rc=$?
check "--no-stub write exits 0" '[ $rc -eq 0 ]'
check "--no-stub write says NOT verified" 'grep -q "NOT verified" "$T/out"'
check "--no-stub write landed" 'cmp -s "$T/small.bin" <(tail -c +$((0x20000 + 1)) "$T/flash.bin" | head -c 8192)'

# run: leave the loader for the firmware (FLASH_BEGIN(0,0) + FLASH_END(1) through the ROM).
"$ESPDESK" run -p "$PORT" --before no-reset --no-stub >"$T/out" 2>"$T/err"; rc=$?
check "run exits 0" '[ $rc -eq 0 ] && grep -q "firmware is running" "$T/out"'
E chip-id --connect-timeout 2 >/dev/null 2>&1; rc=$?
check "after run the loader no longer answers" '[ $rc -eq 1 ]'

# Pulled cable during a backup, then --resume.
cp "$T/orig.bin" "$T/flash.bin"
sim_start 1MB --faults cut-after=400000
E() { local c=$1; shift; "$ESPDESK" "$c" -p "$PORT" --before no-reset --after no-reset "$@"; }
E read-flash 0 all "$T/b2.bin" >/dev/null 2>"$T/err"; rc=$?
check "pulled cable: read-flash fails" '[ $rc -eq 1 ]'
check "pulled cable: no backup file" '[ ! -e "$T/b2.bin" ]'
check "pulled cable: .part kept" '[ -s "$T/b2.bin.part" ]'
check "pulled cable: message says --resume" 'grep -q -- "--resume" "$T/err"'
sim_start 1MB
E() { local c=$1; shift; "$ESPDESK" "$c" -p "$PORT" --before no-reset --after no-reset "$@"; }
E read-flash 0 all "$T/b2.bin" --resume >/dev/null 2>"$T/err"; rc=$?
check "resume exits 0" '[ $rc -eq 0 ]'
check "resume says where it continued" 'grep -q "resuming: 0x" "$T/err"'
check "resumed backup equals the flash" 'cmp -s "$T/b2.bin" "$T/orig.bin"'

# Pulled cable during a write: which files are done, and how to go on.
{ printf '\351'; head -c 65535 /dev/urandom; } >"$T/w1.bin"
head -c 524288 /dev/urandom >"$T/w2.bin"
sim_start 1MB --faults cut-after=150000
E write-flash 0 "$T/w1.bin" 0x40000 "$T/w2.bin" >/dev/null 2>"$T/err"; rc=$?
check "pulled cable: write-flash fails" '[ $rc -eq 1 ]'
check "pulled cable: names the finished file" 'grep -q "Done and verified: .*w1.bin at 0x0" "$T/err"'
check "pulled cable: names the unfinished file" 'grep -q "Not finished: .*w2.bin at 0x40000" "$T/err"'
check "pulled cable: says how to resume" 'grep -q "run the same command again" "$T/err"'
sim_start 1MB
E write-flash 0 "$T/w1.bin" 0x40000 "$T/w2.bin" >"$T/out" 2>"$T/err"; rc=$?
check "re-run after the pull finishes" '[ $rc -eq 0 ]'
check "re-run skips what was already written" 'grep -q "w1.bin at 0x00000000: 65536 bytes (0 written, 65536 already on the chip)" "$T/out"'
check "re-run: flash holds both files" 'cmp -s "$T/w1.bin" <(head -c 65536 "$T/flash.bin") && cmp -s "$T/w2.bin" <(tail -c +$((0x40000 + 1)) "$T/flash.bin" | head -c 524288)'

# Not in download mode: the famous message with the fix.
sim_start 1MB --boot
"$ESPDESK" chip-id -p "$PORT" --connect-timeout 2 >/dev/null 2>"$T/err"; rc=$?
check "no download mode: fails" '[ $rc -eq 1 ]'
check "no download mode: explains" 'grep -q "timed out waiting for packet header" "$T/err" && grep -q "before manual" "$T/err"'

echo "1..$n"
