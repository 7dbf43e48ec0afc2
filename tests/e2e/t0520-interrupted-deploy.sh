#!/bin/sh
# A deploy whose hook is killed fails the push: git push exits non-zero
# with a line saying the deploy was interrupted, the release is marked
# failed, the branch is put back so the same commit retries, and the
# reconciler removes the container the deploy left; the release that
# served keeps serving. Killed after the route switch, while it stops the
# previous release's processes, the new release serves and the reconciler
# removes what the old one left. Each test prints its figure.
. "$(dirname "$0")/lib.sh"
test_plan 5

APP=$(app_name cut)
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}
URL="http://$APP.localhost"

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
figure() { echo "$*" >>"$TEST_ROOT/figures"; }
body() { curl -s --max-time 2 "$URL:$HTTP_PORT/"; }

# The pid of the hook this run's minpaas runs (a descendant of minpaas up
# named post-receive), empty when none runs.
hook_pid() {
	ps -eo pid=,ppid=,comm= | awk -v root="$MINPAAS_PID" '
		{ parent[$1] = $2; name[$1] = $3 }
		END {
			for (p in name) {
				if (name[p] != "post-receive") continue
				for (q = parent[p]; q != "" && q != 0 && q != 1; q = parent[q])
					if (q == root) { print p; break }
			}
		}'
}
hook_running() { test -n "$(hook_pid)"; }

# push_bg NAME: git push in the background, output in NAME.out, status in
# NAME.rc once it ended
push_bg() {
	push_rc_=0
	git push minpaas main >"$TEST_ROOT/$1.out" 2>&1 || push_rc_=$?
	echo "$push_rc_" >"$TEST_ROOT/$1.rc"
}
ended() { test -s "$TEST_ROOT/$1.rc"; }
# containers of release N of the app
release_containers() {
	docker ps -aq --filter "label=minpaas.app=$APP" --filter "label=minpaas.release=$1"
}
no_containers() { test -z "$(release_containers "$1")"; }

# A Procfile whose worker ignores SIGTERM: stopping it takes the whole
# grace period, long enough to kill the hook while it does.
write_procfile() {
	cat >Procfile <<-'EOF'
	web: python3 app.py
	worker: trap "" TERM; while :; do sleep 1; done
	EOF
}

minpaas_start

# A Dockerfile app: RUN sleeps BUILD seconds, the app waits START seconds
# before it listens.
write_app() {
	printf 'FROM %s\nRUN echo %s && sleep %s\nCOPY app.py /app.py\nCMD ["python3", "/app.py"]\n' \
		"$STACK" "$1" "$2" >Dockerfile &&
	write_py_app "$1" "$3"
}

test_expect_success 'a hook killed in the build fails the push and puts the branch back' '
	git init -q -b main app && cd app &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	write_app one 8 0 && git add . && git commit -qm one &&
	{ push_bg build & } &&
	wait_for 60 grep -q "sleep 8" "$TEST_ROOT/build.out" &&
	pid=$(hook_pid) && test -n "$pid" &&
	t0=$(now) && kill -9 $pid &&
	wait_for 30 ended build && took=$(since "$t0") &&
	cat "$TEST_ROOT/build.out" &&
	test "$(cat "$TEST_ROOT/build.rc")" != 0 &&
	grep -q "The deploy of $APP was interrupted" "$TEST_ROOT/build.out" &&
	grep -q "v1 marked failed; nothing was deployed" "$TEST_ROOT/build.out" &&
	grep -q "branch .main. put back" "$TEST_ROOT/build.out" &&
	mp_ssh releases "$APP" >rel && cat rel &&
	grep -q "v1 .*failed" rel &&
	test -z "$(git ls-remote minpaas refs/heads/main)" &&
	figure "killed in the build: git push failed after $took s"
'

test_expect_success 'the same commit pushed again deploys' '
	cd app &&
	git push minpaas main >again.out 2>&1 && cat again.out &&
	! grep -q "Everything up-to-date" again.out &&
	test "$(body)" = one
