/*
 * builder/tarsrc.h: a tarball sent by `tar c . | ssh minpaas deploy:tar <app>`
 * as a build source. The incoming stream is spooled to an unlinked file
 * under $MINPAAS_HOME/run (capped at TARSRC_MAXINPUT), listed once for
 * runtime detection, then rewritten on demand as the build context: the
 * platform Dockerfile first, then the entries with normalized paths,
 * uid/gid 0, .git left out and .dockerignore honoured (builder/ignore.h).
 */
#ifndef MINPAAS_TARSRC_H
#define MINPAAS_TARSRC_H

#include <stddef.h>
#include <sys/types.h>

#include "builder/gittar.h"
#include "runtimes/runtime.h"

#define TARSRC_MAXINPUT   GITTAR_MAXCONTEXT /* bytes read from the client */
#define TARSRC_MAXENTRIES GITTAR_MAXENTRIES
#define TARSRC_MAXFILE    (1 << 20) /* bytes of a file kept for detection */
#define TARSRC_CHUNK      65536     /* bytes copied per step */

struct tarsrc;

/* Reads the whole tar from fd (spooled to disk) and lists it. Returns 0
 * with *out owned by the caller (tarsrc_free), or -1 with err_set() on a
 * malformed archive, an unsafe path ("..") or a limit. */
int tarsrc_new(struct tarsrc **out, int fd);
void tarsrc_free(struct tarsrc *t);

/* The archive as runtime detection sees it (valid while t lives). */
void tarsrc_tree(struct tarsrc *t, struct runtime_tree *tree);

/* Bytes spooled. */
unsigned long long tarsrc_size(const struct tarsrc *t);

/* Starts the build-context stream with extra files first (copied). */
int tarsrc_stream(
    struct tarsrc *t, const struct gittar_file *extra, size_t nextra);
/* docker_read_fn: the next bytes of the context; arg is the tarsrc. */
ssize_t tarsrc_read(void *arg, char *buf, size_t len);
/* The last read error, or NULL. */
const char *tarsrc_error(const struct tarsrc *t);

#endif
