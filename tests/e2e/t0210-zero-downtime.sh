#!/bin/sh
# Deploys that never drop a request: a slow starter (listens only after a
# few seconds) goes live under a steady stream of requests through the
# router with no failed request and no fixed wait; a second push to the same
# app while the first deploys waits, says so, and then deploys.
. "$(dirname "$0")/lib.sh"
test_plan 4

APP=$(app_name slow)
export MINPAAS_HEALTH_TIMEOUT=30

get() {
	curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/"
}

minpaas_start

test_expect_success 'first release of a quick app' '
	git init -q -b main app && cd app &&
	write_py_app one 0 && git add app.py && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push -q minpaas main &&
	test "$(get)" = one
'

test_expect_success 'a slow starter deploys under load with no failed request' '
	{ python3 "$TEST_TOP/bench/steady.py" "$APP.localhost" "$HTTP_PORT" 120 \
		"$TEST_ROOT/steady" 2>"$TEST_ROOT/failures.log" & } &&
	load=$! &&
	test_when_finished "echo stop >\"$TEST_ROOT/steady\"" &&
	cd app && write_py_app two 3 && git commit -qam two &&
	git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 &&
	test "$(get)" = two &&
	sleep 3 && echo stop >"$TEST_ROOT/steady" && wait $load &&
	cat "$TEST_ROOT/steady.failures" "$TEST_ROOT/failures.log" &&
	grep -q "^requests [1-9][0-9]* failed 0$" "$TEST_ROOT/steady.failures"
'

test_expect_success 'the push says how long the slow starter took to answer' '
	grep "up after" "$TEST_ROOT/push2.out" &&
	secs=$(sed -n "s/.*up after \([0-9.]*\) s.*/\1/p" "$TEST_ROOT/push2.out") &&
	awk -v s="$secs" "BEGIN { exit !(s >= 3) }"
'

test_expect_success 'a second push while the first deploys waits and says so' '
	cd app && write_py_app three 3 && git commit -qam three &&
	head=$(git rev-parse HEAD) &&
	{ git push minpaas main >"$TEST_ROOT/push3.out" 2>&1 & } &&
	first=$! &&
	wait_for 20 sh -c "git ls-remote minpaas refs/heads/main | grep -q ^$head" &&
	write_py_app four 0 && git commit -qam four &&
	git push minpaas main >"$TEST_ROOT/push4.out" 2>&1 &&
	wait $first &&
	cat "$TEST_ROOT/push3.out" "$TEST_ROOT/push4.out" &&
	grep -q "waiting" "$TEST_ROOT/push4.out" &&
	test "$(get)" = four
'

test_done
