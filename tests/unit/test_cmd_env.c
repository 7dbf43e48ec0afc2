/*
 * tests/unit/test_cmd_env.c: the quoting `env` prints. A line it prints,
 * "KEY=" + cmd_env_quote(value), must split back (cmd_split, the splitter
 * every SSH command line goes through) into exactly "KEY=value", for values
 * with spaces, quotes, $(), backslashes and newlines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cmd_int.h"

static void
check_quote(const char *in, const char *want)
{
	char *q = cmd_env_quote(in);

	assert_non_null(q);
	assert_string_equal(q, want);
	free(q);
}

static void
test_quote_shapes(void **ctx)
{
	check_quote("plain", "plain");
	check_quote("postgres://u:p@h:5432/db?x=1%2",
	    "'postgres://u:p@h:5432/db?x=1%2'");
	check_quote("a/b-c_d.e,f+g=h:i@j%k", "a/b-c_d.e,f+g=h:i@j%k");
	check_quote("", "''");
	check_quote("b c", "'b c'");
	check_quote("it's", "'it'\\''s'");
	check_quote("$(id)", "'$(id)'");
	check_quote("a\nb", "'a\nb'");
	check_quote("\"q\"", "'\"q\"'");
	check_quote("back\\slash", "'back\\slash'");
	check_quote("'", "''\\'''");
}

static void
test_quote_round_trip(void **ctx)
{
	static const char *const values[] = {"", "b c", "it's", "''", "$(id)",
	    "`uname`", "a\nb\n", "\"double\" and 'single'", "back\\slash\\",
	    "tab\there", "semi;colon|pipe&amp>redir<", "~home *glob? [x]",
	    "#comment", "  leading and trailing  ", "ünïcödé ✓", "x=y=z"};
	char line[512], *q, **argv;
	size_t i;
	int argc;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		assert_non_null(q = cmd_env_quote(values[i]));
		snprintf(line, sizeof line, "env:set app KEY=%s", q);
		assert_int_equal(cmd_split(line, &argc, &argv), 0);
		assert_int_equal(argc, 3);
		assert_string_equal(argv[2] + 4, values[i]);
		assert_memory_equal(argv[2], "KEY=", 4);
		cmd_words_free(argv);
		free(q);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote_shapes),
	    cmocka_unit_test(test_quote_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
