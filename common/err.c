/*
 * common/err.c: the per-thread last error message (see err.h). Guarantees:
 * err_set never fails and never allocates; a message is cut at ERR_MAXLEN
 * bytes; a new message may quote the current one (err_msg() as an argument).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

static __thread char err_buf[ERR_MAXLEN];

int
err_set(const char *fmt, ...)
{
	char msg[ERR_MAXLEN];
	va_list ap;

	/* formatted aside first: an argument may be err_msg() itself */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(err_buf, msg, sizeof err_buf);
	return -1;
}

const char *
err_msg(void)
{
	return err_buf;
}

void
err_clear(void)
{
	err_buf[0] = '\0';
}
