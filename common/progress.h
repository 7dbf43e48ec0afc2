/*
 * common/progress.h: the shape of what a user reads during a push, a release
 * or a command, as Heroku prints it: "-----> " before a step, 7 spaces
 * before a detail, " !     " before an error. Every such line goes through
 * these prefixes, so clients and tests can match them.
 *
 * STEP(to, fmt, ...), DETAIL(to, ...) and FAIL(to, ...) print one line with
 * progress_say(to, prefix, ...); a file whose lines go elsewhere (the hook
 * keeps them as the build log too) defines PROGRESS_SAY(to, prefix, ...)
 * before including this header.
 */
#ifndef MINPAAS_PROGRESS_H
#define MINPAAS_PROGRESS_H

#include <stdio.h>

#define PROGRESS_STEP   "-----> "
#define PROGRESS_DETAIL "       "
#define PROGRESS_FAIL   " !     "

/* One line to out: prefix, the formatted text and a newline, flushed so it
 * reaches the client as it happens. Nothing when out is NULL. */
void progress_say(FILE *out, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef PROGRESS_SAY
#define PROGRESS_SAY progress_say
#endif

#define STEP(to, ...)   PROGRESS_SAY(to, PROGRESS_STEP, __VA_ARGS__)
#define DETAIL(to, ...) PROGRESS_SAY(to, PROGRESS_DETAIL, __VA_ARGS__)
#define FAIL(to, ...)   PROGRESS_SAY(to, PROGRESS_FAIL, __VA_ARGS__)

#endif
