#!/bin/sh
# Operating an app over SSH: apps, apps:create, apps:info, ps, ps:stop,
# ps:start, ps:restart (no dropped request), domains (validated, unique,
# live at once, following a release), apps:destroy (refused without
# --confirm), --json output, help, version, an unknown command's closest
# match, and exit status 2 on missing arguments.
. "$(dirname "$0")/lib.sh"
test_plan 19

APP=$(app_name ops)
OTHER=$(app_name other)
DOM="www.$TEST_TAG.example.test"
export MINPAAS_HEALTH_TIMEOUT=10

# GET / answers "ok", GET /KEY the value of $KEY.
write_app() {
	cat >app.py <<'PY'
import http.server, os

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        k = self.path[1:]
        body = os.environ.get(k, "<unset>").encode() if k else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}

# get HOST [PATH]: the body; code HOST: the status.
get() {
	curl -sS --max-time 5 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT/${2:-}"
}
code() {
	curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$HTTP_PORT/"
}
# status CMD...: the exit status of mp_ssh CMD... (stderr to err).
status() {
	mp_ssh "$@" >out 2>err && echo 0 || echo $?
}

minpaas_start

test_expect_success 'apps:create makes an app; apps and apps --json list it' '
	mp_ssh apps:create "$APP" >out && cat out &&
	grep -q "^-----> Created $APP" out &&
	mp_ssh apps | grep -qx "$APP" &&
	mp_ssh apps --json >apps.json &&
	python3 -c "import json,sys; a=json.load(open(\"apps.json\")); assert [x for x in a if x[\"name\"]==\"$APP\" and x[\"release\"]==0 and x[\"owner\"]==\"tester\"], a"
'

test_expect_success 'apps:create refuses a taken name and an invalid one' '
	test "$(status apps:create "$APP")" = 1 && grep -q "exists already" err &&
	test "$(status apps:create Bad_Name)" = 2 && grep -q "invalid app name" err
'

test_expect_success 'push deploys the created app' '
	git init -q -b main app && cd app && write_app &&
	git add app.py && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push minpaas main >"$TEST_ROOT/push.out" 2>&1 &&
	test "$(get "$APP.localhost")" = ok
'

test_expect_success 'apps:info shows URL, runtime, release and a healthy web process' '
	mp_ssh apps:info "$APP" >info && cat info &&
	grep -q "^URL: *http://$APP.localhost:$HTTP_PORT/" info &&
	grep -q "^Runtime: *python" info &&
	grep -q "^Release: *v1 " info &&
	grep -q "^Status: *running" info &&
	grep -q "^  web  *running  *v1 .* up .*, answering" info &&
	mp_ssh apps:info "$APP" --json >info.json &&
	python3 -c "import json; i=json.load(open(\"info.json\")); assert i[\"status\"]==\"running\" and i[\"processes\"][0][\"answering\"] and i[\"processes\"][0][\"since\"]>0, i"
'

test_expect_success 'ps lists the web process with state, release and uptime' '
	mp_ssh ps "$APP" >ps && cat ps &&
	grep -q "^web  *running  *v1  *0  *[0-9]*[smhd]" ps &&
	mp_ssh ps "$APP" --json >ps.json &&
	python3 -c "import json; p=json.load(open(\"ps.json\")); assert p[0][\"type\"]==\"web\" and p[0][\"state\"]==\"running\" and p[0][\"release\"]==1, p"
'

test_expect_success 'domains:add serves the app on the new hostname at once' '
	mp_ssh domains:add "$APP" "WWW.$TEST_TAG.Example.Test" >out && cat out &&
	test "$(get "$DOM")" = ok &&
	mp_ssh domains "$APP" >doms && cat doms &&
	grep -qx "$APP.localhost (default)" doms && grep -qx "$DOM" doms &&
	mp_ssh domains "$APP" --json >doms.json &&
	python3 -c "import json; d=json.load(open(\"doms.json\")); assert d[\"domains\"]==[\"$DOM\"] and d[\"default\"]==\"$APP.localhost\", d"
'

test_expect_success 'domains:add refuses invalid hostnames (exit 2)' '
	test "$(status domains:add "$APP" "bad_host.example.com")" = 2 && grep -q "invalid hostname" err &&
	test "$(status domains:add "$APP" "$DOM:8080")" = 2 && grep -q "without a port" err &&
	test "$(status domains:add "$APP" "-x.example.com")" = 2 &&
	test "$(status domains:add "$APP" "a..example.com")" = 2 &&
	test "$(status domains:add "$APP" "10.0.0.1")" = 2 && grep -q "IP address" err &&
	long=$(python3 -c "print(\".\".join([\"a\"*60]*5))") &&
	test "$(status domains:add "$APP" "$long")" = 2
'

test_expect_success 'a domain is unique across apps, generated names included' '
	mp_ssh apps:create "$OTHER" >/dev/null &&
	test "$(status domains:add "$OTHER" "$DOM")" = 1 && cat err &&
	grep -q "$DOM is already in use by app .$APP." err &&
	test "$(status domains:add "$OTHER" "$APP.localhost")" = 1 && grep -q "under the platform domain" err &&
	test "$(status domains:add "$APP" "$DOM")" = 1 && grep -q "already a domain of $APP" err
'

test_expect_success 'a custom domain follows a new release' '
	mp_ssh env:set "$APP" MARK=two >/dev/null &&
	test "$(get "$DOM" MARK)" = two && test "$(get "$APP.localhost" MARK)" = two
'

