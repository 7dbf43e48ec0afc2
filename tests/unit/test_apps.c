/*
 * tests/unit/test_apps.c: the app rules (apps/) against a scratch LMDB
 * environment: the name rule, a name taken (by an app the caller may or may
 * not use), a generated hostname taken by another app's custom domain or a
 * route, who may use and manage an app (owner, grant, another developer,
 * admin, the local command), an app's hostnames and URLs with and without
 * a domain and an HTTP port, and an update that never brings a destroyed
 * app back.
 */
#include <time.h>

#include "apps/apps.h"
#include "common/err.h"
#include "state/state.h"
#include "tests/unit/fixture.h"

static const struct apps_caller alice = {"SHA256:alice", 0};
static const struct apps_caller bob = {"SHA256:bob", 0};
static const struct apps_caller root = {"SHA256:root", 1};
static const struct apps_caller local = {"", 1};

static void
test_name_rule(void **ctx)
{
	struct fixture *f = *ctx;
	static const char *const bad[] = {"", "Web", "1web", "-web", "we_b",
	    "web.app", "we b", "../web", "abcdefghijklmnopqrstuvwxyz01234",
	    NULL};
	struct state_app a, got;
	int64_t before = (int64_t)time(NULL);
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		assert_int_equal(
		    apps_create(f->st, bad[i], &alice, NULL), APPS_INVALID);
		assert_non_null(strstr(err_msg(), "invalid app name"));
		if (bad[i][0] != '\0')
			assert_int_equal(
			    state_app_get(f->st, bad[i], &got), STATE_NOTFOUND);
	}
	/* minpaas.<domain> is the platform's */
	assert_int_equal(
	    apps_create(f->st, "minpaas", &local, NULL), APPS_INVALID);
	assert_non_null(strstr(err_msg(), "the platform's own"));
	assert_int_equal(state_app_get(f->st, "minpaas", &got), STATE_NOTFOUND);
	/* 30 characters is the longest name */
	assert_int_equal(
	    apps_create(f->st, "abcdefghijklmnopqrstuvwxyz0123", &alice, NULL),
	    0);
	assert_int_equal(apps_create(f->st, "w", &alice, &a), 0);
	assert_int_equal(apps_create(f->st, "web-2", &alice, NULL), 0);
	/* owner, deploy branch and time as the rule says, stored */
	assert_int_equal(state_app_get(f->st, "w", &got), 0);
	assert_string_equal(got.owner, "SHA256:alice");
	assert_string_equal(got.branch, "main");
	assert_true(got.created >= before && got.created <= time(NULL));
	assert_int_equal(got.release, 0);
	assert_int_equal(got.created, a.created);
	assert_string_equal(a.name, "w");
	/* the local command's apps are nobody's; an admin key's its own */
	assert_int_equal(apps_create(f->st, "loc", &local, NULL), 0);
	assert_int_equal(state_app_get(f->st, "loc", &got), 0);
	assert_string_equal(got.owner, "");
	assert_int_equal(apps_create(f->st, "adm", &root, NULL), 0);
	assert_int_equal(state_app_get(f->st, "adm", &got), 0);
	assert_string_equal(got.owner, "SHA256:root");
}

static void
test_duplicate(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_app a;

	assert_int_equal(apps_create(f->st, "web", &alice, NULL), 0);
	/* the owner: it exists, and here it is */
	memset(&a, 0, sizeof a);
	assert_int_equal(apps_create(f->st, "web", &alice, &a), APPS_EXISTS);
	assert_string_equal(a.name, "web");
	assert_string_equal(a.owner, "SHA256:alice");
	assert_non_null(strstr(err_msg(), "exists already"));
	/* another developer: only "not available", nothing of alice's */
	memset(&a, 0, sizeof a);
	assert_int_equal(apps_create(f->st, "web", &bob, &a), APPS_TAKEN);
	assert_string_equal(err_msg(), "app name 'web' is not available");
	assert_string_equal(a.name, "");
	/* a grant makes it bob's to use, so it "exists" for him too */
	assert_int_equal(state_access_grant(f->st, "web", bob.fp), 0);
	assert_int_equal(apps_create(f->st, "web", &bob, NULL), APPS_EXISTS);
	assert_int_equal(apps_create(f->st, "web", &root, NULL), APPS_EXISTS);
	assert_int_equal(apps_create(f->st, "web", &local, NULL), APPS_EXISTS);
	/* the owner stays the first creator's */
	assert_int_equal(state_app_get(f->st, "web", &a), 0);
	assert_string_equal(a.owner, "SHA256:alice");
	/* destroyed, the name is free again */
	assert_int_equal(state_app_delete(f->st, "web"), 0);
	assert_int_equal(apps_create(f->st, "web", &bob, NULL), 0);
	assert_int_equal(state_app_get(f->st, "web", &a), 0);
	assert_string_equal(a.owner, "SHA256:bob");
}

