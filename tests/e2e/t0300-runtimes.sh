#!/bin/sh
# Runtimes: detection of python (with a wheel the test ships), node (with
# and without an npm dependency), static sites and Dockerfiles; Procfile
# processes; .dockerignore; a repository with nothing recognisable; fast
# rebuilds that reuse the dependency layer; the build log of a release.
. "$(dirname "$0")/lib.sh"
test_plan 12

export MINPAAS_HEALTH_TIMEOUT=20
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

get() { # get APP PATH
	curl -sS --max-time 5 "http://$1.localhost:$HTTP_PORT$2"
}

# push DIR APP: commits everything in DIR and pushes it to APP, output in
# $TEST_ROOT/last.out and on stdout; the status is git push's
push() {
	if (cd "$1" && git add -A && git commit -qm "${3:-change}" --allow-empty &&
		{ git remote get-url minpaas >/dev/null 2>&1 ||
			git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$2"; } &&
		git push -q minpaas HEAD:main) >"$TEST_ROOT/last.out" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	cat "$TEST_ROOT/last.out"
	return $rc
}

newrepo() {
	rm -rf "$1" && git init -q -b main "$1"
}

# A pure-Python wheel, made by hand (no index, no build tools needed).
make_wheel() { # make_wheel DIR
	python3 - "$1" <<'PY'
import sys, zipfile, os
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
name = os.path.join(d, "greetlib-1.0-py3-none-any.whl")
files = {
    "greetlib.py": "def greet():\n    return 'hello from a wheel'\n",
    "greetlib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: greetlib\nVersion: 1.0\n",
    "greetlib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: minpaas-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
files["greetlib-1.0.dist-info/RECORD"] = "".join(f"{p},,\n" for p in files) + "greetlib-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(name, "w") as z:
    for p, text in files.items():
        z.writestr(p, text)
PY
}

py_app() { # py_app MESSAGE-EXPR
	cat >app.py <<PY
import http.server, os
from greetlib import greet

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ($1 + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}

node_server() { # node_server EXPR
	cat >server.js <<JS
const http = require("http");
http.createServer((q, s) => { s.end($1 + "\n"); }).listen(process.env.PORT);
JS
}

minpaas_start

PY_APP=$(app_name py)
test_expect_success 'python app with a shipped wheel (pip --no-index --find-links)' '
	newrepo py && cd py && make_wheel wheels &&
	echo greetlib==1.0 >requirements.txt && py_app "greet()" &&
	push . "$PY_APP" &&
	grep -q "^remote: -----> Detected python" "$TEST_ROOT/last.out" &&
	grep -q "Successfully installed greetlib-1.0" "$TEST_ROOT/last.out" &&
	test "$(get "$PY_APP" /)" = "hello from a wheel"
'

test_expect_success 'build output is in Heroku shape, without Docker noise' '
	grep -q "^remote:        Step 1/" "$TEST_ROOT/last.out" &&
	! grep -q -- " ---> " "$TEST_ROOT/last.out" &&
	! grep -q "Removing intermediate container" "$TEST_ROOT/last.out" &&
	! grep -q "Running in" "$TEST_ROOT/last.out"
'

test_expect_success 'a code-only push reuses the dependency layer' '
	cd py && py_app "greet() + \" v2\"" && push . "$PY_APP" &&
	grep -q "pip install.*(cached)" "$TEST_ROOT/last.out" &&
	! grep -q "Successfully installed" "$TEST_ROOT/last.out" &&
	test "$(get "$PY_APP" /)" = "hello from a wheel v2"
'

test_expect_success 'releases:info shows the release and its build log' '
	mp_ssh releases:info "$PY_APP" v1 >info.out && cat info.out &&
	grep -q "^Status: " info.out && grep -q "^=== build log" info.out &&
	grep -q "Successfully installed greetlib-1.0" info.out &&
	mp_ssh releases:info "$PY_APP" v2 | grep -q "(cached)"
'

NODE_APP=$(app_name node)
test_expect_success 'node app with one npm dependency' '
	newrepo node && cd node && node_server "require(\"ms\")(60000)" &&
	cat >package.json <<-JSON &&
	{"name": "n", "version": "1.0.0", "dependencies": {"ms": "2.1.3"},
	 "scripts": {"start": "node server.js"}}
	JSON
	push . "$NODE_APP" &&
	grep -q "^remote: -----> Detected node" "$TEST_ROOT/last.out" &&
	test "$(get "$NODE_APP" /)" = "1m"
'

NODE2_APP=$(app_name nodeplain)
test_expect_success 'node app without dependencies, started by its Procfile' '
	newrepo node2 && cd node2 && node_server "\"plain node\"" &&
	echo "{\"name\": \"p\", \"version\": \"1.0.0\"}" >package.json &&
	echo "web: node server.js" >Procfile &&
	push . "$NODE2_APP" &&
	grep -q "^remote: -----> Detected node" "$TEST_ROOT/last.out" &&
	test "$(get "$NODE2_APP" /)" = "plain node"
'

test_expect_success 'node app without a start command fails with a reason' '
	newrepo node3 && cd node3 && echo "{}" >package.json &&
	test_must_fail push . "$(app_name nodebad)" &&
	grep -q "scripts.*start\|start command" "$TEST_ROOT/last.out"
'

STATIC_APP=$(app_name site)
test_expect_success 'static site: index files, content types and 404s' '
	newrepo site && cd site && mkdir -p public/docs &&
	echo "<h1>home</h1>" >public/index.html &&
	echo "<p>docs</p>" >public/docs/index.html &&
	echo "body{}" >public/style.css && echo "{}" >public/data.json &&
	push . "$STATIC_APP" &&
	grep -q "^remote: -----> Detected static" "$TEST_ROOT/last.out" &&
	test "$(get "$STATIC_APP" /)" = "<h1>home</h1>" &&
	test "$(get "$STATIC_APP" /docs/)" = "<p>docs</p>" &&
	u="http://$STATIC_APP.localhost:$HTTP_PORT" &&
	curl -sS -o /dev/null -w "%{content_type}" "$u/style.css" | grep -q "^text/css" &&
	curl -sS -o /dev/null -w "%{content_type}" "$u/data.json" | grep -q "^application/json" &&
	curl -sS -o /dev/null -w "%{content_type}" "$u/" | grep -q "^text/html" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$u/missing")" = 404
'

DF_APP=$(app_name df)
test_expect_success 'Dockerfile app, Procfile web and worker, .dockerignore' '
	newrepo df && cd df &&
	cat >Dockerfile <<-DF &&
	FROM $STACK
	COPY . /srv
	WORKDIR /srv
	CMD ["python3", "-m", "http.server"]
	DF
	printf "secret.txt\nbuild/\n" >.dockerignore &&
	echo hush >secret.txt && mkdir build && echo x >build/junk &&
	echo "<p>df</p>" >index.html &&
	printf "web: python3 -m http.server \$PORT\nworker: sh -c \"while :; do echo working; sleep 1; done\"\n" >Procfile &&
	push . "$DF_APP" &&
	grep -q "^remote: -----> Detected dockerfile" "$TEST_ROOT/last.out" &&
	test "$(get "$DF_APP" /index.html)" = "<p>df</p>" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$DF_APP.localhost:$HTTP_PORT/secret.txt")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$DF_APP.localhost:$HTTP_PORT/build/junk")" = 404 &&
	w=$(docker ps -q --filter "label=minpaas.app=$DF_APP" --filter label=minpaas.process=worker) &&
	test -n "$w" && wait_for 10 sh -c "docker logs $w 2>&1 | grep -q working"
'

test_expect_success 'the next release replaces the worker' '
	old=$(docker ps -q --filter "label=minpaas.app=$DF_APP" --filter label=minpaas.process=worker) &&
	cd df && echo "<p>df2</p>" >index.html && push . "$DF_APP" &&
	new=$(docker ps -q --filter "label=minpaas.app=$DF_APP" --filter label=minpaas.process=worker) &&
	test -n "$new" && test "$new" != "$old" &&
	test "$(echo "$new" | wc -l)" = 1
'

test_expect_success 'a repository with nothing recognisable fails with one clear line' '
	newrepo none && cd none && echo hi >README.md &&
	test_must_fail push . "$(app_name none)" &&
	grep "no runtime detected" "$TEST_ROOT/last.out" | grep -q "package.json" &&
	grep "no runtime detected" "$TEST_ROOT/last.out" | grep -q "index.html"
'

test_expect_success 'a Dockerfile that does not build: clear failure, old release serves' '
	cd df && echo "RUN echo about to fail && exit 3" >>Dockerfile &&
	test_must_fail push . "$DF_APP" &&
	grep -q "Build failed" "$TEST_ROOT/last.out" &&
	test "$(get "$DF_APP" /index.html)" = "<p>df2</p>"
'

test_done
