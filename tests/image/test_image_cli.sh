#!/bin/bash
# image-info, image-patch and image-relayout as a person uses them, and the proof issue 8 asks
# for: a 1 MB stock dump whose header was set to 4 MB (esptool v2's `-fs detect`) fails on a
# 4 MB chip with the missing-init-data halt (protocol.md §13.3, bootlog 22), while the same dump
# relaid by image-relayout boots to its application in espdesk-sim.
set -u
B=${ESPDESK_BUILDDIR:-.}
ESPDESK=$B/espdesk SIM=$B/espdesk-sim SIMCTL=$B/tests/tools/simctl
n=0 failed=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}
T=$(mktemp -d /tmp/imgcli-XXXXXX)
SIMPID=
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

"$SIM" make-firmware "$T/stock.bin" --family stock >/dev/null 2>&1
check "make-firmware built a 1 MB stock dump" '[ "$(stat -c %s "$T/stock.bin")" -eq 1048576 ]'

out=$("$ESPDESK" image-info "$T/stock.bin" 2>&1); rc=$?
check "image-info exits 0" '[ $rc -eq 0 ]'
check "image-info names boot_v1.7 at 0x0" 'echo "$out" | grep -q "^boot at 0x0: Espressif boot_v1.x 1.7$"'
check "image-info finds user1 as an OTA image" 'echo "$out" | grep -q "OTA (0xEA, v2) image at 0x1000"'
check "image-info says it will boot" 'echo "$out" | grep -q "^will it boot: yes"'
out=$("$ESPDESK" image-info --json "$T/stock.bin")
check "image-info --json is one object" '[ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "^{.*\"will_boot\":true}$"'
out=$("$ESPDESK" image-info --offset 0x1000 "$T/stock.bin")
check "image-info --offset explains one image" 'echo "$out" | grep -q "^OTA (0xEA, v2) image at 0x1000" && echo "$out" | grep -q "CRC .* ok"'

# The classic mistake: the header says 4 MB, the data is laid out for 1 MB.
"$ESPDESK" image-patch --flash-size 4MB "$T/stock.bin" "$T/hdr4.bin" >/dev/null
check "image-patch leaves the original alone" 'cmp -s "$T/stock.bin" <("$SIM" make-firmware - --family stock 2>/dev/null)'
out=$("$ESPDESK" image-info --chip-size 1MB "$T/hdr4.bin")
check "a 4 MB header on a 1 MB dump is named" 'echo "$out" | grep -q "header says 4MB, this dump is 1024 KB: it will look for its parameters at 0x3FC000"'
check "... and judged against a 1 MB chip it will not boot" 'echo "$out" | grep -q "^will it boot: no$"'
"$ESPDESK" image-patch --flash-mode dio "$T/stock.bin" "$T/stock.bin" >"$T/out" 2>"$T/err"; rc=$?
check "patching a file onto itself is refused before any work" '[ $rc -eq 1 ] && grep -q "is the input file: the original is never changed" "$T/err" && [ ! -s "$T/out" ]'
"$ESPDESK" image-patch --flash-mode dio "$T/stock.bin" "$T/hdr4.bin" >/dev/null 2>"$T/err"; rc=$?
check "an existing OUT is not replaced without --force" '[ $rc -eq 1 ] && grep -q "already exists" "$T/err"'
head -c 4096 /dev/zero >"$T/zero.bin"
"$ESPDESK" image-patch --flash-mode dout "$T/zero.bin" "$T/z2.bin" >/dev/null 2>"$T/err"; rc=$?
check "a non-image is refused with the reason" '[ $rc -eq 1 ] && grep -q "not an ESP8266 image, so no header was changed: at 0x0: byte 0x00" "$T/err" && [ ! -e "$T/z2.bin" ]'
"$ESPDESK" image-info "$T/nonexistent.bin" >/dev/null 2>"$T/err"; rc=$?
check "a missing file gets one message" '[ $rc -eq 1 ] && grep -q "cannot open .*nonexistent.bin" "$T/err"'

"$ESPDESK" image-relayout --to 4MB "$T/stock.bin" "$T/relaid.bin" >"$T/out"; rc=$?
check "image-relayout --to 4MB exits 0" '[ $rc -eq 0 ] && [ "$(stat -c %s "$T/relaid.bin")" -eq 4194304 ]'
check "image-relayout says where the system area went" 'grep -q "moved from 0xFB000 to 0x3FB000" "$T/out"'
"$ESPDESK" image-relayout --to 1MB "$T/relaid.bin" "$T/back.bin" >/dev/null
check "relayout back to 1 MB gives the original bytes" 'cmp -s "$T/back.bin" "$T/stock.bin"'

# Boot both on a 4 MB chip, watching from power-on.
boot_log() { # FLASHFILE OUTFILE
	rm -f "$T/ctl" "$T/pty"
	"$SIM" --flash "$1" --flash-size 4MB --off --control "$T/ctl" --link "$T/pty" >/dev/null 2>"$T/sim.err" &
	SIMPID=$!
	for _ in $(seq 50); do [ -S "$T/ctl" ] && [ -e "$T/pty" ] && break; sleep 0.1; done
	"$ESPDESK" monitor -p "$T/pty" --duration 4 >"$2" 2>&1 &
	local mon=$!
	sleep 0.5
	"$SIMCTL" "$T/ctl" power on >/dev/null
	wait $mon
	kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; SIMPID=
}
cp "$T/hdr4.bin" "$T/flash-bad.bin" && truncate -s 4M "$T/flash-bad.bin"
# truncate pads with zeros; the rest of a real chip would be erased (0xFF).
head -c $((4194304 - 1048576)) /dev/zero | tr '\0' '\377' | dd of="$T/flash-bad.bin" bs=1M seek=1 conv=notrunc status=none
boot_log "$T/flash-bad.bin" "$T/bad.txt"
check "the 4 MB-header dump halts on missing init data" 'grep -q "rf_cal\[0\] !=0x05,is 0xFF" "$T/bad.txt"'
cp "$T/relaid.bin" "$T/flash-good.bin"
boot_log "$T/flash-good.bin" "$T/good.txt"
check "the relaid dump boots boot_v1.7 with the 4 MB map" 'grep -q "SPI Flash Size & Map: 32Mbit(512KB+512KB)" "$T/good.txt"'
check "the relaid dump jumps to user1 and does not halt" 'grep -q "jump to run user1 @ 1000" "$T/good.txt" && ! grep -q "rf_cal\[0\]" "$T/good.txt"'
check "the relaid dump is diagnosed healthy" 'grep -q "^diagnosis: healthy" "$T/good.txt"'
if [ $failed -ne 0 ]; then
	for f in bad good; do echo "# --- $f boot:"; sed 's/^/# /' "$T/$f.txt" | head -60; done
fi
echo "1..$n"
exit $failed
