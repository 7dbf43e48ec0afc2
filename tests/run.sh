#!/bin/sh
# `make test`: installs what is missing, starts dockerd, builds (plain and
# with ASan/UBSan), makes the stack image, runs the unit tests under both
# builds, a short fuzz run, the router's protocol cases, and the end-to-end
# tests; ends with one line
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1

sh scripts/deps.sh || exit 1
sh scripts/dockerd.sh || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
echo "-----> Building"
make -s -j"$jobs" all unit-bins || exit 1
echo "-----> Building with AddressSanitizer and UndefinedBehaviorSanitizer"
make -s -j"$jobs" SANITIZE=address,undefined all unit-bins || exit 1
sh runtimes/stack/build.sh || exit 1

results=$(mktemp /tmp/minpaas-results.XXXXXX)
trap 'rm -f "$results"' EXIT

echo "-----> Unit tests"
sh tests/run-unit.sh build/tests/test_* >>"$results"
echo "-----> Unit tests under ASan/UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	sh tests/run-unit.sh build-asan/tests/test_* >>"$results"
if [ -x tests/fuzz/run.sh ]; then
	echo "-----> Fuzzing (short runs)"
	sh tests/fuzz/run.sh >>"$results"
fi
echo "-----> Router protocol cases"
sh tests/router/run.sh >>"$results"
echo "-----> Router protocol cases under ASan/UBSan"
sh tests/router/run.sh --sanitized >>"$results"
echo "-----> End-to-end tests"
sh tests/e2e/run.sh >>"$results"
echo "-----> End-to-end tests of the whole push path under ASan/UBSan"
sh tests/e2e/run-sanitized.sh >>"$results"

passed=$(awk '$1 == "passed" { n += $2 } END { print n + 0 }' "$results")
failed=$(awk '$1 == "failed" { n += $2 } END { print n + 0 }' "$results")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
