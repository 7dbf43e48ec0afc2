/*
 * router/main.c: minpaas-router's entry point: options, logging, the state
 * handle, the listening socket, and the loop. On SIGTERM or SIGINT it stops
 * accepting, lets requests in flight finish (for at most
 * ROUTER_TIMEOUT_SHUTDOWN) and exits 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	    "usage: minpaas-router [--port N] [--bind ADDR] [--no-access-log] "
	    "[--debug]\n");
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

static int
router_run(struct router *rt)
{
	int64_t now, last = ev_now(), stop_by = 0;

	for (;;) {
		if (router_quit && !rt->stopping) {
			log_info("signal %d: finishing %zu connection(s)",
			    (int)router_quit, rt->nconns);
			conn_stop(rt);
			stop_by = ev_now() + ROUTER_TIMEOUT_SHUTDOWN;
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
	}
	if (rt->nconns)
		log_warn("closing %zu connection(s) still open", rt->nconns);
	conn_close_all(rt);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'b'},
	    {"no-access-log", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct router rt;
	struct state *st = NULL;
	const char *bind_addr = ROUTER_DEFAULT_BIND;
	enum log_level level = LOG_INFO;
	long port = ROUTER_DEFAULT_PORT;
	char *end;
	int ch, rc = 1;

	memset(&rt, 0, sizeof rt);
	rt.lfd = -1;
	rt.access_log = 1;
	while ((ch = getopt_long(argc, argv, "p:b:ndh", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port < 0 ||
			    port > 65535)
				usage();
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'n':
			rt.access_log = 0;
			break;
		case 'd':
			level = LOG_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("minpaas-router", level);

	if (router_signals() == -1) {
		log_error("sigaction failed");
		return 1;
	}
	if (state_open(&st, home_dir()) == -1 ||
	    state_reader_new(&rt.reader, st) == -1) {
		log_error("%s", err_msg());
		goto out;
	}
	if (ev_loop_new(&rt.loop) == -1 ||
	    (rt.lfd = conn_listen(bind_addr, (int)port)) == -1 ||
	    conn_start(&rt) == -1) {
		log_error("%s", err_msg());
		goto out;
	}
	log_info("listening on %s port %ld, state in %s", bind_addr, port,
	    home_dir());
	if (router_run(&rt) == 0) {
		log_info("stopped");
		rc = 0;
	}
out:
	if (rt.lfd != -1)
		close(rt.lfd);
	ev_loop_free(rt.loop);
	if (rt.reader)
		state_reader_free(rt.reader);
	if (st)
		state_close(st);
	return rc;
}
