/*
 * tests/unit/fixture.h: the scratch state the unit tests share. Each test
 * that needs it gets a fresh directory under /tmp and, for the state tests,
 * an LMDB environment opened in it; both are gone after the test.
 */
#ifndef MINPAAS_TEST_FIXTURE_H
#define MINPAAS_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/state.h"

struct fixture {
	char dir[64];
	struct state *st;
};

/* Makes a new directory /tmp/minpaas-<name>-XXXXXX into dir. */
static inline void
fixture_mkdtemp(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/minpaas-%s-XXXXXX", name);
	assert_non_null(mkdtemp(dir));
}

/* Removes dir and all below it. */
static inline void
fixture_rmdir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* cmocka setup: *ctx is a struct fixture with a new, empty state. */
static inline int
fixture_setup(void **ctx)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	fixture_mkdtemp(f->dir, sizeof f->dir, "state");
	assert_int_equal(state_open(&f->st, f->dir), 0);
	*ctx = f;
	return 0;
}

/* cmocka teardown for fixture_setup. */
static inline int
fixture_teardown(void **ctx)
{
	struct fixture *f = *ctx;

	state_close(f->st);
	fixture_rmdir(f->dir);
	free(f);
	return 0;
}

#endif
