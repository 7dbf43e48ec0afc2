#!/bin/sh
# Runs the end-to-end scripts, E2E_JOBS at a time (default 2; they share
# dockerd), and prints "passed N" / "failed N" for each script on stdout;
# each script's output goes to stderr in one piece when it ends.
#
# A script passes only when it kept its plan: its "1..N" line (test_plan N)
# is there, N tests ran (each "ok" or "not ok"), test_done printed its
# summary line, and it exited 0. Tests planned but not run count as failed;
# a script that exits non-zero, or stops, with no failed test counts as one
# failure. E2E_TESTS names the scripts (default: all t[0-9]*.sh here).
set -u
cd "$(dirname "$0")" || exit 1
jobs=${E2E_JOBS:-2}
tmp=$(mktemp -d /tmp/minpaas-e2e-run.XXXXXX) || exit 1
# the scripts' images, removed when none runs (see docker_cleanup in lib.sh)
export E2E_LATE_RMI="$tmp/images"
trap 'remove_images; rm -rf "$tmp"' EXIT

remove_images() {
	[ -s "$E2E_LATE_RMI" ] || return 0
	sort -u "$E2E_LATE_RMI" | xargs docker rmi -f >/dev/null 2>&1
}

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

# run_one N T: runs script T (the Nth), then prints its output and counts
# while holding the lock, so the output of parallel scripts never mixes.
run_one() {
	start=$(date +%s)
	out="$tmp/out.$1"
	sh "./$2" >"$out" 2>&1 </dev/null &
	pid=$!
	wait "$pid"
	rc=$?
	# interrupted: the lane's trap sent the script a TERM; it cleans up
	if [ -n "$stop" ]; then
		wait "$pid"
		rc=$?
	fi
	pid=""
	secs=$(($(date +%s) - start))
	until mkdir "$tmp/lock" 2>/dev/null; do
		sleep 0.1
	done
	echo "*** $2 ($secs s)" >&2
	cat "$out" >&2
	verdict "$2" "$out" "$rc"
	rmdir "$tmp/lock"
}

# lane: takes the scripts nobody has taken yet, one after another
lane() {
	pid=""
	stop=""
	trap 'stop=1; [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null' TERM
	n=0
	for t in ${E2E_TESTS:-t[0-9]*.sh}; do
		n=$((n + 1))
		[ -z "$stop" ] || break
		mkdir "$tmp/claim.$n" 2>/dev/null || continue
		run_one "$n" "$t"
	done
}

lanes=""
i=0
while [ "$i" -lt "$jobs" ]; do
	lane &
	lanes="$lanes $!"
	i=$((i + 1))
done
stopped=""
trap 'stopped=1; kill -TERM $lanes 2>/dev/null' INT TERM
until wait; do
	:
done
[ -z "$stopped" ] || exit 130
