#!/bin/sh
# The whole path with real parts: git push over SSH to minpaas-sshd, the
# post-receive hook builds with dockerd, the release goes live, the router
# answers by Host header; failures keep the previous release serving.
. "$(dirname "$0")/lib.sh"
test_plan 13

APP=$(app_name hello)
export MINPAAS_HEALTH_TIMEOUT=8

get() {
	curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/"
}

minpaas_start
test_expect_success 'minpaas up starts the SSH server and the router' '
	nc_ok "$SSH_PORT" && nc_ok "$HTTP_PORT"
'

test_expect_success 'first git push builds and deploys a Python app' '
	git init -q -b main app && cd app &&
	write_py_app "hello v1" && git add app.py && git commit -qm v1 &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push minpaas main >"$TEST_ROOT/push1.out" 2>&1 &&
	cat "$TEST_ROOT/push1.out" &&
	grep -q "^remote: -----> Detected python" "$TEST_ROOT/push1.out" &&
	grep -q "^remote:        " "$TEST_ROOT/push1.out" &&
	grep -q "^remote: -----> .*http://$APP.localhost:$HTTP_PORT/" "$TEST_ROOT/push1.out"
'

test_expect_success 'the app answers through the router when the push returns' '
	test "$(get)" = "hello v1"
'

test_expect_success 'an unknown host gets 404 from the router' '
	code=$(curl -s -o /dev/null -w "%{http_code}" "http://nope.localhost:$HTTP_PORT/") &&
	test "$code" = 404
'

test_expect_success 'ssh apps lists the app' '
	mp_ssh apps >apps.out && cat apps.out && grep -qx "$APP" apps.out
'

test_expect_success 'a second push replaces the running container' '
	cd app && write_py_app "hello v2" && git commit -qam v2 &&
	git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 &&
	test "$(get)" = "hello v2" &&
	test "$(docker ps -q --filter label=minpaas.app=$APP | wc -l)" -le 2 &&
	wait_for 30 sh -c "test \$(docker ps -q --filter label=minpaas.app=$APP | wc -l) = 1"
'

test_expect_success 'scp-style remotes work too' '
	cd app && write_py_app "hello v3" && git commit -qam v3 &&
	GIT_SSH_COMMAND="$GIT_SSH_COMMAND -p $SSH_PORT" \
		git push "git@127.0.0.1:$APP" main >"$TEST_ROOT/push3.out" 2>&1 &&
	test "$(get)" = "hello v3"
'

test_expect_success 'an app that exits fails the push with its last log lines' '
	cd app && cat >app.py <<-PY &&
	import sys
	print("booting and giving up", flush=True)
	sys.exit(3)
	PY
	git commit -qam crash &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push4.out" 2>&1 &&
	cat "$TEST_ROOT/push4.out" &&
	grep -q "booting and giving up" "$TEST_ROOT/push4.out" &&
	grep -q "^remote:  !     " "$TEST_ROOT/push4.out" &&
	test "$(get)" = "hello v3"
'

test_expect_success 'the failed push put the branch back, so the same commit retries' '
	cd app &&
	test "$(git ls-remote minpaas refs/heads/main | cut -f1)" = "$(git rev-parse HEAD~1)"
'

test_expect_success 'an app that never listens on $PORT fails the push' '
	cd app && git reset -q --hard HEAD~1 &&
	printf "import time\nprint(\"not listening\", flush=True)\ntime.sleep(600)\n" >app.py &&
	git commit -qam sleeper &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push5.out" 2>&1 &&
	cat "$TEST_ROOT/push5.out" &&
	grep -q "did not answer" "$TEST_ROOT/push5.out" &&
	grep -q "not listening" "$TEST_ROOT/push5.out" &&
	test "$(get)" = "hello v3"
'

test_expect_success 'a Dockerfile that does not build fails the push' '
	cd app && git reset -q --hard HEAD~1 &&
	printf "FROM %s\nRUN echo about to fail && exit 3\n" "${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}" >Dockerfile &&
	git add Dockerfile && git commit -qm broken &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push6.out" 2>&1 &&
	cat "$TEST_ROOT/push6.out" &&
	grep -q "about to fail" "$TEST_ROOT/push6.out" &&
	grep -qi "build failed" "$TEST_ROOT/push6.out" &&
	test "$(get)" = "hello v3"
'

test_expect_success 'a key that was not added is refused' '
	ssh-keygen -q -t ed25519 -N "" -f stranger &&
	test_expect_code 255 ssh -i stranger -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
		-p "$SSH_PORT" git@127.0.0.1 apps 2>err &&
	cat err && grep -q "Permission denied (publickey)" err
'

test_expect_success 'an invalid app name is refused with a reason' '
	cd app &&
	test_must_fail git push "ssh://git@127.0.0.1:$SSH_PORT/Bad_Name" main >"$TEST_ROOT/push7.out" 2>&1 &&
	cat "$TEST_ROOT/push7.out" &&
	grep -qi "invalid app name" "$TEST_ROOT/push7.out"
'

test_done
