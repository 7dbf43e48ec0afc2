#!/bin/sh
# Runs end-to-end scripts against the ASan/UBSan build (build-asan/): every
# sanitizer report of any minpaas process (sshd and its children, the hook,
# the router, commands) is written to a scratch folder, and each report
# counts as a failure. Leak checking is left to the unit tests: the daemons'
# children end with _exit by design. Prints "passed N" / "failed N".
set -u
here=$(cd "$(dirname "$0")" && pwd)
reports=$(mktemp -d /tmp/minpaas-sanitizer.XXXXXX)
trap 'rm -rf "$reports"' EXIT
export MINPAAS_BUILD="$here/../../build-asan"
export ASAN_OPTIONS="detect_leaks=0:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
E2E_TESTS=${E2E_SANITIZED_TESTS:-"t0100-push-python.sh t0200-env.sh"} sh "$here/run.sh"
sh "$here/../sanitizer-reports.sh" "$reports" || true
