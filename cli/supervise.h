/*
 * cli/supervise.h: the supervisor of `minpaas up`. It starts its children
 * (the SSH server, the router, more to come), restarts one that dies with
 * a backoff that starts short, logs why it died, and never lets one
 * child's death stop another. The children die with it (PR_SET_PDEATHSIG),
 * and one supervisor runs per MINPAAS_HOME (a lock the kernel drops with
 * the process, so a killed one leaves nothing stale).
 */
#ifndef MINPAAS_SUPERVISE_H
#define MINPAAS_SUPERVISE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_MAXCHILDREN   8
#define SUP_BACKOFF_FIRST 100   /* ms before restarting a child that died */
#define SUP_BACKOFF_MAX   10000 /* doubling up to this while it keeps dying */
#define SUP_HEALTHY       10000 /* ms of running that reset the backoff */
#define SUP_STOP_GRACE    15000 /* ms the children get after SIGTERM */

struct sup_child {
	const char *name; /* as logged: "minpaas-router" */
	char **argv;      /* argv[0] is the program's path */
	pid_t pid;        /* 0 while not running */
	int64_t since;    /* when it was started (monotonic ms) */
	int64_t due;      /* when to start it (again) */
	unsigned backoff; /* ms to wait after its next death */
	unsigned restarts;
};

/*
 * Takes the lock of this MINPAAS_HOME for the life of the process. 0, or
 * -1 with err_set() naming the pid of the `minpaas up` that holds it.
 */
int sup_lock(void);

/*
 * Runs kids[0..n) until SIGTERM, SIGINT or SIGHUP, then stops them
 * (SIGTERM, and SIGKILL for those still there after SUP_STOP_GRACE).
 * Handles those signals and SIGCHLD itself. Returns 0, or -1 with
 * err_set() when it cannot run at all.
 */
int sup_run(struct sup_child *kids, size_t n);

#endif
