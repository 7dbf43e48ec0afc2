/*
 * sshd/main.c: minpaas-sshd, the listener. Loads (or makes) the host key,
 * listens, and forks one process per connection, at most SSHD_MAXSESSIONS
 * at a time. On SIGTERM or SIGINT it stops accepting, asks the running
 * sessions to end, and exits once they have (SIGKILL after SSHD_STOP_GRACE).
 *
 *   minpaas-sshd [--port N] [--bind ADDR]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "sshd/sshd.h"

static volatile sig_atomic_t sshd_stop;
static volatile sig_atomic_t sshd_chld;

struct sshd_ctx {
	const char *bind_addr;
	int port;
	ssh_bind bind;
	pid_t kids[SSHD_MAXSESSIONS];
	int kid_ids[SSHD_MAXSESSIONS];
	int nkids;
	int next_id;
};

static void
sshd_on_signal(int sig)
{
	if (sig == SIGCHLD)
		sshd_chld = 1;
	else
		sshd_stop = 1;
}

static void
sshd_usage(void)
{
	fprintf(stderr, "usage: minpaas-sshd [--port N] [--bind ADDR]\n");
	exit(2);
}

static void
sshd_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN; /* a dead child's pipe gives EPIPE */
	sigaction(SIGPIPE, &sa, NULL);
	/* No SA_RESTART: the signals wake poll() in the accept loop. */
	sa.sa_handler = sshd_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* Makes sure fds 0-2 exist, so pipes never land on them. */
static void
sshd_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static void
sshd_reap(struct sshd_ctx *ctx, int block)
{
	pid_t pid;
	int i, status;

	while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
		for (i = 0; i < ctx->nkids; i++) {
			if (ctx->kids[i] != pid)
				continue;
			if (WIFSIGNALED(status))
				log_warn("session %d: process %d killed by "
				         "signal %d%s",
				    ctx->kid_ids[i], (int)pid, WTERMSIG(status),
				    WTERMSIG(status) == SIGALRM
				        ? " (auth timeout)"
				        : "");
			ctx->nkids--;
			ctx->kids[i] = ctx->kids[ctx->nkids];
			ctx->kid_ids[i] = ctx->kid_ids[ctx->nkids];
			break;
		}
		if (block)
			break;
	}
}

static void
sshd_peer(ssh_session s, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[64], serv[16];

	snprintf(out, outlen, "?");
	if (getpeername(ssh_get_fd(s), (struct sockaddr *)&ss, &len) == -1)
		return;
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv,
	        sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, outlen, "%s port %s", host, serv);
}

