/*
 * cli/supervise.c: `minpaas up`'s supervisor (see supervise.h).
 *
 * One loop: the signals it cares about (SIGCHLD, SIGTERM, SIGINT, SIGHUP)
 * are blocked and taken with sigtimedwait, so a child's death is seen at
 * once and no signal slips between a check and a wait. A child is started
 * again SUP_BACKOFF_FIRST ms after it died, twice as long after each
 * death that follows a short run, up to SUP_BACKOFF_MAX; a run of
 * SUP_HEALTHY ms starts the backoff over.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/supervise.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"

static int64_t
sup_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sup_lock(void)
{
	char path[HOME_MAXPATH], pid[32];
	ssize_t n;
	int fd;

	if (home_path(path, sizeof path, "up.lock") == -1)
		return -1;
	/* close-on-exec: only this process holds it, not its children */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_set("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;
		n = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : -1;
		close(fd);
		if (e != EWOULDBLOCK)
			return err_set("cannot lock %s: %s", path, strerror(e));
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return err_set("minpaas is already up for MINPAAS_HOME=%s "
		               "(pid %s); stop that one first",
		    home_dir(), pid[0] ? pid : "?");
	}
	n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("cannot write %s: %s", path, strerror(errno));
	return 0; /* fd stays open: the lock lasts as long as we do */
}

/* Starts kid; on failure to fork it is tried again after its backoff. */
static void
sup_start(struct sup_child *kid, const sigset_t *old, pid_t self)
{
	pid_t pid = fork();

	if (pid == -1) {
		log_error(
		    "cannot start %s: fork: %s", kid->name, strerror(errno));
		kid->due = sup_now() + kid->backoff;
		return;
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, old, NULL);
		/* die with the supervisor, even by kill -9; it may already
		 * be gone by the time this runs */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != self)
			_exit(1);
		execv(kid->argv[0], kid->argv);
		fprintf(stderr, "minpaas: cannot run %s: %s\n", kid->argv[0],
		    strerror(errno));
		_exit(127);
	}
	kid->pid = pid;
	kid->since = sup_now();
	log_debug("%s started (pid %d)", kid->name, (int)pid);
}

/* Says why a child ended, in words: "killed by signal 9". */
static void
sup_cause(char *out, size_t len, int status)
{
	if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else if (WIFEXITED(status))
		snprintf(
		    out, len, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(out, len, "ended (wait status %#x)", status);
}

/* Reaps what ended; each dead child is due again after its backoff.
 * Returns the number of children still running. */
static size_t
sup_reap(struct sup_child *kids, size_t n, int stopping)
{
	char cause[64];
	int status;
	size_t i, running = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			struct sup_child *k = &kids[i];
			int64_t now = sup_now();

			if (k->pid != pid)
				continue;
			k->pid = 0;
			sup_cause(cause, sizeof cause, status);
			if (stopping) {
				log_info("%s %s", k->name, cause);
				break;
			}
			if (now - k->since >= SUP_HEALTHY)
				k->backoff = SUP_BACKOFF_FIRST;
			k->due = now + k->backoff;
			k->restarts++;
			log_error("%s %s; restarting in %u ms (restart %u)",
			    k->name, cause, k->backoff, k->restarts);
			k->backoff = k->backoff * 2 > SUP_BACKOFF_MAX
			                 ? SUP_BACKOFF_MAX
			                 : k->backoff * 2;
			break;
		}
	}
	for (i = 0; i < n; i++)
		running += kids[i].pid > 0;
	return running;
}

/* Waits for one of the signals in set for at most ms; returns it or 0. */
static int
sup_wait(const sigset_t *set, int64_t ms)
{
	struct timespec ts;
	int sig;

	if (ms < 0)
		ms = 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

static void
sup_stop(struct sup_child *kids, size_t n, const sigset_t *set)
{
	int64_t until = sup_now() + SUP_STOP_GRACE;
	size_t i;

	for (i = 0; i < n; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	while (sup_reap(kids, n, 1) > 0 && sup_now() < until)
		(void)sup_wait(set, until - sup_now());
	for (i = 0; i < n; i++)
		if (kids[i].pid > 0) {
			log_warn("%s did not stop in %d s; killing it",
			    kids[i].name, SUP_STOP_GRACE / 1000);
			kill(kids[i].pid, SIGKILL);
		}
	while (sup_reap(kids, n, 1) > 0)
		(void)sup_wait(set, 100);
}

int
sup_run(struct sup_child *kids, size_t n)
{
	sigset_t set, old;
	int64_t now, next;
	pid_t self = getpid();
	size_t i;
	int sig;

	if (n > SUP_MAXCHILDREN)
		return err_set("too many children");
	/* SIGCHLD must not be ignored, or children are reaped unseen */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &old) == -1)
		return err_set("sigprocmask: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		kids[i].pid = 0;
		kids[i].due = 0;
		kids[i].backoff = SUP_BACKOFF_FIRST;
		kids[i].restarts = 0;
	}
	for (;;) {
		now = sup_now();
		next = now + 1000;
		for (i = 0; i < n; i++) {
			if (kids[i].pid == 0 && kids[i].due <= now)
				sup_start(&kids[i], &old, self);
			if (kids[i].pid == 0 && kids[i].due < next)
				next = kids[i].due;
		}
		sig = sup_wait(&set, next - sup_now());
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			log_info("signal %d: stopping", sig);
			break;
		}
		(void)sup_reap(kids, n, 0);
	}
	sup_stop(kids, n, &set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
