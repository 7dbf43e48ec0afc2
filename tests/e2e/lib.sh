# tests/e2e/lib.sh: the end-to-end test library, in the manner of git's t/.
#
# A test script sources this file, then calls
#   test_expect_success 'title' 'commands'
#   test_must_fail command...        (succeeds when the command fails)
#   test_cmp expected actual
#   test_when_finished 'cleanup commands'
#   minpaas_start                    (starts `minpaas up` on free ports)
# and ends with test_done. Each script runs in its own scratch directory with
# its own MINPAAS_HOME, ports and SSH key, against the real binaries, git,
# OpenSSH client, curl and dockerd.

set -u

TEST_TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${MINPAAS_BUILD:=$TEST_TOP/build}"
TEST_NAME=$(basename "$0" .sh)
TEST_ROOT=$(mktemp -d "/tmp/minpaas-$TEST_NAME.XXXXXX")
export MINPAAS_HOME="$TEST_ROOT/home"
# containers and images of this run carry the run's name in the app names
TEST_TAG=$(printf '%s' "$TEST_ROOT" | sha256sum | cut -c1-6)
test_count=0
test_failed=0
test_cleanup=""
cd "$TEST_ROOT" || exit 1

say() { printf '%s\n' "$*"; }

test_when_finished() {
	test_cleanup="$1
$test_cleanup"
}

test_expect_success() {
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$TEST_ROOT/out.$test_count" 2>&1; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
		sed 's/^/#   /' "$TEST_ROOT/out.$test_count" | tail -n 60
	fi
}

test_must_fail() {
	if "$@"; then
		say "test_must_fail: command succeeded: $*" >&2
		return 1
	fi
	return 0
}

test_cmp() {
	diff -u "$1" "$2"
}

# A TCP port nobody listens on (the kernel picks it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until `cmd` succeeds, polling every 0.1 s, for at most $1 seconds.
wait_for() {
	limit=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# write_py_app BODY [DELAY]: writes app.py, the plain Python web app of the
# tests: it answers every GET with "BODY\n" (HTTP/1.1, requests not logged),
# after saying so and sleeping DELAY seconds (default 0) before it listens.
write_py_app() {
	cat >app.py <<PY
import http.server, os, time
print("starting, listening in ${2:-0} s", flush=True)
time.sleep(${2:-0})
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"$1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}

# Unique app name for this run: app_name hello -> hello-1a2b3c
app_name() {
	printf '%s-%s' "$1" "$TEST_TAG"
}

minpaas_start() {
	SSH_PORT=$(free_port)
	HTTP_PORT=$(free_port)
	ssh-keygen -q -t ed25519 -N '' -C "test@$TEST_NAME" -f "$TEST_ROOT/id_ed25519"
	GIT_SSH_COMMAND="ssh -i $TEST_ROOT/id_ed25519 -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
	export GIT_SSH_COMMAND SSH_PORT HTTP_PORT
	"$MINPAAS_BUILD/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" \
		--bind 127.0.0.1 >"$TEST_ROOT/minpaas.log" 2>&1 &
	MINPAAS_PID=$!
	test_when_finished "minpaas_stop"
	wait_for 20 nc_ok "$SSH_PORT" && wait_for 20 nc_ok "$HTTP_PORT" || {
		say "minpaas did not start:"; cat "$TEST_ROOT/minpaas.log"; return 1; }
	"$MINPAAS_BUILD/minpaas" keys:add tester --role admin <"$TEST_ROOT/id_ed25519.pub" >/dev/null
}

nc_ok() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1"
}

minpaas_stop() {
	kill "$MINPAAS_PID" 2>/dev/null
	wait "$MINPAAS_PID" 2>/dev/null
}

# ssh to minpaas as the test key: mp_ssh apps
mp_ssh() {
	$GIT_SSH_COMMAND -p "$SSH_PORT" git@127.0.0.1 "$@"
}

# Removes the containers and images of the apps this run made.
docker_cleanup() {
	for id in $(docker ps -a --filter "label=minpaas.app" --format '{{.ID}} {{.Label "minpaas.app"}}' |
		awk -v t="-$TEST_TAG" 'index($2, t) { print $1 }'); do
		docker rm -f "$id" >/dev/null 2>&1
	done
	for img in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -- "-$TEST_TAG:" ); do
		docker rmi -f "$img" >/dev/null 2>&1
	done
}

test_done() {
	eval "$test_cleanup"
	docker_cleanup
	if [ "$test_failed" -eq 0 ] && [ -z "${TEST_KEEP:-}" ]; then
		rm -rf "$TEST_ROOT"
	else
		say "# scratch directory kept: $TEST_ROOT"
	fi
	say "# $TEST_NAME: $((test_count - test_failed)) passed, $test_failed failed"
	[ "$test_failed" -eq 0 ]
}