static void
test_host_taken(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_route r;
	struct state_app a;
	char holder[32];

	/* a custom domain added before the platform domain moved over it */
	assert_int_equal(state_meta_set(f->st, "domain", "other.test"), 0);
	assert_int_equal(apps_create(f->st, "one", &alice, NULL), 0);
	assert_int_equal(state_domain_add(f->st, "one", "two.apps.test", holder,
	                     sizeof holder),
	    0);
	assert_int_equal(state_meta_set(f->st, "domain", "apps.test"), 0);
	/* "two.apps.test" serves one: an app "two" would take its route */
	assert_int_equal(
	    apps_create(f->st, "two", &bob, NULL), APPS_HOST_TAKEN);
	assert_string_equal(err_msg(), "app name 'two' is not available "
	                               "(two.apps.test is in use)");
	assert_int_equal(state_app_get(f->st, "two", &a), STATE_NOTFOUND);
	/* the owner of that domain and admins are refused alike */
	assert_int_equal(
	    apps_create(f->st, "two", &alice, NULL), APPS_HOST_TAKEN);
	assert_int_equal(
	    apps_create(f->st, "two", &local, NULL), APPS_HOST_TAKEN);
	/* a route of that name, whoever wrote it */
	memset(&r, 0, sizeof r);
	snprintf(r.app, sizeof r.app, "one");
	assert_int_equal(state_route_put(f->st, "three.apps.test", &r), 0);
	assert_int_equal(
	    apps_create(f->st, "three", &bob, NULL), APPS_HOST_TAKEN);
	/* but an app's own route is no conflict: it exists, that is all */
	assert_int_equal(state_route_put(f->st, "one.apps.test", &r), 0);
	assert_int_equal(apps_create(f->st, "one", &alice, NULL), APPS_EXISTS);
	/* the same name under another domain is no conflict */
	assert_int_equal(
	    state_domain_add(f->st, "one", "four.example.com", NULL, 0), 0);
	assert_int_equal(apps_create(f->st, "four", &bob, NULL), 0);
	/* and once the domain goes, the name is free */
	assert_int_equal(state_domain_remove(f->st, "one", "two.apps.test"), 0);
	assert_int_equal(apps_create(f->st, "two", &bob, NULL), 0);
	/* the other way round: a domain equal to an app's generated name,
	 * or to any name under the platform domain, is refused */
	assert_int_equal(state_domain_add(f->st, "one", "two.apps.test", holder,
	                     sizeof holder),
	    STATE_RESERVED);
}

static void
test_host_taken_default_domain(void **ctx)
{
	struct fixture *f = *ctx;

	/* no domain set: the generated names are "<app>.localhost" (the
	 * custom domain was added while the platform domain was another) */
	assert_int_equal(state_meta_set(f->st, "domain", "other.test"), 0);
	assert_int_equal(apps_create(f->st, "one", &alice, NULL), 0);
	assert_int_equal(
	    state_domain_add(f->st, "one", "two.localhost", NULL, 0), 0);
	assert_int_equal(state_meta_set(f->st, "domain", ""), 0);
	assert_int_equal(
	    apps_create(f->st, "two", &bob, NULL), APPS_HOST_TAKEN);
	assert_non_null(strstr(err_msg(), "two.localhost is in use"));
}