test_expect_success 'ps:stop: every route of the app answers 503' '
	mp_ssh ps:stop "$APP" >out && cat out &&
	c1=$(code "$APP.localhost") && c2=$(code "$DOM") &&
	echo "the router answers $c1 and $c2 for a stopped app" &&
	curl -s --max-time 5 -H "Host: $DOM" "http://127.0.0.1:$HTTP_PORT/" &&
	test "$c1" = 503 && test "$c2" = 503 &&
	mp_ssh ps "$APP" >ps && cat ps && grep -q "stopped" ps &&
	grep -q "^web  *exited" ps &&
	mp_ssh apps:info "$APP" | grep -q "^Status: *stopped"
'

test_expect_success 'ps:start starts it again through a new release' '
	mp_ssh ps:start "$APP" >out 2>&1 && cat out &&
	test "$(get "$APP.localhost")" = ok && test "$(get "$DOM" MARK)" = two &&
	mp_ssh releases "$APP" | sed -n 3p | grep -q "^\* v3  *live  *start" &&
	mp_ssh ps:start "$APP" | grep -q "running already"
'

test_expect_success 'ps:restart drops no request' '
	{ python3 - "$HTTP_PORT" "$APP.localhost" >load.out 2>&1 <<-PY & } &&
	import http.client, sys, time, os
	ok = bad = 0
	end = time.time() + 60
	while time.time() < end and not os.path.exists("stop"):
	    try:
	        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
	        c.request("GET", "/", headers={"Host": sys.argv[2]})
	        r = c.getresponse(); r.read()
	        if r.status == 200: ok += 1
	        else: bad += 1
	        c.close()
	    except Exception:
	        bad += 1
	print(ok, bad)
	PY
	pid=$! &&
	test_when_finished "touch stop; wait $pid; cat out load.out" &&
	sleep 0.5 &&
	mp_ssh ps:restart "$APP" >out 2>&1 &&
	touch stop && wait $pid &&
	test "$(cut -d" " -f2 load.out)" = 0 && test "$(cut -d" " -f1 load.out)" -gt 10 &&
	mp_ssh releases "$APP" | sed -n 3p | grep -q "^\* v4  *live  *restart"
'

test_expect_success 'domains:remove takes the hostname out of the router' '
	mp_ssh domains:remove "$APP" "$DOM" >out && cat out &&
	test "$(code "$DOM")" = 404 &&
	test "$(status domains:remove "$APP" "$DOM")" = 1 && grep -q "not a domain of" err
'

test_expect_success 'releases --json' '
	mp_ssh releases "$APP" --json >rel.json &&
	python3 -c "import json; r=json.load(open(\"rel.json\")); assert r[0][\"version\"]==4 and r[0][\"current\"] and r[0][\"cause\"]==\"restart\" and len(r)==4, r"
'

test_expect_success 'apps:destroy refuses without --confirm and names the command' '
	test "$(status apps:destroy "$APP")" = 2 && cat err &&
	grep -q "apps:destroy $APP --confirm $APP" err &&
	test "$(status apps:destroy "$APP" --confirm "$OTHER")" = 2 &&
	test "$(get "$APP.localhost")" = ok
'

test_expect_success 'apps:destroy --confirm removes containers, images, repository, routes' '
	mp_ssh domains:add "$APP" "$DOM" >/dev/null &&
	mp_ssh apps:destroy "$APP" --confirm "$APP" >out && cat out &&
	grep -q "^-----> Destroyed $APP" out &&
	! mp_ssh apps | grep -qx "$APP" &&
	test "$(code "$APP.localhost")" = 404 && test "$(code "$DOM")" = 404 &&
	test ! -e "$MINPAAS_HOME/repos/$APP.git" &&
	sleep 3 &&
	test -z "$(docker ps -aq --filter "label=minpaas.app=$APP")" &&
	test -z "$(docker images -q --filter "label=minpaas.app=$APP")" &&
	test "$(status apps:info "$APP")" = 1 && grep -q "does not exist" err &&
	mp_ssh domains:add "$OTHER" "$DOM" >/dev/null
'

test_expect_success 'an unknown command answers with the closest one (exit 2)' '
	test "$(status aps)" = 2 && cat err && grep -q "did you mean .apps." err &&
	test "$(status domain:add x y)" = 2 && grep -q "did you mean .domains:add." err &&
	test "$(status ps:stp)" = 2 && grep -q "did you mean .ps:stop." err &&
	test "$(status help nope)" = 2
'

test_expect_success 'missing arguments are usage errors (exit 2)' '
	test "$(status apps:destroy)" = 2 && grep -q usage err &&
	test "$(status domains:add)" = 2 && grep -q usage err &&
	test "$(status domains:remove)" = 2 &&
	test "$(status access:grant "$OTHER")" = 2 && grep -q usage err &&
	test "$(status access:revoke)" = 2 &&
	test "$(status keys:add)" = 2 &&
	test "$(status keys:remove)" = 2 &&
	test "$(status env:get)" = 2 &&
	test "$(status env:set)" = 2 &&
	test "$(status env:unset)" = 2 &&
	test "$(status rollback a b c)" = 2 &&
	test "$(status logs -n)" = 2 &&
	test "$(status ps a b)" = 2
'

test_expect_success 'help lists every command, one line each; help CMD; version' '
	mp_ssh help >help && cat help &&
	for c in apps apps:create apps:info apps:destroy ps ps:stop ps:start ps:restart \
		domains domains:add domains:remove keys keys:add keys:remove \
		access:grant access:revoke env env:set releases rollback logs help version; do
		grep -q "^  $c  " help || { echo "missing $c"; exit 1; }
	done &&
	mp_ssh help ps:restart | grep -q "^usage: ps:restart" &&
	mp_ssh version | grep -q "^minpaas [0-9]"
'

test_done
