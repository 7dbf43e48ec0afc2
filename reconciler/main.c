/*
 * reconciler/main.c: minpaas-reconciler, a child of `minpaas up` that makes
 * Docker match state (builder/reconcile.h). It sweeps once at start (after
 * a reboot, that starts the apps again), then follows the events of this
 * instance's processes and sweeps RECONCILE_SETTLE_MS after one stops or
 * goes away (so Docker's own restart policy acts first), and every
 * RECONCILE_INTERVAL seconds in any case. When Docker cannot be reached it
 * says so once and tries again every few seconds.
 *
 *   MINPAAS_HOME; --once: one sweep, then exit (0, or 1 when it failed)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder/reconcile.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"

#define RECONCILE_INTERVAL  10   /* seconds between sweeps at the latest */
#define RECONCILE_SETTLE_MS 1000 /* after an event, before the sweep */
#define RECONCILE_RETRY_MS  2000 /* while Docker cannot be reached */
#define RECONCILE_READERS_S 60   /* stale LMDB reader slots cleared */

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A process stopped or went: sweep soon. */
static int
on_event(void *arg, const char *action, const char *id, const char *app)
{
	static const char *const wake[] = {
	    "die", "stop", "destroy", "kill", "oom", NULL};
	size_t i;

	for (i = 0; wake[i]; i++)
		if (strcmp(action, wake[i]) == 0) {
			log_debug("%s: %s %.12s", app, action, id);
			*(int *)arg = 1;
			return 1;
		}
	return 0;
}

static int
sweep(struct state *st, struct sched *s)
{
	struct reconcile_stats rs;

	memset(&rs, 0, sizeof rs);
	if (reconcile_sweep(st, s, &rs) == -1) {
		log_error("sweep: %s", err_msg());
		return -1;
	}
	if (rs.started || rs.removed || rs.recovered || rs.ports || rs.routes)
		log_info("sweep: %d started, %d removed, %d releases marked "
		         "failed, %d ports given back, %d routes rewritten",
		    rs.started, rs.removed, rs.recovered, rs.ports, rs.routes);
	return 0;
}

int
main(int argc, char **argv)
{
	struct state *st = NULL;
	struct sched *s = NULL;
	time_t readers = time(NULL);
	int once = argc == 2 && strcmp(argv[1], "--once") == 0;
	int unreachable = 0, woke, rc;

	if (argc > 1 && !once) {
		fprintf(stderr, "usage: minpaas-reconciler [--once]\n");
		return 2;
	}
	log_init("minpaas-reconciler", LOG_INFO);
	if (home_prepare() == -1 || state_open(&st, home_dir()) == -1) {
		log_error("%s", err_msg());
		return 1;
	}
	for (;;) {
		if (s == NULL && sched_open(&s, st) == -1) {
			if (once) {
				log_error("%s", err_msg());
				state_close(st);
				return 1;
			}
			if (!unreachable++)
				log_error("%s; trying again every %d s",
				    err_msg(), RECONCILE_RETRY_MS / 1000);
			sleep_ms(RECONCILE_RETRY_MS);
			continue;
		}
		if (unreachable) {
			log_info("Docker answers again");
			unreachable = 0;
		}
		rc = sweep(st, s);
		if (once) {
			sched_close(s);
			state_close(st);
			return rc == 0 ? 0 : 1;
		}
		if (time(NULL) - readers >= RECONCILE_READERS_S) {
			state_reader_check(st);
			readers = time(NULL);
		}
		woke = 0;
		if (sched_events(s, (int64_t)time(NULL) + RECONCILE_INTERVAL,
		        on_event, &woke) == -1) {
			log_error("events: %s", err_msg());
			sched_close(s);
			s = NULL;
			sleep_ms(RECONCILE_RETRY_MS);
			continue;
		}
		if (woke)
			sleep_ms(RECONCILE_SETTLE_MS);
	}
}
