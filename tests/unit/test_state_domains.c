/*
 * tests/unit/test_state_domains.c: custom domains and access grants against
 * a scratch LMDB environment: uniqueness (other apps' domains, routes and
 * generated names), the route written at once and rewritten by the swap,
 * the stopped state as a route without upstreams, grants, and what an app's
 * deletion takes with it. Plus the hostname check of domains:add.
 */
#include "cli/cmd_int.h"
#include "common/err.h"
#include "state/state.h"
#include "tests/unit/fixture.h"

static int
setup(void **ctx)
{
	struct fixture *f;

	fixture_setup(ctx);
	f = *ctx;
	assert_int_equal(state_meta_set(f->st, "domain", "apps.test"), 0);
	return 0;
}

static void
make_app(struct state *st, const char *name, const char *owner)
{
	struct state_app a;

	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	snprintf(a.owner, sizeof a.owner, "%s", owner);
	strcpy(a.branch, "main");
	assert_int_equal(state_app_create(st, &a), 0);
}

static void
route_to(struct state_route *r, const char *app, const char *upstream)
{
	memset(r, 0, sizeof *r);
	snprintf(r->app, sizeof r->app, "%s", app);
	if (upstream) {
		r->nupstreams = 1;
		snprintf(r->upstream[0], sizeof r->upstream[0], "%s", upstream);
	}
}

static void
live(struct state *st, const char *app, const char *upstream)
{
	struct state_release rel;
	struct state_route r;
	char host[64];

	memset(&rel, 0, sizeof rel);
	snprintf(rel.app, sizeof rel.app, "%s", app);
	strcpy(rel.image, "sha256:x");
	strcpy(rel.status, STATE_REL_DEPLOYING);
	assert_int_equal(state_release_new(st, &rel), 0);
	route_to(&r, app, upstream);
	snprintf(host, sizeof host, "%s.apps.test", app);
	assert_int_equal(state_release_activate(st, &rel, host, &r), 0);
}

static void
test_domain_unique(void **ctx)
{
	struct fixture *f = *ctx;
	char owner[64];

	make_app(f->st, "one", "SHA256:a");
	make_app(f->st, "two", "SHA256:b");
	assert_int_equal(state_domain_add(f->st, "one", "www.example.com",
	                     owner, sizeof owner),
	    0);
	assert_int_equal(state_domain_add(f->st, "two", "www.example.com",
	                     owner, sizeof owner),
	    STATE_EXISTS);
	assert_string_equal(owner, "one");
	/* names under the platform domain are reserved: another app's
	 * generated name, deployed or not, a future app's, the platform's */
	assert_int_equal(state_domain_add(f->st, "two", "one.apps.test", owner,
	                     sizeof owner),
	    STATE_RESERVED);
	assert_non_null(strstr(err_msg(), "under the platform domain"));
	live(f->st, "one", "127.0.0.1:20001");
	assert_int_equal(state_domain_add(f->st, "two", "one.apps.test", owner,
	                     sizeof owner),
	    STATE_RESERVED);
	assert_int_equal(state_domain_add(f->st, "two", "three.apps.test",
	                     owner, sizeof owner),
	    STATE_RESERVED);
	assert_int_equal(state_domain_add(f->st, "two", "minpaas.apps.test",
	                     owner, sizeof owner),
	    STATE_RESERVED);
	assert_int_equal(state_domain_add(f->st, "two", "a.b.apps.test", owner,
	                     sizeof owner),
	    STATE_RESERVED);
	assert_int_equal(
	    state_domain_add(f->st, "two", "apps.test", owner, sizeof owner),
	    STATE_RESERVED);
	assert_non_null(strstr(err_msg(), "the platform's own domain"));
	assert_int_equal(
	    state_domain_get(f->st, "three.apps.test", owner, sizeof owner),
	    STATE_NOTFOUND);
	/* a name that only ends like the domain is not under it */
	assert_int_equal(
	    state_domain_add(f->st, "two", "myapps.test", owner, sizeof owner),
	    0);
}

