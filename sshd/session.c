/*
 * sshd/session.c: one SSH connection, served in its own process.
 *
 * A session goes kex -> auth -> exec -> exit -> closed (or straight to
 * closed when anything fails), and changes state only in sess_set_state(),
 * which logs each transition. It accepts public-key auth for keys in state,
 * one session channel and one exec request. The command runs as a child
 * whose pipes are bridged to the channel inside the session's ssh_event:
 *
 *   - child stdout/stderr -> channel: never read more than the client's
 *     window, so writes never block; a full window pauses the pipe.
 *   - channel -> child stdin: what the child cannot take stays in libssh's
 *     buffer, which stops the window from growing (backpressure); it is
 *     pulled again once the pipe is writable.
 *
 * The exit status is sent only after the child is reaped and both of its
 * output pipes are at EOF (so no output is lost), then EOF, then close; the
 * session lingers until the client disconnects, because OpenSSH reports 255
 * instead of the status when the server drops the connection first. When the
 * client goes away early the child's process group gets SIGTERM, then
 * SIGKILL, and is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "apps/apps.h"
#include "builder/recover.h"
#include "cli/commands.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "common/progress.h"
#include "sshd/sshd.h"
#include "state/state.h"

#define SESS_POLL_MS       200
#define SESS_DRAIN_TIMEOUT 5   /* s to wait for pipe EOF after the child */
#define SESS_SHOWN         120 /* bytes of a command line shown in the log */

enum sess_state { SESS_KEX, SESS_AUTH, SESS_EXEC, SESS_EXIT, SESS_CLOSED };

static const char *sess_state_names[] = {
    "kex", "auth", "exec", "exit", "closed"};

enum sess_kind { SESS_NONE, SESS_PUSH, SESS_FETCH, SESS_COMMAND };

struct sess {
	int id;
	const char *peer;
	enum sess_state state;
	ssh_session ssh;
	ssh_event ev;
	ssh_channel chan;
	struct ssh_server_callbacks_struct scb;
	struct ssh_channel_callbacks_struct ccb;
	struct state *st; /* open from start until the child is spawned */

	int authed;
	struct state_key key;

	char *cmd; /* the exec request, NULL before it arrives */
	int cmd_too_long;
	char git_protocol[SSHD_MAXENVVAL + 1];
	enum sess_kind kind;
	struct gitcmd git;
	char result[HOME_MAXPATH]; /* MINPAAS_RESULT of a push, "" if none */

	struct sshd_child child;
	int has_child;
	int child_done;
	int wstatus;
	int out_watched, err_watched, in_watched;
	time_t last_output;

	/* channel -> child stdin */
	int stdin_blocked; /* bytes wait in pend or in libssh's buffer */
	int stdin_ready;   /* the pipe became writable: pump from main loop */
	int chan_eof;
	int chan_closed;
	char pend[SSHD_IOBUF];
	size_t pend_off, pend_len;

	int status; /* exit status when there is no child (errors) */
	int exit_sent;
};

static volatile sig_atomic_t sess_stop;
static volatile sig_atomic_t sess_in_kex; /* blocked in key exchange */

static void
sess_on_signal(int sig)
{
	(void)sig;
	/* Nothing runs yet and the key exchange would not notice: leave. */
	if (sess_in_kex)
		_exit(1);
	sess_stop = 1;
}

/* The one place a session changes state. */
static void
sess_set_state(struct sess *s, enum sess_state to)
{
	if (s->state == to)
		return;
	if (to < s->state && to != SESS_CLOSED) {
		log_error("session %d: bad transition %s -> %s", s->id,
		    sess_state_names[s->state], sess_state_names[to]);
		return;
	}
	log_info("session %d: %s -> %s", s->id, sess_state_names[s->state],
	    sess_state_names[to]);
	s->state = to;
}

/* --- authentication and channel requests (libssh callbacks) ------------- */

