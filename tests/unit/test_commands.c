/*
 * tests/unit/test_commands.c: the command-line word splitter (quotes,
 * escapes, limits) and command dispatch errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/commands.h"

static void
expect_words(const char *line, int n, ...)
{
	char **argv;
	int argc, i;
	va_list ap;

	assert_int_equal(cmd_split(line, &argc, &argv), 0);
	assert_int_equal(argc, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(argv[n]);
	cmd_words_free(argv);
}

static void
test_split_plain(void **ctx)
{
	expect_words("apps", 1, "apps");
	expect_words("  env:set   app  A=b  ", 3, "env:set", "app", "A=b");
	expect_words("", 0);
	expect_words("a\tb\nc", 3, "a", "b", "c");
}

static void
test_split_quotes(void **ctx)
{
	expect_words("env:set app 'A=b c'", 3, "env:set", "app", "A=b c");
	expect_words(
	    "x \"a \\\"q\\\" $(id) \\\\ \\n\"", 2, "x", "a \"q\" $(id) \\ \\n");
	expect_words("x 'it'\\''s'", 2, "x", "it's");
	expect_words("x a\\ b", 2, "x", "a b");
	expect_words("x ''", 2, "x", "");
	expect_words("x 'multi\nline'", 2, "x", "multi\nline");
	expect_words("x '$(rm -rf /)' `id`", 3, "x", "$(rm -rf /)", "`id`");
}

static void
test_split_errors(void **ctx)
{
	char **argv, *big;
	int argc;

	assert_int_equal(cmd_split("x 'open", &argc, &argv), -1);
	assert_int_equal(cmd_split("x \"open", &argc, &argv), -1);
	assert_int_equal(cmd_split("x \\", &argc, &argv), -1);
	big = malloc(CMD_MAXLINE + 2);
	memset(big, 'a', CMD_MAXLINE + 1);
	big[CMD_MAXLINE + 1] = '\0';
	assert_int_equal(cmd_split(big, &argc, &argv), -1);
	/* more words than CMD_MAXARGS */
	for (int i = 0; i < CMD_MAXLINE; i++)
		big[i] = i % 2 ? ' ' : 'a';
	big[CMD_MAXLINE] = '\0';
	assert_int_equal(cmd_split(big, &argc, &argv), -1);
	free(big);
}

static void
test_unknown_command(void **ctx)
{
	struct cmd_ctx c = {NULL, "", "t", 0};
	char *argv[] = {"bogus", NULL};
	char *keys[] = {"keys", NULL};

	assert_int_equal(cmd_run(&c, 1, argv), 2);
	assert_int_equal(cmd_run(&c, 1, keys), 1); /* admins only */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_plain),
	    cmocka_unit_test(test_split_quotes),
	    cmocka_unit_test(test_split_errors),
	    cmocka_unit_test(test_unknown_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
