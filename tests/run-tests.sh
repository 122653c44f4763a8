#!/bin/bash
# run-tests.sh: runs every test program or script given, counts its TAP lines and prints one
# summary line at the end: "N passed, N failed, N skipped". Each test's full output is kept in
# tests/logs/NAME.log; a failing test's log is printed. A program that exits non-zero without
# reporting a failed case counts as one failure; so does one that reports nothing at all.
# TEST_JOBS sets how many tests run at once (default: the number of CPUs).
# TEST_TIMEOUT sets the limit per test in seconds (default 900).
set -u
srcdir=.; builddir=.
while [ $# -gt 0 ]; do
	case $1 in
	--srcdir) srcdir=$2; shift 2 ;;
	--builddir) builddir=$2; shift 2 ;;
	*) break ;;
	esac
done
logdir=$builddir/tests/logs
rm -rf "$logdir"; mkdir -p "$logdir"
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${TEST_TIMEOUT:-900}
export ESPDESK_SRCDIR=$(cd "$srcdir" && pwd) ESPDESK_BUILDDIR=$(cd "$builddir" && pwd)

run_one() {
	t=$1
	name=$(echo "$t" | sed 's|/|_|g')
	log=$logdir/$name.log
	if [ -x "$builddir/$t" ]; then cmd=$builddir/$t; else cmd=$srcdir/$t; fi
	start=$(date +%s)
	timeout -k 10 "$limit" "$cmd" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	pass=$(grep -c '^ok ' "$log" | tr -d ' ')
	skip=$(grep -c '^ok .*# SKIP' "$log" | tr -d ' ')
	fail=$(grep -c '^not ok ' "$log" | tr -d ' ')
	pass=$((pass - skip))
	extra=""
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then extra=" (timed out after ${limit}s)"; else extra=" (exited with status $rc)"; fi
	fi
	if [ $((pass + fail + skip)) -eq 0 ]; then fail=1; extra=" (reported no test)"; fi
	echo "$t $pass $fail $skip $secs$extra" >"$log.result"
}

# Run up to $jobs tests at once.
running=0
for t in "$@"; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then wait -n 2>/dev/null || wait; running=$((running - 1)); fi
done
wait

P=0; F=0; S=0
for t in "$@"; do
	name=$(echo "$t" | sed 's|/|_|g')
	read -r tn pass fail skip secs extra <"$logdir/$name.log.result"
	P=$((P + pass)); F=$((F + fail)); S=$((S + skip))
	if [ "$fail" -gt 0 ]; then status=FAIL; elif [ "$pass" -eq 0 ]; then status=SKIP; else status=PASS; fi
	printf '%-4s %-40s %4d passed %3d failed %3d skipped %4ss%s\n' "$status" "$t" "$pass" "$fail" "$skip" "$secs" "${extra:+ $extra}"
	if [ "$fail" -gt 0 ]; then
		echo "---- $logdir/$name.log (last 40 lines) ----"
		tail -n 40 "$logdir/$name.log"
		echo "----"
	fi
	grep '^ok .*# SKIP' "$logdir/$name.log" | sed 's/^/     /'
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
