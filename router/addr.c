/*
 * router/addr.c: socket addresses and the listening socket: parses the
 * "127.0.0.1:port" / "[::1]:port" strings that routes hold, and binds the
 * router's listener (with SO_REUSEPORT when several workers share a port).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "router/router.h"

void
conn_copy(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int
conn_sockaddr(const char *up, void *out, unsigned *sl)
{
	struct sockaddr_storage *ss = out;
	char host[64];
	const char *colon;
	long port;
	char *end;

	memset(ss, 0, sizeof *ss);
	if ((colon = strrchr(up, ':')) == NULL)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return -1;
	if (up[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (colon - up < 3 || colon[-1] != ']')
			return -1;
		conn_copy(host, sizeof host, up + 1, colon - up - 2);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		conn_copy(host, sizeof host, up, colon - up);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof *s4;
	}
	return 0;
}

int
conn_listen(const char *addr, int port, int reuseport)
{
	struct sockaddr_storage ss;
	unsigned sl;
	int fd, one = 1;
	char spec[80];

	snprintf(spec, sizeof spec, strchr(addr, ':') ? "[%s]:%d" : "%s:%d",
	    addr, port);
	if (conn_sockaddr(spec, &ss, &sl) == -1)
		return err_set("bad listen address '%s'", addr);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set("socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1) {
		err_set("SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 4096) == -1) {
		err_set("cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
