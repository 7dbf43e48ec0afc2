/*
 * state/buildlog.h: what a release keeps beside its record: the output of
 * its build (shown by `releases:info`) and its process list (the Procfile
 * types other than web, run by builder/procs.c). Both are opaque text to
 * this module, keyed like releases (app NUL big-endian u32).
 */
#ifndef MINPAAS_STATE_BUILDLOG_H
#define MINPAAS_STATE_BUILDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

#define STATE_MAXBUILDLOG (256 << 10) /* bytes kept: the end of the log */
#define STATE_MAXPROCS    (64 << 10)  /* bytes of a process list */

/* Stores the build log of release app/number; a longer text keeps its last
 * STATE_MAXBUILDLOG bytes. */
int state_buildlog_put(struct state *st, const char *app, uint32_t number,
    const char *text, size_t len);
/* The build log into a malloc'd NUL-terminated *out (the caller frees it);
 * STATE_NOTFOUND when the release has none. */
int state_buildlog_get(struct state *st, const char *app, uint32_t number,
    char **out, size_t *len);

/* The process list of release app/number (format: builder/procs.c). */
int state_procs_put(struct state *st, const char *app, uint32_t number,
    const char *text, size_t len);
int state_procs_get(struct state *st, const char *app, uint32_t number,
    char **out, size_t *len);

#endif
