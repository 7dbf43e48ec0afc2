/*
 * cli/cmd_releases.c: `releases` and `rollback`, and what every app command
 * shares: finding the app with the caller's rights (an app the caller may not
 * see "does not exist", so its existence never leaks), the caller's only app
 * when the name is left out, the deploy lock, and making a release from an
 * earlier one's image that goes live through release_deploy (no rebuild).
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder/procs.h"
#include "builder/release.h"
#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/home.h"
#include "common/progress.h"

/* --- apps and the caller's rights ----------------------------------------- */

struct apps_caller
cmd_caller(const struct cmd_ctx *ctx)
{
	struct apps_caller who = {ctx->key_fp ? ctx->key_fp : "", ctx->admin};

	return who;
}

int
cmd_app_visible(const struct cmd_ctx *ctx, const struct state_app *app)
{
	struct apps_caller who = cmd_caller(ctx);

	/* an error reading the grants refuses: never more than allowed */
	return apps_access(ctx->st, app, &who, APPS_USE) == 0;
}

int
cmd_app_owner(const struct cmd_ctx *ctx, const struct state_app *app)
{
	struct apps_caller who = cmd_caller(ctx);

	return apps_access(ctx->st, app, &who, APPS_MANAGE) == 0;
}

int
cmd_app_load(struct cmd_ctx *ctx, const char *name, struct state_app *out)
{
	int rc;

	if (!app_name_valid(name))
		return cmd_fail(1, "app '%.64s' does not exist", name);
	rc = state_app_get(ctx->st, name, out);
	if (rc == -1)
		return cmd_fail(1, "%s", err_msg());
	if (rc != 0 || !cmd_app_visible(ctx, out))
		return cmd_fail(1, "app '%s' does not exist", name);
	return 0;
}

