# tests/e2e/lib.sh: the end-to-end test library, in the manner of git's t/.
#
# A test script sources this file, then calls
#   test_plan N                      (how many tests follow; prints "1..N")
#   test_expect_success 'title' 'commands'
#   test_must_fail command...        (succeeds when the command fails)
#   test_expect_code N command...    (succeeds when the command exits N)
#   test_cmp expected actual
#   test_when_finished 'cleanup commands'
#   minpaas_start [FLAG...]          (starts `minpaas up` on free ports,
#                                     with the extra flags given)
# and ends with test_done. Each script runs in its own scratch directory with
# its own MINPAAS_HOME, ports and SSH key, against the real binaries, git,
# OpenSSH client, curl and dockerd.
#
# A test must be able to fail, so the library guards against the ways a
# broken test still passes:
# - A body runs in a subshell under `set -e` whose status is taken
#   afterwards (not in an `if`, where `set -e` would be ignored), so any
#   command that fails ends the test.
# - Bodies are written as one &&-chain, and the chain is linted as git's
#   t/test-lib.sh did: before a body runs, `(exit 117) && BODY` is
#   evaluated; a chained body then runs nothing and ends with status 117.
#   Any other status is a "broken &&-chain" (or a syntax error): the test
#   fails and the body is not run. The lint does run, for real, whatever
#   follows the break, so a body has no statement outside its chain: a
#   background job is written `{ cmd & } &&`, and a loop, whose inner
#   commands the chain does not reach, ends each of them with `|| exit 1`.
#   TEST_CHAIN_LINT=0 turns the lint off.
# - test_must_fail accepts only a plain failure: not a death by a signal
#   or any status above 128 (ssh's 255 included), not 126 or 127.
# - test_when_finished in a body runs its cleanup when that test ends, pass
#   or fail, in the body's shell; a cleanup that fails fails the test. At
#   top level (minpaas_start) the cleanup runs at test_done.
# - The plan: test_done fails when the number of tests run is not the one
#   test_plan declared, and a script that stops before test_done says so,
#   cleans up and exits non-zero. run.sh checks the plan too.

set -u

TEST_TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${MINPAAS_BUILD:=$TEST_TOP/build}"
TEST_NAME=$(basename "$0" .sh)
TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/minpaas-$TEST_NAME.XXXXXX")
export MINPAAS_HOME="$TEST_ROOT/home"
# containers and images of this run carry the run's name in the app names
TEST_TAG=$(printf '%s' "$TEST_ROOT" | sha256sum | cut -c1-6)
test_count=0
test_failed=0
test_planned=""
test_cleanup=""
test_finished_=""
test_running_=""
test_in_body_=""
cd "$TEST_ROOT" || exit 1

say() { printf '%s\n' "$*"; }

# test_plan N: the script runs N tests. Prints TAP's plan line "1..N".
test_plan() {
	test_planned=$1
	say "1..$1"
}

# test_when_finished 'commands': in a body, the commands run when the test
# ends, newest first, pass or fail, and a cleanup that fails fails the test;
# at top level they run at test_done.
test_when_finished() {
	if [ -z "$test_in_body_" ]; then
		test_cleanup="$1
$test_cleanup"
		return 0
	fi
	# $$ stays the script's in a subshell; the parent of a child is exact
	if [ "$(exec sh -c 'echo $PPID')" != "$test_in_body_" ]; then
		say "test_when_finished: called in a subshell of the test body," \
		    "where its cleanup would never run: $1" >&2
		return 1
	fi
	test_nclean_=$((test_nclean_ + 1))
	eval "test_clean_$test_nclean_=\$1"
}

# The EXIT trap of a body's subshell: runs the cleanups the body registered
# and exits with the body's status, or 1 when the body passed and a cleanup
# failed.
test_body_exit_() {
	test_body_rc_=$?
	trap - EXIT
	set +e
	while [ "$test_nclean_" -gt 0 ]; do
		eval "test_clean_=\$test_clean_$test_nclean_"
		test_nclean_=$((test_nclean_ - 1))
		eval "$test_clean_"
		test_clean_rc_=$?
		if [ "$test_clean_rc_" -ne 0 ]; then
			say "test_when_finished: cleanup failed" \
			    "(status $test_clean_rc_): $test_clean_" >&2
			[ "$test_body_rc_" -ne 0 ] || test_body_rc_=1
		fi
	done
	exit "$test_body_rc_"
}

test_fail_() { # title
	test_failed=$((test_failed + 1))
	say "not ok $test_count - $1"
}

test_expect_success() {
	test_count=$((test_count + 1))
	test_running_=1
	test_out_="$TEST_ROOT/out.$test_count"
	if [ "${TEST_CHAIN_LINT:-1}" != 0 ]; then
		# Nothing of a chained body runs here; the statements after a
		# break in the chain do, once.
		(eval "(exit 117) && $2") >"$test_out_.lint" 2>&1 </dev/null
		test_lint_=$?
		if [ "$test_lint_" -ne 117 ]; then
			test_fail_ "$1"
			say "#   broken &&-chain: \`(exit 117) && BODY\` ended" \
			    "with status $test_lint_, not 117 (or a syntax error);" \
			    "the body was not run:"
			sed 's/^/#   | /' "$test_out_.lint" | tail -n 20
			printf '%s\n' "$2" | sed 's/^/#   > /'
			test_running_=""
			return 0
		fi
	fi
	(
		test_in_body_=$(exec sh -c 'echo $PPID')
		test_nclean_=0
		trap test_body_exit_ EXIT
		set -e
		eval "$2"
	) >"$test_out_" 2>&1
	test_rc_=$?
	if [ "$test_rc_" -eq 0 ]; then
		say "ok $test_count - $1"
	else
		test_fail_ "$1"
		sed 's/^/#   /' "$test_out_" | tail -n 60
		say "#   (the body ended with status $test_rc_)"
	fi
	test_running_=""
}

