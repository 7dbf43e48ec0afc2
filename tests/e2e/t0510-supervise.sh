#!/bin/sh
# minpaas up keeps its children running: kill -9 of the router or of the
# SSH server under load, and each is back with nothing else stopped; a
# second `minpaas up` on the same home refuses while the first runs; kill
# -9 of `minpaas up` takes its children with it, and the next one starts
# cleanly on the same home and ports. Each test prints its figure (time
# until requests succeed again, requests failed of total).
. "$(dirname "$0")/lib.sh"
test_plan 5

APP=$(app_name sup)
URL="http://$APP.localhost"

# child NAME: the pid of minpaas up's child NAME (minpaas-router, ...)
child() {
	pgrep -P "$MINPAAS_PID" -x "$1"
}

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
answers() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL:$HTTP_PORT/" | grep -q 200; }
figure() { echo "$*" >>"$TEST_ROOT/figures"; }

# load NAME: steady requests on the app (4 keep-alive clients) until
# load_end NAME; then "requests N failed M" is in $TEST_ROOT/NAME.failures
load() {
	python3 "$TEST_TOP/bench/steady.py" "$APP.localhost" "$HTTP_PORT" 60 \
		"$TEST_ROOT/$1" 2>"$TEST_ROOT/$1.log"
}
load_end() {
	echo stop >"$TEST_ROOT/$1"
}

# kill_under_load CHILD PROBE...: kill -9 of minpaas up's CHILD while the
# app is under load, then waits until PROBE succeeds again. Leaves the
# killed pid in $pid, the seconds it took in $back and the load's count in
# $TEST_ROOT/CHILD.failures. Call it in a test body.
kill_under_load() {
	kname=$1 && shift &&
	pid=$(child "$kname") && test -n "$pid" &&
	{ load "$kname" & } && lpid=$! &&
	test_when_finished "load_end $kname; wait $lpid 2>/dev/null || :" &&
	sleep 1 &&
	t0=$(now) && kill -9 "$pid" &&
	wait_for 20 "$@" &&
	back=$(since "$t0") &&
	sleep 1 && load_end "$kname" && wait $lpid
}

minpaas_start

test_expect_success 'push an app' '
	git init -q -b main app && cd app &&
	write_py_app sup && git add app.py && git commit -qm sup &&
	git push -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" main &&
	answers
'

test_expect_success 'kill -9 of the router: it is back, requests succeed again' '
	kill_under_load minpaas-router answers &&
	figure "router killed: requests succeed again after $back s;" \
		"$(cat "$TEST_ROOT/minpaas-router.failures")" &&
	new=$(child minpaas-router) && test -n "$new" && test "$new" != "$pid" &&
	grep "minpaas-router killed by signal 9; restarting" "$TEST_ROOT/minpaas.log"
'

test_expect_success 'kill -9 of sshd: no HTTP request fails, ssh works again' '
	kill_under_load minpaas-sshd mp_ssh apps &&
	figure "sshd killed: ssh minpaas apps works again after $back s;" \
		"$(cat "$TEST_ROOT/minpaas-sshd.failures")" &&
	grep -q "^requests [1-9][0-9]* failed 0$" "$TEST_ROOT/minpaas-sshd.failures" &&
	mp_ssh apps >apps && grep "$APP" apps &&
	grep "minpaas-sshd killed by signal 9; restarting" "$TEST_ROOT/minpaas.log"
'

test_expect_success 'a second minpaas up on the same home refuses' '
	test_expect_code 1 timeout 20 "$MINPAAS_BUILD/minpaas" up \
		--ssh-port "$(free_port)" \
		--http-port "$(free_port)" --bind 127.0.0.1 2>err &&
	grep "minpaas is already up for MINPAAS_HOME=$MINPAAS_HOME (pid $MINPAAS_PID)" err &&
	answers
'

test_expect_success 'kill -9 of minpaas up: its children end; the next one starts cleanly' '
	router=$(child minpaas-router) && sshd=$(child minpaas-sshd) &&
	test -n "$router" && test -n "$sshd" &&
	test_when_finished "kill $router $sshd 2>/dev/null || :" &&
	kill -9 "$MINPAAS_PID" && { wait "$MINPAAS_PID" 2>/dev/null || :; } &&
	gone() { ! kill -0 "$router" 2>/dev/null && ! kill -0 "$sshd" 2>/dev/null; } &&
	wait_for 20 gone &&
	t0=$(now) &&
	{ "$MINPAAS_BUILD/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
		--bind 127.0.0.1 >"$TEST_ROOT/minpaas2.log" 2>&1 & } &&
	MINPAAS_PID=$! &&
	test_when_finished "kill $MINPAAS_PID; wait $MINPAAS_PID" &&
	wait_for 20 answers && wait_for 20 mp_ssh apps &&
	figure "minpaas up killed: the next one serves after $(since "$t0") s"
'

[ -f "$TEST_ROOT/figures" ] && sed 's/^/# /' "$TEST_ROOT/figures"
test_done