int
cmd_app_only(struct cmd_ctx *ctx, struct state_app *out)
{
	struct state_app *apps;
	size_t i, n, seen = 0;

	if (state_app_list(ctx->st, &apps, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	for (i = 0; i < n; i++) {
		if (!cmd_app_visible(ctx, &apps[i]))
			continue;
		if (seen++ == 0)
			*out = apps[i];
	}
	free(apps);
	if (seen == 1)
		return 0;
	if (seen == 0)
		return cmd_fail(2, "no app given, and you have no apps yet: "
		                   "git push one first");
	return cmd_fail(2,
	    "which app? you have %zu apps: name one ('apps' "
	    "lists them)",
	    seen);
}

static void
cmd_lock_waiting(void *arg)
{
	STEP(stdout,
	    "Another deploy of %s is running; waiting for it to finish",
	    (const char *)arg);
}

int
cmd_app_lock(const char *app)
{
	int fd;

	fflush(stdout);
	if ((fd = home_lock_app(app, cmd_lock_waiting, (void *)app)) == -1)
		cmd_fail(1, "%s", err_msg());
	return fd;
}

/* --- making a release from an earlier one ----------------------------------
 */

int
cmd_release_from(struct cmd_ctx *ctx, const char *app, uint32_t from,
    const char *cause, const struct state_env *env, uint32_t *number)
{
	struct state_release src, rel;
	struct state_app cur;
	struct sched *d = NULL;
	int rc, status = 1;

	rc = state_release_get(ctx->st, app, from, &src);
	if (rc != 0)
		return cmd_fail(1, "cannot read v%u of %s: %s", from, app,
		    rc == -1 ? err_msg() : "not found");
	if (src.image[0] == '\0')
		return cmd_fail(1, "v%u of %s has no image", from, app);
	memset(&rel, 0, sizeof rel);
	snprintf(rel.app, sizeof rel.app, "%s", app);
	snprintf(rel.commit, sizeof rel.commit, "%s", src.commit);
	snprintf(rel.image, sizeof rel.image, "%s", src.image);
	snprintf(rel.command, sizeof rel.command, "%s", src.command);
	snprintf(
	    rel.healthcheck, sizeof rel.healthcheck, "%s", src.healthcheck);
	snprintf(rel.status, sizeof rel.status, STATE_REL_DEPLOYING);
	snprintf(rel.cause, sizeof rel.cause, "%s", cause);
	snprintf(rel.by, sizeof rel.by, "%s",
	    ctx->key_name && ctx->key_name[0] ? ctx->key_name : "admin");
	rel.created = (int64_t)time(NULL);
	rc = env ? state_release_new_env(ctx->st, &rel, env)
	         : state_release_new(ctx->st, &rel);
	if (rc != 0)
		return cmd_fail(1, "cannot record the release: %s", err_msg());
	if (number)
		*number = rel.number;
	if (sched_open(&d, ctx->st) == -1) {
		cmd_fail(1, "%s", err_msg());
		rel.finished = (int64_t)time(NULL);
		state_release_move(ctx->st, &rel, STATE_REL_FAILED);
		goto out;
	}
	if (state_app_get(ctx->st, app, &cur) != 0)
		cur.release = 0;
	fflush(stdout);
	/* release_deploy prints the reason and the app's last lines */
	if (release_deploy(ctx->st, d, &rel, stdout) == -1)
		goto out;
	/* the other process types (worker:, ...) follow the new release:
	 * started from `from`'s list, the previously live ones stopped */
	if (procs_restart(ctx->st, d, &rel, from, stdout) == -1 ||
	    (cur.release != 0 && cur.release != rel.number &&
	        procs_stop_release(ctx->st, d, app, cur.release) == -1)) {
		cmd_fail(1, "v%u serves, but its other processes: %s",
		    rel.number, err_msg());
		goto out;
	}
	status = 0;
out:
	fflush(stdout);
	sched_close(d);
	return status;
}

/* --- releases --------------------------------------------------------------
 */

int
cmd_app_arg(struct cmd_ctx *ctx, const char *name, struct state_app *app)
{
	if (name)
		return cmd_app_load(ctx, name, app);
	return cmd_app_only(ctx, app);
}

/* The releases as a JSON array, newest first; 0 or 1 (printed). */
static int
releases_json(
    const struct state_app *app, const struct state_release *rels, size_t n)
{
	json_t *arr, *o;
	size_t i;

	if ((arr = json_array()) == NULL)
		return cmd_fail(1, "out of memory");
	for (i = 0; i < n; i++) {
		o = json_pack("{s:I, s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
		    "version", (json_int_t)rels[i].number, "current",
		    rels[i].number == app->release, "status", rels[i].status,
		    "cause", rels[i].cause, "by", rels[i].by, "commit",
		    rels[i].commit, "image", rels[i].image, "created",
		    (json_int_t)rels[i].created, "finished",
		    (json_int_t)rels[i].finished);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return cmd_fail(1, "out of memory");
		}
	}
	return cmd_json_print(arr);
}

int
cmd_releases(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_release *rels;
	struct state_app app;
	char when[32];
	struct tm tm;
	time_t t;
	size_t i, n;
	int rc, json = cmd_take_json(&argc, argv);

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: releases [APP] [--json]");
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (state_release_list(ctx->st, app.name, &rels, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (json) {
		rc = releases_json(&app, rels, n);
		free(rels);
		return rc;
	}
	if (n == 0) {
		printf("%s has no releases yet\n", app.name);
		free(rels);
		return 0;
	}
	printf("=== %s releases (* current)\n", app.name);
	printf("  %-8s %-10s %-9s %-16s %-8s %s\n", "VERSION", "STATUS",
	    "CAUSE", "BY", "COMMIT", "WHEN");
	for (i = 0; i < n; i++) {
		t = (time_t)rels[i].created;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) ==
		        0)
			snprintf(when, sizeof when, "?");
		printf("%c v%-7u %-10s %-9s %-16.64s %-8.7s %s\n",
		    rels[i].number == app.release ? '*' : ' ', rels[i].number,
		    rels[i].status, rels[i].cause, rels[i].by,
		    rels[i].commit[0] ? rels[i].commit : "-", when);
	}
	free(rels);
	return 0;
}

/* --- rollback --------------------------------------------------------------
 */

/* 1 when s is "vN" or "N" with N a release number; sets *n. */
static int
version_arg(const char *s, uint32_t *n)
{
	unsigned long v;
	char *end;

	if (*s == 'v')
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v == 0 || v > UINT32_MAX)
		return 0;
	*n = (uint32_t)v;
	return 1;
}

/* A release that went live once, so its image is known to run. */
static int
ran_once(const struct state_release *r)
{
	return r->image[0] != '\0' &&
	       (strcmp(r->status, STATE_REL_LIVE) == 0 ||
	           strcmp(r->status, STATE_REL_SUPERSEDED) == 0);
}

