/*
 * tests/unit/test_hooks_buildout.c: Docker's build output filtered into
 * Heroku's shape, and the build log's cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "builder/buildout.h"

static void
test_filter(void **state)
{
	static const char *const in[] = {"Step 1/4 : FROM x",
	    " ---> 3f2a9c1b7d0e", "Step 2/4 : COPY a /a", " ---> Using cache",
	    " ---> 0123456789ab", "Step 3/4 : RUN make",
	    " ---> Running in 77aa88bb99cc", "\033[91mwarning: x\033[0m",
	    "built", "Removing intermediate container 77aa88bb99cc",
	    " ---> 1111aaaa2222", "Step 4/4 : CMD y", " ---> Running in 1",
	    "Successfully built 1111aaaa2222", "Successfully tagged a:b"};
	static const char want[] = "       Step 1/4 : FROM x\n"
	                           "       Step 2/4 : COPY a /a (cached)\n"
	                           "       Step 3/4 : RUN make\n"
	                           "       warning: x\n"
	                           "       built\n"
	                           "       Step 4/4 : CMD y\n";
	struct buildout b;
	size_t i;

	buildout_init(&b, NULL);
	for (i = 0; i < sizeof in / sizeof in[0]; i++)
		buildout_line(&b, in[i]);
	buildout_flush(&b);
	assert_string_equal(b.log.data, want);
	assert_int_equal(b.cached, 1);
	assert_int_equal(b.steps, 4);
	buildout_release(&b);
}

static void
test_log_cap(void **state)
{
	struct buildout b;
	char line[1024];
	size_t i;

	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	buildout_init(&b, NULL);
	for (i = 0; i < 3 * BUILDOUT_MAXLOG / sizeof line; i++)
		buildout_line(&b, line);
	buildout_say(&b, "-----> ", "the end");
	assert_true(b.log.len <= 2 * BUILDOUT_MAXLOG);
	assert_non_null(strstr(b.log.data, "-----> the end\n"));
	assert_int_equal(b.log.data[0], ' ');
	buildout_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_log_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
