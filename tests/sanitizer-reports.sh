#!/bin/sh
# tests/sanitizer-reports.sh DIR: the ASan/UBSan reports written to DIR
# (log_path=DIR/asan, DIR/ubsan) by a sanitized test run. Shows each on
# stderr and prints "failed N", N the number of reports (and "passed 1"
# when there is none, for the whole run); exits 1 when there was any.
set -u
n=0
for f in "$1"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	echo "sanitizer report $f:" >&2
	head -n 40 "$f" >&2
done
echo "failed $n"
[ "$n" -eq 0 ] && echo "passed 1"
[ "$n" -eq 0 ]
