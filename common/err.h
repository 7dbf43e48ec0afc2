/*
 * common/err.h: one error message per thread, libgit2 style.
 *
 * Library-like modules never print: on failure they record a message with
 * err_set() and return -1; the layer that decides (a command, the hook's main,
 * the router's connection handler) reads it with err_msg() and reports it.
 */
#ifndef MINPAAS_ERR_H
#define MINPAAS_ERR_H

#define ERR_MAXLEN 1024

/* Records a message (printf format) and returns -1, so `return err_set(..)`. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message recorded on this thread, or "" when there is none. */
const char *err_msg(void);

/* Forgets the last message. */
void err_clear(void);

#endif
