/*
 * sshd/spawn.c: the processes a session starts, and the bare repository
 * they work on.
 *
 * Children are forked, never run through a shell. Each one gets pipes on
 * fds 0/1/2 and nothing else (the client's socket and LMDB's descriptors are
 * closed), default SIGPIPE and SIGCHLD dispositions (ignored ones would
 * survive exec, and receive-pack waits for its hooks), and its own process
 * group, so a session can end the whole tree when its client goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "common/progress.h"
#include "sshd/sshd.h"

/* What every child starts from: default signals, nothing blocked. */
static void
sshd_child_reset_signals(void)
{
	static const int sigs[] = {
	    SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGALRM};
	sigset_t none;
	size_t i;

	alarm(0);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
sshd_close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int
sshd_child_spawn(struct sshd_child *out, int (*fn)(void *), void *arg)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
	pid_t pid;
	int status;

	out->pid = -1;
	out->in_fd = out->out_fd = out->err_fd = -1;
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(o, O_CLOEXEC) == -1 ||
	    pipe2(e, O_CLOEXEC) == -1) {
		err_set("cannot create pipes: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		err_set("cannot fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		setpgid(0, 0);
		sshd_child_reset_signals();
		if (dup2(in[0], 0) == -1 || dup2(o[1], 1) == -1 ||
		    dup2(e[1], 2) == -1)
			_exit(127);
		close_range(3, ~0U, 0);
		status = fn(arg);
		fflush(NULL);
		_exit(status & 0xff);
	}
	/* Also here, so a kill(-pid) right after fork cannot miss. */
	setpgid(pid, pid);
	close(in[0]);
	close(o[1]);
	close(e[1]);
	out->pid = pid;
	out->in_fd = in[1];
	out->out_fd = o[0];
	out->err_fd = e[0];
	fcntl(out->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(out->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(out->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	sshd_close_pair(in);
	sshd_close_pair(o);
	sshd_close_pair(e);
	return -1;
}

void
sshd_child_close(struct sshd_child *c)
{
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->in_fd = c->out_fd = c->err_fd = -1;
}

int
sshd_exec_setenv(struct sshd_exec *e, const char *name, const char *value)
{
	size_t max = sizeof e->envp / sizeof e->envp[0] - 1;
	char *kv;

	if ((size_t)e->envc >= max)
		return err_set("too many environment variables");
	if (asprintf(&kv, "%s=%s", name, value) == -1)
		return err_set("out of memory");
	e->envp[e->envc++] = kv;
	e->envp[e->envc] = NULL;
	return 0;
}

int
sshd_exec_passenv(struct sshd_exec *e, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		return 0;
	return sshd_exec_setenv(e, name, v);
}

void
sshd_exec_release(struct sshd_exec *e)
{
	int i;

	for (i = 0; i < e->envc; i++)
		free(e->envp[i]);
	e->envc = 0;
	e->envp[0] = NULL;
}

int
sshd_exec_run(void *arg)
{
	struct sshd_exec *e = arg;
	static const char msg[] =
	    PROGRESS_FAIL "cannot run git on the server\n";

	execve(e->argv[0], (char *const *)e->argv, e->envp);
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* the client is gone; nothing to tell */
	}
	return 127;
}

int
sshd_run_wait(const char *const argv[], char *const envp[])
{
	pid_t pid;
	int fd, status;

	if ((pid = fork()) == -1)
		return err_set("cannot fork: %s", strerror(errno));
	if (pid == 0) {
		sshd_child_reset_signals();
		if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		dup2(2, 1);
		close_range(3, ~0U, 0);
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return err_set(
			    "cannot wait for %s: %s", argv[0], strerror(errno));
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return err_set("%s killed by signal %d", argv[0], WTERMSIG(status));
}

/* "<dir of this binary>/minpaas-hook" */
static int
sshd_hook_path(char *out, size_t outlen)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return err_set(
		    "cannot read /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return err_set("odd executable path '%s'", exe);
	*slash = '\0';
	if (snprintf(out, outlen, "%s/%s", exe, SSHD_HOOK_NAME) >= (int)outlen)
		return err_set("hook path too long");
	return 0;
}

int
sshd_repo_prepare(const char *app, char *repo, size_t repolen)
{
	char hook[HOME_MAXPATH], link[HOME_MAXPATH], tmp[HOME_MAXPATH];
	char *envp[3] = {NULL, NULL, NULL};
	const char *argv[] = {
	    SSHD_GIT, "init", "--bare", "-q", "-b", "main", repo, NULL};
	const char *home = getenv("HOME");
	struct stat sb;
	int rc = -1, st;

	if (home_path(repo, repolen, "repos/%s.git", app) == -1)
		return -1;
	if (stat(repo, &sb) == -1) {
		if (errno != ENOENT)
			return err_set(
			    "cannot stat '%s': %s", repo, strerror(errno));
		if (asprintf(&envp[0], "PATH=%s",
		        getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin") ==
		        -1 ||
		    asprintf(&envp[1], "HOME=%s", home ? home : "/") == -1) {
			err_set("out of memory");
			goto out;
		}
		if ((st = sshd_run_wait(argv, envp)) == -1)
			goto out;
		if (st != 0) {
			err_set("git init '%s' exited with %d", repo, st);
			goto out;
		}
	}

	/* Point hooks/post-receive at the hook, atomically (rename). */
	if (sshd_hook_path(hook, sizeof hook) == -1)
		goto out;
	if (access(hook, X_OK) == -1)
		log_warn(
		    "%s is missing: pushes to '%s' will not deploy", hook, app);
	if (snprintf(link, sizeof link, "%s/hooks", repo) >= (int)sizeof link)
		goto toolong;
	if (mkdir(link, 0755) == -1 && errno != EEXIST) {
		err_set("cannot create '%s': %s", link, strerror(errno));
		goto out;
	}
	if (snprintf(link, sizeof link, "%s/hooks/post-receive", repo) >=
	        (int)sizeof link ||
	    snprintf(tmp, sizeof tmp, "%s/hooks/.post-receive.%d", repo,
	        (int)getpid()) >= (int)sizeof tmp)
		goto toolong;
	unlink(tmp);
	if (symlink(hook, tmp) == -1) {
		err_set("cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, link) == -1) {
		err_set("cannot install '%s': %s", link, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
	goto out;
toolong:
	err_set("repository path too long");
out:
	free(envp[0]);
	free(envp[1]);
	return rc;
}
