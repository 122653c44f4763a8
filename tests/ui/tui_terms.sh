#!/bin/bash
# The workstation under the terminal types users have (xterm, screen, tmux, linux), in
# monochrome with NO_COLOR and in the ASCII fallback (C locale): it starts, shows the decoded
# boot, opens the help screen listing every key (scrolling at 80x24), and quits with status 0. Prints TAP.
B=${ESPDESK_BUILDDIR:-.}
n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
if ! command -v tmux >/dev/null; then echo "ok 1 - tui terms # SKIP tmux is not installed"; echo "1..1"; exit 0; fi
[ -x "$B/espdesk" ] || { echo "ok 1 - tui terms # SKIP espdesk not built"; echo "1..1"; exit 0; }
work=$(mktemp -d /tmp/tui-terms-XXXXXX)
starts=0
sock=tuiterm$$.0
T() { tmux -L "$sock" "$@"; }
# A server of its own per start: a new session on a server still shutting down fails.
new_server() { T kill-server 2>/dev/null; starts=$((starts + 1)); sock=tuiterm$$.$starts; }
trap 'T kill-server 2>/dev/null; rm -rf "$work"' EXIT
wait_for() {
	for ((i = 0; i < $2 * 5; i++)); do T capture-pane -p -t 0 2>/dev/null | grep -Eq -- "$1" && return 0; sleep 0.2; done
	return 1
}
utf=C.UTF-8
locale -a 2>/dev/null | grep -qi '^c.utf-\?8$' || utf=C
run() { # NAME ENV...
	local name=$1; shift
	new_server
	rm -f "$work/exit"
	T new-session -d -x 80 -y 24 "env $* '$B/espdesk' --demo 2>'$work/err'; echo \"EXIT=\$?\" >'$work/exit'; sleep 30"
	if wait_for 'rst cause:1, boot mode:\(3,[0-9]\)' 20 && wait_for 'F1Help' 1; then
		ok "$name: starts and shows the decoded boot and the key bar"
	else
		nok "$name: starts and shows the decoded boot"; T capture-pane -p -t 0 | sed 's/^/#   /'; cat "$work/err"
	fi
	# tmux encodes F1 for its own TERM, which the linux entry does not share: '?' there.
	T send-keys -t 0 "$helpkey"
	if wait_for 'espdesk keys' 3 && wait_for 'Esc +cancel' 1; then ok "$name: $helpkey lists the keys"; else nok "$name: $helpkey help"; fi
	# 80x24 does not hold every key: the title says so, PgDn reaches the last one (quit).
	if wait_for 'PgDn: more' 1; then ok "$name: help says there is more below"; else nok "$name: help says there is more"; fi
	T send-keys -t 0 NPage; sleep 0.2; T send-keys -t 0 NPage; sleep 0.2; T send-keys -t 0 NPage
	if wait_for 'F10 q +quit' 3 && wait_for 'PgUp: back' 1; then ok "$name: PgDn scrolls the help to the last key"; else nok "$name: help scrolls"; T capture-pane -p -t 0 | sed 's/^/#   /'; fi
	T send-keys -t 0 x; sleep 0.3; T send-keys -t 0 q
	for ((i = 0; i < 50; i++)); do [ -f "$work/exit" ] && break; sleep 0.2; done
	if grep -q 'EXIT=0' "$work/exit" 2>/dev/null; then ok "$name: q quits cleanly"; else nok "$name: q quits cleanly"; fi
}
for term in xterm xterm-256color screen tmux-256color linux; do
	infocmp "$term" >/dev/null 2>&1 || { n=$((n + 1)); echo "ok $n - TERM=$term # SKIP no terminfo entry"; continue; }
	helpkey=F1; [ "$term" = linux ] && helpkey='?'
	run "TERM=$term" TERM=$term LANG=$utf LC_ALL=$utf
done
helpkey=F1
run "NO_COLOR=1, monochrome" NO_COLOR=1 LANG=$utf LC_ALL=$utf
run "C locale, ASCII line drawing" LANG=C LC_ALL=C
new_server
if T new-session -d -x 80 -y 24 "env LANG=C LC_ALL=C '$B/espdesk' --demo; sleep 30" && wait_for '^\+-' 20; then
	ok "C locale: borders fall back to ASCII"
else
	nok "C locale: borders fall back to ASCII"
fi
T send-keys -t 0 q
echo "1..$n"
exit $failed
