/*
 * builder/release.c: the one path by which a release goes live. The new
 * container starts on its own host port and must answer HTTP before the route
 * moves; the swap is one LMDB write; the old container is drained and stopped
 * by a detached process so the push returns at once. Guarantees: whatever
 * fails, the previous release keeps its route, container and port, and the
 * new container and port are given back. Everything the person pushing sees
 * goes to `out`, nothing to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "apps/apps.h"
#include "builder/release.h"
#include "common/err.h"
#include "common/home.h"
#include "common/progress.h"

#define RELEASE_MAXLOGLINE 1024 /* a failed app's log line is cut here */

static int64_t
release_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
release_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --- health check ----------------------------------------------------------
 */

/* Waits for fd to become ready for events until deadline; 1 ready, 0 not. */
static int
release_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {fd, events, 0};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - release_now_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0 || errno != EINTR)
			return 0;
	}
}

int
release_connect_local(uint16_t port, int ms)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(int);
	int fd, soerr = 0;

	if ((fd = socket(
	         AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	if (errno == EINPROGRESS &&
	    release_wait(fd, POLLOUT, release_now_ms() + ms) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
	    soerr == 0)
		return fd;
	close(fd);
	return -1;
}

/*
 * One try: connect to 127.0.0.1:port (non-blocking, short timeout) and send
 * "GET <path>". With path "" (GET /) any HTTP status line counts as up; with
 * a path set only a 2xx or 3xx status does. Returns 1 when up, 0 otherwise.
 * Never waits past deadline.
 */
static int
release_probe(
    uint16_t port, const char *host, const char *path, int64_t deadline)
{
	char req[RELEASE_MAXHEALTHPATH + STATE_MAXHOST + 128], resp[16];
	size_t got = 0;
	int fd, up = 0, n;
	int64_t until = release_now_ms() + RELEASE_PROBE_CONNECT_MS;

	if (until > deadline)
		until = deadline;
	if ((fd = release_connect_local(
	         port, (int)(until - release_now_ms()))) == -1)
		return 0;
	n = snprintf(req, sizeof req,
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: minpaas-health\r\n"
	    "Connection: close\r\n\r\n",
	    path[0] ? path : "/", host);
	if (n < 0 || (size_t)n >= sizeof req ||
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		goto out;
	until = release_now_ms() + RELEASE_PROBE_REPLY_MS;
	if (until > deadline)
		until = deadline;
	/* "HTTP/1.1 200" is all that is needed. */
	while (got < 12) {
		if (!release_wait(fd, POLLIN, until))
			goto out;
		n = (int)recv(fd, resp + got, 12 - got, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	up = got >= 12 && memcmp(resp, "HTTP/1.", 7) == 0 && resp[8] == ' ' &&
	     resp[9] >= '1' && resp[9] <= '5';
	if (up && path[0] != '\0')
		up = resp[9] == '2' || resp[9] == '3';
out:
	close(fd);
	return up;
}

static int
release_health_timeout(void)
{
	const char *v = getenv("MINPAAS_HEALTH_TIMEOUT");
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return RELEASE_HEALTH_TIMEOUT;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end != '\0' || n <= 0 || n > 3600)
		return RELEASE_HEALTH_TIMEOUT;
	return (int)n;
}

/* 1 when the check command exits 0 in the container; 0 when not (yet);
 * -1 on a Docker error. */
static int
release_exec_probe(struct sched *s, const char *id, const char *check)
{
	const char **argv;
	json_t *owner;
	int code = -1, rc;

	if ((argv = release_exec_argv(check, &owner)) == NULL)
		return -1;
	rc = sched_exec(s, id, argv, RELEASE_EXEC_TIMEOUT_MS, &code);
	free(argv);
	json_decref(owner);
	if (rc == SCHED_NOTFOUND)
		return err_set("the app's container vanished");
	/* a container that is not running (409) is caught by inspect */
	return rc == 0 ? code == 0 : 0;
}

/*
 * Polls until the app answers (0, *ms set to how long it took) or fails
 * (-1 with the reason in err_msg()): it exited, or the timeout passed.
 * path is "" (any HTTP answer on /), an HTTP path (2xx or 3xx), or a
 * command run in the container ("exec:[...]", exit status 0).
 */
static int
release_wait_up(struct sched *s, const char *id, uint16_t port,
    const char *host, const char *path, int64_t *ms)
{
	struct sched_status ds;
	int64_t start = release_now_ms(), deadline, next_inspect, t;
	int timeout = release_health_timeout(), rc, up;
	int exec = strncmp(path, RELEASE_EXEC_PREFIX,
	               strlen(RELEASE_EXEC_PREFIX)) == 0;

	deadline = start + (int64_t)timeout * 1000;
	next_inspect = start + RELEASE_INSPECT_MS;
	for (;;) {
		t = release_now_ms();
		up = exec ? release_exec_probe(s, id, path)
		          : release_probe(port, host, path, deadline);
		if (up == -1)
			return -1;
		if (up) {
			*ms = release_now_ms() - start;
			return 0;
		}
		if (release_now_ms() >= next_inspect) {
			next_inspect = release_now_ms() + RELEASE_INSPECT_MS;
			rc = sched_status(s, id, &ds);
			if (rc == SCHED_NOTFOUND)
				return err_set("the app's container vanished");
			if (rc == -1)
				return -1;
			if (!ds.running || ds.restarting)
				return err_set("the app exited with status %d",
				    ds.exit_code);
		}
		if (release_now_ms() >= deadline && exec)
			return err_set(
			    "the health-check command did not exit 0 "
			    "within %d s",
			    timeout);
		if (release_now_ms() >= deadline && path[0] != '\0')
			return err_set("the app did not answer 2xx or 3xx on "
			               "%.256s within %d s",
			    path, timeout);
		if (release_now_ms() >= deadline)
			return err_set("the app did not answer HTTP on $PORT "
			               "within %d s",
			    timeout);
		release_sleep_ms(t +
		                 (exec ? RELEASE_EXEC_INTERVAL_MS
		                       : RELEASE_HEALTH_INTERVAL_MS) -
		                 release_now_ms());
	}
}

/* --- failure output --------------------------------------------------------
 */

struct release_logs {
	FILE *out;
	char line[RELEASE_MAXLOGLINE];
	size_t len;
};

static void
release_logs_flush(struct release_logs *l)
{
	if (l->len > 0 && l->line[l->len - 1] == '\r')
		l->len--;
	l->line[l->len] = '\0';
	DETAIL(l->out, "%s", l->line);
	l->len = 0;
}

static int
release_logs_fn(void *arg, int stream, const char *data, size_t len)
{
	struct release_logs *l = arg;
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n')
			release_logs_flush(l);
		else if (l->len < sizeof l->line - 1)
			l->line[l->len++] = data[i];
	}
	return 0;
}

/* The container's last lines, 7-space indented; best effort. */
static void
release_show_logs(struct sched *s, const char *id, FILE *out)
{
	struct release_logs l = {out, "", 0};

	if (out == NULL)
		return;
	FAIL(out, "Last lines of the app's output:");
	if (sched_logs(s, id, RELEASE_LOG_LINES, 0, release_logs_fn, &l) != 0) {
		DETAIL(out, "(no logs: %s)", err_msg());
		return;
	}
	if (l.len > 0)
		release_logs_flush(&l);
}

/* --- retiring the previous release -----------------------------------------
 */

/*
 * Runs in a detached grandchild with handles of its own: lets in-flight
 * requests finish, stops and removes the container, gives its port back and
 * marks the release retired. Nobody is left to hear about failures.
 */
static void
release_retire_child(const struct state_release *old)
{
	struct sched *s = NULL;
	struct state *st = NULL;

	release_sleep_ms(RELEASE_DRAIN_MS);
	if (state_open(&st, home_dir()) == -1)
		return;
	if (sched_open(&s, st) == 0) {
		sched_stop(s, old->container, RELEASE_STOP_GRACE);
		sched_remove(s, old->container);
		sched_close(s);
	}
	if (old->port)
		state_port_free(st, old->port);
	state_close(st);
}

/* Double-forks so the push does not wait and no zombie is left. */
static void
release_retire(const struct state_release *old, FILE *out)
{
	pid_t pid;
	int fd, status;

	if (out)
		fflush(out);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		DETAIL(out, "(could not stop v%u: %s)", old->number,
		    strerror(errno));
		return;
	}
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		/* Keep nothing of the push open: not the client's pipe, not
		 * the deploy lock, not the parent's LMDB or docker socket. */
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_range(3, ~0U, 0);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		release_retire_child(old);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* --- the deploy ------------------------------------------------------------
 */

/* Creates and starts the container on a free port; taken ports are retried
 * a few times. Sets rel->port and rel->container. With `again`, the live
 * release's process is made anew on its own port (rel->port) instead. */
static int
release_start(struct state *st, struct sched *s, struct state_release *rel,
    int again, FILE *out)
{
	struct state_env relenv = {0, NULL};
	uint16_t taken[RELEASE_PORT_TRIES];
	char portenv[32];
	struct sched_spec spec;
	const char **env = NULL;
	size_t i, nenv = 0;
	int ntaken = 0, rc = -1, started;

	/* The release's own snapshot, then PORT, which is the platform's. */
	rc = state_release_env(st, rel->app, rel->number, &relenv);
	if (rc == -1)
		return -1;
	rc = -1;
	if ((env = calloc(relenv.n + 2, sizeof *env)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	for (i = 0; i < relenv.n; i++)
		if (strncmp(relenv.vars[i], "PORT=", 5) != 0)
			env[nenv++] = relenv.vars[i];
	snprintf(portenv, sizeof portenv, "PORT=%d", RELEASE_APP_PORT);
	env[nenv++] = portenv;
	memset(&spec, 0, sizeof spec);
	spec.image = rel->image;
	spec.env = env;
	spec.command = rel->command[0] ? rel->command : NULL;
	spec.app = rel->app;
	spec.release = rel->number;
	spec.process = "web";
	spec.port = RELEASE_APP_PORT;
	spec.memory = RELEASE_MEMORY;
	spec.nano_cpus = RELEASE_NANO_CPUS;
	spec.pids = RELEASE_PIDS;
	/* Until it answered, a crash must stay a crash (and keep its exit
	 * status) rather than be restarted; the policy is set once live. */
	spec.restart = again ? "unless-stopped" : "no";

	if (again) {
		spec.host_port = rel->port;
		if (sched_start(
		        s, &spec, rel->container, sizeof rel->container) != 0)
			goto out;
	}
	while (!again) {
		if (state_port_alloc(st, rel->app, &rel->port) == -1)
			goto out;
		spec.host_port = rel->port;
		started = sched_start(
		    s, &spec, rel->container, sizeof rel->container);
		if (started == 0)
			break;
		if (started != SCHED_PORT_TAKEN || ntaken == RELEASE_PORT_TRIES)
			goto out;
		/* Held by something minpaas does not know: keep it out of
		 * the next allocation, give it back at the end. */
		taken[ntaken++] = rel->port;
		rel->port = 0;
	}
	DETAIL(out, "container %.12s on 127.0.0.1:%u", rel->container,
	    (unsigned)rel->port);
	rc = 0;
out:
	for (i = 0; i < (size_t)ntaken; i++)
		state_port_free(st, taken[i]);
	free(env);
	state_env_release(&relenv);
	return rc;
}

/* Undoes a failed deploy: container, port, and the release's record. */
static void
release_abandon(struct state *st, struct sched *s, struct state_release *rel)
{
	char reason[ERR_MAXLEN];

	snprintf(reason, sizeof reason, "%s", err_msg());
	if (rel->container[0])
		sched_remove(s, rel->container);
	if (rel->port)
		state_port_free(st, rel->port);
	rel->container[0] = '\0';
	rel->port = 0;
	rel->finished = (int64_t)time(NULL);
	if (strcmp(rel->status, STATE_REL_FAILED) != 0)
		state_release_move(st, rel, STATE_REL_FAILED);
	err_set("%s", reason);
}

int
release_deploy(
    struct state *st, struct sched *s, struct state_release *rel, FILE *out)
{
	char host[STATE_MAXHOST + 1], url[APPS_MAXURL];
	char reason[ERR_MAXLEN];
	struct apps_hosts hosts;
	struct state_release old;
	struct state_route route;
	struct state_app app;
	uint32_t prev = 0;
	int64_t ms = 0;
	int rc;

	rel->container[0] = '\0';
	rel->port = 0;
	rc = apps_hosts_get(st, rel->app, &hosts);
	if (rc == 0) {
		snprintf(host, sizeof host, "%s", hosts.host[0].name);
		snprintf(url, sizeof url, "%s", hosts.host[0].url);
	}
	apps_hosts_release(&hosts);
	if (rc == -1)
		goto fail;
	/* The release that serves now; read before the swap replaces it. */
	rc = state_app_get(st, rel->app, &app);
	if (rc == -1)
		goto fail;
	if (rc == 0)
		prev = app.release;

	if (rel->healthcheck[0] != '\0' &&
	    !release_healthcheck_valid(rel->healthcheck)) {
		err_set("invalid health-check path '%.64s'", rel->healthcheck);
		goto fail;
	}
	if (strcmp(rel->status, STATE_REL_BUILDING) == 0 &&
	    state_release_move(st, rel, STATE_REL_DEPLOYING) != 0)
		goto fail;

	STEP(out, "Starting release v%u", rel->number);
	if (release_start(st, s, rel, 0, out) == -1)
		goto fail;
	/* known from now on, so a deploy killed later leaves nothing unknown */
	if (state_release_put(st, rel) == -1)
		goto fail;
	if (strncmp(rel->healthcheck, RELEASE_EXEC_PREFIX,
	        strlen(RELEASE_EXEC_PREFIX)) == 0)
		DETAIL(out, "waiting for %s to exit 0 in the container",
		    rel->healthcheck + strlen(RELEASE_EXEC_PREFIX));
	else if (rel->healthcheck[0])
		DETAIL(out, "waiting for %s to answer 2xx or 3xx on $PORT",
		    rel->healthcheck);
	else
		DETAIL(out, "waiting for it to answer HTTP on $PORT");
	if (release_wait_up(s, rel->container, rel->port, host,
	        rel->healthcheck, &ms) == -1)
		goto fail_logs;
	DETAIL(out, "up after %.2f s", (double)ms / 1000.0);
	if (sched_set_restart(s, rel->container, "unless-stopped") != 0)
		goto fail;

	memset(&route, 0, sizeof route);
	snprintf(route.app, sizeof route.app, "%s", rel->app);
	route.nupstreams = 1;
	if (sched_endpoint(s, rel->container, rel->port, route.upstream[0],
	        sizeof route.upstream[0]) == -1)
		goto fail;
	rel->finished = (int64_t)time(NULL);
	if (state_release_activate(st, rel, host, &route) != 0)
		goto fail;

	if (prev != 0 && prev != rel->number &&
	    state_release_get(st, rel->app, prev, &old) == 0 &&
	    old.container[0] != '\0') {
		DETAIL(out, "v%u keeps serving for %d s, then stops", prev,
		    RELEASE_DRAIN_MS / 1000);
		release_retire(&old, out);
	}
	STEP(out, "Released v%u: %s", rel->number, url);
	return 0;

fail_logs:
	snprintf(reason, sizeof reason, "%s", err_msg());
	FAIL(out, "%s", reason);
	release_show_logs(s, rel->container, out);
	err_set("%s", reason);
	release_abandon(st, s, rel);
	return -1;
fail:
	FAIL(out, "%s", err_msg());
	release_abandon(st, s, rel);
	return -1;
}

int
release_recreate(struct state *st, struct sched *s, struct state_release *rel)
{
	if (strcmp(rel->status, STATE_REL_LIVE) != 0 || rel->port == 0)
		return err_set(
		    "%s v%u is not live on a port", rel->app, rel->number);
	if (release_start(st, s, rel, 1, NULL) == -1)
		return -1;
	return state_release_put(st, rel);
}
