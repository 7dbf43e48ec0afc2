/*
 * cli/cmd_apps.c: the app lifecycle, `apps`, `apps:create`, `apps:info`,
 * `apps:destroy`, and the small helpers the listing commands share (--json
 * output). The rules (names, hostnames, owners, URLs) are apps/'s.
 *
 * Guarantees: a key sees only the apps it may (cmd_app_visible); a name
 * taken by an app the caller cannot see is "not available", never "exists";
 * apps:destroy removes nothing without `--confirm <app>`, and once
 * confirmed removes, under the app's deploy lock, the app's containers,
 * images, repository and every record of it (releases, routes, ports, env,
 * domains, access); a deploy that waited for that lock finds no app.
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "builder/sched.h"
#include "builder/procs.h"
#include "builder/release.h"
#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/home.h"
#include "common/progress.h"

#define APPS_NAME_TRIES 8 /* random names tried by a bare apps:create */

/* --- shared helpers -------------------------------------------------------
 */

int
cmd_json_print(json_t *v)
{
	char *text;

	if (v == NULL)
		return cmd_fail(1, "out of memory");
	text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (text == NULL)
		return cmd_fail(1, "out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

int
cmd_take_json(int *argc, char **argv)
{
	int i, found = 0;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			continue;
		found = 1;
		memmove(&argv[i], &argv[i + 1], (*argc - i) * sizeof *argv);
		(*argc)--;
		i--;
	}
	return found;
}

/* --- apps ------------------------------------------------------------------
 */

int
cmd_apps(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct apps_hosts hosts;
	char owner[64];
	struct state_app *apps;
	json_t *arr = NULL, *o;
	size_t i, n;
	int json = cmd_take_json(&argc, argv);

	if (argc > 1)
		return cmd_fail(2, "usage: apps [--json]");
	if (state_app_list(ctx->st, &apps, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (json && (arr = json_array()) == NULL) {
		free(apps);
		return cmd_fail(1, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (!cmd_app_visible(ctx, &apps[i]))
			continue;
		if (!json) {
			printf("%s\n", apps[i].name);
			continue;
		}
		if (apps_hosts_get(ctx->st, apps[i].name, &hosts) == -1) {
			apps_hosts_release(&hosts);
			json_decref(arr);
			free(apps);
			return cmd_fail(1, "%s", err_msg());
		}
		cmd_key_name(ctx->st, apps[i].owner, owner, sizeof owner);
		o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "name",
		    apps[i].name, "owner", owner, "runtime", apps[i].runtime,
		    "release", (json_int_t)apps[i].release, "commit",
		    apps[i].commit, "url", hosts.host[0].url, "created",
		    (json_int_t)apps[i].created);
		apps_hosts_release(&hosts);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			free(apps);
			return cmd_fail(1, "out of memory");
		}
	}
	free(apps);
	return json ? cmd_json_print(arr) : 0;
}

/* --- apps:create -----------------------------------------------------------
 */

/*
 * Creates app `name` owned by the caller (apps_create). 0, or the status
 * to return: 2 for an invalid name, 1 when it is taken (by an app the
 * caller cannot see: "not available"); printed unless quiet.
 */
static int
apps_create_one(struct cmd_ctx *ctx, const char *name, int quiet)
{
	struct apps_caller who = cmd_caller(ctx);
	int rc;

	rc = apps_create(ctx->st, name, &who, NULL);
	if (rc == 0)
		return 0;
	if (quiet && rc != -1)
		return 1;
	return cmd_fail(rc == APPS_INVALID ? 2 : 1, "%s", err_msg());
}

int
cmd_apps_create(struct cmd_ctx *ctx, int argc, char **argv)
{
	char name[APP_MAXNAME + 1];
	struct apps_hosts hosts;
	unsigned char rnd[3];
	int i, rc = 1;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: apps:create [APP]");
	if (argc == 2) {
		if ((rc = apps_create_one(ctx, argv[1], 0)) != 0)
			return rc;
		snprintf(name, sizeof name, "%s", argv[1]);
	} else {
		for (i = 0; i < APPS_NAME_TRIES && rc != 0; i++) {
			if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
				return cmd_fail(
				    1, "no random bytes: %s", strerror(errno));
			snprintf(name, sizeof name, "app-%02x%02x%02x", rnd[0],
			    rnd[1], rnd[2]);
			rc = apps_create_one(ctx, name, 1);
		}
		if (rc != 0)
			return cmd_fail(1, "could not find a free app name");
	}
	STEP(stdout, "Created %s", name);
	if (apps_hosts_get(ctx->st, name, &hosts) == 0)
		DETAIL(stdout, "%s (once deployed)", hosts.host[0].url);
	apps_hosts_release(&hosts);
	return 0;
}

/* --- apps:info -------------------------------------------------------------
 */

static void
apps_when(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, len, "-");
}

/* The app's status in one phrase, from its web process (procs[0]) as it is,
 * not as the last deploy left it. */
static void
apps_status(
    const struct cmd_proc *procs, size_t n, int stopped, char *out, size_t len)
{
	const struct cmd_proc *web = n > 0 ? &procs[0] : NULL;

	if (stopped)
		snprintf(out, len,
		    "stopped (its URLs answer 503; ps:start starts it)");
	else if (web == NULL || strcmp(web->state, "missing") == 0)
		snprintf(out, len,
		    "down: its web process is gone "
		    "(ps:restart starts a new one)");
	else if (strcmp(web->state, "running") == 0 && web->answering)
		snprintf(out, len, "running");
	else if (strcmp(web->state, "running") == 0)
		snprintf(out, len, "running, but not answering on $PORT");
	else if (strcmp(web->state, "crash-looping") == 0 && !web->running)
		snprintf(out, len,
		    "crash-looping: web restarted %d times, last exit status "
		    "%d (see `logs`)",
		    web->restarts, web->exit_code);
	else if (strcmp(web->state, "crash-looping") == 0)
		snprintf(out, len,
		    "crash-looping: web restarted %d times, up again for "
		    "less than %d s (see `logs`)",
		    web->restarts, CMD_CRASHLOOP_WINDOW);
	else if (strcmp(web->state, "restarting") == 0)
		snprintf(out, len, "restarting: web exited with status %d",
		    web->exit_code);
	else
		snprintf(out, len, "down: web is %s (status %d)", web->state,
		    web->exit_code);
}

int
cmd_apps_info(struct cmd_ctx *ctx, int argc, char **argv)
{
	char owner[64], when[40], ago[32], what[128];
	struct apps_hosts hosts = {0, NULL};
	struct state_release rel;
	struct state_app app;
	struct cmd_proc *procs = NULL;
	json_t *o = NULL, *urls = NULL, *jp = NULL, *p;
	size_t i, n = 0;
	int json = cmd_take_json(&argc, argv), rc, stopped = 0;
	int have_rel = 0, status = 1;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: apps:info [APP] [--json]");
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (apps_hosts_get(ctx->st, app.name, &hosts) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	if (app.release != 0 &&
	    state_release_get(ctx->st, app.name, app.release, &rel) == 0)
		have_rel = 1;
	if (app.release != 0 &&
	    cmd_ps_list(ctx->st, &app, &procs, &n, &stopped) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	cmd_key_name(ctx->st, app.owner, owner, sizeof owner);

	if (json) {
		if ((urls = json_array()) == NULL ||
		    (jp = json_array()) == NULL)
			goto nomem;
		for (i = 0; i < hosts.n; i++)
			json_array_append_new(
			    urls, json_string(hosts.host[i].url));
		for (i = 0; i < n; i++) {
			p = cmd_proc_json(&procs[i], "answering",
			    json_boolean(procs[i].answering));
			if (p == NULL || json_array_append_new(jp, p) == -1)
				goto nomem;
		}
		o = json_pack("{s:s, s:s, s:O, s:s, s:I, s:s, s:s, s:s, s:I, "
		              "s:O}",
		    "name", app.name, "owner", owner, "urls", urls, "runtime",
		    app.runtime, "release", (json_int_t)app.release, "commit",
		    app.commit, "branch", app.branch, "status",
		    app.release == 0 ? "new"
		    : stopped        ? "stopped"
		                     : "running",
		    "created", (json_int_t)app.created, "processes", jp);
		if (o == NULL)
			goto nomem;
		status = cmd_json_print(o);
		goto out;
	}

	printf("=== %s\n", app.name);
	printf("URL:        %s\n", hosts.host[0].url);
	for (i = 1; i < hosts.n; i++)
		printf("            %s\n", hosts.host[i].url);
	printf("Owner:      %s\n", owner[0] ? owner : "-");
	printf("Runtime:    %s\n", app.runtime[0] ? app.runtime : "-");
	apps_when(app.created, when, sizeof when);
	printf("Created:    %s\n", when);
	if (app.release == 0) {
		printf("Release:    none yet (git push to deploy)\n");
		status = 0;
		goto out;
	}
	if (have_rel) {
		apps_when(rel.finished ? rel.finished : rel.created, when,
		    sizeof when);
		printf("Release:    v%u (commit %.7s, %s, live since %s)\n",
		    app.release, app.commit[0] ? app.commit : "-", rel.cause,
		    when);
	} else
		printf("Release:    v%u\n", app.release);
	apps_status(procs, n, stopped, what, sizeof what);
	printf("Status:     %s\n", what);
	printf("Processes:\n");
	for (i = 0; i < n; i++) {
		cmd_ago(procs[i].since, ago, sizeof ago);
		apps_when(procs[i].since, when, sizeof when);
		cmd_proc_describe(&procs[i], what, sizeof what);
		printf(
		    "  %-10s %-18s v%-5u %-12.12s %s %s (%s), %d restart%s%s\n",
		    procs[i].type, what, procs[i].release,
		    procs[i].container[0] ? procs[i].container : "-",
		    strcmp(procs[i].state, "running") == 0 ? "up" : "since",
		    ago, when, procs[i].restarts,
		    procs[i].restarts == 1 ? "" : "s",
		    strcmp(procs[i].type, "web") != 0 ? ""
		    : procs[i].answering              ? ", answering"
		                                      : ", not answering");
	}
	status = 0;
	goto out;
nomem:
	status = cmd_fail(1, "out of memory");
out:
	json_decref(urls);
	json_decref(jp);
	free(procs);
	apps_hosts_release(&hosts);
	return status;
}

/* --- apps:destroy ----------------------------------------------------------
 */

static int
apps_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* rm -rf of the app's bare repository; 0, or -1 with err_set(). */
static int
apps_remove_repo(const char *app)
{
	char repo[HOME_MAXPATH];

	if (home_path(repo, sizeof repo, "repos/%s.git", app) == -1)
		return -1;
	if (access(repo, F_OK) == -1)
		return 0;
	if (nftw(repo, apps_rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		return err_set("cannot remove '%s': %s", repo, strerror(errno));
	return 0;
}

/* Removes every container and image of the app's releases: best effort, the
 * count of what could not be removed goes to *left. */
static void
apps_remove_docker(struct state *st, struct sched *d, const char *app,
    const struct state_release *rels, size_t n, int *left)
{
	struct sched_entry *left_over = NULL;
	size_t i, nleft = 0;

	for (i = 0; i < n; i++)
		if (procs_stop_release(st, d, app, rels[i].number) == -1)
			(*left)++;
	/* every process of the app this instance has, recorded on a release
	 * or not (a deploy killed half-way leaves one unrecorded) */
	if (sched_list(d, app, &left_over, &nleft) == -1)
		(*left)++;
	for (i = 0; i < nleft; i++)
		if (sched_remove(d, left_over[i].id) == -1)
			(*left)++;
	free(left_over);
	for (i = 0; i < n; i++)
		sched_image_remove(d, app, rels[i].number);
	sched_image_prune(d, app);
}

int
cmd_apps_destroy(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_release *rels = NULL;
	struct state_route stopped;
	struct state_app app, now;
	struct sched *d = NULL;
	const char *name = NULL, *confirm = NULL;
	size_t n = 0;
	int i, rc, fd = -1, left = 0, status = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--confirm") == 0 && i + 1 < argc)
			confirm = argv[++i];
		else if (strncmp(argv[i], "--confirm=", 10) == 0)
			confirm = argv[i] + 10;
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else
			return cmd_fail(
			    2, "usage: apps:destroy APP --confirm APP");
	}
	if (name == NULL)
		return cmd_fail(2, "usage: apps:destroy APP --confirm APP "
		                   "(the app is never guessed here)");
	if ((rc = cmd_app_load(ctx, name, &app)) != 0)
		return rc;
	if (!cmd_app_owner(ctx, &app))
		return cmd_fail(1,
		    "only the key that created %s, or an admin, may "
		    "destroy it",
		    app.name);
	if (confirm == NULL || strcmp(confirm, app.name) != 0) {
		cmd_fail(2,
		    "this destroys %s: its containers, images, repository, "
		    "routes, domains, config and releases, for good",
		    app.name);
		return cmd_fail(2,
		    "to proceed, type: apps:destroy %s --confirm %s", app.name,
		    app.name);
	}

	if (sched_open(&d, ctx->st) == -1)
		return cmd_fail(1, "nothing was removed: %s", err_msg());
	if ((fd = cmd_app_lock(app.name)) == -1)
		goto out;
	/* another destroy may have run while we waited, and a new app of
	 * that name is not the one confirmed */
	rc = state_app_get(ctx->st, app.name, &now);
	if (rc == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	if (rc != 0 || now.created != app.created) {
		cmd_fail(1, "%s was destroyed meanwhile; nothing was removed",
		    app.name);
		goto out;
	}
	STEP(stdout, "Destroying %s", app.name);
	/* its routes first: the router answers 503, not 502, meanwhile */
	memset(&stopped, 0, sizeof stopped);
	snprintf(stopped.app, sizeof stopped.app, "%s", app.name);
	if (state_route_set_app(ctx->st, app.name, &stopped) == -1 ||
	    state_release_list(ctx->st, app.name, &rels, &n) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	apps_remove_docker(ctx->st, d, app.name, rels, n, &left);
	if (left > 0)
		DETAIL(stdout,
		    "%d container%s could not be removed (see `docker ps -a "
		    "--filter label=minpaas.instance=%s --filter "
		    "label=minpaas.app=%s`)",
		    left, left == 1 ? "" : "s", sched_instance(d), app.name);
	else
		DETAIL(stdout, "containers and images removed");
	if (apps_remove_repo(app.name) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	DETAIL(stdout, "repository removed");
	if (state_app_delete(ctx->st, app.name) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	DETAIL(stdout, "routes, domains, config, releases and access removed");
	/*
	 * The lock file stays. A deploy queued behind this destroy waits on
	 * that very file and, once it has the lock, finds no app and stops.
	 * Were it unlinked, a deploy starting now would create and lock a
	 * new file beside the waiter on the old one: two deploys of one
	 * name at once. An empty file per name once used is the price; a
	 * later app of that name locks the same file.
	 */
	STEP(stdout, "Destroyed %s", app.name);
	status = 0;
out:
	fflush(stdout);
	free(rels);
	if (fd != -1)
		close(fd);
	sched_close(d);
	return status;
}
