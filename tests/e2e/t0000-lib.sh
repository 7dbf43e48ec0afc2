#!/bin/sh
# The library's own guards, as git's t0000-basic.sh checks its test-lib:
# each test runs a small script against lib.sh (and run.sh) whose tests
# must fail, and checks that the failure is reported: a command that fails
# anywhere in a body, a broken &&-chain, test_must_fail given a signal or
# 126/127, a test_when_finished cleanup of a body, a script that stops
# early or keeps no plan. Needs neither minpaas nor dockerd. E2E_LIB and
# E2E_RUN point it at another lib.sh and run.sh, to see an older library
# fail it.
. "$(dirname "$0")/lib.sh"
test_plan 5

LIB=${E2E_LIB:-$TEST_TOP/tests/e2e/lib.sh}
RUN=${E2E_RUN:-$TEST_TOP/tests/e2e/run.sh}
mkdir -p inner/tests/e2e inner/tmp
cp "$RUN" inner/tests/e2e/run.sh

# script NAME: writes inner/tests/e2e/NAME.sh, the lib under test sourced
# and then stdin
script() {
	{ printf '. "%s"\n' "$LIB" && cat; } >"inner/tests/e2e/$1.sh"
}

# run_inner NAME: runs it, its scratch directory under inner/tmp; output in
# NAME.out (shown in the log), its status in NAME.rc
run_inner() {
	if TMPDIR="$TEST_ROOT/inner/tmp" sh "inner/tests/e2e/$1.sh" >"$1.out" 2>&1; then
		echo 0 >"$1.rc"
	else
		echo $? >"$1.rc"
	fi
	cat "$1.out"
}

script t9000-set-e <<'EOF'
test_plan 2
test_expect_success 'a failing command in a loop that ends the chain' '
	true && for i in 1 2; do false; echo "$i"; done
'
TEST_CHAIN_LINT=0
test_expect_success 'a failing command outside the chain, lint off' '
	false
	true
'
test_done
EOF

script t9001-chain <<'EOF'
test_plan 3
test_expect_success 'a broken chain' '
	touch first
	touch second && true
'
test_expect_success 'only what follows the break ran, once, in the lint' '
	test ! -e first && test -e second
'
test_expect_success 'loops, if, case, a function, a here-doc, a job: chained' '
	for i in 1 2; do echo "$i" >>loop || exit 1; done &&
	i=0 && while [ "$i" -lt 2 ]; do i=$((i + 1)) || exit 1; done &&
	if [ "$i" = 2 ]; then echo two >if.out; else exit 1; fi &&
	case $i in 2) echo case >case.out ;; esac &&
	f() { echo "f $1"; } && f x >f.out &&
	cat >doc <<-DOC &&
	here
	DOC
	{ sleep 0.1 & } && wait $! &&
	test "$(cat loop)" = "1
2" && test -s if.out && test -s case.out &&
	grep -qx "f x" f.out && grep -qx here doc
'
test_done
EOF

script t9002-must-fail <<'EOF'
test_plan 5
test_expect_success 'a death by a signal' '
	test_must_fail sh -c "kill -SEGV \$\$"
'
test_expect_success 'a command that is not there' '
	test_must_fail no-such-command
'
test_expect_success 'a command that cannot run' '
	echo true >not-executable && test_must_fail ./not-executable
'
test_expect_success 'a status above 128 (ssh says 255 for its own failures)' '
	test_must_fail sh -c "exit 255"
'
test_expect_success 'an ordinary failure' '
	test_must_fail sh -c "exit 1" && test_must_fail sh -c "exit 128" &&
	test_must_fail false
'
test_done
EOF

script t9003-when-finished <<'EOF'
test_plan 6
test_expect_success 'a body registers cleanups' '
	x=from-the-body &&
	test_when_finished "echo \"\$x\" >cleaned" &&
	touch marker && test_when_finished "rm marker"
'
test_expect_success 'they ran when that test ended, in its shell' '
	test ! -e marker && test "$(cat cleaned)" = from-the-body
'
test_expect_success 'a failing body runs its cleanup too' '
	test_when_finished "touch after-failure" && false
'
test_expect_success 'a cleanup that fails fails the test' '
	test_when_finished false && true
