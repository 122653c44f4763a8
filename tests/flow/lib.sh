# tests/flow/lib.sh: what the flow tests share (sourced, not run). Sets ESPDESK, SIM, the TAP
# counter and ok/notok/skip_all (NAME names the script in a skip line), a work directory $T with
# its own backup store and flow journal (ESPDESK_DATA_HOME, so no test touches the user's), and:
#   sim_start FLASHFILE SIZE [options...]  a simulator in download mode on the stable link $T/dev
#   ctl COMMAND                            one line to its control socket, prints the reply
#   dl                                     back into download mode, as a person does it
# The caller may define lib_cleanup_extra (run first on exit).
B=${ESPDESK_BUILDDIR:-.}
ESPDESK=$B/espdesk
SIM=${ESPDESK_SIM:-$B/espdesk-sim}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip_all() { echo "ok 1 - ${NAME:-flows} # SKIP $1"; echo "1..1"; exit 0; }

[ -x "$SIM" ] && [ -x "$ESPDESK" ] || skip_all "espdesk or espdesk-sim is not built"
command -v socat >/dev/null || skip_all "socat is not installed"

T=$(mktemp -d "/tmp/${NAME:-flow}-XXXXXX")
export ESPDESK_DATA_HOME=$T/data
SIMPID=
lib_cleanup_extra() { :; }
lib_cleanup() {
	lib_cleanup_extra
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null
	wait 2>/dev/null
	chmod -R u+w "$T"; rm -rf "$T"
}
trap lib_cleanup EXIT

sim_start() {
	local flash=$1 size=$2; shift 2
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -f "$T/port" "$T/ctl"
	"$SIM" --flash "$flash" --flash-size "$size" --speed fast --download --link "$T/dev" \
		--control "$T/ctl" "$@" >"$T/port" 2>"$T/sim.err" &
	SIMPID=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && [ -S "$T/ctl" ] && break; sleep 0.1; done
}
ctl() { printf '%s\n' "$1" | socat - "UNIX-CONNECT:$T/ctl" 2>/dev/null; }
dl() { ctl "gpio0 down" >/dev/null; ctl "power cycle" >/dev/null; }
