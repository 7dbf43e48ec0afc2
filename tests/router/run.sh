#!/bin/sh
# Runs the router's protocol cases (tests/router/cases) against the built
# minpaas-router and a scripted upstream on loopback. Prints "passed N" /
# "failed N" on stdout; details on stderr.
#
#   sh tests/router/run.sh             the plain build (build/)
#   sh tests/router/run.sh --sanitized the ASan/UBSan build (build-asan/):
#                                      each sanitizer report is a failure
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
san=""
if [ "${1:-}" = --sanitized ]; then
	shift
	B=build-asan
	san="SANITIZE=address,undefined"
	reports=$(mktemp -d /tmp/minpaas-router-sanitizer.XXXXXX)
	trap 'rm -rf "$reports"' EXIT
	export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
fi
if ! make -s B="$B" $san "$B/minpaas-router" router-tools >&2; then
	echo "router cases: cannot build" >&2
	echo "failed 1"
	exit 1
fi
python3 tests/router/run.py "$B/minpaas-router" "$B/tests/minpaas-route-set" "$@"
rc=$?
if [ -n "$san" ]; then
	sh tests/sanitizer-reports.sh "$reports" || rc=1
fi
exit $rc
