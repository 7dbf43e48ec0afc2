#!/bin/sh
# Other sources than git push: a tarball (deploy:tar), an image on the host
# (deploy:image), the deploy branch again (deploy); and an interrupted push
# (git and ssh both killed, as Ctrl-C or a lost connection does; SIGINT
# itself is ignored by a script's background jobs) that must leave no build
# running on the server.
. "$(dirname "$0")/lib.sh"
test_plan 6

export MINPAAS_HEALTH_TIMEOUT=20
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

get() { # get APP PATH
	curl -sS --max-time 5 "http://$1.localhost:$HTTP_PORT$2"
}

minpaas_start

TAR_APP=$(app_name tar)
test_expect_success 'deploy:tar builds and deploys a tarball' '
	mkdir site && cd site && echo "<p>from a tarball</p>" >index.html &&
	mkdir .git && echo x >.git/HEAD && echo hidden >skip.txt &&
	echo skip.txt >.dockerignore &&
	tar c . | mp_ssh deploy:tar "$TAR_APP" >"$TEST_ROOT/tar.out" 2>&1 &&
	cat "$TEST_ROOT/tar.out" &&
	grep -q "^-----> Detected static" "$TEST_ROOT/tar.out" &&
	test "$(get "$TAR_APP" /)" = "<p>from a tarball</p>" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$TAR_APP.localhost:$HTTP_PORT/skip.txt")" = 404 &&
	mp_ssh releases "$TAR_APP" | grep -q "tar"
'

test_expect_success 'deploy:tar of garbage fails with a reason' '
	echo "not a tarball" | test_must_fail mp_ssh deploy:tar "$TAR_APP" >"$TEST_ROOT/bad.out" 2>&1 &&
	cat "$TEST_ROOT/bad.out" && grep -qi "tarball" "$TEST_ROOT/bad.out" &&
	test "$(get "$TAR_APP" /)" = "<p>from a tarball</p>"
'

IMG_APP=$(app_name img)
IMG=minpaas-test/img-$TEST_TAG:1
test_when_finished "docker rmi -f $IMG >/dev/null 2>&1"
test_expect_success 'deploy:image deploys an image that is on the host' '
	mkdir img && cd img &&
	printf "FROM %s\nRUN mkdir /w && echo from-an-image >/w/index.html\nWORKDIR /w\nCMD python3 -m http.server \$PORT\n" "$STACK" >Dockerfile &&
	docker build -q -t "$IMG" . >/dev/null &&
	mp_ssh deploy:image "$IMG_APP" "$IMG" >"$TEST_ROOT/img.out" 2>&1 &&
	cat "$TEST_ROOT/img.out" &&
	test "$(get "$IMG_APP" /)" = "from-an-image"
'

test_expect_success 'deploy:image of a missing image fails and keeps the release' '
	test_must_fail mp_ssh deploy:image "$IMG_APP" nosuch/image:1 >"$TEST_ROOT/img2.out" 2>&1 &&
	cat "$TEST_ROOT/img2.out" && grep -q "no image" "$TEST_ROOT/img2.out" &&
	test "$(get "$IMG_APP" /)" = "from-an-image"
'

GIT_APP=$(app_name redeploy)
test_expect_success 'deploy rebuilds the deploy branch' '
	git init -q -b main app && cd app && echo "<p>git</p>" >index.html &&
	git add . && git commit -qm one &&
	git push -q "ssh://git@127.0.0.1:$SSH_PORT/$GIT_APP" main >/dev/null 2>&1 &&
	mp_ssh deploy "$GIT_APP" >"$TEST_ROOT/redeploy.out" 2>&1 &&
	cat "$TEST_ROOT/redeploy.out" &&
	grep -q "Building $GIT_APP v2" "$TEST_ROOT/redeploy.out" &&
	test "$(get "$GIT_APP" /)" = "<p>git</p>"
'

SLOW_APP=$(app_name slow)
MARK="slowbuild$TEST_TAG"
test_expect_success 'an interrupted push cancels the build on the server' '
	git init -q -b main slow && cd slow &&
	printf "FROM %s\nRUN echo %s | tr a-z A-Z && sleep 120\n" "$STACK" "$MARK" >Dockerfile &&
	git add . && git commit -qm slow &&
	upper=$(echo "$MARK" | tr a-z A-Z) &&
	{ setsid git push "ssh://git@127.0.0.1:$SSH_PORT/$SLOW_APP" main >"$TEST_ROOT/slow.out" 2>&1 & } &&
	pid=$! &&
	wait_for 60 grep -q "$upper" "$TEST_ROOT/slow.out" &&
	docker ps --no-trunc --format "{{.Command}}" | grep -q "$MARK" &&
	kill -TERM "-$pid" && { wait "$pid" || :; } &&
	wait_for 20 sh -c "! docker ps --no-trunc --format \"{{.Command}}\" | grep -q $MARK" &&
	wait_for 20 sh -c "\"$MINPAAS_BUILD/minpaas\" releases $SLOW_APP | grep -q failed" &&
	"$MINPAAS_BUILD/minpaas" releases:info "$SLOW_APP" v1 | grep -q "cancelled"
'

test_done
