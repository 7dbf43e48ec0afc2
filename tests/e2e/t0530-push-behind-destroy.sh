#!/bin/sh
# The app rules where they meet: a push that waited for the app's lock
# while apps:destroy held it finds no app, says so, fails and brings
# nothing back (no app, release, route or container); the name is free
# afterwards; and no app can take another app's "<name>.<domain>": it is
# reserved under the platform domain, so a new app of that name gets it.
. "$(dirname "$0")/lib.sh"
test_plan 4

APP=$(app_name gone)
OWNER=$(app_name owner)
TAKEN=$(app_name taken)
export MINPAAS_HEALTH_TIMEOUT=20

# get HOST: the body the router answers for HOST; code HOST: its status.
get() {
	curl -sS --max-time 5 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT/"
}
code() {
	curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$HTTP_PORT/"
}
# in_state DB NAME: NAME appears in a key or value of the LMDB db DB (a
# dump that fails ends the test rather than finding nothing).
in_state() {
	mdb_dump -p -s "$1" "$MINPAAS_HOME/state" >"$TEST_ROOT/dump.$1" ||
		{ echo "mdb_dump -s $1 failed"; exit 1; }
	grep -q -- "$2" "$TEST_ROOT/dump.$1"
}

minpaas_start

test_expect_success 'setup: an app whose worker takes 10 s to stop' '
	git init -q -b main app && cd app && write_py_app up &&
	printf "web: python3 app.py\nworker: trap \"\" TERM; while :; do sleep 1; done\n" >Procfile &&
	git add . && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push minpaas main >"$TEST_ROOT/push1.out" 2>&1 &&
	test "$(get "$APP.localhost")" = up &&
	test -n "$(docker ps -q --filter "label=minpaas.app=$APP" --filter label=minpaas.process=worker)"
'

# apps:destroy holds the app's lock while Docker waits out the worker's
# grace period (it ignores SIGTERM); the push starts once destroy has the
# lock and must say that it waits. Its objects stay in one pack (as a
# large push's do), which the hook holds open: destroy removing the
# repository does not keep it from reading the tree, so only the app's
# absence stops it.
test_expect_success 'a push queued behind apps:destroy fails and brings nothing back' '
	git --git-dir="$MINPAAS_HOME/repos/$APP.git" config receive.unpackLimit 1 &&
	cd app && write_py_app two && echo "# two" >>Procfile &&
	git add . && git commit -qm two &&
	{ mp_ssh apps:destroy "$APP" --confirm "$APP" >"$TEST_ROOT/destroy.out" 2>&1 & } &&
	destroy=$! &&
	wait_for 30 grep -q "^-----> Destroying $APP" "$TEST_ROOT/destroy.out" &&
	{ git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 & } &&
	push=$! &&
	wait_for 20 grep -q "waiting for it to finish" "$TEST_ROOT/push2.out" &&
	wait "$destroy" && cat "$TEST_ROOT/destroy.out" &&
	grep -q "^-----> Destroyed $APP" "$TEST_ROOT/destroy.out" &&
	test_must_fail wait "$push" && cat "$TEST_ROOT/push2.out" &&
	grep -q "^remote:  !     $APP was destroyed while this push waited; nothing was deployed" "$TEST_ROOT/push2.out" &&
	! grep -q "Building\|Released" "$TEST_ROOT/push2.out" &&
	! mp_ssh apps | grep -qx "$APP" &&
	test_must_fail mp_ssh apps:info "$APP" 2>err && grep -q "does not exist" err &&
	! in_state apps "$APP" && ! in_state releases "$APP" &&
	! in_state routes "$APP" && ! in_state ports "$APP" &&
	test "$(code "$APP.localhost")" = 404 &&
	test -z "$(docker ps -aq --filter "label=minpaas.app=$APP")" &&
	test ! -e "$MINPAAS_HOME/repos/$APP.git" &&
	test -e "$MINPAAS_HOME/locks/$APP.lock"
'

test_expect_success 'the name is free again: the next push makes a new app' '
	cd app && git push minpaas main >"$TEST_ROOT/push3.out" 2>&1 &&
	cat "$TEST_ROOT/push3.out" &&
	grep -q "Building $APP v1" "$TEST_ROOT/push3.out" &&
	test "$(get "$APP.localhost")" = two
'

test_expect_success 'deploy:tar and deploy:image cannot take another app'"'"'s hostname' '
	mkdir site && cd site && echo "<p>owner</p>" >index.html &&
	tar c . | mp_ssh deploy:tar "$OWNER" >"$TEST_ROOT/owner.out" 2>&1 &&
	test_must_fail mp_ssh domains:add "$OWNER" "$TAKEN.localhost" 2>err &&
	grep -q "under the platform domain" err &&
	test "$(get "$TAKEN.localhost")" != "<p>owner</p>" &&
	echo "<p>taken</p>" >index.html &&
	tar c . | mp_ssh deploy:tar "$TAKEN" >"$TEST_ROOT/tar.out" 2>&1 &&
	cat "$TEST_ROOT/tar.out" &&
	test "$(get "$TAKEN.localhost")" = "<p>taken</p>" &&
	test "$(get "$OWNER.localhost")" = "<p>owner</p>"
'

test_done
