/*
 * cli/cmd_ps.c: an app's processes, `ps`, and `ps:stop`, `ps:start`,
 * `ps:restart`.
 *
 * "Stopped" lives in the routes: every route of a stopped app (its
 * generated name and its custom domains) holds zero upstreams, which the
 * router answers with 503 and a short page. ps:stop writes that first, then
 * stops the containers, so no request meets a dying container. ps:start and
 * ps:restart go through the release path (a new release from the current
 * one: start, health-check, swap, retire), so a restart drops no request and
 * a start fails without harm when the app no longer boots. A deploy of a
 * stopped app starts it (the swap writes its routes).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder/release.h"
#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/progress.h"
#include "state/buildlog.h"

#define PS_MAXPROCS 64 /* process types listed per release */

/* 1 when something accepts a TCP connection on 127.0.0.1:port. */
static int
ps_probe(uint16_t port)
{
	int fd;

	if (port == 0 || (fd = release_connect_local(port, CMD_PROBE_MS)) == -1)
		return 0;
	close(fd);
	return 1;
}

void
cmd_ago(int64_t t, char *out, size_t len)
{
	int64_t s = (int64_t)time(NULL) - t;

	if (t <= 0)
		snprintf(out, len, "-");
	else if (s < 60)
		snprintf(out, len, "%llds", (long long)(s < 0 ? 0 : s));
	else if (s < 3600)
		snprintf(out, len, "%lldm %llds", (long long)s / 60,
		    (long long)s % 60);
	else if (s < 86400)
		snprintf(out, len, "%lldh %lldm", (long long)s / 3600,
		    (long long)(s % 3600) / 60);
	else
		snprintf(out, len, "%lldd %lldh", (long long)s / 86400,
		    (long long)(s % 86400) / 3600);
}

/* Fills p's state from Docker. */
static void
ps_inspect(struct sched *d, struct cmd_proc *p)
{
	struct sched_status ds;
	int rc;

	if (p->container[0] == '\0') {
		snprintf(p->state, sizeof p->state, "missing");
		return;
	}
	rc = sched_status(d, p->container, &ds);
	if (rc != 0) {
		snprintf(p->state, sizeof p->state, "%s",
		    rc == SCHED_NOTFOUND ? "missing" : "unknown");
		return;
	}
	p->running = ds.running && !ds.restarting;
	p->exit_code = ds.exit_code;
	p->restarts = ds.restart_count;
	if (ds.restart_count >= CMD_CRASHLOOP &&
	    (!p->running ||
	        (int64_t)time(NULL) - ds.started < CMD_CRASHLOOP_WINDOW))
		snprintf(p->state, sizeof p->state, "crash-looping");
	else if (p->running)
		snprintf(p->state, sizeof p->state, "running");
	else
		snprintf(p->state, sizeof p->state, "%s",
		    ds.restarting ? "restarting" : ds.status);
	p->since = ds.running && !ds.restarting ? ds.started : ds.finished;
}

void
cmd_proc_describe(const struct cmd_proc *p, char *out, size_t len)
{
	if (p->running || strcmp(p->state, "missing") == 0 ||
	    strcmp(p->state, "unknown") == 0 ||
	    strcmp(p->state, "created") == 0)
		snprintf(out, len, "%s", p->state);
	else
		snprintf(out, len, "%s (%d)", p->state, p->exit_code);
}

/* 1 when app's generated route holds no upstream (ps:stop wrote it). */
static int
ps_stopped(struct state *st, const char *app)
{
	struct apps_hosts hosts;
	struct state_route route;
	int stopped = 0;

	if (apps_hosts_get(st, app, &hosts) == 0 &&
	    state_route_get(st, hosts.host[0].name, &route) == 0)
		stopped = route.nupstreams == 0;
	apps_hosts_release(&hosts);
	return stopped;
}

int
cmd_ps_list(struct state *st, const struct state_app *app,
    struct cmd_proc **out, size_t *n, int *stopped)
{
	struct state_release rel;
	struct cmd_proc *procs;
	struct sched *d = NULL;
	char *text = NULL, *line, *save = NULL, *t1, *t2;
	size_t cnt = 0, len, i;
	int rc;