static void
test_domain_routes_follow(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_route r;
	state_hostname *list;
	size_t n;

	make_app(f->st, "web", "SHA256:a");
	/* before any deploy: recorded, no route yet */
	assert_int_equal(
	    state_domain_add(f->st, "web", "b.example.com", NULL, 0), 0);
	assert_int_equal(
	    state_route_get(f->st, "b.example.com", &r), STATE_NOTFOUND);
	live(f->st, "web", "127.0.0.1:20001");
	assert_int_equal(state_route_get(f->st, "b.example.com", &r), 0);
	assert_string_equal(r.upstream[0], "127.0.0.1:20001");
	/* added after: live at once with the current upstream */
	assert_int_equal(
	    state_domain_add(f->st, "web", "a.example.com", NULL, 0), 0);
	assert_int_equal(state_route_get(f->st, "a.example.com", &r), 0);
	assert_string_equal(r.upstream[0], "127.0.0.1:20001");
	/* the swap moves them all */
	live(f->st, "web", "127.0.0.1:20002");
	assert_int_equal(state_route_get(f->st, "a.example.com", &r), 0);
	assert_string_equal(r.upstream[0], "127.0.0.1:20002");
	assert_int_equal(state_route_get(f->st, "b.example.com", &r), 0);
	assert_string_equal(r.upstream[0], "127.0.0.1:20002");
	assert_int_equal(state_domain_list(f->st, "web", &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0], "a.example.com");
	assert_string_equal(list[1], "b.example.com");
	free(list);
	/* stopped: every route without upstreams; decoded as such */
	route_to(&r, "web", NULL);
	assert_int_equal(state_route_set_app(f->st, "web", &r), 0);
	assert_int_equal(state_route_get(f->st, "web.apps.test", &r), 0);
	assert_int_equal(r.nupstreams, 0);
	assert_string_equal(r.app, "web");
	assert_int_equal(state_route_get(f->st, "a.example.com", &r), 0);
	assert_int_equal(r.nupstreams, 0);
	/* and a new domain of a stopped app is stopped too */
	assert_int_equal(
	    state_domain_add(f->st, "web", "c.example.com", NULL, 0), 0);
	assert_int_equal(state_route_get(f->st, "c.example.com", &r), 0);
	assert_int_equal(r.nupstreams, 0);
	/* removal takes the route away */
	assert_int_equal(state_domain_remove(f->st, "web", "a.example.com"), 0);
	assert_int_equal(
	    state_route_get(f->st, "a.example.com", &r), STATE_NOTFOUND);
	/* deleting the app takes domains and routes, stopped ones too */
	assert_int_equal(state_app_delete(f->st, "web"), 0);
	assert_int_equal(
	    state_route_get(f->st, "web.apps.test", &r), STATE_NOTFOUND);
	assert_int_equal(
	    state_route_get(f->st, "b.example.com", &r), STATE_NOTFOUND);
	assert_int_equal(
	    state_domain_get(f->st, "b.example.com", NULL, 0), STATE_NOTFOUND);
}

static void
test_access(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_app a;
	state_fingerprint *fps;
	size_t n;

	make_app(f->st, "shared", "SHA256:owner");
	make_app(f->st, "shared2", "SHA256:owner");
	assert_int_equal(state_app_get(f->st, "shared", &a), 0);
	assert_int_equal(state_access_check(f->st, &a, "SHA256:owner"), 0);
	assert_int_equal(
	    state_access_check(f->st, &a, "SHA256:dev"), STATE_NOTFOUND);
	assert_int_equal(state_access_check(f->st, &a, ""), STATE_NOTFOUND);
	assert_int_equal(state_access_grant(f->st, "shared", "SHA256:dev"), 0);
	assert_int_equal(
	    state_access_grant(f->st, "shared", "SHA256:dev"), STATE_EXISTS);
	assert_int_equal(state_access_grant(f->st, "shared2", "SHA256:dev"), 0);
	assert_int_equal(state_access_check(f->st, &a, "SHA256:dev"), 0);
	assert_int_equal(state_access_list(f->st, "shared", &fps, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fps[0], "SHA256:dev");
	free(fps);
	/* "shared" is a prefix of "shared2": the lists stay apart */
	assert_int_equal(state_access_revoke(f->st, "shared", "SHA256:dev"), 0);
	assert_int_equal(
	    state_access_revoke(f->st, "shared", "SHA256:dev"), STATE_NOTFOUND);
	assert_int_equal(state_access_list(f->st, "shared", &fps, &n), 0);
	assert_int_equal(n, 0);
	free(fps);
	assert_int_equal(state_access_list(f->st, "shared2", &fps, &n), 0);
	assert_int_equal(n, 1);
	free(fps);
	assert_int_equal(state_access_revoke_key(f->st, "SHA256:dev"), 0);
	assert_int_equal(state_access_list(f->st, "shared2", &fps, &n), 0);
	assert_int_equal(n, 0);
	free(fps);
	assert_int_equal(state_access_grant(f->st, "shared", "SHA256:x"), 0);
	assert_int_equal(state_app_delete(f->st, "shared"), 0);
	assert_int_equal(state_access_list(f->st, "shared", &fps, &n), 0);
	assert_int_equal(n, 0);
	free(fps);
}

static void
check_host(const char *in, int valid, const char *out)
{
	char buf[300];
	const char *why;

	snprintf(buf, sizeof buf, "%s", in);
	assert_int_equal(cmd_host_valid(buf, &why), valid);
	if (valid)
		assert_string_equal(buf, out);
	else
		assert_non_null(why);
}

static void
test_host_valid(void **ctx)
{
	char big[300];

	check_host("WWW.Example.COM", 1, "www.example.com");
	check_host("www.example.com.", 1, "www.example.com");
	check_host("a-b.c0.example", 1, "a-b.c0.example");
	check_host("3com.example", 1, "3com.example");
	check_host("localhost", 0, NULL);
	check_host("", 0, NULL);
	check_host("a..b", 0, NULL);
	check_host("-a.b", 0, NULL);
	check_host("a-.b", 0, NULL);
	check_host("a_b.c", 0, NULL);
	check_host("a.b:80", 0, NULL);
	check_host("http://a.b", 0, NULL);
	check_host("10.0.0.1", 0, NULL);
	check_host("*.example.com", 0, NULL);
	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	check_host(big, 0, NULL); /* a label of 64 */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (size_t i = 60; i < sizeof big - 1; i += 61)
		big[i] = '.';
	check_host(big, 0, NULL); /* longer than 253 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_domain_unique, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_domain_routes_follow, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_access, setup, fixture_teardown),
	    cmocka_unit_test(test_host_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
