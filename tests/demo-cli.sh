#!/bin/sh
# demo-cli.sh BUILDDIR: the command-line tools against the simulator (what `./autogen.sh demo`
# showed before the workstation, `espdesk --demo`, existed, and still shows without it). It
# starts espdesk-sim, a simulated board held in download mode, on a fresh flash file, runs the
# espdesk commands this build has against it, and stops the simulator on the way out.
# Without espdesk-sim it says so and shows what there is.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd) || exit 1
esp=$build/espdesk
sim=$build/espdesk-sim
tmp=$(mktemp -d "${TMPDIR:-/tmp}/espdesk-demo.XXXXXX")
simpid=""

cleanup() {
  if [ -n "$simpid" ]; then
    kill "$simpid" 2>/dev/null
    wait "$simpid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' HUP TERM

bold="" plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); fi

# Shows a command as a person would type it, then runs it.
run() {
  shown=$(printf '%s ' "$@" | sed "s|$esp|espdesk|; s|$tmp|\$DEMO|g")
  printf '\n%s$ %s%s\n' "$bold" "$shown" "$plain"
  "$@"
  rc=$?
  [ "$rc" -eq 0 ] || echo "(exit status $rc)"
  return 0
}

has() {
  "$esp" --help 2>/dev/null | grep -q "^  $1 "
}

if [ ! -x "$esp" ]; then
  echo "demo: $esp is missing; build first (./autogen.sh demo does)." >&2
  exit 1
fi

echo "espdesk demo: the command-line tools against a simulated Sonoff."
if "$esp" --help 2>/dev/null | grep -q -- '--demo'; then
  echo "(The full-screen workstation is espdesk --demo; this is the command-line side.)"
else
  echo "(The full-screen workstation, espdesk --demo, is not built yet; this is the CLI.)"
fi
run "$esp" --version
run "$esp" --help

if [ ! -x "$sim" ]; then
  echo
  echo "demo: espdesk-sim (the simulated ESP8266) is not in this build yet, so there is no"
  echo "device to talk to. What works without one:"
  run "$esp" list-ports
  echo
  echo "With a real board: connect a USB-serial adapter (3.3 V only), hold GPIO0 low while"
  echo "powering the board, then: espdesk chip-id -p /dev/ttyUSB0 --before manual"
  exit 0
fi

echo
echo "Starting espdesk-sim: a simulated NodeMCU-style board (GPIO0 held low, DTR/RTS wired to"
echo "EN and GPIO0 as on an auto-reset circuit), served over RFC 2217 on localhost; its flash is"
echo "the file \$DEMO/flash.bin."
# A free TCP port: try a few, since another program may hold one.
tries=0
port=""
while [ -z "$port" ] && [ $tries -lt 5 ]; do
  tcp=$((20000 + ($$ + tries * 7919) % 30000))
  "$sim" --download --flash "$tmp/flash.bin" --rfc2217 "$tcp" >"$tmp/sim.out" 2>"$tmp/sim.err" &
  simpid=$!
  i=0
  while [ ! -s "$tmp/sim.out" ] && [ $i -lt 50 ] && kill -0 "$simpid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  if [ -s "$tmp/sim.out" ] && kill -0 "$simpid" 2>/dev/null; then
    port=$(head -n 1 "$tmp/sim.out")
  else
    kill "$simpid" 2>/dev/null
    wait "$simpid" 2>/dev/null
    simpid=""
    tries=$((tries + 1))
  fi
done
if [ -z "$port" ]; then
  echo "demo: espdesk-sim did not start:" >&2
  cat "$tmp/sim.err" >&2
  exit 1
fi
echo "The simulated board is at $port."
# Each command resets the board into the ROM loader through DTR/RTS (--before default-reset)
# and leaves it there afterwards, since GPIO0 is held low and would only bring it back.
fl="--after no-reset"

run "$esp" list-ports
for c in chip-id read-mac flash-id; do
  # shellcheck disable=SC2086
  has "$c" && run "$esp" "$c" -p "$port" $fl
done
if has write-flash && has read-flash; then
  # 16 KB that are easy to recognise, written, verified and read back.
  i=0
  while [ $i -lt 1024 ]; do printf 'espdesk demo 16B'; i=$((i + 1)); done >"$tmp/demo.bin"
  # shellcheck disable=SC2086
  run "$esp" write-flash -p "$port" $fl 0x10000 "$tmp/demo.bin"
  # shellcheck disable=SC2086
  has verify-flash && run "$esp" verify-flash -p "$port" $fl 0x10000 "$tmp/demo.bin"
  # shellcheck disable=SC2086
  run "$esp" read-flash -p "$port" $fl 0x10000 16KB "$tmp/back.bin"
  if cmp -s "$tmp/demo.bin" "$tmp/back.bin"; then
    echo "The 16 KB read back are the 16 KB written."
  else
    echo "The read-back differs from what was written (or the read failed)."
  fi
  # And the simulator's flash file holds them at 0x10000 (65536).
  run cmp -n 16384 "$tmp/demo.bin" "$tmp/flash.bin" 0 65536
  cmp -s -n 16384 "$tmp/demo.bin" "$tmp/flash.bin" 0 65536 &&
    echo "(cmp says nothing: the simulator's flash file holds the same bytes at 0x10000.)"
fi
if has decode; then
  # A real boot loop from tests/data, explained.
  for log in "$top"/tests/data/bootlogs/*.log; do
    case $log in
    *wdt* | *exception*) run "$esp" decode "$log"; break ;;
    esac
  done
fi
echo
echo "Done; the simulator stops now. Try it yourself:"
echo "  $sim --download --flash /tmp/flash.bin --rfc2217 4000 &"
echo "  $esp chip-id -p rfc2217://localhost:4000"
echo "or on a pseudo-terminal, which has no DTR/RTS (so one command per start):"
echo "  $sim --download --flash /tmp/flash.bin --link /tmp/esp &"
echo "  $esp chip-id -p /tmp/esp --before no-reset"
