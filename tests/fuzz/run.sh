#!/bin/sh
# Builds each libFuzzer target tests/fuzz/fuzz_*.c with clang and runs it
# briefly (FUZZ_SECONDS, default 10) from its corpus in tests/fuzz/corpus/.
# A target names the sources it needs on lines "fuzz-sources: a.c b.c" (as
# many as it takes), and the libraries it links, if any, on lines
# "fuzz-libs: -lfoo -lbar". An input that takes longer than FUZZ_TIMEOUT
# seconds (default 10) counts as a hang.
# Prints "passed N" / "failed N" on stdout; details on stderr.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_SECONDS:-10}
timeout=${FUZZ_TIMEOUT:-10}
out=build/fuzz
mkdir -p "$out"
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	deps=$(sed -n 's/.*fuzz-sources: *//p' "$src" | sed 's/ *\*\/.*//')
	libs=$(sed -n 's/.*fuzz-libs: *//p' "$src" | sed 's/ *\*\/.*//')
	if ! clang -g -O1 -Wall -Werror -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
		"$src" $deps -o "$out/$name" $libs >&2; then
		echo "$name: does not build" >&2
		echo "failed 1"
		continue
	fi
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
	if "$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 \
		-timeout="$timeout" -artifact_prefix="$out/$name-" "$corpus" \
		>"$out/$name.log" 2>&1; then
		echo "$name: $(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -n 1) in ${secs} s, no crash" >&2
		echo "passed 1"
	else
		tail -n 40 "$out/$name.log" >&2
		echo "failed 1"
	fi
done
