/*
 * router/ev.c: the router's event loop, a thin level-triggered wrapper over
 * epoll in the manner of Redis's ae. This is the only file that calls
 * epoll_*.
 *
 * Guarantees: callbacks are looked up by fd at dispatch time, so an fd that
 * a callback removed (ev_del) earlier in the same batch is not reported
 * again; a reused fd number may see one spurious wake-up, which a
 * non-blocking read or write answers with EAGAIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "router/router.h"

#define EV_BATCH 256

struct ev_slot {
	int mask;
	ev_fn *fn;
	void *arg;
};

struct ev_loop {
	int epfd;
	struct ev_slot *slot; /* indexed by fd */
	int nslot;
	struct epoll_event events[EV_BATCH];
};

int
ev_loop_new(struct ev_loop **out)
{
	struct ev_loop *loop;

	if ((loop = calloc(1, sizeof *loop)) == NULL)
		return err_set("out of memory");
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(loop);
		return err_set("epoll_create1: %s", strerror(errno));
	}
	*out = loop;
	return 0;
}

void
ev_loop_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop->slot);
	free(loop);
}

static int
ev_grow(struct ev_loop *loop, int fd)
{
	struct ev_slot *s;
	int n;

	if (fd < loop->nslot)
		return 0;
	n = loop->nslot ? loop->nslot : 64;
	while (n <= fd)
		n *= 2;
	if ((s = realloc(loop->slot, n * sizeof *s)) == NULL)
		return err_set("out of memory");
	memset(s + loop->nslot, 0, (n - loop->nslot) * sizeof *s);
	loop->slot = s;
	loop->nslot = n;
	return 0;
}

int
ev_set(struct ev_loop *loop, int fd, int mask, ev_fn *fn, void *arg)
{
	struct epoll_event e;
	struct ev_slot *s;
	int op;

	if (fd < 0 || ev_grow(loop, fd) == -1)
		return fd < 0 ? err_set("bad fd") : -1;
	s = &loop->slot[fd];
	s->fn = fn;
	s->arg = arg;
	if (s->mask == mask && s->fn != NULL)
		return 0;
	if (mask == 0) {
		ev_del(loop, fd);
		s->fn = fn;
		s->arg = arg;
		return 0;
	}
	memset(&e, 0, sizeof e);
	e.events = (mask & EV_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	           (mask & EV_WRITE ? EPOLLOUT : 0) |
	           (mask & EV_HUP ? EPOLLRDHUP : 0);
	e.data.fd = fd;
	op = s->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(loop->epfd, op, fd, &e) == -1) {
		if (op == EPOLL_CTL_ADD && errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else if (op == EPOLL_CTL_MOD && errno == ENOENT)
			op = EPOLL_CTL_ADD;
		else
			return err_set("epoll_ctl: %s", strerror(errno));
		if (epoll_ctl(loop->epfd, op, fd, &e) == -1)
			return err_set("epoll_ctl: %s", strerror(errno));
	}
	s->mask = mask;
	return 0;
}

void
ev_del(struct ev_loop *loop, int fd)
{
	struct ev_slot *s;

	if (fd < 0 || fd >= loop->nslot)
		return;
	s = &loop->slot[fd];
	if (s->mask != 0)
		(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->mask = 0;
	s->fn = NULL;
	s->arg = NULL;
}

int
ev_poll(struct ev_loop *loop, int timeout_ms)
{
	int n, i;

	n = epoll_wait(loop->epfd, loop->events, EV_BATCH, timeout_ms);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		return err_set("epoll_wait: %s", strerror(errno));
	}
	for (i = 0; i < n; i++) {
		struct epoll_event *e = &loop->events[i];
		int fd = e->data.fd, ready = 0;
		struct ev_slot *s;

		if (fd >= loop->nslot)
			continue;
		s = &loop->slot[fd];
		if (e->events & (EPOLLIN | EPOLLRDHUP))
			ready |= EV_READ;
		if (e->events & EPOLLOUT)
			ready |= EV_WRITE;
		if (e->events & (EPOLLERR | EPOLLHUP))
			ready |= EV_READ | EV_WRITE | EV_HUP;
		if (e->events & EPOLLRDHUP)
			ready |= EV_HUP;
		ready &= s->mask;
		if (ready && s->fn)
			s->fn(loop, fd, ready, s->arg);
	}
	return n;
}

int64_t
ev_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
