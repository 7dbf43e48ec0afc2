/*
 * builder/reconcile.h: makes what runs match state, for minpaas-reconciler.
 * One sweep, per app whose deploy lock is free (a held lock means a deploy
 * runs and owns the app's processes):
 *
 *   - a deploy that died half-way is recovered (builder/recover.h);
 *   - the processes of the live release run: one found stopped (a reboot,
 *     a `docker stop`) is started again, a web process whose container is
 *     gone is made anew on its port, unless the app was stopped with
 *     ps:stop;
 *   - this instance's processes that belong to no live release are
 *     removed, and their ports given back (the previous release keeps its
 *     process for RECONCILE_DRAIN_GRACE after a swap, while it drains);
 *   - ports of the pool held for an app by nothing are given back, and a
 *     route lists only the live release's upstream.
 *
 * Then processes and ports of apps that no longer exist are removed.
 */
#ifndef MINPAAS_RECONCILE_H
#define MINPAAS_RECONCILE_H

#include "builder/sched.h"
#include "state/state.h"

#define RECONCILE_DRAIN_GRACE 30 /* seconds a superseded process may stay */

struct reconcile_stats {
	int started;   /* processes started again */
	int removed;   /* processes removed */
	int recovered; /* releases marked failed */
	int ports;     /* ports given back */
	int routes;    /* routes rewritten */
	int busy;      /* apps skipped: a deploy holds the lock */
};

/* One sweep (above); what it did is added to *stats and logged. 0, or -1
 * with err_set() when state or the scheduler could not be read. */
int reconcile_sweep(
    struct state *st, struct sched *s, struct reconcile_stats *stats);

#endif
