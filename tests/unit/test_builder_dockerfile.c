/*
 * tests/unit/test_builder_dockerfile.c: the images a Dockerfile reads from
 * (builder/dockerfile.c), as a developer's rule must see them: FROM bases
 * that are not stages, COPY/ADD --from= images, continuation lines, the
 * escape directive, and refusals of what cannot be known without a build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "builder/dockerfile.h"
#include "common/err.h"

struct seen {
	char list[512];
	const char *deny; /* an image the callback refuses with 7 */
};

static int
collect(void *arg, const char *image)
{
	struct seen *s = arg;
	size_t n = strlen(s->list);

	snprintf(s->list + n, sizeof s->list - n, "%s%s", n ? " " : "", image);
	return s->deny && strcmp(image, s->deny) == 0 ? 7 : 0;
}

static const char *
images(const char *text, int *rc)
{
	static struct seen s;

	memset(&s, 0, sizeof s);
	*rc = dockerfile_images(text, strlen(text), collect, &s);
	return s.list;
}

static void
test_from_and_stages(void **ctx)
{
	int rc;

	assert_string_equal(images("FROM minpaas/stack:bookworm\n"
	                           "RUN echo hi\n",
	                        &rc),
	    "minpaas/stack:bookworm");
	assert_int_equal(rc, 0);
	/* stages by name (any case) and index are not images; scratch is
	 * no image either */
	assert_string_equal(
	    images("from --platform=linux/amd64 base:1 AS Build\n"
	           "FROM build AS second\n"
	           "FROM scratch\n"
	           "COPY --from=BUILD /a /a\n"
	           "COPY --from=0 /b /b\n"
	           "COPY --chown=1:1 --from=other/img:2 /c /c\n"
	           "ADD --from=second x y\n",
	        &rc),
	    "base:1 other/img:2");
	assert_int_equal(rc, 0);
	/* comments, blank lines, CRLF, continuation */
	assert_string_equal(images("# a comment\n\n  FROM \\\n   one:1 \\\n"
	                           "  AS s\r\nFROM two\r\n",
	                        &rc),
	    "one:1 two");
	assert_int_equal(rc, 0);
	/* an escape directive changes the continuation character */
	assert_string_equal(
	    images("# escape=`\nFROM `\n  win:1\nRUN dir c:\\\nFROM b\n", &rc),
	    "win:1 b");
	assert_int_equal(rc, 0);
	/* the last line needs no newline */
	assert_string_equal(images("FROM last:1", &rc), "last:1");
}

static void
test_refusals(void **ctx)
{
	struct seen s;
	int rc;

	images("ARG BASE=x\nFROM $BASE\n", &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err_msg(), "is a variable"));
	images("FROM ok\nCOPY --from=${IMG} a b\n", &rc);
	assert_int_equal(rc, -1);
	images("FROM\n", &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err_msg(), "FROM without an image"));
	images("FROM --platform=x\n", &rc);
	assert_int_equal(rc, -1);
	/* a later stage named like an image is still an image before it */
	assert_string_equal(
	    images("FROM evil AS evil\nFROM evil\n", &rc), "evil");
	/* the callback's refusal stops the walk and is returned */
	memset(&s, 0, sizeof s);
	s.deny = "b:1";
	rc = dockerfile_images(
	    "FROM a:1\nFROM b:1\nFROM c:1\n", 27, collect, &s);
	assert_int_equal(rc, 7);
	assert_string_equal(s.list, "a:1 b:1");
	assert_int_equal(dockerfile_images("FROM a\0b", 8, collect, &s), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_and_stages),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
