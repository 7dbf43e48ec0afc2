/*
 * tests/fuzz/fuzz_tarsrc.c: libFuzzer target for the reader of a client's
 * tarball for `deploy:tar` (builder/tarsrc.c, with libarchive). The input is
 * the tarball (plain, gzip, bzip2 or xz), given on a memory file as the
 * client's stdin would be; spooling goes under a scratch $MINPAAS_HOME.
 * Beyond "no crash": an accepted tarball answers the runtime detection's
 * questions, and the build context made from it is a tar whose first entry
 * is the platform Dockerfile and whose entries all stay under the root: no
 * absolute path, no ".." component, no ".git", no hard link.
 *
 * fuzz-sources: builder/tarsrc.c builder/ignore.c
 * fuzz-sources: common/home.c common/buf.c common/err.c
 * fuzz-libs: -larchive
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/buf.h"
#include "builder/tarsrc.h"

#define FUZZ_MAXCONTEXT (32 << 20) /* context bytes read back at most */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char home[] = "/tmp/minpaas-fuzz-tarsrc.XXXXXX";

/* The spooled files are unlinked at once: only the folders are left. */
static void
remove_home(void)
{
	char run[sizeof home + 4];

	snprintf(run, sizeof run, "%s/run", home);
	rmdir(run);
	rmdir(home);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (mkdtemp(home) == NULL || setenv("MINPAAS_HOME", home, 1) == -1)
		abort();
	atexit(remove_home);
	return 0;
}

/* 1 when path stays under the root of the context. */
static int
path_inside(const char *p)
{
	const char *seg = p, *s;

	if (*p == '\0' || *p == '/')
		return 0;
	if (strcmp(p, ".git") == 0 || strncmp(p, ".git/", 5) == 0)
		return 0;
	for (s = p;; s++) {
		if (*s == '/' || *s == '\0') {
			if (s - seg == 2 && seg[0] == '.' && seg[1] == '.')
				return 0;
			if (*s == '\0')
				return 1;
			seg = s + 1;
		}
	}
}

/* Reads the context back: every entry must stay inside the root. */
static void
check_context(const struct buf *ctx)
{
	struct archive *a;
	struct archive_entry *ae;
	const char *path;
	int rc, first = 1;

	if ((a = archive_read_new()) == NULL)
		abort();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, ctx->data, ctx->len) != ARCHIVE_OK)
		abort();
	while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK ||
	       rc == ARCHIVE_WARN) {
		path = archive_entry_pathname(ae);
		if (path == NULL || !path_inside(path) ||
		    archive_entry_hardlink(ae) != NULL)
			abort();
		if (first && strcmp(path, "Dockerfile") != 0)
			abort();
		first = 0;
	}
	if (rc != ARCHIVE_EOF || first)
		abort();
	archive_read_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char dockerfile[] = "FROM minpaas/stack:bookworm\n";
	static const struct gittar_file extra = {
	    "Dockerfile", dockerfile, sizeof dockerfile - 1};
	struct tarsrc *t = NULL;
	struct runtime_tree tree;
	struct buf ctx = BUF_INIT;
	char chunk[4096], *text;
	size_t len;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("tarball", MFD_CLOEXEC)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return 0;
	}
	if (tarsrc_new(&t, fd) == -1) {
		close(fd);
		if (t != NULL)
			abort();
		return 0;
	}
	close(fd);
	if (tarsrc_size(t) != size)
		abort();

	/* what runtime detection asks */
	tarsrc_tree(t, &tree);
	tree.exists(tree.arg, "Procfile");
	tree.exists(tree.arg, "index.html");
	if (tree.read(tree.arg, "package.json", &text, &len) == 0) {
		if (text == NULL || text[len] != '\0')
			abort();
		free(text);
	}

	if (tarsrc_stream(t, &extra, 1) == 0) {
		while (ctx.len < FUZZ_MAXCONTEXT &&
		       (n = tarsrc_read(t, chunk, sizeof chunk)) > 0)
			if (buf_append(&ctx, chunk, (size_t)n) == -1)
				abort();
		if (ctx.len < FUZZ_MAXCONTEXT && tarsrc_error(t) == NULL)
			check_context(&ctx);
	}
	buf_release(&ctx);
	tarsrc_free(t);
	return 0;
}
