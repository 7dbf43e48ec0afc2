/*
 * common/err.c: the per-thread last error message (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/err.h"

static __thread char err_buf[ERR_MAXLEN];

int
err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	va_end(ap);
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
