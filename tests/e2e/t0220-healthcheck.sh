#!/bin/sh
# Health checks set by the app: an app.json `healthchecks.web[].path` (as
# Dokku reads it) makes a release go live only once that path answers 2xx or
# 3xx; a path that never does fails the push and the old release serves on.
. "$(dirname "$0")/lib.sh"
test_plan 5

APP=$(app_name checked)
export MINPAAS_HEALTH_TIMEOUT=6

# $1: body of /; $2: seconds before /health answers 200 (-1: never)
write_app() {
	cat >app.py <<PY
import http.server, os, time
start = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ready = $2 >= 0 and time.time() - start >= $2
        if self.path == "/health" and not ready:
            code, body = 503, b"warming up\n"
        else:
            code, body = 200, b"$1\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
	printf '{"healthchecks": {"web": [{"type": "startup", "path": "/health"}]}}\n' >app.json
}

get() {
	curl -sS --max-time 5 "http://$APP.localhost:$HTTP_PORT/"
}

minpaas_start

test_expect_success 'the release goes live once its app.json path answers' '
	git init -q -b main app && cd app &&
	write_app one 2 && git add app.py app.json && git commit -qm one &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	git push minpaas main >"$TEST_ROOT/push1.out" 2>&1 &&
	cat "$TEST_ROOT/push1.out" &&
	grep -q "health check: GET /health" "$TEST_ROOT/push1.out" &&
	secs=$(sed -n "s/.*up after \([0-9.]*\) s.*/\1/p" "$TEST_ROOT/push1.out") &&
	awk -v s="$secs" "BEGIN { exit !(s >= 2) }" &&
	test "$(get)" = one
'

test_expect_success 'a path that never answers 2xx fails the push; the old release serves' '
	cd app && write_app two -1 && git commit -qam two &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push2.out" 2>&1 &&
	cat "$TEST_ROOT/push2.out" &&
	grep -q "did not answer 2xx or 3xx" "$TEST_ROOT/push2.out" &&
	test "$(get)" = one
'

test_expect_success 'an invalid app.json fails the push with a reason' '
	cd app && git reset -q --hard HEAD~1 && write_app three 0 &&
	printf "{\"healthchecks\": {\"web\": [{\"path\": \"no-slash\"}]}}\n" >app.json &&
	git commit -qam three &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push3.out" 2>&1 &&
	cat "$TEST_ROOT/push3.out" &&
	grep -q "app.json" "$TEST_ROOT/push3.out" &&
	test "$(get)" = one
'

test_expect_success 'a command check runs in the container until it exits 0' '
	cd app && git reset -q --hard HEAD~1 && write_app four 0 &&
	printf "import os, time\nopen(\"/tmp/count\", \"a\").write(\"x\")\nraise SystemExit(0 if len(open(\"/tmp/count\").read()) >= 3 else 1)\n" >check.py &&
	printf "{\"healthchecks\": {\"web\": [{\"type\": \"startup\", \"command\": [\"python3\", \"/app/check.py\"]}]}}\n" >app.json &&
	git add check.py app.json && git commit -qam four &&
	git push minpaas main >"$TEST_ROOT/push4.out" 2>&1 &&
	cat "$TEST_ROOT/push4.out" &&
	grep -q "health check: \[\"python3\",\"/app/check.py\"\] must exit 0" "$TEST_ROOT/push4.out" &&
	test "$(get)" = four
'

test_expect_success 'a command check that keeps failing fails the push' '
	cd app && printf "raise SystemExit(1)\n" >check.py && git commit -qam five &&
	test_must_fail git push minpaas main >"$TEST_ROOT/push5.out" 2>&1 &&
	cat "$TEST_ROOT/push5.out" &&
	grep -q "health-check command did not exit 0" "$TEST_ROOT/push5.out" &&
	test "$(get)" = four
'

test_done
