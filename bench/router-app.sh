#!/bin/sh
# bench/router-app.sh: bench/router.sh with a deployed app as the backend:
# the benchmark's tiny backend is pushed to a scratch minpaas as an app (a
# Dockerfile app from the stack image), and nginx, haproxy and
# minpaas-router are measured in front of the port Docker publishes for it
# on 127.0.0.1 (the kernel's NAT in the path, as in production). Takes the
# same settings (SECS, CONNS, PREV); loopback only, bounded in time.
#
#   sh bench/router-app.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bench_up benchapp

git init -q -b main "$work/app"
cc -O2 -D_GNU_SOURCE -static -o "$work/app/minpaas-bench-upstream" "$top/bench/upstream.c"
cat >"$work/app/Dockerfile" <<'DOCKERFILE'
FROM minpaas/stack:bookworm
COPY minpaas-bench-upstream /usr/local/bin/
CMD ["sh", "-c", "exec minpaas-bench-upstream \"$PORT\" 0.0.0.0"]
DOCKERFILE
(cd "$work/app" && git add . && git commit -qm bench &&
	git push -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" main) >"$work/push.log" 2>&1 ||
	{ cat "$work/push.log"; exit 1; }
id=$(docker ps -q --filter "label=minpaas.app=$APP" | head -n 1)
published=$(docker port "$id" | sed -n 's/.*127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n 1)
[ -n "$published" ] || { echo "no published port for $APP" >&2; exit 1; }
echo "app $APP deployed, published on 127.0.0.1:$published"
UP_PORT=$published sh "$top/bench/router.sh"
