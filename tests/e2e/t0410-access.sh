#!/bin/sh
# Keys and access: developer keys see and change only the apps they created
# or were granted, pushes and clones included, and every refusal says what
# and why without revealing another developer's app; only admins manage
# keys. And the client, contrib/minpaas, from a real git checkout: create,
# push, env:set with spaces, env:get, logs, ps, -a.
CLIENT=$(cd "$(dirname "$0")/../.." && pwd)/contrib/minpaas
. "$(dirname "$0")/lib.sh"
test_plan 9

APP=$(app_name acc)
BOBAPP=$(app_name bob)
export MINPAAS_HEALTH_TIMEOUT=10

SSHOPTS="-o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
# as NAME CMD...: ssh to minpaas with NAME's key
as() {
	k=$1
	shift
	ssh -i "$TEST_ROOT/$k" $SSHOPTS -p "$SSH_PORT" git@127.0.0.1 "$@"
}
# st NAME CMD...: the exit status of `as NAME CMD...` (stderr to err)
st() {
	as "$@" >out 2>err && echo 0 || echo $?
}
gitas() {
	k=$1
	shift
	GIT_SSH_COMMAND="ssh -i $TEST_ROOT/$k $SSHOPTS" git "$@"
}

minpaas_start

test_expect_success 'keys:add defaults to developer; keys --json lists roles' '
	for k in alice bob; do
		ssh-keygen -q -t ed25519 -N "" -C "$k" -f "$TEST_ROOT/$k" &&
		"$MINPAAS_BUILD/minpaas" keys:add "$k" <"$TEST_ROOT/$k.pub" >/dev/null || exit 1
	done &&
	mp_ssh keys >keys && cat keys &&
	grep -q "^alice  *developer  *SHA256:" keys &&
	mp_ssh keys --json >keys.json &&
	python3 -c "import json; k={x[\"name\"]: x[\"role\"] for x in json.load(open(\"keys.json\"))}; assert k==dict(tester=\"admin\", alice=\"developer\", bob=\"developer\"), k"
'

test_expect_success 'the client creates the app from a git checkout and adds the remote' '
	git init -q -b main app && cd app &&
	cat >app.py <<-PY &&
	import http.server, os
	print("booted with GREETING=" + os.environ.get("GREETING", "-"), flush=True)
	class H(http.server.BaseHTTPRequestHandler):
	    def do_GET(self):
	        body = os.environ.get("GREETING", "-").encode()
	        self.send_response(200)
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        self.wfile.write(body)
	http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
	PY
	git add app.py && git commit -qm one &&
	GIT_SSH_COMMAND="ssh -i $TEST_ROOT/alice $SSHOPTS" \
		sh "$CLIENT" -s "ssh://git@127.0.0.1:$SSH_PORT" create "$APP" >create.out 2>&1 &&
	cat create.out && grep -q "^-----> Created $APP" create.out &&
	test "$(git config remote.minpaas.url)" = "ssh://git@127.0.0.1:$SSH_PORT/$APP"
'

test_expect_success 'alice pushes; the client sets a value with spaces and reads logs' '
	cd app &&
	export GIT_SSH_COMMAND="ssh -i $TEST_ROOT/alice $SSHOPTS" &&
	git push -q minpaas main >push.out 2>&1 &&
	sh "$CLIENT" env:set "GREETING=hello  big '"'"'world'"'"'" >set.out 2>&1 &&
	cat set.out &&
	test "$(sh "$CLIENT" env:get GREETING)" = "hello  big '"'"'world'"'"'" &&
	test "$(curl -sS --max-time 5 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/")" = "hello  big '"'"'world'"'"'" &&
	sh "$CLIENT" logs -n 200 >logs.out && cat logs.out &&
	grep -q "booted with GREETING=hello  big" logs.out &&
	sh "$CLIENT" ps | grep -q "^web  *running  *v2" &&
	sh "$CLIENT" -a "$APP" apps:info | grep -q "^=== $APP"
'

test_expect_success 'the client reads scp-style remotes and -r' '
	cd app &&
	git remote add other "alice@127.0.0.1:$APP" &&
	MINPAAS_SSH="echo" sh "$CLIENT" -r other env:set "A=b c" >echo.out &&
	cat echo.out &&
	test "$(cat echo.out)" = "alice@127.0.0.1 '"'"'env:set'"'"' '"'"'$APP'"'"' '"'"'A=b c'"'"'" &&
	MINPAAS_SSH="echo" sh "$CLIENT" apps >echo2.out &&
	test "$(cat echo2.out)" = "-p $SSH_PORT git@127.0.0.1 '"'"'apps'"'"'"