static void
sshd_accept(struct sshd_ctx *ctx)
{
	struct sshd_listener_ctx lc;
	ssh_session s;
	pid_t pid;
	int one = 1, rc;

	if ((s = ssh_new()) == NULL) {
		log_error("out of memory");
		return;
	}
	if (ssh_bind_accept(ctx->bind, s) != SSH_OK) {
		log_warn("accept: %s", ssh_get_error(ctx->bind));
		ssh_free(s);
		return;
	}
	memset(&lc, 0, sizeof lc);
	lc.id = ++ctx->next_id;
	sshd_peer(s, lc.peer, sizeof lc.peer);
	if ((pid = fork()) == -1) {
		log_error(
		    "session %d: cannot fork: %s", lc.id, strerror(errno));
		ssh_free(s);
		return;
	}
	if (pid == 0) {
		ssh_bind_free(ctx->bind);
		setsockopt(
		    ssh_get_fd(s), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		rc = sshd_session_run(s, &lc);
		ssh_disconnect(s);
		ssh_free(s);
		_exit(rc);
	}
	ctx->kids[ctx->nkids] = pid;
	ctx->kid_ids[ctx->nkids] = lc.id;
	ctx->nkids++;
	ssh_free(s); /* closes only our copy of the socket */
}

/* Asks the sessions to end, then makes sure they have. */
static void
sshd_stop_sessions(struct sshd_ctx *ctx)
{
	time_t deadline = time(NULL) + SSHD_STOP_GRACE;
	int i;

	for (i = 0; i < ctx->nkids; i++)
		kill(ctx->kids[i], SIGTERM);
	while (ctx->nkids > 0 && time(NULL) < deadline) {
		sshd_reap(ctx, 0);
		if (ctx->nkids > 0)
			usleep(100000);
	}
	for (i = 0; i < ctx->nkids; i++)
		kill(ctx->kids[i], SIGKILL);
	while (ctx->nkids > 0)
		sshd_reap(ctx, 1);
}

static int
sshd_listen(struct sshd_ctx *ctx, ssh_key hostkey)
{
	char port[16];
	bool no = false;

	snprintf(port, sizeof port, "%d", ctx->port);
	if ((ctx->bind = ssh_bind_new()) == NULL)
		return err_set("out of memory");
	if (ssh_bind_options_set(
	        ctx->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_bind_options_set(ctx->bind, SSH_BIND_OPTIONS_BINDADDR,
	        ctx->bind_addr) != SSH_OK ||
	    ssh_bind_options_set(
	        ctx->bind, SSH_BIND_OPTIONS_BINDPORT_STR, port) != SSH_OK ||
	    ssh_bind_options_set(
	        ctx->bind, SSH_BIND_OPTIONS_IMPORT_KEY, hostkey) != SSH_OK)
		return err_set(
		    "bad listener options: %s", ssh_get_error(ctx->bind));
	if (ssh_bind_listen(ctx->bind) != SSH_OK)
		return err_set("cannot listen on %s:%d: %s", ctx->bind_addr,
		    ctx->port, ssh_get_error(ctx->bind));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sshd_ctx ctx;
	struct pollfd pfd;
	ssh_key hostkey = NULL;
	char fp[128], *end;
	int c, full = 0;
	long v;

	memset(&ctx, 0, sizeof ctx);
	ctx.bind_addr = SSHD_DEFAULT_BIND;
	ctx.port = SSHD_DEFAULT_PORT;
	while ((c = getopt_long(argc, argv, "p:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 65535)
				sshd_usage();
			ctx.port = (int)v;
			break;
		case 'b':
			ctx.bind_addr = optarg;
			break;
		default:
			sshd_usage();
		}
	}
	if (optind != argc)
		sshd_usage();

	log_init(
	    "minpaas-sshd", getenv("MINPAAS_DEBUG") ? LOG_DEBUG : LOG_INFO);
	sshd_std_fds();
	sshd_signals();
	if (home_prepare() == -1) {
		log_error("%s", err_msg());
		return 1;
	}
	if (ssh_init() != SSH_OK) {
		log_error("cannot initialise libssh");
		return 1;
	}
	if (sshd_hostkey_load(&hostkey, fp, sizeof fp) == -1) {
		log_error("%s", err_msg());
		return 1;
	}
	log_info("host key %s", fp);
	if (sshd_listen(&ctx, hostkey) == -1) {
		log_error("%s", err_msg());
		return 1;
	}
	log_info("listening on %s:%d (MINPAAS_HOME %s)", ctx.bind_addr,
	    ctx.port, home_dir());

	while (!sshd_stop) {
		sshd_chld = 0;
		sshd_reap(&ctx, 0);
		if (ctx.nkids >= SSHD_MAXSESSIONS && !full)
			log_warn("%d sessions running: not accepting for now",
			    ctx.nkids);
		full = ctx.nkids >= SSHD_MAXSESSIONS;
		pfd.fd = ssh_bind_get_fd(ctx.bind);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, full ? 0 : 1, 1000) == -1) {
			if (errno != EINTR) {
				log_error("poll: %s", strerror(errno));
				break;
			}
			continue;
		}
		if (!sshd_stop && (pfd.revents & POLLIN))
			sshd_accept(&ctx);
	}
	log_info("stopping: %d session(s) running", ctx.nkids);
	ssh_bind_free(ctx.bind);
	sshd_stop_sessions(&ctx);
	ssh_finalize();
	log_info("stopped");
	return 0;
}
