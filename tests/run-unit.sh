#!/bin/sh
# Runs cmocka test binaries; their output goes to stderr (the terminal), and
# "passed N" / "failed N" lines for the totals go to stdout.
set -u
for t in "$@"; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" >&2
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	# a binary that crashed or printed no summary counts as one failure
	if [ -z "$p$f" ] || { [ "$rc" -ne 0 ] && [ -z "$f" ]; }; then
		echo "$t: exited $rc without a cmocka summary" >&2
		f=$(( ${f:-0} + 1 ))
	fi
	echo "passed ${p:-0}"
	echo "failed ${f:-0}"
done
