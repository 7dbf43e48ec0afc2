/*
 * router/main.c: minpaas-router's entry point: options, logging, the
 * listening sockets, the workers and their loops.
 *
 * With --workers 1 (the default) the one process serves. With N > 1 the
 * parent binds N listening sockets with SO_REUSEPORT (the kernel spreads
 * connections over them), forks one worker per socket, each with its own
 * epoll loop and its own LMDB handle and reader (opened after the fork:
 * LMDB handles never cross a fork), forwards SIGTERM/SIGINT to them, starts
 * a worker again when one dies, and exits when all have stopped.
 *
 * On SIGTERM or SIGINT a worker stops accepting, lets requests in flight
 * finish (for at most timeout_shutdown) and exits 0.
 *
 * Stale LMDB reader slots are cleared by state_open() at the start of each
 * worker (a worker that dies is replaced, which clears its slot); the state
 * module has no call for a periodic check.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "router/router.h"
#include "state/state.h"

static volatile sig_atomic_t router_quit;

static void
router_signal(int sig)
{
	router_quit = sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: minpaas-router [--port N] [--bind ADDR] [--workers N]\n"
	    "         [--no-access-log] [--debug] [--max-body BYTES]\n"
	    "         [--max-conns N] [--pool-size N] [--timeout-head MS]\n"
	    "         [--timeout-idle MS] [--timeout-connect MS]\n"
	    "         [--timeout-response MS] [--timeout-tunnel MS]\n"
	    "         [--timeout-pool MS] [--timeout-shutdown MS]\n"
	    "         [--trusted-proxies CIDR,...]\n");
	exit(2);
}

static int
router_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	/* No SA_RESTART: epoll_wait must return so the loop sees the flag. */
	sa.sa_handler = router_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return -1;
	return 0;
}

/* Raises the descriptor limit to the hard limit: each connection takes one
 * or two. Returns the soft limit in force. */
static rlim_t
router_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

static int
router_run(struct router *rt)
{
	int64_t now, last = ev_now(), checked = ev_now(), stop_by = 0;
	int dead;

	for (;;) {
		if (router_quit && !rt->stopping) {
			log_info("signal %d: finishing %zu connection(s)",
			    (int)router_quit, rt->nconns);
			conn_stop(rt);
			stop_by = ev_now() + rt->set.timeout_shutdown;
		}
		if (rt->stopping && (rt->nconns == 0 || ev_now() >= stop_by))
			break;
		if (ev_poll(rt->loop, ROUTER_TICK) == -1) {
			log_error("%s", err_msg());
			return -1;
		}
		now = ev_now();
		if (now - last >= ROUTER_TICK) {
			conn_sweep(rt, now);
			last = now;
		}
		/* a process killed while reading leaves a slot that pins old
		 * pages; nobody else may ever clear it while we run */
		if (now - checked >= ROUTER_READER_CHECK) {
			if ((dead = state_reader_check(rt->st)) == -1)
				log_warn("%s", err_msg());
			else if (dead > 0)
				log_info(
				    "cleared %d stale LMDB reader(s)", dead);
			checked = now;
		}
	}
	if (rt->nconns)
		log_warn("closing %zu connection(s) still open", rt->nconns);
	conn_close_all(rt);
	return 0;
}

/* One worker: its own state handle, reader and loop on listening socket
 * lfd. Returns the exit status. */
static int
router_worker(const struct router_settings *set, int lfd)
{
	struct router *rt;
	struct state *st = NULL;
	int rc = 1;

	if ((rt = calloc(1, sizeof *rt)) == NULL) {
		log_error("out of memory");
		close(lfd);
		return 1;
	}
	rt->set = *set;
	rt->lfd = lfd;
	if (state_open(&st, home_dir()) == 0)
		rt->st = st;
	if (st == NULL || state_reader_new(&rt->reader, st) == -1 ||
	    ev_loop_new(&rt->loop) == -1 || conn_start(rt) == -1) {
		log_error("%s", err_msg());
		goto out;
	}
	if (router_run(rt) == 0)
		rc = 0;
out:
	if (rt->lfd != -1)
		close(rt->lfd);
	if (rt->pool)
		pool_free(rt->pool);
	iob_cache_clear(&rt->spare);
	ev_loop_free(rt->loop);
	if (rt->reader)
		state_reader_free(rt->reader);
	if (st)
		state_close(st);
	free(rt);
	return rc;
}

/* The parent of N workers: forks them, restarts one that dies, forwards
 * the stop signal, reaps. */
static int
router_parent(const struct router_settings *set, int *lfd, int n)
{
	pid_t pid[ROUTER_MAXWORKERS], p;
	int i, status, live = 0, rc = 0, sent = 0;

	memset(pid, 0, sizeof pid);
	for (;;) {
		for (i = 0; i < n && !router_quit; i++) {
			if (pid[i] > 0)
				continue;
			if ((p = fork()) == -1) {
				log_error("fork: %s", strerror(errno));
				sleep(1);
				continue;
			}
			if (p == 0) {
				int j;
				for (j = 0; j < n; j++)
					if (j != i)
						close(lfd[j]);
				_exit(router_worker(set, lfd[i]));
			}
			pid[i] = p;
			live++;
		}
		if (router_quit && !sent) {
			for (i = 0; i < n; i++)
				if (pid[i] > 0)
					kill(pid[i], SIGTERM);
			sent = 1;
		}
		if (live == 0)
			break;
		p = waitpid(-1, &status, 0);
		if (p == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++)
			if (pid[i] == p) {
				pid[i] = 0;
				live--;
				if (!router_quit) {
					log_warn(
					    "worker %d (pid %d) ended "
					    "(status %d); starting another",
					    i, (int)p, status);
					sleep(1);
				} else if (!WIFEXITED(status) ||
				           WEXITSTATUS(status) != 0) {
					rc = 1;
				}
			}
	}
	return rc;
}

