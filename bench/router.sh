#!/bin/sh
# bench/router.sh: requests/s and p99 latency of the same tiny backend on
# loopback, measured with wrk: directly, through nginx, through haproxy (both
# from Debian, one worker / one thread, keep-alive to the backend) and
# through minpaas-router (one worker, access log off as the others have
# none, its route written into a scratch MINPAAS_HOME). The last line is
# "ratio minpaas/haproxy: R" (requests/s).
#
#   sh bench/router.sh            SECS=10 CONNS=64 by default
#   PREV=path/to/minpaas-router   also measures that (an earlier build) in
#                                 the same run: "ratio minpaas/previous: R"
#   UP_PORT=N                     the backend is what listens on
#                                 127.0.0.1:N (a deployed app's published
#                                 port: bench/router-app.sh), not ours
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
BASE=${BASE_PORT:-19100}
UP=${UP_PORT:-$BASE} NGINX=$((BASE + 1)) HAPROXY=$((BASE + 2))
ROUTER=$((BASE + 3)) PREV_ROUTER=$((BASE + 4))

need=""
command -v wrk >/dev/null || need="$need wrk"
[ -x /usr/sbin/nginx ] || need="$need nginx-light"
[ -x /usr/sbin/haproxy ] || need="$need haproxy"
if [ -n "$need" ]; then
	echo "installing:$need" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $need >&2 || exit 1
fi
make -s B="$B" "$B/minpaas-router" router-tools >&2 || exit 1

dir=$(mktemp -d /tmp/minpaas-bench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ -z "${UP_PORT:-}" ]; then
	"$B/bench/minpaas-bench-upstream" "$UP" & pids="$pids $!"
fi

mkdir -p "$dir/nginx"
cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/nginx;
	proxy_temp_path $dir/nginx;
	fastcgi_temp_path $dir/nginx;
	uwsgi_temp_path $dir/nginx;
	scgi_temp_path $dir/nginx;
	upstream backend { server 127.0.0.1:$UP; keepalive 128; }
	server {
		listen 127.0.0.1:$NGINX;
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
/usr/sbin/nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
pids="$pids $!"

cat >"$dir/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 8000
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	option http-keep-alive
	http-reuse always
frontend fe
	bind 127.0.0.1:$HAPROXY
	default_backend be
backend be
	server s1 127.0.0.1:$UP
EOF
/usr/sbin/haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
pids="$pids $!"

export MINPAAS_HOME="$dir/home"
mkdir -p "$MINPAAS_HOME"
"$B/tests/minpaas-route-set" bench.test bench "127.0.0.1:$UP" || exit 1
"$B/minpaas-router" --bind 127.0.0.1 --port "$ROUTER" --no-access-log \
	2>"$dir/router.log" &
pids="$pids $!"
if [ -n "${PREV:-}" ]; then
	"$PREV" --bind 127.0.0.1 --port "$PREV_ROUTER" --no-access-log \
		2>"$dir/prev-router.log" &
	pids="$pids $!"
fi
sleep 1

# run NAME PORT: prints "NAME  req/s  p99" and leaves req/s in $rps
run() {
	out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency \
		-H 'Host: bench.test' "http://127.0.0.1:$2/" 2>&1)
	rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')
	errs=$(printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' | tr -s ' ')
	printf '%-16s %12s req/s   p99 %10s   %s\n' "$1" "${rps:-?}" \
		"${p99:-?}" "$errs"
}

echo "wrk -t1 -c$CONNS -d${SECS}s, backend on 127.0.0.1:$UP, $(nproc) cores"
run direct "$UP"
run nginx "$NGINX"
run haproxy "$HAPROXY"
hap=$rps
run minpaas-router "$ROUTER"
mp=$rps
if [ -n "${PREV:-}" ]; then
	run previous "$PREV_ROUTER"
	awk -v a="$mp" -v b="$rps" 'BEGIN {
		printf "ratio minpaas/previous: %.2f\n", (b > 0 ? a / b : 0) }'
fi
awk -v a="$mp" -v b="$hap" 'BEGIN {
	printf "ratio minpaas/haproxy: %.2f\n", (b > 0 ? a / b : 0) }'