static void
test_access(void **ctx)
{
	struct fixture *f = *ctx;
	static const struct apps_caller nokey = {"", 0}, nofp = {NULL, 0};
	struct state_app a, nobodys;

	assert_int_equal(apps_create(f->st, "web", &alice, &a), 0);
	assert_int_equal(apps_create(f->st, "box", &local, &nobodys), 0);
	/* the owner uses and manages it */
	assert_int_equal(apps_access(f->st, &a, &alice, APPS_USE), 0);
	assert_int_equal(apps_access(f->st, &a, &alice, APPS_MANAGE), 0);
	/* another developer does neither */
	assert_int_equal(apps_access(f->st, &a, &bob, APPS_USE), APPS_DENIED);
	assert_int_equal(
	    apps_access(f->st, &a, &bob, APPS_MANAGE), APPS_DENIED);
	/* a grant lets him use it, not manage it */
	assert_int_equal(state_access_grant(f->st, "web", bob.fp), 0);
	assert_int_equal(apps_access(f->st, &a, &bob, APPS_USE), 0);
	assert_int_equal(
	    apps_access(f->st, &a, &bob, APPS_MANAGE), APPS_DENIED);
	assert_int_equal(state_access_revoke(f->st, "web", bob.fp), 0);
	assert_int_equal(apps_access(f->st, &a, &bob, APPS_USE), APPS_DENIED);
	/* admins, and the local command, do both */
	assert_int_equal(apps_access(f->st, &a, &root, APPS_USE), 0);
	assert_int_equal(apps_access(f->st, &a, &root, APPS_MANAGE), 0);
	assert_int_equal(apps_access(f->st, &a, &local, APPS_MANAGE), 0);
	/* an app of nobody is no developer's, even one without a key */
	assert_int_equal(
	    apps_access(f->st, &nobodys, &alice, APPS_USE), APPS_DENIED);
	assert_int_equal(
	    apps_access(f->st, &nobodys, &nokey, APPS_USE), APPS_DENIED);
	assert_int_equal(
	    apps_access(f->st, &nobodys, &nofp, APPS_MANAGE), APPS_DENIED);
	assert_int_equal(apps_access(f->st, &nobodys, &root, APPS_USE), 0);
}

