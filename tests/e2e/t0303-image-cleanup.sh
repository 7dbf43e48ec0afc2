#!/bin/sh
# Disk: the images of the last 5 releases of an app are kept for rollback;
# older ones are removed after a successful deploy, so a busy app does not
# fill the disk; so are the app's dangling build images, and only the app's.
. "$(dirname "$0")/lib.sh"
test_plan 3

APP=$(app_name busy)
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}

minpaas_start

test_expect_success 'seven releases leave the images of the last five' '
	git init -q -b main app && cd app &&
	git remote add minpaas "ssh://git@127.0.0.1:$SSH_PORT/$APP" &&
	for i in 1 2 3 4 5 6 7; do
		printf "FROM %s\nRUN echo build %s >/build\nCMD [\"python3\", \"-m\", \"http.server\", \"5000\"]\n" "$STACK" "$i" >Dockerfile &&
		git add Dockerfile && git commit -qm "v$i" &&
		git push -q minpaas main || exit 1
	done &&
	docker images --filter "label=minpaas.app=$APP" --format "{{.Tag}}" |
		grep -v "<none>" | sort >tags &&
	printf "v3\nv4\nv5\nv6\nv7\n" >expect &&
	test_cmp expect tags
'

test_expect_success 'a rollback to the oldest kept release still works' '
	mp_ssh rollback "$APP" v3 >rollback.out 2>&1 &&
	cat rollback.out &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$APP.localhost:$HTTP_PORT/")" = 200
'

# A dangling image with another app's label is what a build of that app
# running at the same time has as its newest step; one of another instance
# with the same app name is that instance's.
test_expect_success 'a deploy prunes its own dangling images, not another app'"'"'s or instance'"'"'s' '
	inst=$(mp_instance "$APP") && test -n "$inst" &&
	mine=$(printf "FROM %s\nLABEL minpaas.instance=%s minpaas.app=%s\n" "$STACK" "$inst" "$APP" | docker build -q -) &&
	test_when_finished "docker rmi -f $mine >/dev/null 2>&1 || :" &&
	theirs=$(printf "FROM %s\nLABEL minpaas.instance=%s minpaas.app=%s\n" "$STACK" "$inst" "$(app_name bystander)" | docker build -q -) &&
	test_when_finished "docker rmi -f $theirs >/dev/null" &&
	other=$(printf "FROM %s\nLABEL minpaas.instance=0ther000 minpaas.app=%s\n" "$STACK" "$APP" | docker build -q -) &&
	test_when_finished "docker rmi -f $other >/dev/null" &&
	cd app && echo "RUN echo build 8 >/build" >>Dockerfile && git commit -qam v8 &&
	git push -q minpaas main &&
	docker image inspect "$theirs" >/dev/null &&
	docker image inspect "$other" >/dev/null &&
	test_must_fail docker image inspect "$mine" >/dev/null 2>&1
'

test_done
