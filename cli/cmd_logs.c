/*
 * cli/cmd_logs.c: `logs [APP] [-n N] [-f]`, the app's output (stdout and
 * stderr of its web container, as Docker keeps it). With -f it follows, and
 * keeps following across a redeploy: when the stream ends because the
 * container stopped, the app's current release is looked up again and the
 * new container followed from its start. It ends when the person
 * disconnects: the SSH server SIGTERMs this process, so SIGTERM is left at
 * its default action and unblocked.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/sched.h"
#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/progress.h"

#define LOGS_RECHECK_MS 500 /* how often a follow looks for a new release */

struct logs_out {
	int broken; /* the client's side is gone */
};

static int
logs_write(void *arg, int stream, const char *data, size_t len)
{
	struct logs_out *o = arg;

	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) == EOF) {
		o->broken = 1;
		return 1;
	}
	return 0;
}

static void
logs_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Parses N of -n N: 1 ok, 0 not a count in 1..CMD_LOGS_MAX. */
static int
logs_count(const char *s, int *n)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 1 || v > CMD_LOGS_MAX)
		return 0;
	*n = (int)v;
	return 1;
}

/* The container of the app's current release into id ("" when none). */
static int
logs_current(
    struct state *st, const char *app, uint32_t *number, char *id, size_t idlen)
{
	struct state_release rel;
	struct state_app a;
	int rc;

	id[0] = '\0';
	*number = 0;
	if ((rc = state_app_get(st, app, &a)) != 0)
		return rc;
	if (a.release == 0)
		return 0;
	if ((rc = state_release_get(st, app, a.release, &rel)) != 0)
		return rc;
	*number = rel.number;
	snprintf(id, idlen, "%s", rel.container);
	return 0;
}

int
cmd_logs(struct cmd_ctx *ctx, int argc, char **argv)
{
	char id[sizeof(((struct state_release *)0)->container)];
	char next[sizeof id];
	struct logs_out o = {0};
	struct state_app app;
	struct sched *d = NULL;
	const char *name = NULL;
	uint32_t number, nextnum;
	sigset_t set;
	int i, tail = CMD_LOGS_DEFAULT, follow = 0, rc, status = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "-t") == 0 ||
		    strcmp(argv[i], "--tail") == 0 ||
		    strcmp(argv[i], "--follow") == 0)
			follow = 1;
		else if ((strcmp(argv[i], "-n") == 0 ||
		             strcmp(argv[i], "--num") == 0) &&
		         i + 1 < argc) {
			if (!logs_count(argv[++i], &tail))
				goto badcount;
		} else if (strncmp(argv[i], "-n", 2) == 0 && argv[i][2]) {
			if (!logs_count(argv[i] + 2, &tail))
				goto badcount;
		} else if (strncmp(argv[i], "--num=", 6) == 0) {
			if (!logs_count(argv[i] + 6, &tail))
				goto badcount;
		} else if (argv[i][0] == '-' || name != NULL)
			return cmd_fail(2, "usage: logs [APP] [-n N] [-f]");
		else
			name = argv[i];
	}
	if ((rc = name ? cmd_app_load(ctx, name, &app)
	               : cmd_app_only(ctx, &app)) != 0)
		return rc;
	if (logs_current(ctx->st, app.name, &number, id, sizeof id) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (id[0] == '\0')
		return cmd_fail(1, "%s has no running release yet", app.name);
	if (sched_open(&d, ctx->st) == -1)
		return cmd_fail(1, "%s", err_msg());

	/* the client going away must end a follow at once */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	fflush(stdout);
	for (;;) {
		rc = sched_logs(d, id, tail, follow, logs_write, &o);
		if (o.broken) {
			status = 0;
			break;
		}
		if (!follow) {
			if (rc != 0) {
				cmd_fail(1, "%s",
				    rc == SCHED_NOTFOUND
				        ? "the app's container is gone"
				        : err_msg());
				break;
			}
			status = 0;
			break;
		}
		/* The stream ended: the container stopped (a redeploy
		 * retired it, or it crashed and restarts). Follow what
		 * serves now. */
		for (;;) {
			rc = logs_current(
			    ctx->st, app.name, &nextnum, next, sizeof next);
			if (rc == STATE_NOTFOUND) {
				cmd_fail(1, "%s was deleted", app.name);
				goto out;
			}
			if (rc == 0 && next[0] != '\0' && strcmp(next, id) != 0)
				break;
			if (rc == 0 && next[0] != '\0') {
				struct sched_status ds;

				if (sched_status(d, id, &ds) == 0 && ds.running)
					break;
			}
			logs_sleep_ms(LOGS_RECHECK_MS);
		}
		if (strcmp(next, id) != 0) {
			STEP(stderr, "v%u is live; following its output",
			    nextnum);
			snprintf(id, sizeof id, "%s", next);
			number = nextnum;
			tail = -1; /* all of the new container's output */
		} else
			tail = 0; /* the same container again: what is new */
	}
out:
	sched_close(d);
	return status;
badcount:
	return cmd_fail(
	    2, "-n takes a number of lines from 1 to %d", CMD_LOGS_MAX);
}