static int
sess_auth_pubkey(ssh_session ssh, const char *user, struct ssh_key_struct *pub,
    char sigstate, void *ud)
{
	struct sess *s = ud;
	struct state_key key;
	char fp[64];
	int rc;

	if (sigstate != SSH_PUBLICKEY_STATE_NONE &&
	    sigstate != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	if (cmd_key_fingerprint(pub, fp, sizeof fp) == -1) {
		log_warn("session %d: %s", s->id, err_msg());
		return SSH_AUTH_DENIED;
	}
	rc = state_key_get(s->st, fp, &key);
	if (rc == STATE_NOTFOUND) {
		log_info("session %d: unknown key %s refused", s->id, fp);
		return SSH_AUTH_DENIED;
	}
	if (rc != 0) {
		log_error("session %d: key lookup: %s", s->id, err_msg());
		return SSH_AUTH_DENIED;
	}
	/* Offered only: the answer is PK_OK, the client signs next. */
	if (sigstate == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;
	s->key = key;
	s->authed = 1;
	log_info("session %d: key '%s' (%s, %s) authenticated", s->id, key.name,
	    key.role, key.fp);
	return SSH_AUTH_SUCCESS;
}

static int sess_on_stdin_ready(socket_t fd, int revents, void *ud);

static int
sess_on_data(ssh_session ssh, ssh_channel chan, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct sess *s = ud;
	ssize_t n;

	if (is_stderr)
		return (int)len;
	/* Before the child exists, keep it buffered (it may be its stdin). */
	if (!s->has_child && s->state < SESS_EXIT)
		return 0;
	if (s->child.in_fd < 0)
		return (int)len; /* nobody reads stdin any more */
	if (s->stdin_blocked)
		return 0; /* keep order: the main loop drains the buffer */
	n = write(s->child.in_fd, data, len);
	if (n < 0) {
		if (errno != EAGAIN) {
			close(s->child.in_fd);
			s->child.in_fd = -1;
			return (int)len;
		}
		n = 0;
	}
	if ((uint32_t)n < len) {
		/* The rest stays in libssh's buffer: the window stops. */
		log_debug("session %d: stdin full, %u bytes wait", s->id,
		    (unsigned)(len - (uint32_t)n));
		s->stdin_blocked = 1;
		s->stdin_ready = 0;
		if (!s->in_watched &&
		    ssh_event_add_fd(s->ev, s->child.in_fd, POLLOUT,
		        sess_on_stdin_ready, s) == SSH_OK)
			s->in_watched = 1;
	}
	return (int)n;
}

static void
sess_close_stdin(struct sess *s)
{
	if (s->in_watched) {
		ssh_event_remove_fd(s->ev, s->child.in_fd);
		s->in_watched = 0;
	}
	if (s->child.in_fd >= 0) {
		close(s->child.in_fd);
		s->child.in_fd = -1;
	}
}

static void
sess_on_eof(ssh_session ssh, ssh_channel chan, void *ud)
{
	struct sess *s = ud;

	s->chan_eof = 1;
	if (s->has_child && !s->stdin_blocked && !s->in_watched)
		sess_close_stdin(s);
}

static void
sess_on_close(ssh_session ssh, ssh_channel chan, void *ud)
{
	struct sess *s = ud;

	s->chan_closed = 1;
}

static int
sess_on_env(ssh_session ssh, ssh_channel chan, const char *name,
    const char *value, void *ud)
{
	struct sess *s = ud;
	size_t n = strlen(value);

	/* Only git's protocol version is taken; it is passed to upload-pack. */
	if (strcmp(name, "GIT_PROTOCOL") != 0 || n > SSHD_MAXENVVAL ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789=:._-") != n)
		return -1;
	memcpy(s->git_protocol, value, n + 1);
	return 0;
}

static int
sess_take_command(struct sess *s, const char *command)
{
	if (s->cmd != NULL)
		return -1;
	if (strlen(command) > CMD_MAXLINE) {
		s->cmd_too_long = 1;
		command = "";
	}
	if ((s->cmd = strdup(command)) == NULL)
		return -1;
	return 0;
}

static int
sess_on_exec(ssh_session ssh, ssh_channel chan, const char *command, void *ud)
{
	/* Only recorded: the work starts after libssh has sent the reply. */
	return sess_take_command(ud, command);
}

static int
sess_on_shell(ssh_session ssh, ssh_channel chan, void *ud)
{
	/* Plain `ssh host`: answered with a usage hint, not a shell. */
	return sess_take_command(ud, "");
}

static ssh_channel
sess_on_channel_open(ssh_session ssh, void *ud)
{
	struct sess *s = ud;

	if (!s->authed || s->chan != NULL)
		return NULL;
	if ((s->chan = ssh_channel_new(ssh)) == NULL)
		return NULL;
	memset(&s->ccb, 0, sizeof s->ccb);
	s->ccb.userdata = s;
	s->ccb.channel_data_function = sess_on_data;
	s->ccb.channel_eof_function = sess_on_eof;
	s->ccb.channel_close_function = sess_on_close;
	s->ccb.channel_env_request_function = sess_on_env;
	s->ccb.channel_exec_request_function = sess_on_exec;
	s->ccb.channel_shell_request_function = sess_on_shell;
	ssh_callbacks_init(&s->ccb);
	ssh_set_channel_callbacks(s->chan, &s->ccb);
	return s->chan;
}

/* --- bridging ----------------------------------------------------------- */

static int sess_on_output(socket_t fd, int revents, void *ud);

static void
sess_watch_output(struct sess *s)
{
	if (ssh_channel_window_size(s->chan) == 0)
		return;
	if (s->child.out_fd >= 0 && !s->out_watched &&
	    ssh_event_add_fd(
	        s->ev, s->child.out_fd, POLLIN, sess_on_output, s) == SSH_OK)
		s->out_watched = 1;
	if (s->child.err_fd >= 0 && !s->err_watched &&
	    ssh_event_add_fd(
	        s->ev, s->child.err_fd, POLLIN, sess_on_output, s) == SSH_OK)
		s->err_watched = 1;
}

/* Removing a watched fd from inside its own callback must return -1. */
static int
sess_unwatch(struct sess *s, int fd, int eof)
{
	ssh_event_remove_fd(s->ev, fd);
	if (fd == s->child.out_fd) {
		s->out_watched = 0;
		if (eof) {
			close(fd);
			s->child.out_fd = -1;
		}
	} else {
		s->err_watched = 0;
		if (eof) {
			close(fd);
			s->child.err_fd = -1;
		}
	}
	return -1;
}

static int
sess_on_output(socket_t fd, int revents, void *ud)
{
	struct sess *s = ud;
	char buf[SSHD_IOBUF];
	uint32_t win;
	ssize_t n;
	int rc;

	win = ssh_channel_window_size(s->chan);
	if (win == 0)
		return sess_unwatch(s, fd, 0); /* paused until it opens */
	n = read(fd, buf, win < sizeof buf ? win : sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return sess_unwatch(s, fd, 1);
	s->last_output = time(NULL);
	if (fd == s->child.err_fd)
		rc = ssh_channel_write_stderr(s->chan, buf, (uint32_t)n);
	else
		rc = ssh_channel_write(s->chan, buf, (uint32_t)n);
	if (rc == SSH_ERROR) {
		/* The client is gone; the main loop notices and cleans up. */
		s->chan_closed = 1;
		return sess_unwatch(s, fd, 1);
	}
	return 0;
}

static int
sess_on_stdin_ready(socket_t fd, int revents, void *ud)
{
	struct sess *s = ud;

	s->stdin_ready = 1;
	ssh_event_remove_fd(s->ev, fd);
	s->in_watched = 0;
	return -1;
}

/* Moves buffered client bytes into the child's stdin; main loop only. */
static void
sess_pump_stdin(struct sess *s)
{
	ssize_t n;
	int r;

	s->stdin_ready = 0;
	for (;;) {
		while (s->pend_off < s->pend_len) {
			if (s->child.in_fd < 0) {
				s->pend_off = s->pend_len;
				break;
			}
			n = write(s->child.in_fd, s->pend + s->pend_off,
			    s->pend_len - s->pend_off);
			if (n >= 0) {
				s->pend_off += (size_t)n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (!s->in_watched &&
				    ssh_event_add_fd(s->ev, s->child.in_fd,
				        POLLOUT, sess_on_stdin_ready,
				        s) == SSH_OK)
					s->in_watched = 1;
				return;
			}
			sess_close_stdin(s); /* EPIPE: discard the rest */
		}
		s->pend_off = s->pend_len = 0;
		/* Reading here lets libssh grow the window again. */
		r = ssh_channel_read_nonblocking(
		    s->chan, s->pend, sizeof s->pend, 0);
		if (r <= 0)
			break;
		s->pend_len = (size_t)r;
	}
	s->stdin_blocked = 0;
	if (s->chan_eof)
		sess_close_stdin(s);
}

/* --- starting the command ----------------------------------------------- */

/* An error before any child runs: a line on stderr, then `status`. */
static void
sess_refuse(struct sess *s, int status, const char *msg)
{
	char line[ERR_MAXLEN + 16];
	int n;

	n = snprintf(line, sizeof line, PROGRESS_FAIL "%s\n", msg);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	log_info("session %d: refused: %s", s->id, msg);
	ssh_channel_write_stderr(s->chan, line, (uint32_t)n);
	s->status = status;
}

static int
sess_base_env(struct sess *s, struct sshd_exec *e)
{
	const char *path = getenv("PATH");
	const char *home = getenv("HOME");

	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	if (home == NULL)
		home = "/";
	if (sshd_exec_setenv(e, "PATH", path) == -1 ||
	    sshd_exec_setenv(e, "HOME", home) == -1)
		return -1;
	return 0;
}

static int
sess_spawn_git(struct sess *s, struct sshd_exec *e)
{
	/* LMDB handles never cross a fork: the child opens its own. */
	state_close(s->st);
	s->st = NULL;
	if (sshd_child_spawn(&s->child, sshd_exec_run, e) == -1)
		return -1;
	s->has_child = 1;
	return 0;
}

/* The session's key as the app rules (apps/) see it. */
static struct apps_caller
sess_caller(const struct sess *s)
{
	struct apps_caller who = {s->key.fp, strcmp(s->key.role, "admin") == 0};

	return who;
}

/*
 * The app of a push, created on the first one (apps_create: owned by the
 * session's key): 0 when the key may push to it, or -1 with the reason set.
 * A name the key cannot use is only "not available", whether an app holds
 * it or its hostname is another app's domain, so nothing more about other
 * apps shows.
 */
static int
sess_push_app(struct sess *s)
{
	struct apps_caller who = sess_caller(s);
	int rc;

	rc = apps_create(s->st, s->git.app, &who, NULL);
	if (rc == 0)
		log_info("session %d: app '%s' created", s->id, s->git.app);
	if (rc == 0 || rc == APPS_EXISTS)
		return 0;
	if (rc == -1)
		return -1;
	s->status = 1;
	return err_set("push refused: the app name '%s' is not available "
	               "to key '%s'; push to another name",
	    s->git.app, s->key.name);
}

/* "receive.maxInputSize=<$MINPAAS_MAX_PUSH or SSHD_MAXPUSH>" into buf. */
static const char *
sess_max_push(char *buf, size_t len)
{
	const char *v = getenv("MINPAAS_MAX_PUSH");
	char *end;

	errno = 0;
	if (v == NULL || *v < '0' || *v > '9' || strtoull(v, &end, 10) == 0 ||
	    errno != 0 ||
	    !(*end == '\0' || (strchr("kKmMgG", *end) && end[1] == '\0')))
		v = SSHD_MAXPUSH;
	snprintf(buf, len, "receive.maxInputSize=%s", v);
	return buf;
}

static int
sess_start_push(struct sess *s, struct sshd_exec *e, char *repo, size_t repolen)
{
	/* the settings the hook reads from its environment */
	static const char *pass[] = {"MINPAAS_DOMAIN", "MINPAAS_HEALTH_TIMEOUT",
	    "MINPAAS_STACK_IMAGE", "MINPAAS_IMAGE_PYTHON", "MINPAAS_IMAGE_NODE",
	    "MINPAAS_IMAGE_STATIC", "MINPAAS_BUILD_TIMEOUT", "DOCKER_SOCKET"};
	char dir[HOME_MAXPATH], maxopt[64];
	size_t i;

	if (sess_push_app(s) == -1)
		return -1;
	if (sshd_repo_prepare(s->git.app, repo, repolen) == -1)
		return -1;

	if (home_path(dir, sizeof dir, "run") == -1)
		return -1;
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return err_set("cannot create '%s': %s", dir, strerror(errno));
	if (home_path(s->result, sizeof s->result, "run/result.%d",
	        (int)getpid()) == -1)
		return -1;
	unlink(s->result);

	/* git itself refuses a pack past the cap, with its own message */
	e->argv[0] = SSHD_GIT;
	e->argv[1] = "-c";
	e->argv[2] = sess_max_push(maxopt, sizeof maxopt);
	e->argv[3] = "receive-pack";
	e->argv[4] = repo;
	e->argv[5] = NULL;
	if (sess_base_env(s, e) == -1 ||
	    sshd_exec_setenv(e, "MINPAAS_HOME", home_dir()) == -1 ||
	    sshd_exec_setenv(e, "MINPAAS_APP", s->git.app) == -1 ||
	    sshd_exec_setenv(e, "MINPAAS_KEY_FP", s->key.fp) == -1 ||
	    sshd_exec_setenv(e, "MINPAAS_KEY_NAME", s->key.name) == -1 ||
	    sshd_exec_setenv(e, "MINPAAS_RESULT", s->result) == -1)
		return -1;
	for (i = 0; i < sizeof pass / sizeof pass[0]; i++)
		if (sshd_exec_passenv(e, pass[i]) == -1)
			return -1;
	return sess_spawn_git(s, e);
}

static int
sess_start_fetch(
    struct sess *s, struct sshd_exec *e, char *repo, size_t repolen)
{
	struct apps_caller who = sess_caller(s);
	struct state_app app;
	struct stat sb;
	int rc;

	if (home_path(repo, repolen, "repos/%s.git", s->git.app) == -1)
		return -1;
	/* an app the key may not use looks like no app at all */
	rc = state_app_get(s->st, s->git.app, &app);
	if (rc == -1)
		return -1;
	if (rc != 0 || apps_access(s->st, &app, &who, APPS_USE) != 0 ||
	    stat(repo, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		s->status = 1;
		return err_set("no such app '%s'", s->git.app);
	}
	e->argv[0] = SSHD_GIT;
	e->argv[1] = "upload-pack";
	e->argv[2] = repo;
	e->argv[3] = NULL;
	if (sess_base_env(s, e) == -1)
		return -1;
	if (s->git_protocol[0] != '\0' &&
	    sshd_exec_setenv(e, "GIT_PROTOCOL", s->git_protocol) == -1)
		return -1;
	return sess_spawn_git(s, e);
}

struct sess_cmd {
	struct sess *s;
	int argc;
	char **argv;
};

/* Child body of a command: its own state handle, then the command table. */
static int
sess_cmd_main(void *arg)
{
	struct sess_cmd *c = arg;
	struct cmd_ctx ctx;
	struct state *st = NULL;
	int status;

	if (state_open(&st, home_dir()) == -1) {
		FAIL(stderr, "%s", err_msg());
		return 1;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.st = st;
	ctx.key_fp = c->s->key.fp;
	ctx.key_name = c->s->key.name;
	ctx.admin = strcmp(c->s->key.role, "admin") == 0;
	status = cmd_run(&ctx, c->argc, c->argv);
	fflush(NULL);
	state_close(st);
	return status;
}

static int
sess_start_command(struct sess *s)
{
	struct sess_cmd c = {s, 0, NULL};
	int rc;

	if (cmd_split(s->cmd, &c.argc, &c.argv) == -1) {
		s->status = 2;
		return -1;
	}
	if (c.argc == 0) {
		cmd_words_free(c.argv);
		s->status = 2;
		return err_set("no command given (interactive shells are not "
		               "offered): run `ssh <this host> help` for the "
		               "list of commands, or git push to deploy");
	}
	state_close(s->st);
	s->st = NULL;
	rc = sshd_child_spawn(&s->child, sess_cmd_main, &c);
	cmd_words_free(c.argv);
	if (rc == -1)
		return -1;
	s->has_child = 1;
	return 0;
}

/* Decides what the exec request means and starts its child. */
static void
sess_start(struct sess *s)
{
	struct sshd_exec e;
	char repo[HOME_MAXPATH], shown[SESS_SHOWN];
	int rc;

	memset(&e, 0, sizeof e);
	s->status = 1;
	sess_set_state(s, SESS_EXEC);
	log_info("session %d: '%s' runs '%s'", s->id, s->key.name,
	    gitcmd_shown(s->cmd, shown, sizeof shown));
	if (s->cmd_too_long) {
		s->status = 2;
		err_set(
		    "command line too long (at most %d bytes)", CMD_MAXLINE);
		goto fail;
	}
	rc = gitcmd_parse(s->cmd, &s->git);
	if (rc == -1)
		goto fail;
	if (rc == 1 && s->git.kind == GITCMD_RECEIVE_PACK) {
		s->kind = SESS_PUSH;
		rc = sess_start_push(s, &e, repo, sizeof repo);
	} else if (rc == 1) {
		s->kind = SESS_FETCH;
		rc = sess_start_fetch(s, &e, repo, sizeof repo);
	} else {
		s->kind = SESS_COMMAND;
		rc = sess_start_command(s);
	}
	sshd_exec_release(&e);
	if (rc == -1)
		goto fail;
	s->last_output = time(NULL);
	sess_watch_output(s);
	/* Anything the client sent before the child existed goes in now. */
	s->stdin_blocked = 1;
	s->stdin_ready = 1;
	return;
fail:
	sshd_exec_release(&e);
	sess_refuse(s, s->status, err_msg());
}

/* --- finishing ---------------------------------------------------------- */

/* What the hook wrote into $MINPAAS_RESULT: it writes "started" first and
 * "ok" or "failed" when it ends, so "started" means it never ended. */
enum sess_result {
	SESS_RESULT_NONE,
	SESS_RESULT_OK,
	SESS_RESULT_FAILED,
	SESS_RESULT_INTERRUPTED
};

static enum sess_result
sess_push_result(struct sess *s)
{
	char buf[16];
	ssize_t n;
	int fd;

	if (s->result[0] == '\0')
		return SESS_RESULT_NONE;
	if ((fd = open(s->result, O_RDONLY | O_CLOEXEC)) == -1)
		return SESS_RESULT_NONE; /* the hook did not run: no update */
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return SESS_RESULT_INTERRUPTED;
	buf[n] = '\0';
	if (strncmp(buf, "ok", 2) == 0)
		return SESS_RESULT_OK;
	if (strncmp(buf, "failed", 6) == 0)
		return SESS_RESULT_FAILED;
	return SESS_RESULT_INTERRUPTED;
}

/* One " !     " line to the client's stderr, and to the log. */
static void __attribute__((format(printf, 2, 3)))
sess_fail_line(struct sess *s, const char *fmt, ...)
{
	char msg[ERR_MAXLEN], line[ERR_MAXLEN + 16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof line, PROGRESS_FAIL "%s\n", msg);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	log_info("session %d: %s", s->id, msg);
	ssh_channel_write_stderr(s->chan, line, (uint32_t)n);
}

/*
 * The hook ended without a result (killed): says so, and when no other
 * deploy of the app has started since, marks what it left failed and puts
 * the branch back (builder/recover.h); the reconciler removes its
 * containers.
 */
static void
sess_push_interrupted(struct sess *s)
{
	struct recover_result r;
	struct state *st = NULL;
	int fd, rc;

	sess_fail_line(s,
	    "The deploy of %s was interrupted: it ended before "
	    "it finished",
	    s->git.app);
	fd = home_trylock_app(s->git.app);
	if (fd == HOME_LOCK_BUSY) {
		sess_fail_line(s,
		    "another deploy of %s runs now; minpaas "
		    "cleans up after this one",
		    s->git.app);
		return;
	}
	if (fd == -1 || state_open(&st, home_dir()) == -1 ||
	    (rc = recover_app(st, s->git.app, &r)) == -1) {
		sess_fail_line(s, "cannot clean up after it: %s", err_msg());
		goto out;
	}
	if (rc == STATE_NOTFOUND)
		goto out;
	if (r.nfailed > 0 && r.live != 0)
		sess_fail_line(s, "v%u marked failed; v%u keeps serving",
		    r.failed, r.live);
	else if (r.nfailed > 0)
		sess_fail_line(
		    s, "v%u marked failed; nothing was deployed", r.failed);
	else if (r.live != 0)
		sess_fail_line(s,
		    "v%u is live; minpaas stops what the deploy left running",
		    r.live);
	if (r.branch_reset)
		sess_fail_line(s,
		    "branch '%s' put back, so pushing the same commit retries",
		    r.branch);
out:
	state_close(st);
	if (fd >= 0)
		close(fd);
}

static void
sess_send_exit(struct sess *s)
{
	int status = s->status, sig = 0;

	if (s->has_child) {
		if (WIFEXITED(s->wstatus))
			status = WEXITSTATUS(s->wstatus);
		else
			sig = WTERMSIG(s->wstatus);
		if (s->kind == SESS_PUSH) {
			/* git push must fail when the deploy failed. */
			enum sess_result r = sess_push_result(s);

			if (r == SESS_RESULT_INTERRUPTED) {
				sess_push_interrupted(s);
				status = 1, sig = 0;
			} else if (sig != 0 || status != 0 ||
			           r == SESS_RESULT_FAILED)
				status = 1, sig = 0;
		} else if (s->kind == SESS_FETCH && sig != 0) {
			status = 1, sig = 0;
		}
	}
	if (sig != 0) {
		const char *name = sigabbrev_np(sig);

		log_info(
		    "session %d: killed by SIG%s", s->id, name ? name : "?");
		ssh_channel_request_send_exit_signal(
		    s->chan, name ? name : "KILL", 0, "", "");
	} else {
		log_info("session %d: exit status %d", s->id, status);
		ssh_channel_request_send_exit_status(s->chan, status);
	}
	ssh_channel_send_eof(s->chan);
	ssh_channel_close(s->chan);
	s->exit_sent = 1;
	sess_set_state(s, SESS_EXIT);
}

/* Ends the child's process group: SIGTERM, then SIGKILL, then reaped. */
static void
sess_kill_child(struct sess *s)
{
	int i;

	if (!s->has_child || s->child_done)
		return;
	kill(-s->child.pid, SIGTERM);
	for (i = 0; i < SSHD_KILL_GRACE * 10; i++) {
		if (waitpid(s->child.pid, &s->wstatus, WNOHANG) == s->child.pid)
			break;
		usleep(100000);
	}
	if (i == SSHD_KILL_GRACE * 10) {
		kill(-s->child.pid, SIGKILL);
		while (waitpid(s->child.pid, &s->wstatus, 0) == -1 &&
		       errno == EINTR)
			;
	}
	s->child_done = 1;
	log_info("session %d: child %d ended", s->id, (int)s->child.pid);
}

static int
sess_gone(struct sess *s)
{
	return !ssh_is_connected(s->ssh) ||
	       (ssh_get_status(s->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR));
}

/* The bridge, until the client has the exit status and hangs up. */
static void
sess_loop(struct sess *s)
{
	struct timespec t0 = {0, 0}, now;
	time_t keepalive = time(NULL);
	int rc;

	for (;;) {
		rc = ssh_event_dopoll(s->ev, SESS_POLL_MS);
		/* a quiet command (logs -f) must not let a NAT or firewall
		 * on the way drop the connection */
		if (!s->exit_sent && time(NULL) - keepalive >= SSHD_KEEPALIVE) {
			(void)ssh_send_keepalive(s->ssh);
			keepalive = time(NULL);
		}
		if (s->exit_sent) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (rc == SSH_ERROR || sess_gone(s) ||
			    (now.tv_sec - t0.tv_sec) * 1000 +
			            (now.tv_nsec - t0.tv_nsec) / 1000000 >
			        SSHD_LINGER_MS)
				return;
			continue;
		}
		if (rc == SSH_ERROR || sess_gone(s) || s->chan_closed) {
			log_info("session %d: client gone", s->id);
			sess_kill_child(s);
			return;
		}
		if (sess_stop) {
			log_info("session %d: server stopping", s->id);
			sess_kill_child(s);
			return;
		}
		if (s->stdin_ready)
			sess_pump_stdin(s);
		sess_watch_output(s);
		if (s->has_child && !s->child_done &&
		    waitpid(s->child.pid, &s->wstatus, WNOHANG) ==
		        s->child.pid) {
			s->child_done = 1;
			s->last_output = time(NULL);
		}
		/* A stray daemon holding the pipes must not hang the push. */
		if (s->child_done && s->out_watched + s->err_watched > 0 &&
		    time(NULL) - s->last_output > SESS_DRAIN_TIMEOUT) {
			log_warn("session %d: output still open after the "
			         "command ended; closing it",
			    s->id);
			if (s->out_watched)
				sess_unwatch(s, s->child.out_fd, 1);
			if (s->err_watched)
				sess_unwatch(s, s->child.err_fd, 1);
		}
		if ((!s->has_child || s->child_done) && s->child.out_fd < 0 &&
		    s->child.err_fd < 0) {
			sess_close_stdin(s);
			sess_send_exit(s);
			clock_gettime(CLOCK_MONOTONIC, &t0);
		}
	}
}

/* --- the session -------------------------------------------------------- */

static void
sess_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sess_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* SIGALRM keeps its default: an expired auth deadline ends us. */
	sigaction(SIGALRM, &sa, NULL);
}

int
sshd_session_run(ssh_session ssh, const struct sshd_listener_ctx *lc)
{
	struct sess *s;
	int rc = 1;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		log_error("session %d: out of memory", lc->id);
		return 1;
	}
	s->id = lc->id;
	s->peer = lc->peer;
	s->ssh = ssh;
	s->state = SESS_KEX;
	s->child.pid = -1;
	s->child.in_fd = s->child.out_fd = s->child.err_fd = -1;
	sess_signals();
	log_info("session %d: connection from %s", s->id, s->peer);

	if (state_open(&s->st, home_dir()) == -1) {
		log_error("session %d: %s", s->id, err_msg());
		goto out;
	}
	s->scb.userdata = s;
	s->scb.auth_pubkey_function = sess_auth_pubkey;
	s->scb.channel_open_request_session_function = sess_on_channel_open;
	ssh_callbacks_init(&s->scb);
	ssh_set_server_callbacks(ssh, &s->scb);
	ssh_set_auth_methods(ssh, SSH_AUTH_METHOD_PUBLICKEY);

	alarm(SSHD_AUTH_TIMEOUT);
	sess_in_kex = 1;
	if (sess_stop)
		goto out;
	rc = ssh_handle_key_exchange(ssh);
	sess_in_kex = 0;
	if (rc != SSH_OK) {
		rc = 1;
		log_info("session %d: key exchange failed: %s", s->id,
		    ssh_get_error(ssh));
		goto out;
	}
	rc = 1;
	sess_set_state(s, SESS_AUTH);
	if ((s->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(s->ev, ssh) != SSH_OK) {
		log_error("session %d: cannot set up the event loop", s->id);
		goto out;
	}
	while (s->cmd == NULL) {
		if (sess_stop ||
		    ssh_event_dopoll(s->ev, SESS_POLL_MS) == SSH_ERROR ||
		    sess_gone(s)) {
			log_info("session %d: closed before a command", s->id);
			goto out;
		}
	}
	alarm(0);
	sess_start(s);
	sess_loop(s);
	rc = 0;
out:
	alarm(0);
	sess_kill_child(s);
	if (s->result[0] != '\0')
		unlink(s->result);
	if (s->in_watched)
		ssh_event_remove_fd(s->ev, s->child.in_fd);
	if (s->out_watched)
		ssh_event_remove_fd(s->ev, s->child.out_fd);
	if (s->err_watched)
		ssh_event_remove_fd(s->ev, s->child.err_fd);
	sshd_child_close(&s->child);
	if (s->ev) {
		ssh_event_remove_session(s->ev, ssh);
		ssh_event_free(s->ev);
	}
	if (s->st)
		state_close(s->st);
	sess_set_state(s, SESS_CLOSED);
	free(s->cmd);
	free(s);
	return rc;
}
