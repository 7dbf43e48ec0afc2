/*
 * bench/upstream.c: minpaas-bench-upstream, the tiny HTTP/1.1 backend the
 * router benchmark puts behind every proxy: one process, one epoll loop,
 * keep-alive, answers every request (bodies are not expected) with a fixed
 * 13-byte body. It is deliberately cheaper than any proxy in front of it.
 *
 *   minpaas-bench-upstream PORT [ADDR]    (ADDR 127.0.0.1 by default; an
 *                                         app in a container binds 0.0.0.0)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define UP_BUF 8192

static const char up_resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 13\r\n\r\nHello, world\n";

struct up_conn {
	int fd;
	size_t len;
	char buf[UP_BUF];
};

static void
up_serve(int ep, struct up_conn *c)
{
	char out[64 * (sizeof up_resp - 1)];
	size_t o = 0, i, start;
	ssize_t n;

	n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		free(c);
		return;
	}
	c->len += (size_t)n;
	start = 0;
	for (i = 3; i < c->len; i++)
		if (c->buf[i] == '\n' && c->buf[i - 1] == '\r' &&
		    c->buf[i - 2] == '\n' && c->buf[i - 3] == '\r') {
			if (o + sizeof up_resp - 1 <= sizeof out) {
				memcpy(out + o, up_resp, sizeof up_resp - 1);
				o += sizeof up_resp - 1;
			}
			start = i + 1;
		}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == sizeof c->buf)
		c->len = 0; /* a head too large: drop it */
	if (o && write(c->fd, out, o) < 0) {
		/* the client is gone; its read will say so */
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	int lfd, ep, one = 1, n, i;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: minpaas-bench-upstream PORT [ADDR]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 3 && inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "minpaas-bench-upstream: bad address\n");
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(lfd, 4096) == -1) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct up_conn *c = evs[i].data.ptr;
			int fd;

			if (c != NULL) {
				up_serve(ep, c);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) !=
			       -1) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof one);
				if ((c = calloc(1, sizeof *c)) == NULL) {
					close(fd);
					continue;
				}
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
}
