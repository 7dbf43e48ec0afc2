/*
 * common/buf.h: a growable byte buffer for what minpaas collects piece by
 * piece (Docker's answers, build logs, command output). Guarantees: data is
 * NUL-terminated whenever it is non-NULL, so text can be used as a C string;
 * a failed append leaves the buffer as it was. It sets no cap of its own:
 * each caller checks its named limit.
 */
#ifndef MINPAAS_BUF_H
#define MINPAAS_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Each returns 0, or -1 with err_set() when memory runs out. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Empties b, keeping its storage for reuse. */
void buf_reset(struct buf *b);
/* Frees the storage; the struct may be reused after. */
void buf_release(struct buf *b);

#endif