	*out = NULL;
	*n = 0;
	*stopped = ps_stopped(st, app->name);
	if (app->release == 0)
		return 0;
	rc = state_release_get(st, app->name, app->release, &rel);
	if (rc != 0)
		return rc == -1 ? -1
		                : err_set("v%u of %s is not recorded",
		                      app->release, app->name);
	if ((procs = calloc(PS_MAXPROCS, sizeof *procs)) == NULL)
		return err_set("out of memory");
	snprintf(procs[0].type, sizeof procs[0].type, "web");
	snprintf(
	    procs[0].container, sizeof procs[0].container, "%s", rel.container);
	procs[0].release = rel.number;
	cnt = 1;
	rc = state_procs_get(st, app->name, rel.number, &text, &len);
	if (rc == -1) {
		free(procs);
		return -1;
	}
	for (line = rc == 0 ? strtok_r(text, "\n", &save) : NULL;
	     line != NULL && cnt < PS_MAXPROCS;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((t1 = strchr(line, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL)
			continue;
		*t1 = *t2 = '\0';
		snprintf(procs[cnt].type, sizeof procs[cnt].type, "%s", line);
		snprintf(procs[cnt].container, sizeof procs[cnt].container,
		    "%s", t1 + 1);
		procs[cnt].release = rel.number;
		cnt++;
	}
	free(text);
	if (sched_open(&d, st) == -1) {
		free(procs);
		return -1;
	}
	for (i = 0; i < cnt; i++)
		ps_inspect(d, &procs[i]);
	sched_close(d);
	procs[0].answering =
	    strcmp(procs[0].state, "running") == 0 && ps_probe(rel.port);
	*out = procs;
	*n = cnt;
	return 0;
}

json_t *
cmd_proc_json(const struct cmd_proc *p, const char *key, json_t *value)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:o}", "type",
	    p->type, "container", p->container, "state", p->state, "exit_code",
	    p->exit_code, "restarts", p->restarts, "release",
	    (json_int_t)p->release, "since", (json_int_t)p->since, key, value);
}

int
cmd_ps(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_app app;
	struct cmd_proc *procs = NULL;
	json_t *arr, *o;
	char ago[32], what[32];
	int64_t up;
	size_t i, n = 0;
	int json = cmd_take_json(&argc, argv), rc, stopped;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: ps [APP] [--json]");
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (cmd_ps_list(ctx->st, &app, &procs, &n, &stopped) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (json) {
		if ((arr = json_array()) == NULL) {
			free(procs);
			return cmd_fail(1, "out of memory");
		}
		for (i = 0; i < n; i++) {
			up = strcmp(procs[i].state, "running") == 0 &&
			             procs[i].since > 0
			         ? (int64_t)time(NULL) - procs[i].since
			         : 0;
			o = cmd_proc_json(
			    &procs[i], "uptime", json_integer(up));
			if (o == NULL || json_array_append_new(arr, o) == -1) {
				json_decref(arr);
				free(procs);
				return cmd_fail(1, "out of memory");
			}
		}
		free(procs);
		return cmd_json_print(arr);
	}
	if (app.release == 0) {
		printf(
		    "%s has no processes: it was never deployed\n", app.name);
		return 0;
	}
	if (stopped)
		printf("=== %s: stopped (v%u); `ps:start %s` starts it\n",
		    app.name, app.release, app.name);
	else
		printf("=== %s: v%u\n", app.name, app.release);
	printf("%-10s %-18s %-8s %-8s %-10s %s\n", "TYPE", "STATE", "RELEASE",
	    "RESTARTS", "SINCE", "CONTAINER");
	for (i = 0; i < n; i++) {
		cmd_ago(procs[i].since, ago, sizeof ago);
		cmd_proc_describe(&procs[i], what, sizeof what);
		printf("%-10s %-18s v%-7u %-8d %-10s %.12s\n", procs[i].type,
		    what, procs[i].release, procs[i].restarts, ago,
		    procs[i].container[0] ? procs[i].container : "-");
	}
	free(procs);
	return 0;
}

/*
 * The start of ps:stop, ps:start and ps:restart (verb: "stop", ...): parses
 * "[APP]", takes the app's deploy lock into *fd, reads the app again under
 * it and lists its processes (cmd_ps_list). Returns 0, or the command's exit
 * status with the reason printed and the lock released.
 */
static int
ps_begin(struct cmd_ctx *ctx, int argc, char **argv, const char *verb,
    struct state_app *app, int *fd, struct cmd_proc **procs, size_t *n,
    int *stopped)
{
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: %s [APP]", argv[0]);
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, app)) != 0)
		return rc;
	if ((*fd = cmd_app_lock(app->name)) == -1)
		return 1;
	if (state_app_get(ctx->st, app->name, app) != 0)
		rc = cmd_fail(1, "app '%s' does not exist", app->name);
	else if (app->release == 0)
		rc = cmd_fail(1, "%s has nothing to %s: it was never deployed",
		    app->name, verb);
	else if (cmd_ps_list(ctx->st, app, procs, n, stopped) == -1)
		rc = cmd_fail(1, "%s", err_msg());
	if (rc != 0)
		close(*fd);
	return rc;
}

