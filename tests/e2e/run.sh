#!/bin/sh
# Runs the end-to-end scripts one after another (they share dockerd) and
# prints "passed N" / "failed N" for each script on stdout; each script's
# own output goes to stderr.
#
# A script passes only when it kept its plan: its "1..N" line (test_plan N)
# is there, N tests ran (each "ok" or "not ok"), test_done printed its
# summary line, and it exited 0. Tests planned but not run count as failed;
# a script that exits non-zero, or stops, with no failed test counts as one
# failure. E2E_TESTS names the scripts (default: all t[0-9]*.sh here).
set -u
cd "$(dirname "$0")" || exit 1
tmp=$(mktemp -d /tmp/minpaas-e2e-run.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# note T MESSAGE: why script T failed, on stderr
note() {
	printf '# run.sh: %s: %s\n' "$1" "$2" >&2
}

# verdict T OUTPUT STATUS: prints the counts of script T from its output and
# exit status, the tests its plan lacks counted as failed.
verdict() {
	p=$(grep -c '^ok ' "$2")
	f=$(grep -c '^not ok ' "$2")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$2" | head -n 1)
	extra=0
	if [ -z "$plan" ]; then
		note "$1" "no plan line (test_plan N); counted as one failure"
		extra=1
	elif [ $((p + f)) -lt "$plan" ]; then
		extra=$((plan - p - f))
		note "$1" "ran $((p + f)) of $plan planned tests; the $extra not run count as failed"
	elif [ $((p + f)) -gt "$plan" ]; then
		note "$1" "ran $((p + f)) tests, more than the $plan planned; counted as one failure"
		extra=1
	fi
	if ! grep -q "^# $(basename "$1" .sh): [0-9]* passed, [0-9]* failed\$" "$2"; then
		note "$1" "stopped before test_done printed its summary"
		[ "$extra" -gt 0 ] || extra=1
	fi
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ] && [ "$extra" -eq 0 ]; then
		note "$1" "exited with status $3 and no failed test; counted as one failure"
		extra=1
	fi
	echo "passed $p"
	echo "failed $((f + extra))"
}

for t in ${E2E_TESTS:-t[0-9]*.sh}; do
	echo "*** $t" >&2
	sh "./$t" >"$tmp/out" 2>&1
	rc=$?
	cat "$tmp/out" >&2
	verdict "$t" "$tmp/out" "$rc"
done
