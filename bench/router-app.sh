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
make -s -C "$top" all router-tools >/dev/null
sh "$top/scripts/dockerd.sh" >/dev/null
sh "$top/runtimes/stack/build.sh" >/dev/null

work=$(mktemp -d /tmp/minpaas-bench-app.XXXXXX)
export MINPAAS_HOME="$work/home"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SSH_PORT=$(port)
HTTP_PORT=$(port)
APP=benchapp-$(printf '%s' "$work" | sha256sum | cut -c1-6)
ssh-keygen -q -t ed25519 -N '' -f "$work/key"
export GIT_SSH_COMMAND="ssh -i $work/key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
"$top/build/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
	--bind 127.0.0.1 >"$work/minpaas.log" 2>&1 &
UP=$!
cleanup() {
	kill "$UP" 2>/dev/null || true
	wait "$UP" 2>/dev/null || true
	for c in $(docker ps -aq --filter "label=minpaas.app=$APP"); do
		docker rm -f "$c" >/dev/null
	done
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep "^minpaas/$APP:" | xargs -r docker rmi -f >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
sleep 0.5
"$top/build/minpaas" keys:add bench --role admin <"$work/key.pub" >/dev/null

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