static void
test_hosts_default(void **ctx)
{
	struct fixture *f = *ctx;
	struct apps_hosts h;

	/* no domain and no port recorded: localhost, port 80 */
	assert_int_equal(apps_hosts_get(f->st, "web", &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.host[0].name, "web.localhost");
	assert_string_equal(h.host[0].url, "http://web.localhost/");
	apps_hosts_release(&h);
	assert_null(h.host);
	/* an empty domain is no domain */
	assert_int_equal(state_meta_set(f->st, "domain", ""), 0);
	assert_int_equal(state_meta_set(f->st, "http_port", "8080"), 0);
	assert_int_equal(apps_hosts_get(f->st, "web", &h), 0);
	assert_string_equal(h.host[0].url, "http://web.localhost:8080/");
	apps_hosts_release(&h);
}

static void
test_hosts_domain_port(void **ctx)
{
	struct fixture *f = *ctx;
	struct apps_hosts h;

	assert_int_equal(state_meta_set(f->st, "domain", "apps.test"), 0);
	assert_int_equal(state_meta_set(f->st, "http_port", "80"), 0);
	assert_int_equal(apps_create(f->st, "web", &alice, NULL), 0);
	assert_int_equal(
	    state_domain_add(f->st, "web", "www.example.com", NULL, 0), 0);
	assert_int_equal(
	    state_domain_add(f->st, "web", "a.example.com", NULL, 0), 0);
	assert_int_equal(apps_hosts_get(f->st, "web", &h), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.host[0].name, "web.apps.test");
	assert_string_equal(h.host[0].url, "http://web.apps.test/");
	assert_string_equal(h.host[1].name, "a.example.com");
	assert_string_equal(h.host[1].url, "http://a.example.com/");
	assert_string_equal(h.host[2].name, "www.example.com");
	assert_string_equal(h.host[2].url, "http://www.example.com/");
	apps_hosts_release(&h);
	/* another port shows in every URL */
	assert_int_equal(state_meta_set(f->st, "http_port", "8443"), 0);
	assert_int_equal(apps_hosts_get(f->st, "web", &h), 0);
	assert_string_equal(h.host[0].url, "http://web.apps.test:8443/");
	assert_string_equal(h.host[2].url, "http://www.example.com:8443/");
	apps_hosts_release(&h);
	/* a name too long for a hostname is an error, not a cut one */
	assert_int_equal(
	    state_meta_set(f->st, "domain",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    0);
	assert_int_equal(apps_hosts_get(f->st, "web", &h), -1);
	assert_non_null(strstr(err_msg(), "too long"));
	apps_hosts_release(&h);
}

static void
test_put_never_creates(void **ctx)
{
	struct fixture *f = *ctx;
	struct state_app a, got;

	assert_int_equal(apps_create(f->st, "web", &alice, &a), 0);
	snprintf(a.runtime, sizeof a.runtime, "python");
	assert_int_equal(state_app_put(f->st, &a), 0);
	assert_int_equal(state_app_get(f->st, "web", &got), 0);
	assert_string_equal(got.runtime, "python");
	/* a deploy that still holds the record of a destroyed app */
	assert_int_equal(state_app_delete(f->st, "web"), 0);
	assert_int_equal(state_app_put(f->st, &a), STATE_NOTFOUND);
	assert_int_equal(state_app_get(f->st, "web", &got), STATE_NOTFOUND);
}

/* The images a developer may build from and deploy; admins any. */
static void
test_images(void **ctx)
{
	struct fixture *f = *ctx;
	const char *inst = "0123abcd";

	unsetenv("MINPAAS_STACK_IMAGE");
	unsetenv("MINPAAS_IMAGE_NODE");
	assert_int_equal(apps_create(f->st, "web", &alice, NULL), 0);
	assert_int_equal(apps_create(f->st, "other", &bob, NULL), 0);
	/* the platform's images */
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "minpaas/stack:bookworm"),
	    0);
	setenv("MINPAAS_IMAGE_NODE", "local/node20", 1);
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "local/node20:latest"), 0);
	unsetenv("MINPAAS_IMAGE_NODE");
	/* its own app's images, of this instance */
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "minpaas-0123abcd/web:v3"),
	    0);
	/* another tenant's, another instance's, or a malformed one: no */
	assert_int_equal(apps_image_allowed(
	                     f->st, &alice, inst, "minpaas-0123abcd/other:v1"),
	    APPS_DENIED);
	assert_non_null(strstr(err_msg(), "images:allow"));
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "minpaas-ffffffff/web:v3"),
	    APPS_DENIED);
	assert_int_equal(apps_image_allowed(f->st, &alice, inst,
	                     "minpaas-0123abcd/web:latest"),
	    APPS_DENIED);
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "debian:bookworm"),
	    APPS_DENIED);
	/* until an admin allows it; a tag-less name is :latest */
	assert_int_equal(state_image_allow(f->st, "debian:bookworm"), 0);
	assert_int_equal(
	    state_image_allow(f->st, "debian:bookworm"), STATE_EXISTS);
	assert_int_equal(
	    apps_image_allowed(f->st, &alice, inst, "debian:bookworm"), 0);
	assert_int_equal(state_image_allow(f->st, "busybox:latest"), 0);
	assert_int_equal(apps_image_allowed(f->st, &bob, inst, "busybox"), 0);
	assert_int_equal(state_image_disallow(f->st, "busybox:latest"), 0);
	assert_int_equal(
	    apps_image_allowed(f->st, &bob, inst, "busybox"), APPS_DENIED);
	assert_int_equal(
	    state_image_disallow(f->st, "busybox:latest"), STATE_NOTFOUND);
	/* admins keep full freedom */
	assert_int_equal(
	    apps_image_allowed(f->st, &root, inst, "minpaas-0123abcd/other:v1"),
	    0);
	assert_int_equal(
	    apps_image_allowed(f->st, &local, inst, "anything"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_images, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_name_rule, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_duplicate, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_host_taken, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_host_taken_default_domain,
	        fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_access, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hosts_default, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hosts_domain_port, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_put_never_creates, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
