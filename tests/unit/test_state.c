/*
 * tests/unit/test_state.c: the LMDB state module against a scratch
 * environment: records round-trip, release numbering, the port pool, the
 * swap transaction, and the router's reader seeing a commit at once.
 */
#include "state/state.h"
#include "tests/unit/fixture.h"

static void
make_app(struct state *st, const char *name)
{
	struct state_app a;

	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	strcpy(a.owner, "SHA256:owner");
	strcpy(a.branch, "main");
	a.created = 1700000000;
	assert_int_equal(state_app_create(st, &a), 0);
}

static void
test_app_roundtrip(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_app a, got, *list;
	size_t n;

	make_app(f->st, "web");
	make_app(f->st, "api");
	memset(&a, 0, sizeof a);
	strcpy(a.name, "web");
	assert_int_equal(state_app_create(f->st, &a), STATE_EXISTS);
	assert_int_equal(state_app_get(f->st, "web", &got), 0);
	assert_string_equal(got.owner, "SHA256:owner");
	assert_string_equal(got.branch, "main");
	assert_int_equal(got.created, 1700000000);
	assert_int_equal(state_app_get(f->st, "nope", &got), STATE_NOTFOUND);
	assert_int_equal(state_app_list(f->st, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "api");
	assert_string_equal(list[1].name, "web");
	free(list);
}

static void
test_keys(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_key k, got;

	memset(&k, 0, sizeof k);
	strcpy(k.fp, "SHA256:abc");
	strcpy(k.name, "alice");
	strcpy(k.role, "admin");
	strcpy(k.pubkey, "ssh-ed25519 AAAA");
	assert_int_equal(state_key_add(f->st, &k), 0);
	assert_int_equal(state_key_add(f->st, &k), STATE_EXISTS);
	strcpy(k.fp, "SHA256:other");
	assert_int_equal(state_key_add(f->st, &k), STATE_EXISTS); /* name */
	assert_int_equal(state_key_get(f->st, "SHA256:abc", &got), 0);
	assert_string_equal(got.name, "alice");
	assert_string_equal(got.role, "admin");
	assert_int_equal(state_key_remove(f->st, "alice"), 0);
	assert_int_equal(
	    state_key_get(f->st, "SHA256:abc", &got), STATE_NOTFOUND);
	assert_int_equal(state_key_remove(f->st, "alice"), STATE_NOTFOUND);
}

static void
test_release_numbers(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_release r, got, *list;
	size_t n;
	int i;

	make_app(f->st, "a");
	make_app(f->st, "a-b");
	for (i = 1; i <= 300; i++) {
		memset(&r, 0, sizeof r);
		strcpy(r.app, "a");
		strcpy(r.status, "building");
		assert_int_equal(state_release_new(f->st, &r), 0);
		assert_int_equal(r.number, i);
	}
	/* another app's numbers start at 1 and do not disturb "a" */
	memset(&r, 0, sizeof r);
	strcpy(r.app, "a-b");
	strcpy(r.status, "building");
	assert_int_equal(state_release_new(f->st, &r), 0);
	assert_int_equal(r.number, 1);
	memset(&r, 0, sizeof r);
	strcpy(r.app, "a");
	strcpy(r.status, "building");
	assert_int_equal(state_release_new(f->st, &r), 0);
	assert_int_equal(r.number, 301);

	assert_int_equal(state_release_get(f->st, "a", 256, &got), 0);
	assert_int_equal(got.number, 256);
	assert_string_equal(got.status, "building");
	assert_int_equal(state_release_list(f->st, "a", &list, &n), 0);
	assert_int_equal(n, 301);
	assert_int_equal(list[0].number, 301); /* newest first */
	assert_int_equal(list[300].number, 1);
	free(list);
}

static void
test_ports(void **ctx)
{
	struct fixture *f = *ctx;
	uint16_t p1, p2, p3;

	assert_int_equal(state_port_alloc(f->st, "a", &p1), 0);
	assert_int_equal(state_port_alloc(f->st, "a", &p2), 0);
	assert_int_equal(p1, STATE_PORT_MIN);
	assert_int_equal(p2, STATE_PORT_MIN + 1);
	assert_int_equal(state_port_free(f->st, p1), 0);
	assert_int_equal(state_port_alloc(f->st, "b", &p3), 0);
	assert_int_equal(p3, p1); /* the lowest free port again */
}

static void
test_activate_and_reader(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_reader *rd;
	struct state_release r;
	struct state_route route, got;
	struct state_app app;

	make_app(f->st, "hello");
	assert_int_equal(state_reader_new(&rd, f->st), 0);
	assert_int_equal(state_reader_route(rd, "hello.localhost", 15, &got),
	    STATE_NOTFOUND);

	memset(&r, 0, sizeof r);
	strcpy(r.app, "hello");
	strcpy(r.commit, "0123456789012345678901234567890123456789");
	strcpy(r.status, "deploying");
	assert_int_equal(state_release_new(f->st, &r), 0);
	memset(&route, 0, sizeof route);
	strcpy(route.app, "hello");
	route.nupstreams = 2;
	strcpy(route.upstream[0], "127.0.0.1:20000");
	strcpy(route.upstream[1], "127.0.0.1:20001");
	assert_int_equal(
	    state_release_activate(f->st, &r, "hello.localhost", &route), 0);

	/* the same reader sees the commit on its next lookup */
	assert_int_equal(
	    state_reader_route(rd, "hello.localhost", 15, &got), 0);
	assert_string_equal(got.app, "hello");
	assert_int_equal(got.nupstreams, 2);
	assert_string_equal(got.upstream[1], "127.0.0.1:20001");
	assert_int_equal(state_app_get(f->st, "hello", &app), 0);
	assert_int_equal(app.release, 1);
	assert_string_equal(app.commit, r.commit);
	assert_int_equal(state_release_get(f->st, "hello", 1, &r), 0);
	assert_string_equal(r.status, "live");

	route.nupstreams = 1;
	strcpy(route.upstream[0], "127.0.0.1:20005");
	assert_int_equal(state_route_put(f->st, "hello.localhost", &route), 0);
	assert_int_equal(
	    state_reader_route(rd, "hello.localhost", 15, &got), 0);
	assert_int_equal(got.nupstreams, 1);
	assert_string_equal(got.upstream[0], "127.0.0.1:20005");

	/* deleting the app takes its routes, releases and ports with it */
	assert_int_equal(state_app_delete(f->st, "hello"), 0);
	assert_int_equal(state_reader_route(rd, "hello.localhost", 15, &got),
	    STATE_NOTFOUND);
	assert_int_equal(
	    state_release_get(f->st, "hello", 1, &r), STATE_NOTFOUND);
	state_reader_free(rd);
}

static void
test_meta(void **ctx)
{
	struct fixture *f = *ctx;
	char v[8];

	assert_int_equal(
	    state_meta_get(f->st, "domain", v, sizeof v), STATE_NOTFOUND);
	assert_int_equal(state_meta_set(f->st, "domain", "example.org"), 0);
	assert_int_equal(state_meta_get(f->st, "domain", v, sizeof v), 0);
	assert_string_equal(v, "example"); /* truncated to fit */
}

static void
test_env(void **ctx)
{
	struct fixture *f = *ctx;
	const char *set[] = {"B=two words", "A=x\n$(id)'\"", "C=", NULL};
	const char *unset[] = {"C", "MISSING", NULL};
	const char *bad[] = {"1A=x", NULL};
	struct state_env env;

	make_app(f->st, "app");
	make_app(f->st, "app2");
	assert_int_equal(state_env_update(f->st, "app", set, NULL, &env), 0);
	assert_int_equal(env.n, 3);
	assert_string_equal(env.vars[0], "A=x\n$(id)'\"");
	assert_string_equal(env.vars[1], "B=two words");
	assert_string_equal(env.vars[2], "C=");
	assert_null(env.vars[3]);
	state_env_release(&env);
	assert_int_equal(state_env_update(f->st, "app", NULL, unset, NULL), 0);
	assert_int_equal(state_env_update(f->st, "app", bad, NULL, NULL), -1);
	assert_int_equal(state_env_get(f->st, "app", &env), 0);
	assert_int_equal(env.n, 2);
	state_env_release(&env);
	assert_int_equal(state_env_get(f->st, "app2", &env), 0);
	assert_int_equal(env.n, 0);
	assert_null(env.vars[0]);
	state_env_release(&env);
	assert_true(state_env_key_valid("_A1"));
	assert_false(state_env_key_valid("A-B"));
	assert_false(state_env_key_valid(""));
	assert_int_equal(state_app_delete(f->st, "app"), 0);
	assert_int_equal(state_env_get(f->st, "app", &env), 0);
	assert_int_equal(env.n, 0);
	state_env_release(&env);
}

/* A release's status moves only along the allowed edges, in
 * state_release_move and state_release_activate. */
static void
test_release_moves(void **ctx)
{
	static const char *const all[] = {STATE_REL_BUILDING,
	    STATE_REL_DEPLOYING, STATE_REL_LIVE, STATE_REL_SUPERSEDED,
	    STATE_REL_FAILED};
	struct fixture *f = *ctx;
	struct state_release r, r2, got;
	struct state_route route;
	size_t i, j;
	int allowed = 0;

	/* the whole table: five edges out of twenty-five pairs */
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			allowed += state_release_move_ok(all[i], all[j]);
	assert_int_equal(allowed, 5);
	assert_true(state_release_move_ok("building", "deploying"));
	assert_true(state_release_move_ok("deploying", "failed"));
	assert_true(state_release_move_ok("live", "superseded"));
	assert_false(state_release_move_ok("failed", "live"));
	assert_false(state_release_move_ok("building", "live"));
	assert_false(state_release_move_ok("superseded", "live"));

	make_app(f->st, "mv");
	memset(&r, 0, sizeof r);
	strcpy(r.app, "mv");
	strcpy(r.status, "live"); /* a release is never made live */
	assert_int_equal(state_release_new(f->st, &r), -1);
	strcpy(r.status, STATE_REL_BUILDING);
	assert_int_equal(state_release_new(f->st, &r), 0);
	/* a put may not change the status behind the checks */
	strcpy(r.status, STATE_REL_LIVE);
	assert_int_equal(state_release_put(f->st, &r), -1);
	strcpy(r.status, STATE_REL_BUILDING);
	assert_int_equal(
	    state_release_move(f->st, &r, STATE_REL_LIVE), STATE_BADMOVE);
	assert_string_equal(r.status, STATE_REL_BUILDING);
	strcpy(r.image, "sha256:1");
	assert_int_equal(state_release_move(f->st, &r, STATE_REL_DEPLOYING), 0);
	assert_int_equal(state_release_get(f->st, "mv", 1, &got), 0);
	assert_string_equal(got.status, STATE_REL_DEPLOYING);
	assert_string_equal(got.image, "sha256:1"); /* stored with the move */

	memset(&route, 0, sizeof route);
	strcpy(route.app, "mv");
	assert_int_equal(
	    state_release_activate(f->st, &r, "mv.test", &route), 0);
	assert_string_equal(r.status, STATE_REL_LIVE);
	/* activating it again is a move from live to live */
	assert_int_equal(state_release_activate(f->st, &r, "mv.test", &route),
	    STATE_BADMOVE);

	/* the next release going live supersedes it in the same write */
	memset(&r2, 0, sizeof r2);
	strcpy(r2.app, "mv");
	strcpy(r2.status, STATE_REL_DEPLOYING);
	assert_int_equal(state_release_new(f->st, &r2), 0);
	assert_int_equal(
	    state_release_activate(f->st, &r2, "mv.test", &route), 0);
	assert_int_equal(state_release_get(f->st, "mv", 1, &got), 0);
	assert_string_equal(got.status, STATE_REL_SUPERSEDED);
	assert_int_equal(state_release_get(f->st, "mv", 2, &got), 0);
	assert_string_equal(got.status, STATE_REL_LIVE);
	/* failed and superseded are final */
	assert_int_equal(
	    state_release_move(f->st, &got, STATE_REL_FAILED), STATE_BADMOVE);
	assert_int_equal(state_release_get(f->st, "mv", 1, &got), 0);
	assert_int_equal(
	    state_release_move(f->st, &got, STATE_REL_LIVE), STATE_BADMOVE);
	/* an unknown release cannot move */
	got.number = 9;
	assert_int_equal(state_release_move(f->st, &got, STATE_REL_FAILED), -1);
}

static void
test_instance(void **ctx)
{
	struct fixture *f = *ctx;
	char a[16], b[16];
	size_t i;

	assert_int_equal(state_instance(f->st, a, sizeof a), 0);
	assert_int_equal(strlen(a), STATE_INSTANCE_LEN);
	for (i = 0; a[i]; i++)
		assert_true(strchr("0123456789abcdef", a[i]) != NULL);
	/* made once, then kept */
	assert_int_equal(state_instance(f->st, b, sizeof b), 0);
	assert_string_equal(a, b);
	assert_int_equal(state_instance(f->st, b, STATE_INSTANCE_LEN), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_app_roundtrip, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_keys, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_release_numbers, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ports, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_activate_and_reader, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_meta, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_env, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_release_moves, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_instance, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
