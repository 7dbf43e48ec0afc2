/*
 * hooks/main.c: minpaas-hook, run by `git receive-pack` as the repository's
 * hooks/post-receive (cwd = the bare repository). Reads the "<old> <new>
 * <ref>" lines, hands them to push_run, and records the outcome in
 * $MINPAAS_RESULT ("ok" or "failed") for minpaas-sshd, which turns a failed
 * deploy into a failed `git push`. Its stdout and stderr reach the pusher
 * as "remote: ..." lines.
 *
 *   MINPAAS_HOME, MINPAAS_APP, MINPAAS_KEY_NAME, MINPAAS_RESULT
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
#include "hooks/push.h"

static int
read_updates(FILE *in, struct push_update *u, size_t *n)
{
	char line[PUSH_MAXLINE];

	*n = 0;
	while (fgets(line, sizeof line, in) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(in))
			return err_set("ref update line longer than %d bytes",
			    PUSH_MAXLINE);
		if (len == 0)
			continue;
		if (*n == PUSH_MAXREFS)
			return err_set(
			    "more than %d refs in one push", PUSH_MAXREFS);
		if (push_parse_update(line, &u[*n]) == -1)
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

int
main(void)
{
	static struct push_update updates[PUSH_MAXREFS];
	struct push_ctx ctx;
	const char *key;
	size_t n;
	int rc = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A pusher who hangs up does not stop a deploy half-way. */
	signal(SIGPIPE, SIG_IGN);
	log_init("minpaas-hook", LOG_INFO);

	ctx.app = getenv("MINPAAS_APP");
	key = getenv("MINPAAS_KEY_NAME");
	ctx.key_name = key != NULL && *key != '\0' ? key : "admin";
	ctx.out = stdout;
	if (ctx.app == NULL || !app_name_valid(ctx.app)) {
		printf(" !     minpaas-hook: MINPAAS_APP is not a valid app "
		       "name\n");
		goto out;
	}
	if (read_updates(stdin, updates, &n) == -1) {
		printf(" !     %s\n", err_msg());
		goto out;
	}
	git_libgit2_init();
	rc = push_run(&ctx, updates, n);
	git_libgit2_shutdown();
out:
	fflush(stdout);
	write_result(rc == 0 ? "ok" : "failed");
	return rc == 0 ? 0 : 1;
}
