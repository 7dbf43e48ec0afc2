/*
 * common/log.c: timestamped log lines on stderr, written with one write(2)
 * each so lines from several processes sharing stderr do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static const char *log_prog = "minpaas";
static enum log_level log_min = LOG_INFO;

void
log_init(const char *progname, enum log_level min)
{
	log_prog = progname;
	log_min = min;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	char line[2048], stamp[32];
	struct tm tm;
	time_t now;
	va_list ap;
	int n, m;

	if (lvl < log_min)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof line, "%s %s[%d] %s: ", stamp, log_prog,
	    (int)getpid(), names[lvl]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof line - n - 1 ? m : (int)(sizeof line - n - 2);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}
