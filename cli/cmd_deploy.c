/*
 * cli/cmd_deploy.c: `deploy APP`, `deploy:tar APP < tarball`,
 * `deploy:image APP IMAGE` and `releases:info APP vN`. The three deploys
 * check the caller's rights, create the app for its first tarball or image
 * (apps_create: owned by the caller, as a first push does), then call the
 * deploy pipeline (builder/deploy.h) in this process, which takes the app's
 * deploy lock and goes through the release path of a push. Guarantees: the
 * tarball is read from stdin, progress goes to stdout as a push's does, and
 * the exit status is 0 only when the release went live.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "builder/deploy.h"
#include "cli/cmd_deploy.h"
#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/home.h"
#include "state/buildlog.h"

/*
 * The app of a deploy, checked with the caller's rights: created (owned by
 * the caller, as a first push does) when `create` and it does not exist.
 * 0, or the status to return (printed).
 */
static int
deploy_app(struct cmd_ctx *ctx, const char *name, int create)
{
	struct apps_caller who = cmd_caller(ctx);
	struct state_app app;
	int rc;

	if (!create)
		return cmd_app_load(ctx, name, &app);
	rc = apps_create(ctx->st, name, &who, &app);
	if (rc == 0 || rc == APPS_EXISTS)
		return 0;
	return cmd_fail(1, "%s", err_msg());
}

static volatile sig_atomic_t deploy_cancelled;

static void
deploy_on_signal(int sig)
{
	deploy_cancelled = 1;
}

/*
 * Runs the pipeline in this process for a deploy whose app is checked:
 * SIGTERM, SIGINT or SIGHUP (the client went away) cancels a running
 * build, SIGPIPE is ignored so a deploy is never stopped half-way by a
 * closed channel. Returns the command's exit status.
 */
static int
deploy_run(
    struct cmd_ctx *ctx, const char *app, const char *what, const char *image)
{
	struct sigaction sa, old[4];
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
	struct deploy_ctx d;
	size_t i;
	int rc;

	memset(&d, 0, sizeof d);
	d.app = app;
	d.key_fp = ctx->key_fp ? ctx->key_fp : "";
	d.key_name = ctx->key_name && *ctx->key_name ? ctx->key_name : "admin";
	d.out = stdout;
	d.cancel = &deploy_cancelled;
	deploy_cancelled = 0;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++) {
		sa.sa_handler = sigs[i] == SIGPIPE ? SIG_IGN : deploy_on_signal;
		sigaction(sigs[i], &sa, &old[i]);
	}
	fflush(NULL);
	git_libgit2_init();
	if (strcmp(what, "redeploy") == 0)
		rc = deploy_redeploy(&d);
	else if (strcmp(what, "tar") == 0)
		rc = deploy_tar(&d, 0);
	else
		rc = deploy_image(&d, image);
	git_libgit2_shutdown();
	fflush(stdout);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return rc == 0 ? 0 : 1;
}

int
cmd_deploy(struct cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_fail(2, "usage: deploy APP");
	if ((rc = deploy_app(ctx, argv[1], 0)) != 0)
		return rc;
	return deploy_run(ctx, argv[1], "redeploy", NULL);
}

int
cmd_deploy_tar(struct cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_fail(2, "usage: tar c . | ssh <minpaas> deploy:tar "
		                   "APP");
	if ((rc = deploy_app(ctx, argv[1], 1)) != 0)
		return rc;
	return deploy_run(ctx, argv[1], "tar", NULL);
}

int
cmd_deploy_image(struct cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cmd_fail(2, "usage: deploy:image APP IMAGE");
	if ((rc = deploy_app(ctx, argv[1], 1)) != 0)
		return rc;
	return deploy_run(ctx, argv[1], "image", argv[2]);
}

int
cmd_releases_info(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_release rel;
	struct state_app app;
	char *log = NULL, when[32], *end;
	const char *v;
	unsigned long n;
	size_t len;
	struct tm tm;
	time_t t;
	int rc;

	if (argc != 3)
		return cmd_fail(2, "usage: releases:info APP vN");
	if ((rc = cmd_app_load(ctx, argv[1], &app)) != 0)
		return rc;
	v = argv[2][0] == 'v' ? argv[2] + 1 : argv[2];
	n = strtoul(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n == 0 || n > UINT32_MAX)
		return cmd_fail(
		    2, "'%s' is not a release (v1, v2, ...)", argv[2]);
	rc = state_release_get(ctx->st, app.name, (uint32_t)n, &rel);
	if (rc == -1)
		return cmd_fail(1, "%s", err_msg());
	if (rc != 0)
		return cmd_fail(1, "%s has no release v%lu", app.name, n);
	t = (time_t)rel.created;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof when, "?");
	printf("=== %s v%u%s\n", app.name, rel.number,
	    rel.number == app.release ? " (current)" : "");
	printf("Status:   %s\n", rel.status);
	printf("Cause:    %s\n", rel.cause);
	printf("By:       %s\n", rel.by);
	printf("Commit:   %s\n", rel.commit[0] ? rel.commit : "-");
	printf("Image:    %s\n", rel.image[0] ? rel.image : "-");
	printf("Command:  %s\n", rel.command[0] ? rel.command : "(image)");
	printf("Created:  %s\n", when);
	rc = state_buildlog_get(ctx->st, app.name, rel.number, &log, &len);
	if (rc == -1)
		return cmd_fail(1, "%s", err_msg());
	if (rc == STATE_NOTFOUND) {
		printf("=== build log: none (not built by this release)\n");
		return 0;
	}
	printf("=== build log\n");
	fwrite(log, 1, len, stdout);
	if (len > 0 && log[len - 1] != '\n')
		putchar('\n');
	free(log);
	return 0;
}
