/*
 * router/addr.c: socket addresses and the listening socket: parses the
 * "127.0.0.1:port" / "[::1]:port" strings that routes hold, binds the
 * router's listener (with SO_REUSEPORT when several workers share a port),
 * and holds the trusted-proxies networks, the clients whose forwarding
 * fields are believed.
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

/* Parses one "ADDR" or "ADDR/BITS" into n; 0 or -1. */
static int
trust_net(struct trust_net *n, const char *s, size_t len)
{
	char buf[64], *slash, *end;
	long bits;
	int max;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(n, 0, sizeof *n);
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL) {
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits < 0 || bits > max)
			return -1;
	}
	n->bits = (int)bits;
	return 0;
}

int
trust_parse(struct router_settings *s, const char *list)
{
	const char *p = list, *q;

	s->ntrusted = 0;
	while (*p != '\0') {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		if (q > p) {
			if (s->ntrusted >= ROUTER_MAXTRUSTED)
				return err_set("more than %d trusted networks",
				    ROUTER_MAXTRUSTED);
			if (trust_net(&s->trusted[s->ntrusted], p,
			        (size_t)(q - p)) == -1)
				return err_set("bad trusted network '%.*s' "
				               "(want ADDR or ADDR/BITS)",
				    (int)(q - p), p);
			s->ntrusted++;
		}
		p = *q ? q + 1 : q;
	}
	return 0;
}

/* 1 when the first bits of a and b agree. */
static int
trust_prefix(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	return rest == 0 ||
	       ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
trust_has(const struct router_settings *s, const void *addr)
{
	const struct sockaddr_storage *ss = addr;
	const unsigned char *a;
	int family;
	size_t i;

	if (ss->ss_family == AF_INET) {
		family = AF_INET;
		a = (const unsigned char *)&((const struct sockaddr_in *)ss)
		        ->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;
		family = AF_INET6;
		a = (const unsigned char *)a6;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			a += 12;
		}
	} else {
		return 0;
	}
	for (i = 0; i < s->ntrusted; i++)
		if (s->trusted[i].family == family &&
		    trust_prefix(a, s->trusted[i].addr, s->trusted[i].bits))
			return 1;
	return 0;
}
