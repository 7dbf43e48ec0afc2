#!/bin/sh
# Runs the router's protocol cases (tests/router/cases) against the built
# minpaas-router and a scripted upstream on loopback. Prints "passed N" /
# "failed N" on stdout; details on stderr.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
if ! make -s B="$B" "$B/minpaas-router" router-tools >&2; then
	echo "router cases: cannot build" >&2
	echo "failed 1"
	exit 1
fi
python3 tests/router/run.py "$B/minpaas-router" "$B/tests/minpaas-route-set"
