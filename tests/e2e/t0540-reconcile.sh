#!/bin/sh
# The reconciler makes Docker match state with no command typed: after a
# simulated reboot (minpaas up stopped, the app containers stopped, minpaas
# up started again) every app answers again; a `docker stop` of a live
# container is undone, a `docker rm -f` of one is made anew on its port, a
# `docker restart` leaves nothing changed, an app
# stopped with ps:stop stays stopped; a container of this instance that no
# release owns is removed, one of another instance is not; and two
# instances on one daemon with the same app names never touch each other's
# containers or images. Each test prints its figure.
. "$(dirname "$0")/lib.sh"
test_plan 7

APP=$(app_name heal)
OTHER=$(app_name heal2)
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
figure() { echo "$*" >>"$TEST_ROOT/figures"; }
# answers APP BODY [PORT]: the app answers BODY through the router
answers() {
	test "$(curl -s --max-time 2 "http://$1.localhost:${3:-$HTTP_PORT}/")" = "$2"
}
web() {
	docker ps -aq --filter "label=minpaas.instance=$INST" \
		--filter "label=minpaas.app=$1" --filter label=minpaas.process=web
}
running() {
	test "$(docker inspect -f '{{.State.Running}}' "$(web "$1")")" = true
}
# gone PID: no such process, or only its zombie (its parent is this
# script's shell, which reaps it after the test)
gone() {
	gone_=$(ps -o stat= -p "$1") || return 0
	case $gone_ in Z*) return 0 ;; esac
	return 1
}
# stops the minpaas up started at top level, from a test body
stop_up() {
	kill "$MINPAAS_PID" && wait_for 30 gone "$MINPAAS_PID" &&
		wait_for 30 test_must_fail nc_ok "$SSH_PORT"
}
sweep() {
	"$MINPAAS_BUILD/minpaas-reconciler" --once
}

# deploy NAME BODY: pushes a one-file app answering BODY as app NAME
deploy() {
	mkdir -p "src-$1" && (
		cd "src-$1" && git init -q -b main . &&
		write_py_app "$2" && git add app.py && git commit -qm "$2" &&
		git push -q "ssh://git@127.0.0.1:$SSH_PORT/$1" main
	)
}

minpaas_start

test_expect_success 'a simulated reboot: every app answers again with no command typed' '
	deploy "$APP" one && deploy "$OTHER" two &&
	INST=$(mp_instance "$APP") && test -n "$INST" &&
	answers "$APP" one && answers "$OTHER" two &&
	stop_up &&
	docker stop -t 1 $(web "$APP") $(web "$OTHER") >/dev/null &&
	! running "$APP" && ! running "$OTHER" &&
	t0=$(now) &&
	{ "$MINPAAS_BUILD/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
		--bind 127.0.0.1 >>"$TEST_ROOT/minpaas.log" 2>&1 & } &&
	MINPAAS_PID=$! &&
	echo "$MINPAAS_PID" >"$TEST_ROOT/up.pid" &&
	wait_for 60 answers "$APP" one && wait_for 60 answers "$OTHER" two &&
	figure "after a simulated reboot both apps answer $(since "$t0") s after minpaas up started" &&
	grep -q "started minpaas-$INST.$APP.v1.web again" "$TEST_ROOT/minpaas.log"
'
# the minpaas up started in the test body is the one to stop at the end
MINPAAS_PID=$(cat "$TEST_ROOT/up.pid" 2>/dev/null || echo "$MINPAAS_PID")
INST=$(mp_instance "$APP")

test_expect_success 'docker stop of a live container: it runs again' '
	id=$(web "$APP") && t0=$(now) &&
	docker stop -t 1 "$id" >/dev/null &&
	wait_for 30 answers "$APP" one &&
	figure "docker stop of the web container: the app answers again after $(since "$t0") s" &&
	test "$(web "$APP")" = "$id"
'

test_expect_success 'docker rm -f of a live container: its process is made anew on the same port' '
	id=$(web "$APP") &&
	port=$(docker port "$id" 5000/tcp) && test -n "$port" &&
	t0=$(now) &&
	docker rm -f "$id" >/dev/null &&
	wait_for 30 answers "$APP" one &&
	figure "docker rm -f of the web container: the app answers again after $(since "$t0") s" &&
	test "$(web "$APP")" != "$id" &&
	test "$(docker port "$(web "$APP")" 5000/tcp)" = "$port" &&
	mp_ssh ps "$APP" >ps && cat ps && grep -q "^web  *running  *v1 " ps
