#!/bin/sh
# bench/build.sh: for each runtime, the time of a first push (dependencies
# installed) and of a code-only push (dependency layer reused), in one run
# against a private minpaas; prints a table.
#
#   MINPAAS_BUILD=build-rt sh bench/build.sh
set -u
. "$(dirname "$0")/../tests/e2e/lib.sh"

export MINPAAS_HEALTH_TIMEOUT=30
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

now() { date +%s.%N; }

# Writes the app of runtime $1 into the current directory, version $2.
write_app() {
	case $1 in
	python)
		[ -d wheels ] || python3 - <<'PY'
import zipfile, os
os.makedirs("wheels", exist_ok=True)
files = {"benchlib.py": "X = 1\n",
 "benchlib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: benchlib\nVersion: 1.0\n",
 "benchlib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
files["benchlib-1.0.dist-info/RECORD"] = "".join(f"{p},,\n" for p in files) + "benchlib-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile("wheels/benchlib-1.0-py3-none-any.whl", "w") as z:
    for p, t in files.items(): z.writestr(p, t)
PY
		echo benchlib==1.0 >requirements.txt
		printf 'import http.server, os, benchlib\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b"%s")\nhttp.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()\n' "$2" >app.py ;;
	node)
		echo '{"name":"b","version":"1.0.0","dependencies":{"ms":"2.1.3"},"scripts":{"start":"node server.js"}}' >package.json
		printf 'require("ms");require("http").createServer((q,s)=>s.end("%s")).listen(process.env.PORT);\n' "$2" >server.js ;;
	static)
		mkdir -p public && echo "<p>$2</p>" >public/index.html ;;
	dockerfile)
		printf 'FROM %s\nRUN python3 -c "print(1)" >/dep\nCOPY . /srv\nWORKDIR /srv\nCMD python3 -m http.server $PORT\n' "$STACK" >Dockerfile
		echo "$2" >index.html ;;
	esac
}

minpaas_start
results=""
for rt in python node static dockerfile; do
	app=$(app_name "b$rt")
	rm -rf "$TEST_ROOT/$rt" && git init -q -b main "$TEST_ROOT/$rt"
	cd "$TEST_ROOT/$rt" || exit 1
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$app"
	write_app "$rt" v1 && git add -A && git commit -qm v1
	t0=$(now)
	git push -q minpaas main >"$TEST_ROOT/$rt.1.out" 2>&1 || { cat "$TEST_ROOT/$rt.1.out"; exit 1; }
	t1=$(now)
	write_app "$rt" v2 && git add -A && git commit -qm v2
	git push -q minpaas main >"$TEST_ROOT/$rt.2.out" 2>&1 || { cat "$TEST_ROOT/$rt.2.out"; exit 1; }
	t2=$(now)
	cached=$(grep -c "(cached)" "$TEST_ROOT/$rt.2.out")
	results="$results$(printf '%-11s %9.2f %12.2f %8s' "$rt" \
		"$(awk "BEGIN { print $t1 - $t0 }")" "$(awk "BEGIN { print $t2 - $t1 }")" "$cached")
"
done
cd "$TEST_ROOT" || exit 1
printf '%-11s %9s %12s %8s\n' runtime "first (s)" "code-only (s)" cached
printf '%s' "$results"
test_done >/dev/null
