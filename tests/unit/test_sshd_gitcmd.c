/*
 * tests/unit/test_sshd_gitcmd.c: the git exec-line parser of minpaas-sshd,
 * with the command strings git really sends (scp-style and ssh:// remotes)
 * and the malformed ones a client could send instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "sshd/sshd.h"

static void
expect_app(const char *line, enum gitcmd_kind kind, const char *app)
{
	struct gitcmd g;

	assert_int_equal(gitcmd_parse(line, &g), 1);
	assert_int_equal(g.kind, kind);
	assert_string_equal(g.app, app);
}

static void
expect_bad(const char *line)
{
	struct gitcmd g;

	err_clear();
	assert_int_equal(gitcmd_parse(line, &g), -1);
	assert_true(strlen(err_msg()) > 0);
}

static void
test_scp_style(void **unused)
{
	expect_app("git-receive-pack 'hello'", GITCMD_RECEIVE_PACK, "hello");
	expect_app("git-upload-pack 'hello'", GITCMD_UPLOAD_PACK, "hello");
	expect_app("git receive-pack 'hello'", GITCMD_RECEIVE_PACK, "hello");
	expect_app("git upload-pack 'my-app2'", GITCMD_UPLOAD_PACK, "my-app2");
}

static void
test_ssh_url(void **unused)
{
	expect_app("git-receive-pack '/hello'", GITCMD_RECEIVE_PACK, "hello");
	expect_app(
	    "git-receive-pack '/hello.git'", GITCMD_RECEIVE_PACK, "hello");
	expect_app(
	    "git-receive-pack 'hello.git'", GITCMD_RECEIVE_PACK, "hello");
	expect_app("git-upload-pack '~/hello'", GITCMD_UPLOAD_PACK, "hello");
	expect_app(
	    "git-upload-pack '/~/hello.git'", GITCMD_UPLOAD_PACK, "hello");
}

static void
test_longest_name(void **unused)
{
	/* 30 characters is the limit (APP_MAXNAME), 31 is one too many. */
	expect_app("git-receive-pack 'a23456789012345678901234567890'",
	    GITCMD_RECEIVE_PACK, "a23456789012345678901234567890");
	expect_bad("git-receive-pack 'a234567890123456789012345678901'");
}

static void
test_bad_names(void **unused)
{
	struct gitcmd g;

	expect_bad("git-receive-pack 'Hello'");
	assert_non_null(strstr(err_msg(), "invalid app name 'Hello'"));
	expect_bad("git-receive-pack '../x'");
	expect_bad("git-receive-pack '/../x'");
	expect_bad("git-receive-pack 'a/b'");
	expect_bad("git-receive-pack '/abs/path'");
	expect_bad("git-receive-pack '1app'");
	expect_bad("git-receive-pack '-app'");
	expect_bad("git-receive-pack 'my_app'");
	expect_bad("git-receive-pack ''");
	expect_bad("git-receive-pack '/'");
	expect_bad("git-receive-pack '.git'");
	expect_bad("git-receive-pack '~/'");
	expect_bad("git-receive-pack 'hello.git.git'");
	expect_bad("git-receive-pack 'he llo'");
	expect_bad("git-receive-pack 'hel\nlo'");
	/* A very long path is refused before it is looked at. */
	{
		char line[600];

		memset(line, 'a', sizeof line);
		memcpy(line, "git-receive-pack '", 18);
		line[sizeof line - 2] = '\'';
		line[sizeof line - 1] = '\0';
		assert_int_equal(gitcmd_parse(line, &g), -1);
	}
}

static void
test_malformed(void **unused)
{
	expect_bad("git-receive-pack hello");        /* unquoted */
	expect_bad("git-receive-pack 'hello");       /* unterminated */
	expect_bad("git-receive-pack 'hello' x");    /* trailing garbage */
	expect_bad("git-receive-pack 'hello'x");     /* trailing garbage */
	expect_bad("git-receive-pack 'hello' ");     /* trailing space */
	expect_bad("git-receive-pack 'a' 'b'");      /* two arguments */
	expect_bad("git-receive-pack \"hello\"");    /* double quotes */
	expect_bad("git-receive-pack 'hel'\\x'lo'"); /* not git's escape */
	expect_bad("git-receive-pack ");             /* no path */
	expect_bad("git-upload-archive 'hello'");    /* other service */
	expect_bad("git-receive-pack");              /* no path at all */
	expect_bad("git");
}

static void
test_escapes(void **unused)
{
	/* git quotes ' as '\'' and ! as '\!': decoded, then refused as
	 * names, since neither character is valid in one. */
	expect_bad("git-receive-pack 'it'\\''s'");
	assert_non_null(strstr(err_msg(), "'it's'"));
	expect_bad("git-receive-pack 'wow'\\!''");
	assert_non_null(strstr(err_msg(), "'wow!'"));
	/* The escape reopens the quote, and git's form for a leading one. */
	expect_bad("git-receive-pack ''\\''hello'");
	assert_non_null(strstr(err_msg(), "''hello'"));
	/* Two quoted pieces without an escape between are not git's. */
	expect_bad("git-receive-pack 'hel''lo'");
}

static void
test_not_git(void **unused)
{
	struct gitcmd g;

	assert_int_equal(gitcmd_parse("apps", &g), 0);
	assert_int_equal(gitcmd_parse("logs hello -f", &g), 0);
	assert_int_equal(gitcmd_parse("", &g), 0);
	assert_int_equal(gitcmd_parse("gitx 'hello'", &g), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scp_style),
	    cmocka_unit_test(test_ssh_url),
	    cmocka_unit_test(test_longest_name),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_not_git),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
