/*
 * builder/gittar.h: a commit's tree as a tar build context, read with libgit2
 * straight from the object database (no checkout) and produced on demand:
 * the caller pulls bytes with gittar_read, so the context is never whole in
 * memory (one blob at a time).
 *
 * The stream is ustar with PAX "x" records for long paths and link targets;
 * directories 0755, files 0644 or 0755, symlinks kept, gitlinks skipped,
 * uid/gid 0, mtime = the commit time; .git never goes in; .dockerignore at
 * the root of the tree is honoured with Docker's semantics (builder/ignore.h).
 */
#ifndef MINPAAS_GITTAR_H
#define MINPAAS_GITTAR_H

#include <stddef.h>
#include <sys/types.h>

#include <git2.h>

#define GITTAR_MAXCONTEXT (512ULL << 20) /* bytes of tar, headers included */
#define GITTAR_MAXENTRIES 200000         /* files, dirs and links */
#define GITTAR_MAXPATH    4096           /* bytes in a path or link target */

/* A file added at the root of the context, e.g. the platform Dockerfile. */
struct gittar_file {
	const char *path;
	const char *content;
	size_t len;
};

struct gittar;

/*
 * Lists the tree of commit (metadata only) and prepares the stream. The
 * extra files come first in the tar and replace a tree entry of the same
 * path; their contents are copied. Returns 0 with *out owned by the caller
 * (free with gittar_free; repo must outlive it), or -1 with err_set(), e.g.
 * when the context would exceed GITTAR_MAXCONTEXT.
 */
int gittar_new(struct gittar **out, git_repository *repo,
    const git_commit *commit, const struct gittar_file *extra, size_t nextra);

/*
 * Writes the next bytes of the tar into buf (any len): returns the count,
 * 0 at the end, -1 on error with err_set() and the message kept for
 * gittar_error(). Its shape is builder/docker.h's docker_read_fn; arg is the
 * struct gittar.
 */
ssize_t gittar_read(void *arg, char *buf, size_t len);

/* The tar's total size in bytes, known from the start. */
unsigned long long gittar_size(const struct gittar *t);

/* The message of the last gittar_read failure, or NULL when none failed. */
const char *gittar_error(const struct gittar *t);

/* Frees t and all it holds; NULL is fine. */
void gittar_free(struct gittar *t);

#endif
