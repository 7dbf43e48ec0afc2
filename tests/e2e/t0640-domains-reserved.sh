#!/bin/sh
# Hostnames under the platform domain are reserved: only app X has
# X.<domain>, the bare domain and minpaas.<domain> are the platform's, and
# no key (developer or admin) can add a custom domain under it, so nobody
# can squat a future app's name (the bare domain is checked by the unit
# tests: "localhost" is no valid custom domain anyway); an app cannot be
# called minpaas.
. "$(dirname "$0")/lib.sh"
test_plan 4

APP=$(app_name mine)
FUTURE=$(app_name future)

minpaas_start

# as_dev ARGS...: an ssh command as the developer key (and only it); its
# stderr in err
DEV_SSH="ssh -i $TEST_ROOT/dev -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
as_dev() {
	$DEV_SSH -p "$SSH_PORT" git@127.0.0.1 "$@" 2>err
}

test_expect_success 'a developer creates an app' '
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_ROOT/dev" &&
	"$MINPAAS_BUILD/minpaas" keys:add dev --role developer <"$TEST_ROOT/dev.pub" >/dev/null &&
	as_dev apps:create "$APP" >/dev/null
'

test_expect_success 'no custom domain under the platform domain, for a developer or an admin' '
	for h in "$FUTURE.localhost" "minpaas.localhost" "www.$APP.localhost"; do
		test_expect_code 1 as_dev domains:add "$APP" "$h" || exit 1
		grep -q "platform" err || exit 1
		test_expect_code 1 mp_ssh domains:add "$APP" "$h" 2>err || exit 1
		grep -q "platform" err || exit 1
	done &&
	as_dev domains "$APP" >list && cat list &&
	test "$(grep -c localhost list)" = 1 && grep -q "^$APP.localhost (default)" list
'

test_expect_success 'so the future app can be made, and gets its name' '
	mp_ssh apps:create "$FUTURE" >/dev/null &&
	mp_ssh apps:info "$FUTURE" >info && grep -q "$FUTURE.localhost" info
'

test_expect_success 'minpaas is not an app name' '
	test_expect_code 2 mp_ssh apps:create minpaas 2>err &&
	grep -q "the platform.s own" err &&
	test_expect_code 2 as_dev apps:create minpaas &&
	! mp_ssh apps | grep -qx minpaas
'

test_done
