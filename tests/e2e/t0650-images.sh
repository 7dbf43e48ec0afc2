#!/bin/sh
# A developer key builds only FROM the platform's images, its own apps'
# images or ones an admin allowed, and deploy:image takes only such images:
# another tenant's image is refused as a base, as a COPY --from source and
# for deploy:image, with the rule named. images:allow is for admins, who
# keep full freedom.
. "$(dirname "$0")/lib.sh"
test_plan 6

THEIRS=$(app_name theirs)
MINE=$(app_name mine)
STACK=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}
IMG=minpaas-test/t0650-$TEST_TAG:1

minpaas_start

# as_dev ARGS...: an ssh command as the developer key (and only it)
DEV_SSH="ssh -i $TEST_ROOT/dev -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
as_dev() {
	$DEV_SSH -p "$SSH_PORT" git@127.0.0.1 "$@"
}
# dev_push DIR: pushes DIR's commit as the developer key to $MINE
dev_push() {
	(cd "$1" && GIT_SSH_COMMAND="$DEV_SSH" \
		git push -q -f "ssh://git@127.0.0.1:$SSH_PORT/$MINE" main)
}
# dockerfile DIR LINES...: a Dockerfile app serving $PORT with LINES first
dockerfile() {
	d=$1 && shift &&
	rm -rf "$d" && mkdir "$d" && (
		cd "$d" && git init -q -b main . &&
		printf '%s\n' "$@" 'WORKDIR /tmp' 'CMD python3 -m http.server $PORT' >Dockerfile &&
		git add Dockerfile && git commit -qm "$d"
	)
}
answers() { test "$(curl -s -o /dev/null -w "%{http_code}" "http://$1.localhost:$HTTP_PORT/")" = 200; }

test_expect_success 'an admin deploys one app, a developer another, from the stack image' '
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_ROOT/dev" &&
	"$MINPAAS_BUILD/minpaas" keys:add dev --role developer <"$TEST_ROOT/dev.pub" >/dev/null &&
	dockerfile theirs "FROM $STACK" "RUN echo secret >/tmp/secret" &&
	(cd theirs && git push -q "ssh://git@127.0.0.1:$SSH_PORT/$THEIRS" main) &&
	dockerfile mine "FROM $STACK" && dev_push mine &&
	answers "$THEIRS" && answers "$MINE" &&
	INST=$(mp_instance "$THEIRS") && test -n "$INST" &&
	echo "$INST" >"$TEST_ROOT/inst"
'
INST=$(cat "$TEST_ROOT/inst" 2>/dev/null)

test_expect_success 'a developer cannot build FROM another tenant'"'"'s image, nor COPY --from it' '
	dockerfile steal "FROM minpaas-$INST/$THEIRS:v1" &&
	test_must_fail dev_push steal 2>out && cat out &&
	grep -q "image .minpaas-$INST/$THEIRS:v1. is not one a developer key may use" out &&
	grep -q "images:allow" out &&
	dockerfile steal2 "FROM $STACK" "COPY --from=minpaas-$INST/$THEIRS:v1 /tmp/secret /tmp/" &&
	test_must_fail dev_push steal2 2>out && cat out &&
	grep -q "is not one a developer key may use" out &&
	dockerfile steal3 "ARG BASE=minpaas-$INST/$THEIRS:v1" "FROM \$BASE" &&
	test_must_fail dev_push steal3 2>out && cat out && grep -q "is a variable" out &&
	test -z "$(docker images -q "minpaas-$INST/$MINE:v2")" &&
	answers "$MINE"
'

test_expect_success 'but it may build FROM its own app'"'"'s image' '
	dockerfile own "FROM minpaas-$INST/$MINE:v1" && dev_push own &&
	answers "$MINE"
'

test_expect_success 'deploy:image takes a developer'"'"'s own images, not another tenant'"'"'s or a stranger' '
	test_must_fail as_dev deploy:image "$MINE" "minpaas-$INST/$THEIRS:v1" >out 2>&1 && cat out &&
	grep -q "is not one a developer key may use" out &&
	printf "FROM %s\nWORKDIR /tmp\nCMD python3 -m http.server \$PORT\n" "$STACK" | docker build -q -t "$IMG" - >/dev/null &&
	test_must_fail as_dev deploy:image "$MINE" "$IMG" >out 2>&1 && cat out &&
	grep -q "is not one a developer key may use" out &&
	n=$(docker images -q "minpaas-$INST/$MINE:v*" | wc -l) &&
	as_dev deploy:image "$MINE" "minpaas-$INST/$MINE:v1" >out 2>&1 && cat out &&
	answers "$MINE"
'

test_expect_success 'images:allow is for admins; an allowed image is one developers may use' '
	test_must_fail as_dev images:allow "$IMG" 2>err && grep -q "only admin keys manage images" err &&
	mp_ssh images:allow "$IMG" >/dev/null &&
	mp_ssh images >list && grep -qx "$IMG" list &&
	as_dev deploy:image "$MINE" "$IMG" >out 2>&1 && cat out && answers "$MINE" &&
	mp_ssh images:disallow "$IMG" >/dev/null &&
	test_must_fail as_dev deploy:image "$MINE" "$IMG" >/dev/null 2>&1
'

test_expect_success 'admins keep full freedom' '
	mp_ssh deploy:image "$THEIRS" "$IMG" >out 2>&1 && cat out && answers "$THEIRS" &&
	dockerfile adminfrom "FROM minpaas-$INST/$MINE:v1" &&
	(cd adminfrom && git push -q -f "ssh://git@127.0.0.1:$SSH_PORT/$THEIRS" main) &&
	answers "$THEIRS"
'

test_done