# test_must_fail command...: succeeds when the command fails the ordinary
# way, with a status from 1 to 125 or exactly 128 (git's die); a death by a
# signal, any other status above 128 (ssh exits 255 when it cannot connect
# or the remote command was killed by a signal), 126 (not executable) and
# 127 (not found) are no failure the test could have meant.
test_must_fail() {
	if "$@"; then
		say "test_must_fail: command succeeded: $*" >&2
		return 1
	else
		test_mf_rc_=$?
	fi
	if [ "$test_mf_rc_" -gt 128 ] && [ "$test_mf_rc_" -le 192 ]; then
		test_mf_sig_=$((test_mf_rc_ - 128))
		say "test_must_fail: died by signal $test_mf_sig_" \
		    "(SIG$(kill -l "$test_mf_sig_" 2>/dev/null)): $*" >&2
	elif [ "$test_mf_rc_" -gt 128 ]; then
		say "test_must_fail: exit status $test_mf_rc_, above 128" \
		    "(ssh's own failure, or a signal): $*" >&2
	elif [ "$test_mf_rc_" -eq 127 ]; then
		say "test_must_fail: command not found (status 127): $*" >&2
	elif [ "$test_mf_rc_" -eq 126 ]; then
		say "test_must_fail: command could not be run (status 126): $*" >&2
	else
		return 0
	fi
	return 1
}

# test_expect_code N command...: succeeds when the command exits with N.
test_expect_code() {
	test_ec_want_=$1
	shift
	if "$@"; then
		test_ec_rc_=0
	else
		test_ec_rc_=$?
	fi
	[ "$test_ec_rc_" -ne "$test_ec_want_" ] || return 0
	say "test_expect_code: status $test_ec_rc_, not $test_ec_want_: $*" >&2
	return 1
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
	wait_for_limit_=$1
	shift
	wait_for_i_=0
	while ! "$@" >/dev/null 2>&1; do
		wait_for_i_=$((wait_for_i_ + 1))
		[ "$wait_for_i_" -lt $((wait_for_limit_ * 10)) ] || return 1
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
		--bind 127.0.0.1 "$@" >"$TEST_ROOT/minpaas.log" 2>&1 &
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

# The instance id of this run's minpaas, read from a container of APP.
mp_instance() {
	docker ps -a --filter "label=minpaas.app=$1" \
		--format '{{.Label "minpaas.instance"}}' | head -n 1
}

# ssh to minpaas as the test key: mp_ssh apps
mp_ssh() {
	$GIT_SSH_COMMAND -p "$SSH_PORT" git@127.0.0.1 "$@"
}

# Removes the containers and images of the apps this run made. Under
# run.sh, E2E_LATE_RMI names a file where the images are listed instead, for
# run.sh to remove once no script runs: a build of another script may be
# using an untagged parent of one of them as its cache, and Docker fails
# that build ("unknown parent image ID") when the parent goes.
docker_cleanup() {
	for id in $(docker ps -a --filter "label=minpaas.app" --format '{{.ID}} {{.Label "minpaas.app"}}' |
		awk -v t="-$TEST_TAG" 'index($2, t) { print $1 }'); do
		docker rm -f "$id" >/dev/null 2>&1
	done
	for img in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -- "-$TEST_TAG:" ); do
		if [ -n "${E2E_LATE_RMI:-}" ]; then
			echo "$img" >>"$E2E_LATE_RMI"
		else
			docker rmi -f "$img" >/dev/null 2>&1
		fi
	done
}

# The top-level cleanups, and the containers and images of the run.
test_finish_() {
	eval "$test_cleanup"
	test_cleanup=""
	docker_cleanup
}

# The script's EXIT trap: a script that ends without test_done (a top-level
# command that exits, an unset variable, a signal) fails, after cleaning up.
test_exit_() {
	test_exit_rc_=$?
	[ -z "$test_finished_" ] || exit "$test_exit_rc_"
	trap - EXIT
	if [ -n "$test_running_" ]; then
		test_exit_at_="in test $test_count"
	else
		test_exit_at_="after test $test_count"
	fi
	say "# $TEST_NAME: stopped before test_done (status $test_exit_rc_)" \
	    "$test_exit_at_ of ${test_planned:-?}"
	test_finish_ >/dev/null 2>&1
	say "# scratch directory kept: $TEST_ROOT"
	[ "$test_exit_rc_" -ne 0 ] || test_exit_rc_=1
	exit "$test_exit_rc_"
}
trap test_exit_ EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

test_done() {
	test_finished_=1
	test_finish_
	test_ok_=1
	[ "$test_failed" -eq 0 ] || test_ok_=""
	if [ -z "$test_planned" ]; then
		say "# $TEST_NAME: no test_plan"
		test_ok_=""
	elif [ "$test_count" -ne "$test_planned" ]; then
		say "# $TEST_NAME: planned $test_planned tests, ran $test_count"
		test_ok_=""
	fi
	if [ -n "$test_ok_" ] && [ -z "${TEST_KEEP:-}" ]; then
		rm -rf "$TEST_ROOT"
	else
		say "# scratch directory kept: $TEST_ROOT"
	fi
	say "# $TEST_NAME: $((test_count - test_failed)) passed, $test_failed failed"
	[ -n "$test_ok_" ] && exit 0
	exit 1
}