'
test_expect_success 'in a subshell of the body it is refused' '
	(test_when_finished "touch never")
'
test_expect_success 'the cleanup of the failing body ran' '
	test -e after-failure && test ! -e never
'
test_done
EOF

script t9004-short <<'EOF'
test_plan 3
test_expect_success 'one' 'true'
test_done
EOF
script t9005-stops <<'EOF'
test_plan 2
test_expect_success 'one' 'true'
exit 0
EOF
script t9006-unset <<'EOF'
test_plan 1
test_expect_success 'one' 'true'
echo "$no_such_variable"
test_done
EOF
script t9007-noplan <<'EOF'
test_expect_success 'one' 'true'
test_done
EOF
# no library: the lines a script prints, and then a status run.sh must see
cat >inner/tests/e2e/t9008-status.sh <<'EOF'
echo 1..1
echo "ok 1 - one"
echo "# t9008-status: 1 passed, 0 failed"
exit 3
EOF

test_expect_success 'a command that fails anywhere in a body fails the test' '
	run_inner t9000-set-e &&
	grep -q "^not ok 1 - a failing command in a loop" t9000-set-e.out &&
	grep -q "^not ok 2 - a failing command outside the chain" t9000-set-e.out &&
	test "$(cat t9000-set-e.rc)" = 1
'

test_expect_success 'a body with a broken &&-chain fails and is not run' '
	run_inner t9001-chain &&
	grep -q "^not ok 1 - a broken chain" t9001-chain.out &&
	grep -q "^#   broken &&-chain" t9001-chain.out &&
	grep -q "^ok 2 - only what follows the break ran" t9001-chain.out &&
	grep -q "^ok 3 - loops, if, case" t9001-chain.out
'

test_expect_success 'test_must_fail refuses signals, 126, 127 and above 128' '
	run_inner t9002-must-fail &&
	grep -q "^not ok 1 - a death by a signal" t9002-must-fail.out &&
	grep -q "test_must_fail: died by signal 11 (SIGSEGV)" t9002-must-fail.out &&
	grep -q "^not ok 2 - a command that is not there" t9002-must-fail.out &&
	grep -q "test_must_fail: command not found" t9002-must-fail.out &&
	grep -q "^not ok 3 - a command that cannot run" t9002-must-fail.out &&
	grep -q "test_must_fail: command could not be run" t9002-must-fail.out &&
	grep -q "^not ok 4 - a status above 128" t9002-must-fail.out &&
	grep -q "test_must_fail: exit status 255, above 128" t9002-must-fail.out &&
	grep -q "^ok 5 - an ordinary failure" t9002-must-fail.out
'

test_expect_success 'test_when_finished in a body runs when the test ends' '
	run_inner t9003-when-finished &&
	grep -q "^ok 1 " t9003-when-finished.out &&
	grep -q "^ok 2 " t9003-when-finished.out &&
	grep -q "^not ok 3 " t9003-when-finished.out &&
	grep -q "^not ok 4 - a cleanup that fails" t9003-when-finished.out &&
	grep -q "cleanup failed (status 1): false" t9003-when-finished.out &&
	grep -q "^not ok 5 - in a subshell" t9003-when-finished.out &&
	grep -q "^ok 6 " t9003-when-finished.out
'

test_expect_success 'run.sh fails a script that stops early or keeps no plan' '
	E2E_JOBS=1 TMPDIR="$TEST_ROOT/inner/tmp" \
	E2E_TESTS="t9004-short.sh t9005-stops.sh t9006-unset.sh t9007-noplan.sh t9008-status.sh" \
		sh inner/tests/e2e/run.sh >counts 2>log &&
	cat log counts &&
	printf "passed %s\nfailed %s\n" 1 2 1 1 1 1 1 1 1 1 >expect &&
	test_cmp expect counts &&
	grep -q "t9004-short: planned 3 tests, ran 1" log &&
	grep -q "t9005-stops: stopped before test_done (status 0) after test 1 of 2" log &&
	grep -q "t9006-unset: stopped before test_done (status 2) after test 1 of 1" log &&
	grep -q "t9007-noplan: no test_plan" log &&
	grep -q "run.sh: t9008-status.sh: exited with status 3" log
'

test_done
