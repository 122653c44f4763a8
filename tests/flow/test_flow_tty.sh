#!/bin/bash
# test_flow_tty.sh: the guided flows' questions on a real terminal (issue 9: "interactive on a
# terminal"). espdesk runs in tmux against espdesk-sim; the test answers at the prompt like a
# person. A risky question (one that could lose the only backup: restoring another unit's dump)
# takes only a typed "yes"; an ordinary one (relaying a 1 MB dump out for a 4 MB chip) takes y;
# Enter, "n", a lone "y" to a risky question and Ctrl-C all refuse, and a refusal writes nothing.
# Erase asks the risky question without a backup of the device and y/N over a verified one.
# A closed terminal (SIGHUP, as sshd sends) mid-read stops the flow cleanly and `flow resume`
# finishes it. Expected flash contents come from the simulator's own files. Prints TAP.
set -u
NAME=flowtty
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || skip_all "tmux is not installed (apt-get install tmux)"
# Each run gets a tmux server of its own: a new session on the socket of a server still shutting
# down fails with "server exited unexpectedly" (seen in CI).
runs=0
SOCK=flowtty$$.0
tm() { tmux -L "$SOCK" "$@"; }
lib_cleanup_extra() { tm kill-server 2>/dev/null; }

# run ARGS...: starts espdesk ARGS in a fresh 100x30 tmux terminal; its exit code lands in $T/rc.
run() {
	local q
	tm kill-server 2>/dev/null
	runs=$((runs + 1)); SOCK=flowtty$$.$runs
	rm -f "$T/rc"
	q=$(printf '%q ' "$ESPDESK" "$@")
	tm new-session -d -x 100 -y 30 \
		"env ESPDESK_DATA_HOME='$ESPDESK_DATA_HOME' $q; echo \$? >'$T/rc'; sleep 600"
}
screen() { tm capture-pane -p -J -S -200 -t 0 2>/dev/null; }
# wait_for REGEX SECONDS: until the terminal shows REGEX.
wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# wait_rc SECONDS: until espdesk exited; prints its code.
wait_rc() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ -s "$T/rc" ] && { cat "$T/rc"; return 0; }
		sleep 0.1
	done
	echo timeout
}
check() { if eval "$2"; then ok "$1"; else notok "$1"; screen | tail -12 | sed 's/^/#   /'; fi; }

"$SIM" make-firmware "$T/stock.bin" --family stock --flash-size 1MB >/dev/null
head -c 1048576 /dev/zero | tr '\0' '\377' >"$T/ff1m"
head -c 4194304 /dev/zero | tr '\0' '\377' >"$T/ff4m"

# A verified backup of unit A (not interactive: --yes; stdin is not a terminal here).
cp "$T/stock.bin" "$T/a.bin"
sim_start "$T/a.bin" 1MB --chip esp8285 --mac 18:fe:34:00:00:0a
timeout 120 "$ESPDESK" backup -p "$T/dev" --yes </dev/null >"$T/out" 2>&1
ID=$("$ESPDESK" backups | awk 'NR==2 {print $1}')
check "a backup of unit A to restore elsewhere" "[ -n '$ID' ] && cmp -s \"\$(ls \"$ESPDESK_DATA_HOME\"/espdesk/backups/*/*.bin | head -1)\" '$T/stock.bin'"

# Unit B, blank: restoring A's dump on it asks the risky question.
cp "$T/ff1m" "$T/b.bin"
sim_start "$T/b.bin" 1MB --chip esp8285 --mac 18:fe:34:00:00:0b
Q="Restore another unit's backup\\? Type yes to go on:"

# answer ANSWER-KEYS...: runs the restore, waits for the question, types the keys.
answer() {
	ctl "gpio0 down" >/dev/null; ctl "power cycle" >/dev/null
	"$ESPDESK" flow abort >/dev/null 2>&1
	run restore -p "$T/dev" --no-watch "$ID"
	if ! wait_for "$Q" 60; then
		notok "the restore asks before restoring another unit's dump"
		screen | tail -12 | sed 's/^/#   /'
		return 1
	fi
	tm send-keys -t 0 "$@"
}

answer Enter && rc=$(wait_rc 30)
check "another unit's dump, Enter: refused (exit 1), says how to restore it anyway" "[ '$rc' = 1 ] && screen | grep -q -- '--other-unit'"
check "another unit's dump, Enter: the flash is untouched" "cmp -s '$T/b.bin' '$T/ff1m'"

answer n Enter && rc=$(wait_rc 30)
check "another unit's dump, 'n': refused, nothing written" "[ '$rc' = 1 ] && cmp -s '$T/b.bin' '$T/ff1m'"

answer y Enter && rc=$(wait_rc 30)
check "another unit's dump, a lone 'y': not enough for a risky question, nothing written" "[ '$rc' = 1 ] && screen | grep -q 'only a typed' && cmp -s '$T/b.bin' '$T/ff1m'"

answer C-c && rc=$(wait_rc 10)
check "another unit's dump, Ctrl-C at the question: stops (exit 1), nothing written" "[ '$rc' = 1 ] && cmp -s '$T/b.bin' '$T/ff1m'"
"$ESPDESK" flow status >"$T/out" 2>&1
check "after Ctrl-C the journal says where the flow stopped" "grep -q 'restore' '$T/out'"

answer y e s Enter && rc=$(wait_rc 120)
[ -n "${FLOWTTY_SHOW:-}" ] && screen
check "another unit's dump, typed 'yes': restored, the flash is A's dump" "[ '$rc' = 0 ] && cmp -s '$T/b.bin' '$T/stock.bin'"
check "another unit's dump: the question explained the eWeLink identity first" "screen | grep -q 'eWeLink'"
check "--no-watch: the watch step says skipped and claims nothing about the boot" "screen | grep -q 'watch: skipped' && ! screen | grep -q 'application is up'"

