#!/bin/bash
# The real workstation in tmux: `espdesk --demo` on espdesk-sim, driven by keys (send-keys) and
# read back from the screen (capture-pane). Prints TAP. Expected values come from the reference
# (the ROM banner of a power-on flash boot: rst cause 1, boot mode (3,x); protocol.md) and from
# the simulator's own flash file, never from espdesk's output.
NAME=tui-demo
. "$(dirname "$0")/lib.sh"
tui_start 80 24

# 1. The demo starts and the log pane shows the decoded power-on boot.
if wait_for 'rst cause:1, boot mode:\(3,[0-9]\)' 20; then
	ok "demo: the log pane shows the ROM banner of a power-on flash boot"
else
	nok "demo: the log pane shows the ROM banner of a power-on flash boot" "$(cat "$work/err" 2>/dev/null)"; dump
fi
# Panes cut the path; the status line shows it whole: take the longest.
demo=$(demo_dir)
flash=$demo/flash.bin
[ -f "$flash" ] && ok "demo: the simulator's flash file exists ($flash)" || nok "demo: flash file" "no $flash"
# The application's log at 115200 after the switch (the demo firmware's script, doc/sim-firmware.md).
if wait_for 'MQT: Connected' 20 && screen | grep -q 'Log 115200 baud \[auto\]' &&
    screen | grep -Eq 'Baud +115200'; then
	ok "log: follows the application to 115200 baud and shows its lines"
else
	nok "log: follows the application to 115200 baud"; dump
fi
if wait_for 'healthy' 5; then ok "diagnosis pane: healthy boot"; else nok "diagnosis pane: healthy boot"; dump; fi

# 2. Search: freezes the view on the match, End follows again.
T send-keys -t 0 / ; T send-keys -t 0 -l 'WIF: Conn[a-z]+'; T send-keys -t 0 Enter
if wait_for "'WIF: Conn\[a-z\]\+': line [0-9]+" 3 && screen | grep -q 'frozen:'; then
	ok "search: a regex finds the line and freezes the view"
else
	nok "search: a regex finds the line and freezes the view"; dump
fi
T send-keys -t 0 / ; T send-keys -t 0 -l 'no such [line'; T send-keys -t 0 Enter
if wait_for 'not a valid regular expression' 3; then ok "search: a bad regex says so"; else nok "search: a bad regex says so"; dump; fi
T send-keys -t 0 End
sleep 0.5
if ! screen | grep -q 'frozen:'; then ok "End follows the tail again"; else nok "End follows the tail again"; dump; fi

# 3. Back up through the TUI and compare with the simulator's flash.
T send-keys -t 0 F3; sleep 0.3; T send-keys -t 0 C-u; T send-keys -t 0 -l "$work/backup.bin"; T send-keys -t 0 Enter
if wait_for 'backup done' 90 && cmp -s "$work/backup.bin" "$flash"; then
	ok "backup: the file equals the simulator's flash"
else
	nok "backup: the file equals the simulator's flash"; dump
fi
wait_for 'reconnected' 10 >/dev/null
if wait_for 'ESP8285' 2; then ok "device pane: the chip identified during the job"; else nok "device pane: chip"; dump; fi

# 4. Erase runs the erase flow: this store holds no backup of the device, so it asks the risky
# question (the range it wipes, what is lost) and wants "yes" typed out.
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 e
if wait_for 'Erase ALL' 20 && screen | grep -q '0x0FFFFF' && screen | grep -q 'no verified backup'; then
	ok "erase: the flow's question names the whole range 0x000000-0x0FFFFF and the missing backup"
else
	nok "erase: the confirmation names the range"; dump
fi
T send-keys -t 0 -l yes; T send-keys -t 0 Enter
head -c 1048576 /dev/zero | tr '\0' '\377' >"$work/ff.bin"
if wait_for 'erase done' 90 && cmp -s "$flash" "$work/ff.bin"; then
	ok "erase: every byte of the simulator's flash is 0xFF"
else
	nok "erase: every byte of the simulator's flash is 0xFF"; dump
fi
# An erased chip: the ROM finds no image (bootlog.md: "ets_main.c" after the banner).
wait_for 'reconnected' 10 >/dev/null
if wait_for 'ets_main.c' 15; then ok "after the erase the log shows the ROM finding no image"; else nok "erased boot"; dump; fi

# 5. Write the backup back, with file completion; the log shows the boot again.
T send-keys -t 0 Escape; sleep 0.3; T send-keys -t 0 w; T send-keys -t 0 -l "$work/back"; T send-keys -t 0 Tab
if wait_for "backup\.bin" 3; then ok "file prompt: Tab completes the name"; else nok "file prompt: Tab completes"; dump; fi
T send-keys -t 0 Enter
wait_for 'Write .*backup' 3 >/dev/null
T send-keys -t 0 y
if wait_for 'write done' 90 && cmp -s "$flash" "$work/backup.bin"; then
	ok "write: the simulator's flash equals the backup again"
else
	nok "write: the simulator's flash equals the backup again"; dump
fi
if wait_for 'MQT: Connected' 30; then ok "after the write the log resumes and shows the firmware booting"; else nok "log after write"; dump; fi

# 6. Resizing, at any moment.
T resize-window -t 0 -x 200 -y 60; sleep 0.6
if screen | grep -q 'boot ROM: rst cause 1' && [ "$(screen | wc -l)" -ge 59 ]; then
	ok "resize 200x60: the wider log pane shows the inline annotations"
else
	nok "resize 200x60"; dump
fi
T resize-window -t 0 -x 60 -y 20; sleep 0.6
if screen | grep -q 'terminal too small'; then ok "resize 60x20: the too-small screen"; else nok "too small"; dump; fi
T resize-window -t 0 -x 80 -y 24; sleep 0.6
if screen | grep -q 'Device' && ! screen | grep -q 'too small'; then ok "resize 80x24: the panes again"; else nok "80x24"; dump; fi

# 7. Pull the simulated cable and bring it back.
ctl() { printf '%s\n' "$1" | socat - "UNIX-CONNECT:$demo/sim.ctl" 2>/dev/null || \
	python3 -c "import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);s.sendall(b'$1\n');print(s.recv(200).decode())" "$demo/sim.ctl"; }
ctl unplug >/dev/null
if wait_for 'disconnected' 5; then ok "unplug: the device pane says disconnected"; else nok "unplug"; dump; fi
ctl plug >/dev/null
if wait_for 'reconnected to' 10; then ok "plug: reconnects by itself"; else nok "plug"; dump; fi

# 8. Quit: the simulator stops and its directory goes.
tui_quit
if grep -q 'EXIT=0' "$work/exit" 2>/dev/null && [ ! -e "$demo" ]; then
	ok "q quits with status 0 and stops the simulator"
else
	nok "q quits and stops the simulator" "$(cat "$work/exit" "$work/err" 2>/dev/null)"
fi
echo "1..$n"
exit $failed