int
cmd_ps_stop(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct apps_hosts hosts = {0, NULL};
	struct cmd_proc *procs = NULL;
	struct state_route route;
	struct state_app app;
	struct sched *d = NULL;
	size_t i, n = 0;
	int rc, fd, stopped, status = 1;

	rc = ps_begin(ctx, argc, argv, "stop", &app, &fd, &procs, &n, &stopped);
	if (rc != 0)
		return rc;
	if (apps_hosts_get(ctx->st, app.name, &hosts) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	STEP(stdout, "Stopping %s (v%u)", app.name, app.release);
	/* the routes first: from now on requests get 503, never a dying
	 * container */
	memset(&route, 0, sizeof route);
	snprintf(route.app, sizeof route.app, "%s", app.name);
	if (state_route_put(ctx->st, hosts.host[0].name, &route) == -1 ||
	    state_route_set_app(ctx->st, app.name, &route) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	DETAIL(stdout, "routes answer 503 while it is stopped");
	if (sched_open(&d, ctx->st) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (procs[i].container[0] == '\0')
			continue;
		rc = sched_stop(d, procs[i].container, RELEASE_STOP_GRACE);
		if (rc == -1) {
			cmd_fail(
			    1, "cannot stop %s: %s", procs[i].type, err_msg());
			goto out;
		}
		DETAIL(stdout, "%s stopped", procs[i].type);
	}
	STEP(stdout, "Stopped %s", app.name);
	status = 0;
out:
	fflush(stdout);
	apps_hosts_release(&hosts);
	free(procs);
	sched_close(d);
	close(fd);
	return status;
}

/* ps:start and ps:restart: a new release from the current one. */
static int
ps_release(struct cmd_ctx *ctx, int argc, char **argv, const char *cause)
{
	struct cmd_proc *procs = NULL;
	struct state_app app;
	uint32_t from, number = 0;
	size_t n = 0;
	int rc, fd, stopped, status = 1;

	rc = ps_begin(ctx, argc, argv, cause, &app, &fd, &procs, &n, &stopped);
	if (rc != 0)
		return rc;
	if (strcmp(cause, "start") == 0 && !stopped && n > 0 &&
	    strcmp(procs[0].state, "running") == 0) {
		printf("%s is running already (v%u)\n", app.name, app.release);
		status = 0;
		goto out;
	}
	from = app.release;
	STEP(stdout, "%s %s from v%u",
	    strcmp(cause, "start") == 0 ? "Starting" : "Restarting", app.name,
	    from);
	/* the other process types follow the new release there too */
	if (cmd_release_from(ctx, app.name, from, cause, NULL, &number) != 0)
		goto out;
	status = 0;
out:
	fflush(stdout);
	free(procs);
	close(fd);
	return status;
}

int
cmd_ps_start(struct cmd_ctx *ctx, int argc, char **argv)
{
	return ps_release(ctx, argc, argv, "start");
}

int
cmd_ps_restart(struct cmd_ctx *ctx, int argc, char **argv)
{
	return ps_release(ctx, argc, argv, "restart");
}
