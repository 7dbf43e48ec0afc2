/*
 * tests/unit/test_hooks_gittar.c: builds a repository with libgit2 in a
 * scratch directory, streams its commit through gittar_read with odd buffer
 * sizes and checks the tar with GNU tar: names, modes, contents, link
 * targets, long paths and what .dockerignore leaves out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "common/err.h"
#include "builder/gittar.h"
#include "tests/unit/fixture.h"

struct repo_fixture {
	char dir[64];
	git_repository *repo;
	git_commit *commit;
	char longpath[200];
	char longtarget[160];
};

struct file {
	const char *path;
	const char *content;
	git_filemode_t mode;
};

static void
add(git_index *idx, const char *path, const char *content, git_filemode_t mode)
{
	git_index_entry e;

	memset(&e, 0, sizeof e);
	e.path = path;
	e.mode = mode;
	assert_int_equal(
	    git_index_add_from_buffer(idx, &e, content, strlen(content)), 0);
}

static git_commit *
commit_files(git_repository *repo, const struct file *files, size_t n,
    const char *longpath, const char *longtarget)
{
	git_index *idx;
	git_oid tree_id, commit_id;
	git_tree *tree;
	git_signature *sig;
	git_commit *c;
	size_t i;

	assert_int_equal(git_repository_index(&idx, repo), 0);
	assert_int_equal(git_index_clear(idx), 0);
	for (i = 0; i < n; i++)
		add(idx, files[i].path, files[i].content, files[i].mode);
	if (longpath != NULL)
		add(idx, longpath, "deep\n", GIT_FILEMODE_BLOB);
	if (longtarget != NULL)
		add(idx, "longlink", longtarget, GIT_FILEMODE_LINK);
	assert_int_equal(git_index_write_tree(&tree_id, idx), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(
	    git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	assert_int_equal(git_commit_create_v(&commit_id, repo, NULL, sig, sig,
	                     NULL, "test", tree, 0),
	    0);
	assert_int_equal(git_commit_lookup(&c, repo, &commit_id), 0);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	return c;
}

static int
setup(void **state)
{
	static const struct file files[] = {
	    {"app.py", "print('hi')\n", GIT_FILEMODE_BLOB},
	    {"run.sh", "#!/bin/sh\necho run\n", GIT_FILEMODE_BLOB_EXECUTABLE},
	    {"src/pkg/mod.py", "X = 1\n", GIT_FILEMODE_BLOB},
	    {"link", "src/pkg/mod.py", GIT_FILEMODE_LINK},
	    {"empty.txt", "", GIT_FILEMODE_BLOB},
	    {"debug.log", "noise\n", GIT_FILEMODE_BLOB},
	    {"src/trace.log", "noise\n", GIT_FILEMODE_BLOB},
	    {"secret/key", "k\n", GIT_FILEMODE_BLOB},
	    {"secret/keep.txt", "kept\n", GIT_FILEMODE_BLOB},
	    {"node_modules/x/y.js", "y\n", GIT_FILEMODE_BLOB},
	    {".dockerignore",
	        "# build junk\n*.log\n**/*.log\n/secret/\n"
	        "!secret/keep.txt\nnode_modules\r\n",
	        GIT_FILEMODE_BLOB},
	};
	struct repo_fixture *f = calloc(1, sizeof *f);
	size_t i;

	assert_non_null(f);
	git_libgit2_init();
	fixture_mkdtemp(f->dir, sizeof f->dir, "gittar");
	assert_int_equal(git_repository_init(&f->repo, f->dir, 0), 0);
	/* "d/" + 5 dirs of 29 + "/file.txt": about 160 bytes */
	strcpy(f->longpath, "d");
	for (i = 0; i < 5; i++)
		strcat(f->longpath, "/abcdefghijklmnopqrstuvwxyz01");
	strcat(f->longpath, "/file.txt");
	memset(f->longtarget, 'z', 130);
	f->longtarget[130] = '\0';
	f->commit = commit_files(f->repo, files, sizeof files / sizeof *files,
	    f->longpath, f->longtarget);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct repo_fixture *f = *state;

	git_commit_free(f->commit);
	git_repository_free(f->repo);
	fixture_rmdir(f->dir);
	free(f);
	git_libgit2_shutdown();
	return 0;
}

