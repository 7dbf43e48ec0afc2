#!/bin/sh
# Runs the end-to-end scripts one after another (they share dockerd) and
# prints "passed N" / "failed N" for the totals on stdout; each script's own
# output goes to stderr.
set -u
cd "$(dirname "$0")" || exit 1
for t in ${E2E_TESTS:-t[0-9]*.sh}; do
	echo "*** $t" >&2
	out=$(sh "./$t" 2>&1)
	printf '%s\n' "$out" >&2
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	echo "passed $p"
	echo "failed $f"
done
