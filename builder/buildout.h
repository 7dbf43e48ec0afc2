/*
 * builder/buildout.h: Docker's build output in Heroku's shape. Keeps the
 * "Step N/M : ..." lines and what RUN prints (7-space indented); drops the
 * classic builder's bookkeeping (" ---> <id>", " ---> Running in",
 * "Removing intermediate container", "Successfully built/tagged"); a step
 * answered from the cache is one line, "Step N/M : ... (cached)". Every
 * line shown is also kept, the last BUILDOUT_MAXLOG bytes of it, as the
 * release's build log.
 */
#ifndef MINPAAS_BUILDOUT_H
#define MINPAAS_BUILDOUT_H

#include <stdio.h>

#include "common/buf.h"

#define BUILDOUT_MAXLOG (256 << 10) /* bytes of build log kept per release */

struct buildout {
	FILE *out;       /* where lines go, flushed each; NULL: log only */
	struct buf step; /* a "Step" line held until the next line */
	struct buf log;  /* what was shown, capped to the last MAXLOG bytes */
	unsigned cached; /* steps answered from the cache */
	unsigned steps;  /* steps seen */
	int oom;         /* the log lost lines: memory ran out */
};

/* Starts b; lines go to out (NULL: kept in the log only). */
void buildout_init(struct buildout *b, FILE *out);
/* One line as printed: prefix + text, into out and the log. */
void buildout_say(struct buildout *b, const char *prefix, const char *text);
/* One line of Docker output (docker_line_fn shape; arg is the buildout). */
void buildout_line(void *arg, const char *line);
/* Delivers a held Step line. */
void buildout_flush(struct buildout *b);
/* Frees the held line and the log. */
void buildout_release(struct buildout *b);

#endif