'

test_expect_success 'bob cannot see, change, push to or clone alice'"'"'s app' '
	as bob apps >apps.out && ! grep -q "$APP" apps.out &&
	test "$(st bob apps:info "$APP")" = 1 && grep -q "app .$APP. does not exist" err &&
	test "$(st bob env:set "$APP" X=1)" = 1 && grep -q "does not exist" err &&
	test "$(st bob ps:stop "$APP")" = 1 && grep -q "does not exist" err &&
	test "$(st bob domains:add "$APP" x.example.com)" = 1 && grep -q "does not exist" err &&
	test "$(st bob apps:destroy "$APP" --confirm "$APP")" = 1 && grep -q "does not exist" err &&
	test "$(st bob access:grant "$APP" bob)" = 1 && grep -q "does not exist" err &&
	test "$(st bob apps:create "$APP")" = 1 && grep -q "app name .$APP. is not available" err &&
	git init -q -b main bobrepo && cd bobrepo && echo x >f && git add f && git commit -qm x &&
	test_must_fail gitas bob push "ssh://git@127.0.0.1:$SSH_PORT/$APP" main 2>perr &&
	cat perr && grep -q "not available" perr && ! grep -q "does not exist\|exists already" perr &&
	cd .. &&
	test_must_fail gitas bob clone -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" bobclone 2>cerr &&
	cat cerr && grep -q "no such app" cerr
'

test_expect_success 'only admins manage keys' '
	test "$(st bob keys)" = 1 && grep -q "only admin keys manage keys" err &&
	test "$(st bob keys:add eve </dev/null)" = 1 && grep -q "keys:add. refused" err &&
	test "$(st bob keys:remove alice)" = 1
'

test_expect_success 'a push to a new name creates an app owned by the pushing key' '
	{ cd bobrepo 2>/dev/null ||
		{ git init -q -b main bobrepo && cd bobrepo && echo x >f && git add f && git commit -qm x; }; } &&
	git checkout -q -b other &&
	gitas bob push -q "ssh://git@127.0.0.1:$SSH_PORT/$BOBAPP" other 2>&1 &&
	as bob apps | grep -qx "$BOBAPP" &&
	! as alice apps | grep -qx "$BOBAPP" &&
	mp_ssh apps | grep -qx "$BOBAPP"
'

test_expect_success 'access:grant lets bob in; revoking takes it away' '
	test "$(st bob access:grant "$BOBAPP" alice)" = 0 &&
	as alice apps | grep -qx "$BOBAPP" &&
	as alice access "$BOBAPP" >acc && cat acc && grep -q "^alice  *granted" acc &&
	test "$(st alice access:revoke "$BOBAPP" alice)" = 1 && grep -q "only the key that created" err &&
	as alice access:grant "$APP" bob >/dev/null &&
	test "$(as bob env:get "$APP" GREETING)" = "hello  big '"'"'world'"'"'" &&
	gitas bob clone -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" bobclone &&
	test -f bobclone/app.py &&
	as alice access:revoke "$APP" bob >/dev/null &&
	test "$(st bob env:get "$APP" GREETING)" = 1 && grep -q "does not exist" err &&
	test "$(st alice access:grant "$APP" nosuchkey)" = 1 && grep -q "no developer key named" err &&
	sed "s/nosuchkey/tester/" err >missing.err &&
	# an admin key and a missing one read the same to a developer
	test "$(st alice access:grant "$APP" tester)" = 1 && test_cmp missing.err err &&
	test "$(st alice access:revoke "$APP" tester)" = 1 && test_cmp missing.err err
'

test_expect_success 'keys:remove takes the key and its grants away' '
	as alice access:grant "$APP" bob >/dev/null &&
	mp_ssh keys:remove bob >/dev/null &&
	test_expect_code 255 as bob apps 2>err &&
	cat err && grep -q "Permission denied (publickey)" err &&
	"$MINPAAS_BUILD/minpaas" keys:add bob <"$TEST_ROOT/bob.pub" >/dev/null &&
	test "$(st bob apps:info "$APP")" = 1
'

test_done
