# tests/ui/lib.sh: what the tmux tests of the workstation share (sourced, not run). Sets B (the
# build directory), the TAP counters and ok/nok/skip_all, a private tmux server (T), screen,
# wait_for and dump, a work directory with its own backup store and flow journal
# (ESPDESK_DATA_HOME, so no test touches the user's), and tui_start, which runs
# `espdesk --demo` in the tmux pane. The caller sets NAME before sourcing it.
B=${ESPDESK_BUILDDIR:-.}
n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "# $2"; return 0; }
skip_all() { echo "ok 1 - ${NAME:-tui} # SKIP $1"; echo "1..1"; exit 0; }

command -v tmux >/dev/null || skip_all "tmux is not installed (apt-get install tmux)"
[ -x "$B/espdesk" ] && [ -x "$B/espdesk-sim" ] || skip_all "espdesk or espdesk-sim not built"

work=$(mktemp -d "/tmp/${NAME:-tui}-XXXXXX")
export ESPDESK_DATA_HOME=$work/data
# Each start gets a server of its own: a new session on the socket of a server still shutting
# down fails with "server exited unexpectedly".
starts=0
sock=${NAME:-tui}$$.0
T() { tmux -L "$sock" "$@"; }
new_server() { T kill-server 2>/dev/null; starts=$((starts + 1)); sock=${NAME:-tui}$$.$starts; }
screen() { T capture-pane -p -t 0 2>/dev/null; }
lib_cleanup() { T kill-server 2>/dev/null; chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }
trap lib_cleanup EXIT

# wait_for PATTERN SECONDS: polls the screen until the extended regex matches.
wait_for() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.2
	done
	return 1
}
dump() { screen | sed 's/^/#   /'; }

locale=C.UTF-8
locale -a 2>/dev/null | grep -qi '^c.utf-\?8$' || locale=C

# tui_start COLS ROWS [VAR=value...]: `espdesk --demo` in a fresh tmux server; its exit status
# lands in $work/exit, its stderr in $work/err. A server still running is stopped first.
tui_start() {
	local cols=$1 rows=$2; shift 2
	new_server
	rm -f "$work/exit"
	T new-session -d -x "$cols" -y "$rows" "env $* ESPDESK_DATA_HOME='$ESPDESK_DATA_HOME' LANG=$locale LC_ALL=$locale '$B/espdesk' --demo 2>'$work/err'; echo \"EXIT=\$?\" >'$work/exit'; sleep 60"
}

# The demo's directory (the panes cut the path; the status line shows it whole: the longest).
demo_dir() { screen | grep -Eo '/tmp/espdesk-demo-[A-Za-z0-9]+' | awk 'length > l { l = length; s = $0 } END { print s }'; }

# tui_quit: q, then waits for the exit status file.
tui_quit() {
	local i
	T send-keys -t 0 q
	for i in $(seq 50); do [ -f "$work/exit" ] && break; sleep 0.2; done
}
