/*
 * common/progress.c: progress_say, the one writer of progress lines
 * (common/progress.h). Guarantees: a line is written whole and flushed
 * before the call returns.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/progress.h"

void
progress_say(FILE *out, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	if (out == NULL)
		return;
	fputs(prefix, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}
