#!/bin/sh
# A build that runs past its time limit (MINPAAS_BUILD_TIMEOUT) fails the
# push with the reason, leaves no build container running, and the previous
# release keeps serving.
. "$(dirname "$0")/lib.sh"
test_plan 2

APP=$(app_name limited)
export MINPAAS_BUILD_TIMEOUT=4
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

get() {
	curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/"
}


minpaas_start

test_expect_success 'a first release' '
	git init -q -b main app && cd app &&
	write_py_app one &&
	git add app.py && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push -q minpaas main && test "$(get)" = one
'

test_expect_success 'a build past its time limit fails and leaves nothing running' '
	cd app &&
	printf "FROM %s\nRUN echo building slowly && sleep 300\n" "$STACK" >Dockerfile &&
	git add Dockerfile && git commit -qm slow &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 &&
	cat "$TEST_ROOT/push2.out" &&
	grep -q "took longer than 4 seconds" "$TEST_ROOT/push2.out" &&
	wait_for 30 sh -c "test \$(docker ps --no-trunc --filter ancestor=$STACK --format {{.Command}} | grep -c \"sleep 300\") = 0" &&
	test "$(get)" = one
'

test_done