static int
opt_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || *out < lo || *out > hi)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		O_MAXBODY = 256,
		O_MAXCONNS,
		O_POOL,
		O_THEAD,
		O_TIDLE,
		O_TCONNECT,
		O_TRESPONSE,
		O_TTUNNEL,
		O_TPOOL,
		O_TSHUTDOWN,
		O_TRUSTED
	};
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'b'},
	    {"workers", required_argument, NULL, 'w'},
	    {"no-access-log", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"max-body", required_argument, NULL, O_MAXBODY},
	    {"max-conns", required_argument, NULL, O_MAXCONNS},
	    {"pool-size", required_argument, NULL, O_POOL},
	    {"timeout-head", required_argument, NULL, O_THEAD},
	    {"timeout-idle", required_argument, NULL, O_TIDLE},
	    {"timeout-connect", required_argument, NULL, O_TCONNECT},
	    {"timeout-response", required_argument, NULL, O_TRESPONSE},
	    {"timeout-tunnel", required_argument, NULL, O_TTUNNEL},
	    {"timeout-pool", required_argument, NULL, O_TPOOL},
	    {"timeout-shutdown", required_argument, NULL, O_TSHUTDOWN},
	    {"trusted-proxies", required_argument, NULL, O_TRUSTED},
	    {NULL, 0, NULL, 0},
	};
	struct router_settings set;
	const char *bind_addr = ROUTER_DEFAULT_BIND;
	enum log_level level = LOG_INFO;
	long long port = ROUTER_DEFAULT_PORT, workers = 1, v;
	int lfd[ROUTER_MAXWORKERS];
	int ch, i, rc = 1, nl = 0;
	rlim_t nofile;

	router_settings_init(&set);
	while ((ch = getopt_long(argc, argv, "p:b:w:ndh", opts, NULL)) != -1) {
		int *ms = NULL;

		switch (ch) {
		case 'p':
			if (opt_num(optarg, 0, 65535, &port) == -1)
				usage();
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'w':
			if (opt_num(optarg, 1, ROUTER_MAXWORKERS, &workers) ==
			    -1)
				usage();
			break;
		case 'n':
			set.access_log = 0;
			break;
		case 'd':
			level = LOG_DEBUG;
			break;
		case O_MAXBODY:
			if (opt_num(optarg, 0, INT64_MAX, &v) == -1)
				usage();
			set.max_body = (uint64_t)v;
			break;
		case O_MAXCONNS:
			if (opt_num(optarg, 1, 10000000, &v) == -1)
				usage();
			set.max_conns = (size_t)v;
			break;
		case O_POOL:
			if (opt_num(optarg, 0, 100000, &v) == -1)
				usage();
			set.pool_per_upstream = (int)v;
			break;
		case O_THEAD:
			ms = &set.timeout_head;
			break;
		case O_TIDLE:
			ms = &set.timeout_idle;
			break;
		case O_TCONNECT:
			ms = &set.timeout_connect;
			break;
		case O_TRESPONSE:
			ms = &set.timeout_response;
			break;
		case O_TTUNNEL:
			ms = &set.timeout_tunnel;
			break;
		case O_TPOOL:
			ms = &set.timeout_pool;
			break;
		case O_TSHUTDOWN:
			ms = &set.timeout_shutdown;
			break;
		case O_TRUSTED:
			if (trust_parse(&set, optarg) == -1) {
				fprintf(
				    stderr, "minpaas-router: %s\n", err_msg());
				exit(2);
			}
			break;
		default:
			usage();
		}
		if (ms != NULL) {
			if (opt_num(optarg, 1, 86400000, &v) == -1)
				usage();
			*ms = (int)v;
		}
	}
	if (optind != argc)
		usage();
	log_init("minpaas-router", level);

	if (router_signals() == -1) {
		log_error("sigaction failed");
		return 1;
	}
	nofile = router_nofile();
	/* a busy connection holds two descriptors; keep a few spare */
	if (nofile > 64 && set.max_conns > (size_t)(nofile - 64))
		set.max_conns = (size_t)(nofile - 64);
	for (i = 0; i < workers; i++) {
		if ((lfd[i] = conn_listen(bind_addr, (int)port, workers > 1)) ==
		    -1) {
			log_error("%s", err_msg());
			goto out;
		}
		nl++;
	}
	log_info("listening on %s port %lld, %lld worker(s), state in %s, "
	         "up to %zu connections per worker",
	    bind_addr, port, workers, home_dir(), set.max_conns);
	if (workers == 1) {
		nl = 0; /* the worker owns it now */
		rc = router_worker(&set, lfd[0]);
	} else {
		rc = router_parent(&set, lfd, (int)workers);
	}
	if (rc == 0)
		log_info("stopped");
out:
	for (i = 0; i < nl; i++)
		close(lfd[i]);
	return rc;
}
