# bench/lib.sh: what the benchmarks that deploy apps share. Sourced after
# `set -eu` with $top set to the checkout; bench_up NAME builds what is
# missing, starts `minpaas up` on free loopback ports in a scratch
# MINPAAS_HOME ($work), registers an admin key for git and ssh
# (GIT_SSH_COMMAND), and names the app $APP (NAME-<6 hex>). On exit,
# everything it made goes: the containers and images of $APP, minpaas, the
# scratch folder. A script adds its own cleanup in bench_cleanup_extra.
bench_cleanup_extra() { :; }

bench_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_cleanup() {
	bench_cleanup_extra
	kill "$UP" 2>/dev/null || true
	wait "$UP" 2>/dev/null || true
	for c in $(docker ps -aq --filter "label=minpaas.app=$APP"); do
		docker rm -f "$c" >/dev/null
	done
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep "^minpaas-[0-9a-f]*/$APP:" | xargs -r docker rmi -f >/dev/null 2>&1 || true
	rm -rf "$work"
}

bench_up() {
	make -s -C "$top" all router-tools >/dev/null
	sh "$top/scripts/dockerd.sh" >/dev/null
	sh "$top/runtimes/stack/build.sh" >/dev/null
	work=$(mktemp -d "/tmp/minpaas-bench-$1.XXXXXX")
	export MINPAAS_HOME="$work/home"
	SSH_PORT=$(bench_port)
	HTTP_PORT=$(bench_port)
	APP=$1-$(printf '%s' "$work" | sha256sum | cut -c1-6)
	ssh-keygen -q -t ed25519 -N '' -f "$work/key"
	export GIT_SSH_COMMAND="ssh -i $work/key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
	"$top/build/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
		--bind 127.0.0.1 >"$work/minpaas.log" 2>&1 &
	UP=$!
	trap bench_cleanup EXIT INT TERM
	sleep 0.5
	"$top/build/minpaas" keys:add bench --role admin <"$work/key.pub" >/dev/null
}
