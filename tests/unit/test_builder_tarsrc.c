/*
 * tests/unit/test_hooks_tarsrc.c: the deploy:tar source. Tarballs are built
 * here by hand (ustar headers), so the limits can be tried without making
 * huge files: an entry whose header claims more than the context limit is
 * refused before anything is unpacked, unsafe paths are refused, and a
 * small tarball lists its files for runtime detection.
 */
#include "tests/unit/fixture.h"

#include <fcntl.h>

#include "common/err.h"
#include "builder/tarsrc.h"

/* Appends a ustar header for a regular file of `size` bytes to f. */
static void
put_header(FILE *f, const char *name, unsigned long long size)
{
	unsigned char h[512];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof h);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	assert_int_equal(fwrite(h, 1, sizeof h, f), sizeof h);
}

static void
put_data(FILE *f, const char *data)
{
	char pad[512] = {0};
	size_t n = strlen(data);

	assert_int_equal(fwrite(data, 1, n, f), n);
	if (n % 512)
		assert_int_equal(
		    fwrite(pad, 1, 512 - n % 512, f), 512 - n % 512);
}

static void
put_end(FILE *f)
{
	char zero[1024] = {0};

	assert_int_equal(fwrite(zero, 1, sizeof zero, f), sizeof zero);
}

/* Rewinds f and lists it as a deploy:tar source. */
static int
list(FILE *f, struct tarsrc **t)
{
	int fd, rc;

	fflush(f);
	fd = dup(fileno(f));
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	rc = tarsrc_new(t, fd);
	close(fd);
	return rc;
}

static int
setup(void **ctx)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	fixture_mkdtemp(f->dir, sizeof f->dir, "tarsrc");
	setenv("MINPAAS_HOME", f->dir, 1);
	*ctx = f;
	return 0;
}

static int
teardown(void **ctx)
{
	struct fixture *f = *ctx;

	fixture_rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_small_tarball(void **ctx)
{
	struct runtime_tree tree;
	struct tarsrc *t = NULL;
	FILE *f = tmpfile();

	put_header(f, "./app.py", 6);
	put_data(f, "print\n");
	put_header(f, "Procfile", 18);
	put_data(f, "web: python3 x.py\n");
	put_end(f);
	assert_int_equal(list(f, &t), 0);
	tarsrc_tree(t, &tree);
	assert_true(tree.exists(tree.arg, "app.py"));
	assert_true(tree.exists(tree.arg, "Procfile"));
	assert_false(tree.exists(tree.arg, "missing"));
	tarsrc_free(t);
	fclose(f);
}

static void
test_bomb_refused_unpacked(void **ctx)
{
	struct tarsrc *t = NULL;
	FILE *f = tmpfile();

	/* 1 KiB on the wire that claims more than the whole context limit */
	put_header(f, "big.bin", (unsigned long long)GITTAR_MAXCONTEXT + 1);
	put_end(f);
	assert_int_equal(list(f, &t), -1);
	assert_non_null(strstr(err_msg(), "unpacks to more than"));
	assert_null(t);
	fclose(f);
}

static void
test_unsafe_path(void **ctx)
{
	struct tarsrc *t = NULL;
	FILE *f = tmpfile();

	put_header(f, "../evil", 1);
	put_data(f, "x");
	put_end(f);
	assert_int_equal(list(f, &t), -1);
	assert_non_null(strstr(err_msg(), "unsafe path"));
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_small_tarball, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bomb_refused_unpacked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsafe_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
