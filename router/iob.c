/*
 * router/iob.c: the growable byte buffers a connection reads into and
 * writes from. Bytes live in data[off, len); consuming moves off, and a
 * buffer that empties starts over at 0, so a steady stream reuses the same
 * storage without moving it. A buffer with a cache takes its first block
 * from there and gives it back when freed.
 */
#include <stdlib.h>
#include <string.h>

#include "router/router.h"

size_t
iob_pending(const struct iob *b)
{
	return b->len - b->off;
}

char *
iob_reserve(struct iob *b, size_t n)
{
	char *d;
	size_t cap;

	if (b->cap - b->len >= n)
		return b->data + b->len;
	if (b->data == NULL && b->cache != NULL && b->cache->n > 0 &&
	    n <= ROUTER_READSIZE) {
		b->data = b->cache->block[--b->cache->n];
		b->cap = ROUTER_READSIZE;
		return b->data;
	}
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return b->data + b->len;
	}
	cap = b->cap ? b->cap * 2 : ROUTER_READSIZE;
	while (cap - b->len < n)
		cap *= 2;
	if ((d = realloc(b->data, cap)) == NULL)
		return NULL;
	b->data = d;
	b->cap = cap;
	return d + b->len;
}

int
iob_put(struct iob *b, const char *p, size_t n)
{
	char *d;

	if (n == 0)
		return 0;
	if ((d = iob_reserve(b, n)) == NULL)
		return -1;
	memcpy(d, p, n);
	b->len += n;
	return 0;
}

void
iob_consume(struct iob *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
iob_free(struct iob *b)
{
	struct iob_cache *cache = b->cache;

	if (b->data != NULL && cache != NULL && b->cap == ROUTER_READSIZE &&
	    cache->n < ROUTER_IOBCACHE)
		cache->block[cache->n++] = b->data;
	else
		free(b->data);
	memset(b, 0, sizeof *b);
	b->cache = cache;
}

void
iob_cache_clear(struct iob_cache *cache)
{
	while (cache->n > 0)
		free(cache->block[--cache->n]);
}
