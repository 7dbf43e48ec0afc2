/*
 * tests/unit/test_builder_release.c: the health-check path read from an
 * app.json as Dokku reads it (healthchecks.web, first startup check with a
 * path), and the paths release_deploy accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "builder/release.h"

static int
parse(const char *json, char *out)
{
	return release_healthcheck_parse(json, strlen(json), out, 256);
}

static void
test_appjson(void **ctx)
{
	char p[256];

	assert_int_equal(parse("{\"healthchecks\":{\"web\":[{\"type\":"
	                       "\"startup\",\"name\":\"web check\",\"path\":"
	                       "\"/health\",\"attempts\":3}]}}",
	                     p),
	    0);
	assert_string_equal(p, "/health");
	/* liveness checks are not startup checks; no type means startup */
	assert_int_equal(parse("{\"healthchecks\":{\"web\":[{\"type\":"
	                       "\"liveness\",\"path\":\"/live\"},{\"path\":"
	                       "\"/ready?full=1\"}]}}",
	                     p),
	    0);
	assert_string_equal(p, "/ready?full=1");
	/* a command check, as an array or as a string for /bin/sh -c */
	assert_int_equal(parse("{\"healthchecks\":{\"web\":[{\"type\":"
	                       "\"startup\",\"command\":[\"true\"]}]}}",
	                     p),
	    0);
	assert_string_equal(p, "exec:[\"true\"]");
	assert_true(release_healthcheck_valid(p));
	assert_int_equal(parse("{\"healthchecks\":{\"web\":[{\"command\":"
	                       "\"test -f /tmp/up\"}]}}",
	                     p),
	    0);
	assert_string_equal(p, "exec:[\"/bin/sh\",\"-c\",\"test -f /tmp/up\"]");
	/* a startup check with neither is skipped */
	assert_int_equal(parse("{\"healthchecks\":{\"web\":[{\"type\":"
	                       "\"startup\",\"attempts\":3}]}}",
	                     p),
	    0);
	assert_string_equal(p, "");
	assert_int_equal(parse("{\"name\":\"app\",\"scripts\":{}}", p), 0);
	assert_string_equal(p, "");
	assert_int_equal(parse("{}", p), 0);
	assert_string_equal(p, "");
}

static void
test_appjson_errors(void **ctx)
{
	char p[256];

	assert_int_equal(parse("{\"healthchecks\":", p), -1);
	assert_int_equal(
	    parse("{\"healthchecks\":{\"web\":[{\"path\":\"health\"}]}}", p),
	    -1);
	assert_int_equal(
	    parse("{\"healthchecks\":{\"web\":[{\"path\":\"/a b\"}]}}", p), -1);
	assert_int_equal(
	    parse("{\"healthchecks\":{\"web\":[{\"path\":7}]}}", p), -1);
	assert_int_equal(
	    parse("{\"healthchecks\":{\"web\":[{\"command\":[]}]}}", p), -1);
	assert_int_equal(
	    parse("{\"healthchecks\":{\"web\":[{\"command\":[1]}]}}", p), -1);
	assert_false(release_healthcheck_valid("exec:[]"));
	assert_false(release_healthcheck_valid("exec:nope"));
}

static void
test_path_valid(void **ctx)
{
	char longp[300];

	assert_true(release_healthcheck_valid("/"));
	assert_true(release_healthcheck_valid("/health?x=1&y=%20"));
	assert_false(release_healthcheck_valid(""));
	assert_false(release_healthcheck_valid("health"));
	assert_false(release_healthcheck_valid("/a\r\nHost: x"));
	assert_false(release_healthcheck_valid("/\x7f"));
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	assert_false(release_healthcheck_valid(longp));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_appjson),
	    cmocka_unit_test(test_appjson_errors),
	    cmocka_unit_test(test_path_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
