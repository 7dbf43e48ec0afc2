/*
 * sshd/sshd.h: minpaas-sshd, the embedded SSH server that takes `git push`
 * and `ssh minpaas <command>`.
 *
 * The listener forks one process per connection (sshd_session_run). That
 * process authenticates the client's public key against the keys in state,
 * takes one exec request, runs it as a child process (git receive-pack, git
 * upload-pack, or a fork running a command of cli/commands.h) whose stdin,
 * stdout and stderr are pipes bridged to the SSH channel, and sends the
 * child's exit status back. No shell is ever involved.
 */
#ifndef MINPAAS_SSHD_H
#define MINPAAS_SSHD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include <libssh/libssh.h>

#include "common/home.h"

#define SSHD_DEFAULT_PORT 2222
#define SSHD_DEFAULT_BIND "0.0.0.0"
#define SSHD_MAXSESSIONS  64   /* concurrent connection processes */
#define SSHD_AUTH_TIMEOUT 30   /* seconds for key exchange, auth and exec */
#define SSHD_LINGER_MS    5000 /* wait for the client to close after exit */
#define SSHD_KILL_GRACE   5    /* seconds between SIGTERM and SIGKILL */
#define SSHD_KEEPALIVE    30   /* seconds between keepalives to the client */
#define SSHD_MAXPUSH                                                           \
	"1g"                  /* largest pack a push may send; git's           \
	                         receive.maxInputSize, $MINPAAS_MAX_PUSH */
#define SSHD_STOP_GRACE 10    /* seconds the listener waits for sessions */
#define SSHD_IOBUF      32768 /* bytes moved per read, either direction */
#define SSHD_MAXENVVAL  64    /* longest GIT_PROTOCOL value accepted */
#define SSHD_HOSTKEY    "ssh_host_ed25519_key"
#define SSHD_HOOK_NAME  "minpaas-hook"
#define SSHD_GIT        "/usr/bin/git"

#define GITCMD_MAXPATH  256 /* longest repository path in a git command */

/* gitcmd.c: the exec line of git's SSH transport. */
enum gitcmd_kind {
	GITCMD_RECEIVE_PACK = 1, /* git push */
	GITCMD_UPLOAD_PACK       /* git clone / fetch */
};

struct gitcmd {
	enum gitcmd_kind kind;
	char app[APP_MAXNAME + 1];
};

/*
 * Parses `git-receive-pack '<path>'` (or `git receive-pack`) and the same
 * for upload-pack. The path is unquoted as git quotes it ('...' with '\''
 * and '\!' escapes); a leading "/", a leading "~/" and a trailing ".git" are
 * stripped and the rest must be a valid app name. Returns 1 with *out filled
 * for a git command, 0 when line is not a git transport command at all, and
 * -1 with err_set() (a message fit to show the user) for a git command that
 * is malformed or names an invalid app.
 */
int gitcmd_parse(const char *line, struct gitcmd *out);
/* A copy of client-supplied s fit for a message or the log: printable ASCII
 * only, cut with "..." to fit outlen (at least 5). Returns out. */
const char *gitcmd_shown(const char *s, char *out, size_t outlen);

/* hostkey.c */
/*
 * Loads <home>/ssh_host_ed25519_key, generating it (mode 0600) on first
 * start. On success *out is the private key (free with ssh_key_free, or
 * hand it to a bind) and fp holds its "SHA256:..." fingerprint.
 */
int sshd_hostkey_load(ssh_key *out, char *fp, size_t fplen);

/* spawn.c: the children a session runs. */
struct sshd_child {
	pid_t pid;
	int in_fd;  /* our end of the child's stdin, O_NONBLOCK */
	int out_fd; /* our end of its stdout */
	int err_fd; /* our end of its stderr */
};

/*
 * Forks a child in its own process group with pipes on 0/1/2. In the child
 * fn(arg) runs with SIGPIPE and SIGCHLD at their defaults and every other
 * descriptor closed; its return value is the exit status (fn may also exec).
 * Returns 0 with *out filled, or -1 with err_set().
 */
int sshd_child_spawn(struct sshd_child *out, int (*fn)(void *), void *arg);

/* Closes our pipe ends that are still open. */
void sshd_child_close(struct sshd_child *c);

/* A NULL-terminated argv/envp for execve, built by the session. */
struct sshd_exec {
	const char *argv[8];
	char *envp[32];
	int envc;
};

/* Adds NAME=value to e (value copied); -1 with err_set() when full. */
int sshd_exec_setenv(struct sshd_exec *e, const char *name, const char *value);
/* Adds NAME=value when NAME is set in our own environment. */
int sshd_exec_passenv(struct sshd_exec *e, const char *name);
void sshd_exec_release(struct sshd_exec *e);

/* Child body: execve(e->argv[0], e->argv, e->envp). Never returns 0. */
int sshd_exec_run(void *e);

/*
 * Runs argv (absolute program path) with envp to completion, with stdin on
 * /dev/null and stdout/stderr on our stderr (the log). Returns the exit
 * status, or -1 with err_set() when it could not be run.
 */
int sshd_run_wait(const char *const argv[], char *const envp[]);

/*
 * Creates <home>/repos/<app>.git (bare, HEAD on main) when missing and
 * points its hooks/post-receive at the minpaas-hook beside this binary.
 * Writes the repository path into repo. 0 or -1 with err_set().
 */
int sshd_repo_prepare(const char *app, char *repo, size_t repolen);

/* session.c */
struct sshd_listener_ctx {
	int id;        /* connection number, for log lines */
	char peer[96]; /* client address */
};

/*
 * Serves one accepted connection to completion: key exchange, public-key
 * auth, one exec request, its child, exit status. Runs in the forked
 * connection process; returns the process's exit status.
 */
int sshd_session_run(ssh_session ssh, const struct sshd_listener_ctx *lc);

#endif
