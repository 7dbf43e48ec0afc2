/*
 * common/home.c: MINPAAS_HOME layout, name validation and the per-app lock
 * (see home.h). Guarantees: a path that does not fit its buffer is an
 * error, never truncated; deploys of one app are serialized by one flock
 * that the kernel drops when its holder dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/home.h"

const char *
home_dir(void)
{
	const char *h = getenv("MINPAAS_HOME");

	return h && *h ? h : HOME_DEFAULT;
}

int
home_path(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(out, outlen, "%s/", home_dir());
	if (n < 0 || (size_t)n >= outlen)
		return err_set("path too long");
	va_start(ap, fmt);
	m = vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= outlen - n)
		return err_set("path too long");
	return 0;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[HOME_MAXPATH];
	char *p;

	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return err_set("path too long: %s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return err_set(
			    "cannot create '%s': %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return err_set("cannot create '%s': %s", tmp, strerror(errno));
	return 0;
}

int
home_prepare(void)
{
	static const char *subdirs[] = {"state", "repos", "locks"};
	char path[HOME_MAXPATH];
	size_t i;

	if (mkdir_p(home_dir(), 0755) == -1)
		return -1;
	for (i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		if (home_path(path, sizeof path, "%s", subdirs[i]) == -1 ||
		    mkdir_p(path, 0750) == -1)
			return -1;
	}
	return 0;
}

int
app_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > APP_MAXNAME || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (i = 1; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '-'))
			return 0;
	}
	return 1;
}

/* Opens app's lock file into *fd, its path into path; 0 or -1. */
static int
home_lock_open(const char *app, char *path, size_t len, int *fd)
{
	if (home_path(path, len, "locks/%s.lock", app) == -1)
		return -1;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1)
		return err_set("cannot open '%s': %s", path, strerror(errno));
	return 0;
}

int
home_trylock_app(const char *app)
{
	char path[HOME_MAXPATH];
	int fd, e;

	if (home_lock_open(app, path, sizeof path, &fd) == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	e = errno;
	close(fd);
	if (e == EWOULDBLOCK)
		return HOME_LOCK_BUSY;
	return err_set("cannot lock '%s': %s", path, strerror(e));
}

int
home_lock_app(const char *app, void (*waiting)(void *), void *arg)
{
	char path[HOME_MAXPATH];
	int fd;

	if ((fd = home_trylock_app(app)) != HOME_LOCK_BUSY)
		return fd;
	if (waiting)
		waiting(arg);
	if (home_lock_open(app, path, sizeof path, &fd) == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			close(fd);
			return err_set(
			    "cannot lock '%s': %s", path, strerror(errno));
		}
	}
	return fd;
}
