#!/bin/sh
# Status tells the truth: ps and apps:info show each process as it is
# (running, or crash-looping with its exit code and restart count), not as
# the last deploy left it; releases marks the current one
# and shows the ones it replaced as superseded.
. "$(dirname "$0")/lib.sh"
test_plan 3

APP=$(app_name truth)

# ps_field FIELD: FIELD of the web process in `ps --json`
ps_field() {
	mp_ssh ps "$APP" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])" "$1"
}
looping() { test "$(ps_field state)" = crash-looping; }
# crash-looping and down between two runs: its last exit status is known
looping_down() { looping && test "$(ps_field exit_code)" = 3; }

minpaas_start

# An app that answers, then exits with status 3 two seconds after it starts.
write_crashing_app() {
	write_py_app "$1" &&
	sed -i "1a import threading; threading.Timer(2, lambda: os._exit(3)).start()" app.py
}

test_expect_success 'an app that crashes after it went live shows as crash-looping, with its exit code and restarts' '
	git init -q -b main app && cd app &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	write_crashing_app crashy && git add app.py && git commit -qm crashy &&
	git push -q minpaas main &&
	wait_for 90 looping_down &&
	test "$(ps_field restarts)" -ge 3 &&
	mp_ssh ps "$APP" >ps && cat ps &&
	grep -q "^web  *crash-looping\( (3)\)\?  *v1  *[0-9]" ps &&
	mp_ssh apps:info "$APP" >info && cat info &&
	grep -q "^Status: *crash-looping: web restarted [0-9]* times" info &&
	! grep -q "^Status: *running" info
'

test_expect_success 'a fixed push runs again, with no restarts' '
	cd app && write_py_app fixed && git commit -qam fixed &&
	git push -q minpaas main &&
	test "$(ps_field state)" = running && test "$(ps_field restarts)" = 0 &&
	mp_ssh apps:info "$APP" >info && cat info && grep -q "^Status: *running$" info
'

test_expect_success 'releases marks the current release and shows the one it replaced as superseded' '
	mp_ssh releases "$APP" >rel && cat rel &&
	grep -q "^\* v2  *live" rel && grep -q "^  v1  *superseded" rel &&
	test "$(grep -c " live " rel)" = 1
'

test_done