'

test_expect_success 'docker restart of a live container: it answers, nothing else changes' '
	id=$(web "$APP") && t0=$(now) &&
	docker restart -t 1 "$id" >/dev/null &&
	wait_for 30 answers "$APP" one &&
	figure "docker restart of the web container: the app answers again after $(since "$t0") s" &&
	test "$(web "$APP")" = "$id" &&
	sweep 2>sweep.log && cat sweep.log && ! grep -q "started\\|removed" sweep.log &&
	mp_ssh releases "$APP" >rel && cat rel && grep -q "^\\* v1 .*live" rel
'

test_expect_success 'an app stopped with ps:stop stays stopped' '
	mp_ssh ps:stop "$OTHER" >/dev/null &&
	! running "$OTHER" &&
	sweep 2>sweep.log && cat sweep.log &&
	! running "$OTHER" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$OTHER.localhost:$HTTP_PORT/")" = 503 &&
	mp_ssh ps:start "$OTHER" >/dev/null && answers "$OTHER" two
'

test_expect_success 'a container of this instance that no release owns is removed; one of another instance is not' '
	mine=$(docker run -d --label minpaas.instance=$INST --label "minpaas.app=$APP" \
		--label minpaas.release=99 --label minpaas.process=web "$STACK" sleep 300) &&
	test_when_finished "docker rm -f $mine >/dev/null 2>&1 || :" &&
	theirs=$(docker run -d --label minpaas.instance=0ther000 --label "minpaas.app=$APP" \
		--label minpaas.release=99 --label minpaas.process=web "$STACK" sleep 300) &&
	test_when_finished "docker rm -f $theirs >/dev/null" &&
	t0=$(now) &&
	wait_for 30 test_must_fail docker inspect "$mine" &&
	figure "an orphan container of this instance removed $(since "$t0") s after it appeared" &&
	sweep 2>sweep.log && cat sweep.log &&
	test "$(docker inspect -f "{{.State.Running}}" "$theirs")" = true &&
	answers "$APP" one
'

test_expect_success 'two instances with the same app names never touch each other' '
	home1=$MINPAAS_HOME && ssh1=$SSH_PORT && http1=$HTTP_PORT &&
	MINPAAS_HOME=$TEST_ROOT/home2 && SSH_PORT=$(free_port) && HTTP_PORT=$(free_port) &&
	export MINPAAS_HOME SSH_PORT HTTP_PORT &&
	{ "$MINPAAS_BUILD/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
		--bind 127.0.0.1 >"$TEST_ROOT/minpaas2.log" 2>&1 & } &&
	up2=$! &&
	test_when_finished "kill $up2; wait $up2 || :" &&
	wait_for 20 nc_ok "$SSH_PORT" && wait_for 20 nc_ok "$HTTP_PORT" &&
	"$MINPAAS_BUILD/minpaas" keys:add tester --role admin <"$TEST_ROOT/id_ed25519.pub" >/dev/null &&
	rm -rf "src-$APP" && deploy "$APP" second &&
	answers "$APP" second && answers "$APP" one "$http1" &&
	inst2=$(docker ps --filter "label=minpaas.app=$APP" --format "{{.Label \"minpaas.instance\"}}" | grep -vx "$INST") &&
	test -n "$inst2" && test "$inst2" != "$INST" &&
	mp_ssh apps:destroy "$APP" --confirm "$APP" >/dev/null &&
	test -z "$(docker ps -aq --filter "label=minpaas.instance=$inst2" --filter "label=minpaas.app=$APP")" &&
	test -z "$(docker images -q --filter "label=minpaas.instance=$inst2" --filter "label=minpaas.app=$APP")" &&
	answers "$APP" one "$http1" &&
	test -n "$(docker images -q --filter "label=minpaas.instance=$INST" --filter "label=minpaas.app=$APP")" &&
	MINPAAS_HOME=$home1 "$MINPAAS_BUILD/minpaas-reconciler" --once 2>sweep.log &&
	cat sweep.log && ! grep -q removed sweep.log && answers "$APP" one "$http1"
'

[ -f "$TEST_ROOT/figures" ] && sed 's/^/# /' "$TEST_ROOT/figures"
test_done
