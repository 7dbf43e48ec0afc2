/*
 * builder/procs.h: the Procfile's process types other than web (worker:,
 * clock:, ...). Each runs as its own container from the release's image,
 * with the release's env, no port and no route, restarted unless stopped;
 * a new release starts its own and then stops the previous release's.
 *
 * The list of a release (type, command, container) is kept in state
 * (state/buildlog.h), so a later release made from the same image (env
 * change, rollback) can start the same processes with procs_restart.
 */
#ifndef MINPAAS_PROCS_H
#define MINPAAS_PROCS_H

#include <stdio.h>

#include "builder/sched.h"
#include "runtimes/runtime.h"
#include "state/state.h"

#define PROCS_STOP_GRACE 10 /* seconds between SIGTERM and kill */

/*
 * Starts one container per entry of procs that is not "web", for rel
 * (app, number, image set; its env snapshot stored), prints one line per
 * process to out and records the list under rel. Returns 0, or -1 with
 * err_set() after removing what it started.
 */
int procs_start(struct state *st, struct sched *s,
    const struct state_release *rel, const struct runtime_proc *procs, size_t n,
    FILE *out);

/* procs_start with the process list recorded for release `from` of the same
 * app (none recorded: nothing to do). */
int procs_restart(struct state *st, struct sched *s,
    const struct state_release *rel, uint32_t from, FILE *out);

/* Stops and removes the process containers recorded for release `number`
 * of app; containers already gone are fine. */
int procs_stop_release(
    struct state *st, struct sched *s, const char *app, uint32_t number);

#endif
