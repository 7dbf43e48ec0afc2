/*
 * tests/unit/test_state_relenv.c: the env snapshot of each release. A
 * release keeps the config it was made with, byte for byte, whatever the
 * app's config becomes; a rollback release can carry an older snapshot; the
 * health-check path is stored with the release; deleting the app drops all.
 */
#include "state/state.h"
#include "tests/unit/fixture.h"

static int
setup(void **ctx)
{
	struct fixture *f;
	struct state_app a;

	fixture_setup(ctx);
	f = *ctx;
	memset(&a, 0, sizeof a);
	strcpy(a.name, "demo");
	strcpy(a.owner, "SHA256:owner");
	strcpy(a.branch, "main");
	assert_int_equal(state_app_create(f->st, &a), 0);
	return 0;
}

static uint32_t
new_release(struct state *st, const char *health)
{
	struct state_release r;

	memset(&r, 0, sizeof r);
	strcpy(r.app, "demo");
	strcpy(r.image, "sha256:abc");
	strcpy(r.status, "building");
	strcpy(r.cause, "push");
	snprintf(r.healthcheck, sizeof r.healthcheck, "%s", health);
	assert_int_equal(state_release_new(st, &r), 0);
	return r.number;
}

static const char tricky[] = "A='b c' \"$(rm -rf /)\"\n\tline2\\ `x` =;";

static void
test_snapshot_is_taken_at_release(void **ctx)
{
	struct fixture *f = *ctx;
	const char *set1[] = {"B=2", NULL, NULL};
	const char *unset[] = {"B", NULL};
	struct state_env e;
	char *tv;
	uint32_t n1, n2;

	/* no config yet: an empty snapshot, not a missing one */
	n1 = new_release(f->st, "");
	assert_int_equal(state_release_env(f->st, "demo", n1, &e), 0);
	assert_int_equal(e.n, 0);
	assert_non_null(e.vars);
	assert_null(e.vars[0]);
	state_env_release(&e);

	assert_non_null(tv = malloc(strlen(tricky) + 3));
	sprintf(tv, "A=%s", tricky);
	set1[1] = tv;
	assert_int_equal(state_env_update(f->st, "demo", set1, NULL, NULL), 0);
	n2 = new_release(f->st, "/health");
	/* a later change does not reach the snapshot */
	assert_int_equal(state_env_update(f->st, "demo", NULL, unset, NULL), 0);

	assert_int_equal(state_release_env(f->st, "demo", n2, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.vars[0], tv);
	assert_string_equal(e.vars[1], "B=2");
	assert_null(e.vars[2]);
	state_env_release(&e);
	free(tv);

	assert_int_equal(
	    state_release_env(f->st, "demo", 99, &e), STATE_NOTFOUND);
	assert_int_equal(
	    state_release_env(f->st, "nope", n2, &e), STATE_NOTFOUND);
}

static void
test_new_env_and_healthcheck(void **ctx)
{
	struct fixture *f = *ctx;
	char v1[] = "X=1", v2[] = "Y=two words";
	char *vars[] = {v1, v2, NULL};
	struct state_env old = {2, vars}, e;
	struct state_release r, got;

	memset(&r, 0, sizeof r);
	strcpy(r.app, "demo");
	strcpy(r.cause, "rollback");
	strcpy(r.status, STATE_REL_DEPLOYING);
	strcpy(r.healthcheck, "/ready?x=1");
	assert_int_equal(state_release_new_env(f->st, &r, &old), 0);
	assert_int_equal(r.number, 1);
	assert_int_equal(state_release_env(f->st, "demo", 1, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.vars[0], "X=1");
	assert_string_equal(e.vars[1], "Y=two words");
	state_env_release(&e);
	assert_int_equal(state_release_get(f->st, "demo", 1, &got), 0);
	assert_string_equal(got.healthcheck, "/ready?x=1");
	assert_string_equal(got.cause, "rollback");

	/* NULL env: an empty snapshot */
	assert_int_equal(state_release_new_env(f->st, &r, NULL), 0);
	assert_int_equal(r.number, 2);
	assert_int_equal(state_release_env(f->st, "demo", 2, &e), 0);
	assert_int_equal(e.n, 0);
	state_env_release(&e);
}

static void
test_app_delete_drops_snapshots(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_env e;
	uint32_t n;

	n = new_release(f->st, "");
	assert_int_equal(state_app_delete(f->st, "demo"), 0);
	assert_int_equal(
	    state_release_env(f->st, "demo", n, &e), STATE_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_snapshot_is_taken_at_release, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_new_env_and_healthcheck, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_app_delete_drops_snapshots, setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