/* Streams t into path with a rotating set of odd read sizes. */
static unsigned long long
drain(struct gittar *t, const char *path)
{
	static const size_t sizes[] = {1, 7, 511, 513, 4096, 100000, 3};
	char *buf = malloc(100000);
	FILE *fp = fopen(path, "wb");
	unsigned long long total = 0;
	size_t i = 0;
	ssize_t n;

	assert_non_null(buf);
	assert_non_null(fp);
	while ((n = gittar_read(t, buf, sizes[i++ % 7])) > 0) {
		assert_int_equal(fwrite(buf, 1, n, fp), (size_t)n);
		total += n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(gittar_read(t, buf, 10), 0); /* stays at EOF */
	fclose(fp);
	free(buf);
	return total;
}

/* The output of a shell command, in a static buffer. */
static const char *
run(const char *cmd)
{
	static char out[65536];
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

/* The `tar -tv` line whose name is exactly name (before any " -> "). */
static const char *
listing_line(const char *listing, const char *name)
{
	static char line[1024];
	const char *p = listing;
	size_t k = strlen(name);

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *a;

		snprintf(line, sizeof line, "%.*s", (int)n, p);
		for (a = strstr(line, name); a != NULL; a = strstr(a + 1, name))
			if (a > line + 4 && a[-1] == ' ' &&
			    strncmp(a - 4, " -> ", 4) != 0 &&
			    (a[k] == '\0' || strncmp(a + k, " -> ", 4) == 0))
				return line;
		p = nl ? nl + 1 : p + n;
	}
	return NULL;
}

static void
expect(const char *listing, const char *name, const char *perms)
{
	const char *l = listing_line(listing, name);

	if (l == NULL)
		fail_msg("'%s' missing from the tar:\n%s", name, listing);
	if (strncmp(l, perms, strlen(perms)) != 0)
		fail_msg("'%s': expected %s, got: %s", name, perms, l);
}

static void
absent(const char *listing, const char *name)
{
	if (listing_line(listing, name) != NULL)
		fail_msg("'%s' should not be in the tar:\n%s", name, listing);
}

static void
test_tar(void **state)
{
	struct repo_fixture *f = *state;
	static const char dockerfile[] = "FROM scratch\n";
	struct gittar_file extra = {
	    "Dockerfile", dockerfile, sizeof dockerfile - 1};
	struct gittar *t;
	char tarpath[128], cmd[1024], lt[200];
	const char *l;

	assert_int_equal(gittar_new(&t, f->repo, f->commit, &extra, 1), 0);
	snprintf(tarpath, sizeof tarpath, "%s/ctx.tar", f->dir);
	assert_int_equal(drain(t, tarpath), gittar_size(t));
	assert_null(gittar_error(t));
	gittar_free(t);

	snprintf(cmd, sizeof cmd, "tar --numeric-owner --full-time -tvf '%s'",
	    tarpath);
	l = run(cmd);
	expect(l, "Dockerfile", "-rw-r--r-- 0/0");
	expect(l, "app.py", "-rw-r--r-- 0/0");
	expect(l, "run.sh", "-rwxr-xr-x 0/0");
	expect(l, "src/", "drwxr-xr-x 0/0");
	expect(l, "src/pkg/", "drwxr-xr-x");
	expect(l, "src/pkg/mod.py", "-rw-r--r--");
	expect(l, "empty.txt", "-rw-r--r--");
	expect(l, "link", "lrwxrwxrwx");
	expect(l, "secret/keep.txt", "-rw-r--r--");
	expect(l, ".dockerignore", "-rw-r--r--");
	expect(l, f->longpath, "-rw-r--r--");
	assert_non_null(strstr(l, "link -> src/pkg/mod.py"));
	snprintf(lt, sizeof lt, "longlink -> %s", f->longtarget);
	assert_non_null(strstr(l, lt));
	assert_non_null(strstr(l, "2023-11-14 22:13:20")); /* commit time */
	absent(l, "debug.log");
	absent(l, "src/trace.log");
	absent(l, "secret/key");
	absent(l, "node_modules/");
	absent(l, "node_modules/x/y.js");
	absent(l, ".git/");

	/* contents, extracted by tar */
	snprintf(cmd, sizeof cmd,
	    "mkdir '%s/x' && tar -xf '%s' -C '%s/x' && cd '%s/x' && "
	    "cat Dockerfile app.py run.sh src/pkg/mod.py '%s' secret/keep.txt "
	    "&& readlink link",
	    f->dir, tarpath, f->dir, f->dir, f->longpath);
	assert_string_equal(run(cmd),
	    "FROM scratch\nprint('hi')\n#!/bin/sh\necho run\nX = 1\ndeep\n"
	    "kept\nsrc/pkg/mod.py\n");
}

static void
test_own_dockerfile_replaced(void **state)
{
	struct repo_fixture *f = *state;
	static const struct file files[] = {
	    {"Dockerfile", "FROM tree\n", GIT_FILEMODE_BLOB},
	    {"a/b.txt", "b\n", GIT_FILEMODE_BLOB},
	    {".dockerignore", "Dockerfile\n.dockerignore\n*\n",
	        GIT_FILEMODE_BLOB},
	};
	git_commit *c = commit_files(f->repo, files, 3, NULL, NULL);
	struct gittar *t;
	char tarpath[128], cmd[512];
	const char *l;

	/* without extras the tree's Dockerfile and .dockerignore survive
	 * their own patterns, the way the Docker client sends them */
	assert_int_equal(gittar_new(&t, f->repo, c, NULL, 0), 0);
	snprintf(tarpath, sizeof tarpath, "%s/own.tar", f->dir);
	drain(t, tarpath);
	gittar_free(t);
	snprintf(cmd, sizeof cmd, "tar -tf '%s'", tarpath);
	l = run(cmd);
	assert_string_equal(l, ".dockerignore\nDockerfile\n");
	snprintf(cmd, sizeof cmd, "tar -xOf '%s' Dockerfile", tarpath);
	assert_string_equal(run(cmd), "FROM tree\n");
	git_commit_free(c);
}

static void
test_extra_replaces(void **state)
{
	struct repo_fixture *f = *state;
	static const struct file files[] = {
	    {"Dockerfile", "FROM tree\n", GIT_FILEMODE_BLOB},
	};
	struct gittar_file extra = {"Dockerfile", "FROM platform\n", 14};
	git_commit *c = commit_files(f->repo, files, 1, NULL, NULL);
	struct gittar *t;
	char tarpath[128], cmd[512];

	assert_int_equal(gittar_new(&t, f->repo, c, &extra, 1), 0);
	snprintf(tarpath, sizeof tarpath, "%s/rep.tar", f->dir);
	drain(t, tarpath);
	gittar_free(t);
	snprintf(cmd, sizeof cmd, "tar -tf '%s'", tarpath);
	assert_string_equal(run(cmd), "Dockerfile\n");
	snprintf(cmd, sizeof cmd, "tar -xOf '%s' Dockerfile", tarpath);
	assert_string_equal(run(cmd), "FROM platform\n");
	git_commit_free(c);
}

static void
test_bad_dockerignore(void **state)
{
	struct repo_fixture *f = *state;
	static const struct file files[] = {
	    {".dockerignore", "!\n", GIT_FILEMODE_BLOB},
	};
	git_commit *c = commit_files(f->repo, files, 1, NULL, NULL);
	struct gittar *t;

	assert_int_equal(gittar_new(&t, f->repo, c, NULL, 0), -1);
	assert_null(t);
	assert_non_null(strstr(err_msg(), "illegal exclusion"));
	git_commit_free(c);
}

/* A crafted tree (git never writes one) with an entry named name. */
static git_commit *
commit_raw_entry(git_repository *repo, const char *name)
{
	char raw[256];
	git_oid blob, tree_id, commit_id;
	git_signature *sig;
	git_tree *tree;
	git_commit *c;
	git_odb *odb;
	size_t n;

	assert_int_equal(git_blob_create_from_buffer(&blob, repo, "x\n", 2), 0);
	n = (size_t)snprintf(raw, sizeof raw, "100644 %s", name) + 1;
	memcpy(raw + n, blob.id, GIT_OID_RAWSZ);
	n += GIT_OID_RAWSZ;
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(
	    git_odb_write(&tree_id, odb, raw, n, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	if (git_tree_lookup(&tree, repo, &tree_id) != 0)
		return NULL; /* this libgit2 refuses to read it at all */
	assert_int_equal(
	    git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	assert_int_equal(git_commit_create_v(&commit_id, repo, NULL, sig, sig,
	                     NULL, "raw", tree, 0),
	    0);
	assert_int_equal(git_commit_lookup(&c, repo, &commit_id), 0);
	git_signature_free(sig);
	git_tree_free(tree);
	return c;
}

/* Entries "." and ".." or with a "/" are refused before any tar is made. */
static void
test_bad_entry_names(void **state)
{
	static const char *const bad[] = {"..", ".", "a/b", "../etc"};
	struct repo_fixture *f = *state;
	struct gittar *t;
	git_commit *c;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if ((c = commit_raw_entry(f->repo, bad[i])) == NULL)
			continue;
		assert_int_equal(gittar_new(&t, f->repo, c, NULL, 0), -1);
		assert_null(t);
		assert_non_null(strstr(err_msg(), "no checkout could make"));
		git_commit_free(c);
	}
	/* and a good name in the same shape goes through */
	assert_non_null(c = commit_raw_entry(f->repo, "ok.txt"));
	assert_int_equal(gittar_new(&t, f->repo, c, NULL, 0), 0);
	gittar_free(t);
	git_commit_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tar),
	    cmocka_unit_test(test_own_dockerfile_replaced),
	    cmocka_unit_test(test_extra_replaces),
	    cmocka_unit_test(test_bad_dockerignore),
	    cmocka_unit_test(test_bad_entry_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