'

test_expect_success 'a hook killed in the health check: the previous release serves, the reconciler removes the new container' '
	cd app &&
	write_app two 0 30 && git commit -qam two &&
	{ push_bg health & } &&
	wait_for 90 grep -q "waiting for it to answer" "$TEST_ROOT/health.out" &&
	n=$(mp_ssh releases "$APP" --json | python3 -c "import json,sys; print(max(r[\"version\"] for r in json.load(sys.stdin)))") &&
	test -n "$(release_containers "$n")" &&
	pid=$(hook_pid) && test -n "$pid" &&
	t0=$(now) && kill -9 $pid &&
	wait_for 30 ended health &&
	cat "$TEST_ROOT/health.out" &&
	test "$(cat "$TEST_ROOT/health.rc")" != 0 &&
	grep -q "v$n marked failed; v$((n - 1)) keeps serving" "$TEST_ROOT/health.out" &&
	test "$(body)" = one &&
	wait_for 60 no_containers "$n" && gone=$(since "$t0") &&
	mp_ssh releases "$APP" >rel && cat rel &&
	grep -q "v$n .*failed" rel &&
	test "$(git ls-remote minpaas refs/heads/main | cut -c1-40)" = "$(git rev-parse HEAD~1)" &&
	figure "killed in the health check: its container removed $gone s after the kill"
'

test_expect_success 'only the live release'"'"'s container is left, and a sweep finds nothing to do' '
	cur=$(mp_ssh releases "$APP" --json | python3 -c "import json,sys; print([r[\"version\"] for r in json.load(sys.stdin) if r[\"current\"] and r[\"status\"] == \"live\"][0])") &&
	docker ps -a --filter "label=minpaas.app=$APP" --format "{{.Label \"minpaas.release\"}}" >left &&
	echo "$cur" >expect && test_cmp expect left &&
	"$MINPAAS_BUILD/minpaas-reconciler" --once 2>sweep.log && cat sweep.log &&
	! grep -q "removed\|given back\|marked failed" sweep.log
'

test_expect_success 'a hook killed after the route switch: the new release serves, the old one'"'"'s processes go' '
	APP=$(app_name cut2) && URL="http://$APP.localhost" &&
	git init -q -b main app2 && cd app2 &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	write_py_app first &&
	write_procfile &&
	git add . && git commit -qm first && git push -q minpaas main &&
	test "$(body)" = first &&
	test -n "$(docker ps -q --filter "label=minpaas.app=$APP" --filter label=minpaas.release=1 --filter label=minpaas.process=worker)" &&
	write_py_app second && git commit -qam second &&
	{ push_bg switch & } &&
	wait_for 90 grep -q "Released v2" "$TEST_ROOT/switch.out" &&
	wait_for 30 grep -q "worker: " "$TEST_ROOT/switch.out" &&
	pid=$(hook_pid) && test -n "$pid" &&
	t0=$(now) && kill -9 $pid &&
	wait_for 30 ended switch && cat "$TEST_ROOT/switch.out" &&
	test "$(cat "$TEST_ROOT/switch.rc")" != 0 &&
	grep -q "The deploy of $APP was interrupted" "$TEST_ROOT/switch.out" &&
	grep -q "v2 is live" "$TEST_ROOT/switch.out" &&
	test "$(body)" = second &&
	wait_for 90 no_containers 1 && gone=$(since "$t0") &&
	test "$(docker ps -q --filter "label=minpaas.app=$APP" --filter label=minpaas.release=2 | wc -l)" = 2 &&
	mp_ssh releases "$APP" >rel && cat rel &&
	grep -q "^\* v2  *live" rel && grep -q "^  v1  *superseded" rel &&
	figure "killed after the route switch: the old release'"'"'s processes removed $gone s after the kill"
'

[ -f "$TEST_ROOT/figures" ] && sed 's/^/# /' "$TEST_ROOT/figures"
test_done