# Erase on unit B, which has no backup of its own (A's dump is on it now): the risky question.
E="Erase ALL of the flash \\(0x000000-0x0FFFFF, 1024 KB\\) without a backup\\? Type yes to go on:"
dl; "$ESPDESK" flow abort >/dev/null 2>&1
run erase -p "$T/dev"
if wait_for "$E" 60; then ok "erase without a backup asks, naming what is lost"; else notok "erase without a backup asks"; screen | tail -8 | sed 's/^/#   /'; fi
tm send-keys -t 0 y Enter; rc=$(wait_rc 30)
check "erase without a backup, a lone 'y': refused, nothing erased" "[ '$rc' = 1 ] && cmp -s '$T/b.bin' '$T/stock.bin'"
dl; "$ESPDESK" flow abort >/dev/null 2>&1
run erase -p "$T/dev"
wait_for "$E" 60 && tm send-keys -t 0 y e s Enter
rc=$(wait_rc 60)
check "erase without a backup, typed 'yes': the flash is all 0xFF" "[ '$rc' = 0 ] && cmp -s '$T/b.bin' '$T/ff1m'"

# Erase on unit A, which has a verified backup: an ordinary confirmation.
sim_start "$T/a.bin" 1MB --chip esp8285 --mac 18:fe:34:00:00:0a
"$ESPDESK" flow abort >/dev/null 2>&1
run erase -p "$T/dev"
if wait_for "Erase ALL of the flash \\(0x000000-0x0FFFFF, 1024 KB\\)\\? \\[y/N\\]" 60; then
	ok "erase over a verified backup asks y/N and names the backup"
else
	notok "erase over a verified backup asks y/N"; screen | tail -8 | sed 's/^/#   /'
fi
tm send-keys -t 0 y Enter; rc=$(wait_rc 60)
check "erase over a verified backup, y: the flash is all 0xFF" "[ '$rc' = 0 ] && cmp -s '$T/a.bin' '$T/ff1m' && screen | grep -q 'can bring them back'"

# A 4 MB chip: the 1 MB dump needs the relayout, an ordinary question (y is enough). The risky
# one is answered by its flag here.
cp "$T/ff4m" "$T/c.bin"
sim_start "$T/c.bin" 4MB --chip esp8266 --flash-id 0xEF4016 --mac 18:fe:34:00:00:0c
"$ESPDESK" flow abort >/dev/null 2>&1
R="Relay the backup out for this chip\\? \\[y/N\\]"
run restore -p "$T/dev" --no-watch --other-unit "$ID"
if wait_for "$R" 60; then ok "1 MB dump on a 4 MB chip: asks whether to relay it out"; else notok "relayout question"; fi
tm send-keys -t 0 n Enter; rc=$(wait_rc 30)
check "relayout, 'n': refused, says --relayout, nothing written" "[ '$rc' = 1 ] && screen | grep -q -- '--relayout' && cmp -s '$T/c.bin' '$T/ff4m'"
dl; "$ESPDESK" flow abort >/dev/null 2>&1
run restore -p "$T/dev" --no-watch --other-unit "$ID"
wait_for "$R" 60 && tm send-keys -t 0 y Enter
rc=$(wait_rc 120)
check "relayout, 'y': restored relaid, the first 1 MB - 16 KB equal the dump" "[ '$rc' = 0 ] && cmp -s -i 4 -n 1032188 '$T/c.bin' '$T/stock.bin'"
check "the stored backup is unchanged after all of it" "\"$ESPDESK\" backups verify >/dev/null"

# The flasher's --before manual works for the flows too (its own advice names it).
dl
timeout 120 "$ESPDESK" backup -p "$T/dev" --before manual --yes </dev/null >"$T/out" 2>&1; rc=$?
check "backup --before manual: tells the user to hold the button, then backs up" "[ $rc = 0 ] && grep -q 'no auto-reset' '$T/out' && grep -q 'hold the' '$T/out'"

# A closed SSH session: the terminal goes away mid-read (tmux sends SIGHUP, as sshd does). The flow
# must stop cleanly, say where in its journal, and `flow resume` must finish the backup.
cp "$T/stock.bin" "$T/d.bin"
sim_start "$T/d.bin" 1MB --chip esp8285 --mac 18:fe:34:00:00:0d --speed real
"$ESPDESK" flow abort >/dev/null 2>&1
run backup -p "$T/dev" --yes
reading=no
wait_for 'read [0-9]+%' 30 && reading=yes
check "SIGHUP mid-read: the backup is reading when the terminal goes" "[ $reading = yes ]"
sleep 1
tm kill-server 2>/dev/null
for _ in $(seq 50); do pgrep -f "espdesk backup -p $T/dev" >/dev/null || break; sleep 0.1; done
check "SIGHUP mid-read: espdesk is gone within 5 s" "! pgrep -f 'espdesk backup -p $T/dev' >/dev/null"
"$ESPDESK" flow status >"$T/out" 2>&1
check "SIGHUP mid-read: the journal shows the unfinished backup" "grep -q 'Back up (not finished)' '$T/out' && grep -q 'stopped: step read' '$T/out'"
timeout 120 "$ESPDESK" flow resume </dev/null >"$T/out" 2>&1; rc=$?
check "SIGHUP mid-read: flow resume stores the whole flash, byte for byte" "[ $rc = 0 ] && cmp -s \"\$(ls -t \"$ESPDESK_DATA_HOME\"/espdesk/backups/*18fe3400000d*/*.bin | head -1)\" '$T/stock.bin'"

[ -n "${FLOWTTY_SHOW:-}" ] && screen
echo "1..$n"
