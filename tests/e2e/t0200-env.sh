#!/bin/sh
# Config and releases over SSH: env:set values with spaces, quotes, $() and
# newlines reach the app byte for byte; env prints lines that paste back;
# env:get, env:unset, --no-restart; PORT and bad keys refused; releases lists
# newest first with the current one marked; rollback brings back the previous
# release's code and config; logs shows the app's output and follows it
# across a redeploy; another key cannot see the app.
. "$(dirname "$0")/lib.sh"
test_plan 16

APP=$(app_name cfg)
export MINPAAS_HEALTH_TIMEOUT=10

# GET /KEY answers the raw bytes of $KEY ("<unset>" when unset); GET / the
# code's version.
write_app() {
	cat >app.py <<PY
import http.server, os

print("booted $1 MARK=" + os.environ.get("MARK", "-"), flush=True)

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        k = self.path[1:]
        body = os.environb.get(k.encode(), b"<unset>") if k else b"$1"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}

get() {
	curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/${1:-}"
}

# The command line as ssh sends it: one string, quoted for minpaas's
# POSIX-shell-like splitter (never a shell).
cat >"$TEST_ROOT/setcmd" <<'CMD'
env:set APPNAME 'SPACES=b c' 'DQ=say "hi"' 'SUBST=$(id) `id` ${HOME}' 'SQ=it'\''s' 'NL=line1
line2' BS='back\slash' "EQ=a=b"
CMD

expect_var() {
	get "$1" >"$TEST_ROOT/got" &&
	printf '%s' "$2" >"$TEST_ROOT/want" &&
	cmp "$TEST_ROOT/want" "$TEST_ROOT/got"
}

nreleases() {
	mp_ssh releases "$APP" | grep -c '^[* ] v[0-9]'
}

minpaas_start

test_expect_success 'push an app that echoes its env' '
	git init -q -b main app && cd app &&
	write_app one && git add app.py && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push minpaas main >"$TEST_ROOT/push1.out" 2>&1 &&
	test "$(get)" = one
'

test_expect_success 'env:set values with spaces, quotes, $() and newlines arrive byte for byte' '
	mp_ssh "$(sed "s/APPNAME/$APP/" "$TEST_ROOT/setcmd")" >set.out 2>&1 &&
	cat set.out &&
	grep -q "^-----> Setting config vars and restarting $APP" set.out &&
	grep -q "^-----> Released v2" set.out &&
	expect_var SPACES "b c" &&
	expect_var DQ "say \"hi\"" &&
	expect_var SUBST "\$(id) \`id\` \${HOME}" &&
	expect_var SQ "it'"'"'s" &&
	expect_var NL "line1
line2" &&
	expect_var BS "back\\slash" &&
	expect_var EQ "a=b"
'

test_expect_success 'env lists KEY=VALUE lines quoted as a shell would' '
	mp_ssh env "$APP" >env.out && cat env.out &&
	grep -qx "SPACES='"'"'b c'"'"'" env.out &&
	grep -qx "EQ=a=b" env.out &&
	grep -qx "SQ='"'"'it'"'"'\\\\'"'"''"'"'s'"'"'" env.out &&
	test "$(wc -l <env.out)" = 8
'

test_expect_success 'env output pastes back into env:set unchanged' '
	mp_ssh "env:set $APP --no-restart $(cat env.out)" &&
	mp_ssh env "$APP" >env2.out && test_cmp env.out env2.out
'

test_expect_success 'env:get prints the raw value; unset keys exit 1' '
	test "$(mp_ssh env:get "$APP" SQ)" = "it'"'"'s" &&
	test "$(mp_ssh config:get "$APP" NL)" = "line1
line2" &&
	test_must_fail mp_ssh env:get "$APP" NOPE 2>err && grep -q "NOPE is not set" err
'

test_expect_success 'with one app, the app argument may be left out' '
	test "$(mp_ssh env:get SPACES)" = "b c" &&
	mp_ssh env >env3.out && test_cmp env.out env3.out
'

test_expect_success 'env:unset removes a var and restarts' '
	mp_ssh env:unset "$APP" BS >unset.out 2>&1 && cat unset.out &&
	grep -q "^-----> Released v3" unset.out &&
	expect_var BS "<unset>" && expect_var SPACES "b c"
'

