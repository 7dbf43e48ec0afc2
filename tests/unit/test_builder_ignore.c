/*
 * tests/unit/test_hooks_ignore.c: .dockerignore matching against the cases
 * the Docker client documents and tests (moby fileutils_test.go).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "builder/ignore.h"

static struct ignore *
parse(const char *text)
{
	struct ignore *ig;

	assert_int_equal(ignore_new(&ig, text, strlen(text)), 0);
	return ig;
}

static int
m(const char *text, const char *path)
{
	struct ignore *ig = parse(text);
	int r = ignore_match(ig, path);

	ignore_free(ig);
	return r;
}

static void
test_basic(void **state)
{
	assert_int_equal(m("foo", "foo"), 1);
	assert_int_equal(m("foo", "foo/bar"), 1); /* parent dir */
	assert_int_equal(m("foo", "foo/bar/baz"), 1);
	assert_int_equal(m("foo", "foobar"), 0);
	assert_int_equal(m("foo", "x/foo"), 0); /* anchored at root */
	assert_int_equal(m("*.pyc", "a.pyc"), 1);
	assert_int_equal(m("*.pyc", "d/a.pyc"), 0); /* * stops at / */
	assert_int_equal(m("*/*.pyc", "d/a.pyc"), 1);
	assert_int_equal(m("a?c", "abc"), 1);
	assert_int_equal(m("a?c", "a/c"), 0);
	assert_int_equal(m("[a-c]x", "bx"), 1);
	assert_int_equal(m("[^a-c]x", "dx"), 1);
	assert_int_equal(m("[^a-c]x", "ax"), 0);
	assert_int_equal(m("\\*x", "*x"), 1);
	assert_int_equal(m("\\*x", "ax"), 0);
	assert_int_equal(m("a.b", "aXb"), 0); /* '.' is literal */
}

static void
test_doublestar(void **state)
{
	assert_int_equal(m("**", "a/b/c"), 1);
	assert_int_equal(m("**/foo", "foo"), 1);
	assert_int_equal(m("**/foo", "a/b/foo"), 1);
	assert_int_equal(m("**/*.pyc", "a/b/c.pyc"), 1);
	assert_int_equal(m("**/*.pyc", "c.pyc"), 1);
	assert_int_equal(m("a/**", "a/b/c"), 1);
	assert_int_equal(m("a/**/z", "a/z"), 1);
	assert_int_equal(m("a/**/z", "a/b/c/z"), 1);
	assert_int_equal(m("a/**/z", "b/z"), 0);
	assert_int_equal(m("node_modules", "node_modules/x/y.js"), 1);
}

static void
test_clean_comments(void **state)
{
	assert_int_equal(m("/foo", "foo"), 1);
	assert_int_equal(m("./foo", "foo/x"), 1);
	assert_int_equal(m("foo/", "foo/x"), 1);
	assert_int_equal(m("a//b/../c", "a/c"), 1);
	assert_int_equal(m("# foo\n", "# foo"), 0);
	assert_int_equal(m("  foo  \r\n", "foo"), 1);
	assert_int_equal(m("\xef\xbb\xbf"
	                   "foo",
	                     "foo"),
	    1);
	assert_int_equal(m("\n\n\nbar\n", "bar"), 1);
}

static void
test_exceptions(void **state)
{
	struct ignore *ig = parse("*.md\n!README.md\n");

	assert_int_equal(ignore_match(ig, "a.md"), 1);
	assert_int_equal(ignore_match(ig, "README.md"), 0);
	ignore_free(ig);

	/* last match wins */
	assert_int_equal(m("!a\na", "a"), 1);
	assert_int_equal(m("docs\n!docs/keep.txt\n", "docs/keep.txt"), 0);
	assert_int_equal(m("docs\n!docs/keep.txt\n", "docs/other.txt"), 1);

	ig = parse("docs\nbuild\n!docs/keep.txt\n");
	assert_int_equal(ignore_skip_dir(ig, "docs"), 0);
	assert_int_equal(ignore_skip_dir(ig, "build"), 1);
	assert_int_equal(ignore_skip_dir(ig, "do"), 1);
	ignore_free(ig);

	ig = parse("docs\n");
	assert_int_equal(ignore_skip_dir(ig, "docs"), 1);
	assert_int_equal(ignore_count(ig), 1);
	ignore_free(ig);
}

static void
test_errors(void **state)
{
	struct ignore *ig;

	assert_int_equal(ignore_new(&ig, "!\n", 2), -1);
	assert_non_null(strstr(err_msg(), "illegal exclusion"));
	assert_int_equal(ignore_new(&ig, "[abc\n", 5), -1);
	assert_non_null(strstr(err_msg(), "syntax error"));
	assert_int_equal(ignore_new(&ig, "abc\\", 4), -1);
	assert_int_equal(ignore_new(&ig, "", 0), 0);
	assert_int_equal(ignore_count(ig), 0);
	assert_int_equal(ignore_match(ig, "x"), 0);
	ignore_free(ig);
	assert_int_equal(ignore_match(NULL, "x"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_doublestar),
	    cmocka_unit_test(test_clean_comments),
	    cmocka_unit_test(test_exceptions),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
