#!/bin/sh
# bench/deploy.sh: keeps a steady stream of requests on an app through the
# router while the app is redeployed 10 times (pushes and env changes, in
# turn), then prints the number of failed requests and the median
# push-to-live time (from the start of `git push` / `env:set` to the router
# serving the new release). Everything runs on loopback in a scratch
# MINPAAS_HOME; bounded in time. Run from the checkout: sh bench/deploy.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-10}
. "$top/bench/lib.sh"
bench_cleanup_extra() { echo stop >"$work/steady" 2>/dev/null || true; }
bench_up bench

git init -q -b main "$work/app"
cd "$work/app"
write_app() {
	cat >app.py <<PY
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("$1 " + os.environ.get("MARK", "-") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}
write_app code0
git add app.py && git commit -qm code0
git push -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" main >"$work/push0.log" 2>&1 ||
	{ cat "$work/push0.log"; exit 1; }

now() { date +%s.%N; }
body() { curl -s --max-time 2 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/"; }
# waits until the router serves a body containing $1; prints seconds since $2
live_after() {
	while ! body | grep -q "$1"; do sleep 0.01; done
	awk -v a="$(now)" -v b="$2" 'BEGIN { printf "%.3f\n", a - b }'
}

python3 "$top/bench/steady.py" "$APP.localhost" "$HTTP_PORT" 600 "$work/steady" 2>"$work/failures.log" &
LOAD=$!
sleep 1
: >"$work/times"
i=1
while [ "$i" -le "$ROUNDS" ]; do
	t0=$(now)
	if [ $((i % 2)) -eq 1 ]; then
		kind=push
		write_app "code$i"
		git commit -qam "code$i"
		git push -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" main >"$work/push$i.log" 2>&1 ||
			{ cat "$work/push$i.log"; exit 1; }
		t=$(live_after "code$i " "$t0")
	else
		kind=env
		$GIT_SSH_COMMAND -p "$SSH_PORT" git@127.0.0.1 env:set "$APP" "MARK=env$i" \
			>"$work/env$i.log" 2>&1 || { cat "$work/env$i.log"; exit 1; }
		t=$(live_after " env$i" "$t0")
	fi
	printf '%-4s %2d  push-to-live %.2f s\n' "$kind" "$i" "$t"
	echo "$t" >>"$work/times"
	i=$((i + 1))
done
sleep 3 # the last retired container drains and stops under load
echo stop >"$work/steady"
wait "$LOAD"
read -r _ total _ failed <"$work/steady.failures"
median=$(sort -n "$work/times" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
[ "$failed" -eq 0 ] || head -n 20 "$work/failures.log"
echo "requests during the run: $total"
echo "failed requests: $failed"
printf 'median push-to-live: %.2f s (%d redeploys)\n' "$median" "$ROUNDS"
