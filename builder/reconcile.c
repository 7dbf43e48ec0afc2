/*
 * builder/reconcile.c: one sweep of the reconciler (reconcile.h).
 * Guarantees: an app whose deploy lock is held is left alone; nothing of
 * another instance is touched (the scheduler lists only this one's); a
 * process is started again only when its release is the app's live one and
 * the app is not stopped; a port is given back only when no process of
 * this instance publishes it and no live release records it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder/reconcile.h"
#include "builder/recover.h"
#include "builder/release.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"

struct sweep {
	struct state *st;
	struct sched *s;
	struct reconcile_stats *stats;
	struct sched_entry *procs; /* every process of this instance */
	size_t nprocs;
};

/* The app's generated route, "<app>.<domain>", into route: 0, or
 * STATE_NOTFOUND when it has none. */
static int
sweep_route(struct sweep *w, const char *app, char *host, size_t hostlen,
    struct state_route *route)
{
	if (state_app_host(w->st, app, host, hostlen) == -1)
		return STATE_NOTFOUND;
	return state_route_get(w->st, host, route);
}

static void
sweep_remove(struct sweep *w, const struct sched_entry *e, const char *why)
{
	if (sched_remove(w->s, e->id) == -1) {
		log_warn(
		    "%s: cannot remove %s: %s", e->app, e->name, err_msg());
		return;
	}
	log_info("%s: removed %s (%s)", e->app, e->name, why);
	w->stats->removed++;
}

/* Starts e again when it is stopped (not when Docker restarts it). */
static void
sweep_resume(struct sweep *w, const struct sched_entry *e)
{
	if (strcmp(e->state, "exited") != 0 && strcmp(e->state, "created") != 0)
		return;
	if (sched_resume(w->s, e->id) != 0) {
		log_warn("%s: cannot start %s again: %s", e->app, e->name,
		    err_msg());
		return;
	}
	log_info("%s: started %s again (it was %s)", e->app, e->name, e->state);
	w->stats->started++;
}

/* Gives back the ports held for app that no process of it publishes and
 * its live release does not record. */
static void
sweep_ports(struct sweep *w, const char *app, uint16_t live_port)
{
	struct state_port *ports = NULL;
	size_t i, j, n = 0;
	int used;

	if (state_port_list(w->st, &ports, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(ports[i].app, app) != 0 ||
		    ports[i].port == live_port)
			continue;
		for (used = 0, j = 0; j < w->nprocs && !used; j++)
			used = w->procs[j].host_port == ports[i].port &&
			       strcmp(w->procs[j].app, app) == 0;
		if (used || state_port_free(w->st, ports[i].port) != 0)
			continue;
		log_info(
		    "%s: port %u given back", app, (unsigned)ports[i].port);
		w->stats->ports++;
	}
	free(ports);
}

/* One app, its deploy lock held. */
static void
sweep_app(struct sweep *w, const char *name)
{
	char host[STATE_MAXHOST + 1], up[24];
	struct recover_result rr;
	struct state_release live;
	struct state_route route;
	struct state_app app;
	int64_t now = (int64_t)time(NULL);
	int have_live = 0, stopped = 0, draining = 0, have_web = 0;
	size_t i;

	if (recover_app(w->st, name, &rr) != 0)
		return;
	w->stats->recovered += rr.nfailed;
	if (state_app_get(w->st, name, &app) != 0)
		return;
	memset(&live, 0, sizeof live);
	if (app.release != 0 &&
	    state_release_get(w->st, name, app.release, &live) == 0 &&
	    strcmp(live.status, STATE_REL_LIVE) == 0)
		have_live = 1;
	if (sweep_route(w, name, host, sizeof host, &route) == 0)
		stopped = route.nupstreams == 0;
	/* the release it replaced drains and is retired by the deploy */
	draining = have_live && now - live.finished < RECONCILE_DRAIN_GRACE;

	for (i = 0; i < w->nprocs; i++) {
		const struct sched_entry *e = &w->procs[i];

		if (strcmp(e->app, name) != 0)
			continue;
		if (have_live && e->release == live.number) {
			have_web |= strcmp(e->process, "web") == 0;
			if (!stopped)
				sweep_resume(w, e);
			continue;
		}
		if (draining && e->release < live.number)
			continue;
		sweep_remove(w, e,
		    have_live ? "not of the live release"
		              : "the app has no live release");
		if (e->host_port && e->host_port != live.port &&
		    state_port_free(w->st, e->host_port) == 0)
			w->stats->ports++;
	}
	if (have_live && !have_web && !stopped && live.port != 0) {
		/* its container is gone: the route would name nothing */
		if (release_recreate(w->st, w->s, &live) == 0) {
			log_info("%s: v%u's web process was gone; made anew "
			         "on 127.0.0.1:%u",
			    name, live.number, (unsigned)live.port);
			w->stats->started++;
		} else
			log_warn("%s: v%u's web process is gone and cannot be "
			         "made anew: %s",
			    name, live.number, err_msg());
	}
	if (!draining)
		sweep_ports(w, name, have_live ? live.port : 0);

	/* a route lists only the live release's upstream */
	if (!have_live || stopped || live.port == 0)
		return;
	if (sched_endpoint(w->s, live.container, live.port, up, sizeof up) ==
	    -1)
		return;
	if (route.nupstreams == 1 && strcmp(route.upstream[0], up) == 0)
		return;
	memset(&route, 0, sizeof route);
	snprintf(route.app, sizeof route.app, "%s", name);
	route.nupstreams = 1;
	snprintf(route.upstream[0], sizeof route.upstream[0], "%s", up);
	if (state_route_put(w->st, host, &route) == 0 &&
	    state_route_set_app(w->st, name, &route) == 0) {
		log_info("%s: routes point at v%u (%s) again", name,
		    live.number, up);
		w->stats->routes++;
	}
}

/* 1 when app is one of apps[0..n). */
static int
sweep_known(const struct state_app *apps, size_t n, const char *app)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(apps[i].name, app) == 0)
			return 1;
	return 0;
}

int
reconcile_sweep(
    struct state *st, struct sched *s, struct reconcile_stats *stats)
{
	struct state_app *apps = NULL;
	struct state_port *ports = NULL;
	struct sweep w;
	size_t i, napps = 0, nports = 0;
	int fd;

	memset(&w, 0, sizeof w);
	w.st = st;
	w.s = s;
	w.stats = stats;
	if (state_app_list(st, &apps, &napps) == -1)
		return -1;
	/* listed before any lock is taken: a deploy that starts after this
	 * holds its app's lock, and that app is skipped */
	if (sched_list(s, NULL, &w.procs, &w.nprocs) == -1) {
		free(apps);
		return -1;
	}
	for (i = 0; i < napps; i++) {
		fd = home_trylock_app(apps[i].name);
		if (fd == HOME_LOCK_BUSY) {
			stats->busy++;
			continue;
		}
		if (fd == -1) {
			log_warn("%s: %s", apps[i].name, err_msg());
			continue;
		}
		sweep_app(&w, apps[i].name);
		close(fd);
	}
	/* what is left of apps that are gone (destroyed half-way) */
	for (i = 0; i < w.nprocs; i++)
		if (!sweep_known(apps, napps, w.procs[i].app))
			sweep_remove(&w, &w.procs[i], "its app does not exist");
	if (state_port_list(st, &ports, &nports) == 0) {
		for (i = 0; i < nports; i++)
			if (!sweep_known(apps, napps, ports[i].app) &&
			    state_port_free(st, ports[i].port) == 0)
				stats->ports++;
		free(ports);
	}
	free(w.procs);
	free(apps);
	return 0;
}