test_expect_success '--no-restart stores without a release' '
	n=$(nreleases) &&
	mp_ssh config:set "$APP" LATER=yes --no-restart &&
	test "$(nreleases)" = "$n" &&
	test "$(mp_ssh env:get "$APP" LATER)" = yes &&
	expect_var LATER "<unset>"
'

test_expect_success 'PORT belongs to the platform' '
	test_must_fail mp_ssh env:set "$APP" PORT=1234 2>err && cat err &&
	grep -q "^ !     PORT is set by minpaas" err &&
	test_must_fail mp_ssh env:unset "$APP" PORT 2>err &&
	test "$(get PORT)" = 5000
'

test_expect_success 'invalid keys are refused with a reason' '
	test_must_fail mp_ssh env:set "$APP" 1BAD=x 2>err && grep -q "invalid key" err &&
	test_must_fail mp_ssh env:set "$APP" BAD-KEY=x 2>err && grep -q "invalid key" err &&
	test_must_fail mp_ssh env:set "$APP" 2>err && grep -q "usage" err &&
	test "$(mp_ssh env:get "$APP" LATER)" = yes
'

test_expect_success 'releases lists newest first and marks the current one' '
	mp_ssh releases "$APP" >rel.out && cat rel.out &&
	sed -n 3p rel.out | grep -q "^\* v3  *live  *env  *tester" &&
	sed -n 4p rel.out | grep -q "^  v2  *[a-z]*  *env" &&
	sed -n 5p rel.out | grep -q "^  v1  *[a-z]*  *push  *tester  *$(cd app && git rev-parse --short=7 HEAD)"
'

test_expect_success 'rollback goes back to the previous release: code and env' '
	cd app && write_app two && git commit -qam two &&
	mp_ssh env:set "$APP" MARK=before-two --no-restart &&
	git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 &&
	test "$(get)" = two && expect_var MARK before-two &&
	mp_ssh env:set "$APP" MARK=after-two >/dev/null &&
	expect_var MARK after-two &&
	mp_ssh rollback "$APP" >"$TEST_ROOT/rb.out" 2>&1 && cat "$TEST_ROOT/rb.out" &&
	grep -q "^-----> Rolling back $APP to v4" "$TEST_ROOT/rb.out" &&
	test "$(get)" = two && expect_var MARK before-two &&
	test "$(mp_ssh env:get "$APP" MARK)" = before-two &&
	mp_ssh rollback "$APP" v3 >"$TEST_ROOT/rb2.out" 2>&1 &&
	test "$(get)" = one && expect_var MARK "<unset>" && expect_var SQ "it'"'"'s" &&
	mp_ssh releases "$APP" | sed -n 3p | grep -q "^\* v7  *live  *rollback"
'

test_expect_success 'rollback refuses the current release and unknown ones' '
	test_must_fail mp_ssh rollback "$APP" v7 2>err && grep -q "current release" err &&
	test_must_fail mp_ssh rollback "$APP" v99 2>err && grep -q "no release v99" err
'

test_expect_success 'logs -n shows the app output' '
	mp_ssh logs "$APP" -n 50 >logs.out && cat logs.out &&
	grep -q "^booted one MARK=-" logs.out &&
	mp_ssh logs "$APP" -n 1 >logs1.out && test "$(wc -l <logs1.out)" = 1
'

test_expect_success 'logs -f follows across a redeploy' '
	{ mp_ssh logs "$APP" -f -n 1 >follow.out 2>follow.err & } &&
	pid=$! &&
	test_when_finished "kill $pid 2>/dev/null; wait $pid; cat follow.out follow.err" &&
	sleep 1 &&
	mp_ssh env:set "$APP" MARK=followed >/dev/null &&
	wait_for 20 grep -q "booted one MARK=followed" follow.out
'

test_expect_success 'another key cannot see the app' '
	ssh-keygen -q -t ed25519 -N "" -f dev &&
	"$MINPAAS_BUILD/minpaas" keys:add dev <dev.pub >/dev/null &&
	dev() { ssh -i dev -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
		-p "$SSH_PORT" git@127.0.0.1 "$@"; } &&
	test_must_fail dev env "$APP" 2>err && grep -q "app '"'"'$APP'"'"' does not exist" err &&
	test_must_fail dev env:set "$APP" X=1 2>err && grep -q "does not exist" err &&
	test_must_fail dev rollback "$APP" 2>err && grep -q "does not exist" err &&
	test_must_fail dev logs "$APP" 2>err && grep -q "does not exist" err
'

test_done