/* Makes the app's config (what `env` shows and the next push uses) the
 * snapshot env in one write. */
static int
restore_config(struct state *st, const char *app, const struct state_env *env)
{
	struct state_env cur;
	const char **unset;
	size_t i, j, n = 0, kl;
	int rc, keep;

	if (state_env_get(st, app, &cur) == -1)
		return -1;
	if ((unset = calloc(cur.n + 1, sizeof *unset)) == NULL) {
		state_env_release(&cur);
		return err_set("out of memory");
	}
	for (i = 0; i < cur.n; i++) {
		kl = strcspn(cur.vars[i], "=");
		cur.vars[i][kl] = '\0';
		keep = 0;
		for (j = 0; j < env->n && !keep; j++)
			keep = strncmp(env->vars[j], cur.vars[i], kl) == 0 &&
			       env->vars[j][kl] == '=';
		if (!keep)
			unset[n++] = cur.vars[i];
	}
	rc = state_env_update(
	    st, app, (const char *const *)env->vars, unset, NULL);
	free(unset);
	state_env_release(&cur);
	return rc;
}

int
cmd_rollback(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_env env = {0, NULL};
	struct state_release *rels = NULL, target;
	struct state_app app;
	const char *name = NULL;
	uint32_t want = 0, number = 0;
	size_t i, n = 0;
	int rc, lock = -1, status = 1, have_env = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (want == 0 && version_arg(argv[i], &want))
			continue;
		if (name != NULL || argv[i][0] == '-')
			return cmd_fail(2, "usage: rollback [APP] [vN]");
		name = argv[i];
	}
	if ((rc = cmd_app_arg(ctx, name, &app)) != 0)
		return rc;
	if ((lock = cmd_app_lock(app.name)) == -1)
		return 1;
	/* what serves may have changed while we waited for the lock */
	if (state_app_get(ctx->st, app.name, &app) != 0) {
		cmd_fail(1, "app '%s' does not exist", app.name);
		goto out;
	}
	if (app.release == 0) {
		cmd_fail(1, "%s has no release to roll back from", app.name);
		goto out;
	}
	if (want == app.release) {
		cmd_fail(1, "v%u is the current release of %s", want, app.name);
		goto out;
	}
	if (want != 0) {
		rc = state_release_get(ctx->st, app.name, want, &target);
		if (rc == -1) {
			cmd_fail(1, "%s", err_msg());
			goto out;
		}
		if (rc != 0) {
			cmd_fail(1, "%s has no release v%u", app.name, want);
			goto out;
		}
		if (!ran_once(&target)) {
			cmd_fail(1,
			    "v%u of %s never went live (%s); pick one that "
			    "did ('releases' lists them)",
			    want, app.name, target.status);
			goto out;
		}
	} else {
		if (state_release_list(ctx->st, app.name, &rels, &n) == -1) {
			cmd_fail(1, "%s", err_msg());
			goto out;
		}
		for (i = 0; i < n; i++)
			if (rels[i].number < app.release && ran_once(&rels[i]))
				break;
		if (i == n) {
			cmd_fail(1,
			    "%s has no earlier release that went live to "
			    "roll back to",
			    app.name);
			goto out;
		}
		target = rels[i];
	}

	STEP(stdout, "Rolling back %s to v%u (commit %.7s)", app.name,
	    target.number, target.commit[0] ? target.commit : "-");
	rc = state_release_env(ctx->st, app.name, target.number, &env);
	if (rc == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	have_env = rc == 0;
	if (!have_env)
		DETAIL(stdout, "v%u kept no config; using the current one",
		    target.number);
	if (cmd_release_from(ctx, app.name, target.number, "rollback",
	        have_env ? &env : NULL, &number) != 0)
		goto out;
	if (have_env) {
		if (restore_config(ctx->st, app.name, &env) == -1) {
			cmd_fail(1,
			    "v%u is live, but its config could not "
			    "be restored: %s",
			    number, err_msg());
			goto out;
		}
		DETAIL(stdout, "config vars are v%u's again", target.number);
	}
	status = 0;
out:
	fflush(stdout);
	if (have_env)
		state_env_release(&env);
	free(rels);
	if (lock != -1)
		close(lock);
	return status;
}
