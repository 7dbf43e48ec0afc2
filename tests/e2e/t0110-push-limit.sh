#!/bin/sh
# A push larger than the cap (MINPAAS_MAX_PUSH, git's receive.maxInputSize)
# is refused by the server with git's own reason, nothing is deployed or
# stored, and a push within the cap still deploys.
. "$(dirname "$0")/lib.sh"
test_plan 2

APP=$(app_name capped)
export MINPAAS_MAX_PUSH=1m

minpaas_start

test_expect_success 'a push over the cap is refused' '
	git init -q -b main app && cd app &&
	write_py_app small && git add app.py &&
	head -c 3000000 /dev/urandom >blob.bin && git add blob.bin &&
	git commit -qm big &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push1.out" 2>&1 &&
	cat "$TEST_ROOT/push1.out" &&
	grep -q "maximum allowed size" "$TEST_ROOT/push1.out" &&
	test -z "$(git ls-remote minpaas refs/heads/main)"
'

test_expect_success 'a push within the cap deploys' '
	cd app && git rm -q --cached blob.bin && rm blob.bin &&
	git commit -q --amend -m small &&
	git push -q minpaas main &&
	test "$(curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/")" = small
'

test_done
