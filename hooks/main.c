/*
 * hooks/main.c: minpaas-hook, run by `git receive-pack` as the repository's
 * hooks/post-receive (cwd = the bare repository). Reads the "<old> <new>
 * <ref>" lines, hands them to deploy_push, and records the outcome in
 * $MINPAAS_RESULT for minpaas-sshd, which turns a failed deploy into a
 * failed `git push`: "started" as it begins, "ok" or "failed" when it ends,
 * so a hook killed on the way leaves "started" (an interrupted deploy). Its
 * stdout and stderr reach the pusher as "remote: ..." lines.
 *
 * SIGTERM, SIGINT or SIGHUP (the pusher went away: minpaas-sshd signals
 * the whole process group) cancels a running build; Docker then stops it.
 *
 *   MINPAAS_HOME, MINPAAS_APP, MINPAAS_KEY_FP, MINPAAS_KEY_NAME,
 *   MINPAAS_RESULT, MINPAAS_BUILD_TIMEOUT, MINPAAS_STACK_IMAGE,
 *   MINPAAS_IMAGE_<RUNTIME>
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "common/progress.h"
#include "builder/deploy.h"

static volatile sig_atomic_t cancelled;

static void
on_cancel(int sig)
{
	cancelled = 1;
}

static int
read_updates(FILE *in, struct deploy_update *u, size_t *n)
{
	char line[DEPLOY_MAXLINE];

	*n = 0;
	while (fgets(line, sizeof line, in) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(in))
			return err_set("ref update line longer than %d bytes",
			    DEPLOY_MAXLINE);
		if (len == 0)
			continue;
		if (*n == DEPLOY_MAXREFS)
			return err_set(
			    "more than %d refs in one push", DEPLOY_MAXREFS);
		if (deploy_parse_update(line, &u[*n]) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

static void
write_result(const char *result)
{
	const char *path = getenv("MINPAAS_RESULT");
	FILE *fp;

	if (path == NULL || *path == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL) {
		log_error("cannot write %s: %s", path, strerror(errno));
		return;
	}
	fprintf(fp, "%s\n", result);
	if (fclose(fp) == EOF)
		log_error("cannot write %s: %s", path, strerror(errno));
}

static int
usage(void)
{
	fprintf(stderr, "usage: minpaas-hook (run by git as post-receive)\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static struct deploy_update updates[DEPLOY_MAXREFS];
	struct deploy_ctx ctx;
	struct sigaction sa;
	const char *key;
	size_t n;
	int rc = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A pusher who hangs up does not stop a deploy half-way... */
	signal(SIGPIPE, SIG_IGN);
	/* ...but a build still running when they go is cancelled. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_cancel;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	log_init("minpaas-hook", LOG_INFO);

	key = getenv("MINPAAS_KEY_NAME");
	ctx.key_name = key != NULL && *key != '\0' ? key : "admin";
	key = getenv("MINPAAS_KEY_FP");
	ctx.key_fp = key != NULL ? key : "";
	ctx.out = stdout;
	ctx.cancel = &cancelled;
	if (argc != 1)
		return usage();
	write_result("started");
	ctx.app = getenv("MINPAAS_APP");
	if (ctx.app == NULL || !app_name_valid(ctx.app)) {
		FAIL(stdout,
		    "minpaas-hook: MINPAAS_APP is not a valid app name");
		goto out;
	}
	if (read_updates(stdin, updates, &n) == -1) {
		FAIL(stdout, "%s", err_msg());
		goto out;
	}
	git_libgit2_init();
	rc = deploy_push(&ctx, updates, n);
	git_libgit2_shutdown();
out:
	fflush(stdout);
	write_result(rc == 0 ? "ok" : "failed");
	return rc == 0 ? 0 : 1;
}
