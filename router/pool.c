/*
 * router/pool.c: idle keep-alive connections to upstreams, kept per
 * upstream address so that a request to an app reuses a connection that
 * the previous response left open instead of paying for a new one.
 *
 * Guarantees: at most pool_per_upstream idle connections per address and
 * pool_max in all (beyond that a connection is closed, not kept); one is
 * handed out most recently used first; one that the upstream closes, or
 * that says anything while idle, is closed at once; none is kept longer
 * than timeout_pool. Each idle fd stays registered with the loop for
 * reading, so taking one out and putting one back costs no system call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "router/router.h"

#define POOL_BUCKETS 256

struct pool_idle {
	struct pool_idle *next; /* in its bucket, most recent first */
	struct pool_bucket *b;
	int fd;
	int64_t since;
};

struct pool_bucket {
	struct pool_bucket *next; /* hash chain */
	struct pool *pool;
	char addr[24];
	struct pool_idle *idle;
	int n;
};

struct pool {
	struct router *rt;
	struct pool_bucket *bucket[POOL_BUCKETS];
	size_t n;
};

static unsigned
pool_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % POOL_BUCKETS;
}

int
pool_new(struct pool **out, struct router *rt)
{
	struct pool *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return err_set("out of memory");
	p->rt = rt;
	*out = p;
	return 0;
}

static void
pool_drop(struct pool *p, struct pool_idle *e)
{
	struct pool_idle **pp;

	for (pp = &e->b->idle; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->b->n--;
	p->n--;
	ev_del(p->rt->loop, e->fd);
	close(e->fd);
	free(e);
}

void
pool_free(struct pool *p)
{
	struct pool_bucket *b, *next;
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < POOL_BUCKETS; i++)
		for (b = p->bucket[i]; b; b = next) {
			next = b->next;
			while (b->idle)
				pool_drop(p, b->idle);
			free(b);
		}
	free(p);
}

static struct pool_bucket *
pool_bucket(struct pool *p, const char *addr, int create)
{
	struct pool_bucket *b;
	unsigned h = pool_hash(addr);

	for (b = p->bucket[h]; b; b = b->next)
		if (strcmp(b->addr, addr) == 0)
			return b;
	if (!create || (b = calloc(1, sizeof *b)) == NULL)
		return NULL;
	strncpy(b->addr, addr, sizeof b->addr - 1);
	b->pool = p;
	b->next = p->bucket[h];
	p->bucket[h] = b;
	return b;
}

/* An idle connection became readable: the upstream closed it, or sent
 * bytes nobody asked for. Either way it is of no more use. */
static void
pool_io(struct ev_loop *loop, int fd, int ready, void *arg)
{
	struct pool_idle *e = arg;
	char c;

	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return; /* a stale wake-up from before it was idle */
	pool_drop(e->b->pool, e);
}

int
pool_get(struct pool *p, const char *addr)
{
	struct pool_bucket *b;
	struct pool_idle *e;
	int fd;

	if (p->n == 0 || (b = pool_bucket(p, addr, 0)) == NULL ||
	    (e = b->idle) == NULL)
		return -1;
	b->idle = e->next;
	b->n--;
	p->n--;
	fd = e->fd;
	free(e);
	return fd;
}

void
pool_put(struct pool *p, const char *addr, int fd)
{
	const struct router_settings *set = &p->rt->set;
	struct pool_bucket *b;
	struct pool_idle *e;

	if (p->n >= (size_t)set->pool_max || p->rt->stopping ||
	    (b = pool_bucket(p, addr, 1)) == NULL ||
	    b->n >= set->pool_per_upstream ||
	    (e = calloc(1, sizeof *e)) == NULL)
		goto drop;
	e->fd = fd;
	e->b = b;
	e->since = ev_now();
	if (ev_set(p->rt->loop, fd, EV_READ, pool_io, e) == -1) {
		free(e);
		goto drop;
	}
	e->next = b->idle;
	b->idle = e;
	b->n++;
	p->n++;
	return;
drop:
	ev_del(p->rt->loop, fd);
	close(fd);
}

void
pool_sweep(struct pool *p, int64_t now)
{
	struct pool_bucket *b;
	struct pool_idle *e, *next;
	int i;

	if (p->n == 0)
		return;
	for (i = 0; i < POOL_BUCKETS; i++)
		for (b = p->bucket[i]; b; b = b->next)
			for (e = b->idle; e; e = next) {
				next = e->next;
				if (now - e->since >= p->rt->set.timeout_pool)
					pool_drop(p, e);
			}
}

size_t
pool_count(const struct pool *p)
{
	return p->n;
}
