/*
 * router/proxy.c: the router's connections, from accept to close.
 *
 * A client connection reads one request head, looks its Host up in the
 * route table, connects to one of the route's upstreams, sends the rewritten
 * head and streams the body, then streams the response back; with keep-alive
 * it goes back for the next request. Pipelined requests wait in the input
 * buffer until the current response is done, so answers keep their order.
 *
 * Guarantees:
 *  - a connection's state changes only in conn_set_state(), which checks
 *    the transition (head -> connect -> proxy -> head ..., any -> closing
 *    -> linger -> closed);
 *  - a failing client or upstream ends that one connection (an error status
 *    when nothing of the response was sent yet, a close otherwise), never
 *    the process;
 *  - neither side is read while the other side's output holds more than
 *    ROUTER_MAXBUF bytes, so a connection buffers a bounded amount;
 *  - buffers are allocated when bytes arrive and freed when idle;
 *  - every wait has a deadline (see ROUTER_TIMEOUT_* in router.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "router/router.h"
#include "state/state.h"

enum conn_state {
	CONN_HEAD,    /* reading a request head (or idle between requests) */
	CONN_CONNECT, /* connecting to an upstream */
	CONN_PROXY,   /* request and response flowing */
	CONN_CLOSING, /* flushing the last bytes to the client */
	CONN_LINGER,  /* write side shut; draining input before close */
	CONN_CLOSED
};

static const char *conn_state_name[] = {
    "head", "connect", "proxy", "closing", "linger", "closed"};

struct conn {
	struct router *rt;
	struct conn *prev, *next;
	unsigned id;
	enum conn_state state;
	int fd, ufd;         /* client, upstream (-1 when none) */
	int fdmask, ufdmask; /* interest registered with the loop */
	int64_t deadline;

	struct buf cin;  /* client bytes not yet used */
	struct buf cout; /* bytes for the client, from coff */
	size_t coff;
	struct buf uout; /* bytes for the upstream, from uoff */
	size_t uoff;
	struct buf uin; /* upstream response head being gathered */
	size_t cscan, uscan;

	/* The request in flight. */
	int inflight;
	int hup_seen; /* the client shut its side with bytes still unread */
	int minor;    /* client's HTTP/1.<minor> */
	int keep;     /* the client allows keep-alive */
	int is_head;  /* HEAD request: the response has no body */
	int req_done; /* the whole request body went to uout */
	enum http_framing rframing;
	uint64_t rleft;
	struct http_chunked rchunk;
	struct state_route route;
	unsigned rrbase;
	int tries;
	int64_t start;

	/* Its response. */
	int resp_started; /* its head went to cout */
	int resp_keep;    /* it told the client the connection stays */
	enum http_framing sframing;
	uint64_t sleft;
	struct http_chunked schunk;
	int status;
	uint64_t bytes;

	char method[ROUTER_MAXMETHOD + 1];
	char host[256];
	char path[256];
	char upstream[24];
	char ip[INET6_ADDRSTRLEN];
};

static void conn_io(struct ev_loop *, int, int, void *);
static void conn_pump(struct conn *);

static size_t
pending(const struct buf *b, size_t off)
{
	return b->len - off;
}

/*
 * The one place a connection changes state. Returns 0, or -1 (state left
 * as it was, an error logged) when the transition is not one of the
 * allowed ones.
 */
static int
conn_set_state(struct conn *c, enum conn_state to)
{
	static const unsigned allowed[] = {
	    [CONN_HEAD] =
	        1u << CONN_CONNECT | 1u << CONN_CLOSING | 1u << CONN_CLOSED,
	    [CONN_CONNECT] =
	        1u << CONN_PROXY | 1u << CONN_CLOSING | 1u << CONN_CLOSED,
	    [CONN_PROXY] =
	        1u << CONN_HEAD | 1u << CONN_CLOSING | 1u << CONN_CLOSED,
	    [CONN_CLOSING] = 1u << CONN_LINGER | 1u << CONN_CLOSED,
	    [CONN_LINGER] = 1u << CONN_CLOSED,
	    [CONN_CLOSED] = 0,
	};

	if (!(allowed[c->state] & (1u << to))) {
		log_error("conn %u: bad transition %s -> %s", c->id,
		    conn_state_name[c->state], conn_state_name[to]);
		return -1;
	}
	log_debug("conn %u: %s -> %s", c->id, conn_state_name[c->state],
	    conn_state_name[to]);
	c->state = to;
	return 0;
}

static void
conn_access_log(struct conn *c, int status)
{
	if (!c->inflight)
		return;
	c->inflight = 0;
	if (!c->rt->access_log)
		return;
	log_info("%s %s %s %d %llu %s %lldms", c->method[0] ? c->method : "-",
	    c->host[0] ? c->host : "-", c->path[0] ? c->path : "-", status,
	    (unsigned long long)c->bytes, c->upstream[0] ? c->upstream : "-",
	    (long long)(ev_now() - c->start));
}

static void
conn_close_upstream(struct conn *c)
{
	if (c->ufd != -1) {
		ev_del(c->rt->loop, c->ufd);
		close(c->ufd);
		c->ufd = -1;
		c->ufdmask = 0;
	}
	buf_release(&c->uout);
	buf_release(&c->uin);
	c->uoff = c->uscan = 0;
}

/* Ends the connection and frees c; the caller must not touch c after. */
static int
conn_close(struct conn *c, const char *why)
{
	struct router *rt = c->rt;

	conn_access_log(c, c->resp_started ? c->status : 499);
	(void)conn_set_state(c, CONN_CLOSED);
	log_debug("conn %u: closed: %s", c->id, why);
	conn_close_upstream(c);
	ev_del(rt->loop, c->fd);
	close(c->fd);
	buf_release(&c->cin);
	buf_release(&c->cout);
	if (c->prev)
		c->prev->next = c->next;
	else
		rt->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rt->nconns--;
	free(c);
	return -1;
}

/*
 * Answers the current request with an error status and closes after it.
 * When part of the response went out already, only closes. Returns 0.
 */
static int
conn_error(struct conn *c, int status, const char *detail)
{
	char body[256];
	int n;

	conn_close_upstream(c);
	if (c->resp_started) {
		conn_access_log(c, c->status);
		(void)conn_set_state(c, CONN_CLOSING);
		return 0;
	}
	if (status == 404)
		n = snprintf(
		    body, sizeof body, "No app is deployed at this address.\n");
	else if (detail)
		n = snprintf(body, sizeof body, "%d %s: %s\n", status,
		    http_reason(status), detail);
	else
		n = snprintf(
		    body, sizeof body, "%d %s\n", status, http_reason(status));
	if (n < 0 || (size_t)n >= sizeof body)
		n = 0;
	c->bytes = c->cout.len;
	if (buf_printf(&c->cout,
	        "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	        "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
	        status, http_reason(status), n, body) == -1)
		buf_reset(&c->cout);
	c->bytes = c->cout.len - c->bytes;
	c->status = status;
	c->resp_started = 1;
	conn_access_log(c, status);
	(void)conn_set_state(c, CONN_CLOSING);
	c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
	return 0;
}

static void
conn_copy(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
conn_sockaddr(const char *up, struct sockaddr_storage *ss, socklen_t *sl)
{
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

/* Connects to the route's next upstream not tried yet. Returns 0 (connect
 * in progress, or the error answered). */
static int
conn_connect(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	while (c->tries < c->route.nupstreams) {
		const char *up =
		    c->route.upstream[(c->rrbase + c->tries) %
		                      (unsigned)c->route.nupstreams];

		c->tries++;
		conn_copy(c->upstream, sizeof c->upstream, up, strlen(up));
		if (conn_sockaddr(up, &ss, &sl) == -1) {
			log_warn("conn %u: bad upstream '%s' for %s", c->id, up,
			    c->host);
			continue;
		}
		fd = socket(ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			log_warn("conn %u: socket: %s", c->id, strerror(errno));
			break;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, (struct sockaddr *)&ss, sl) == 0 ||
		    errno == EINPROGRESS) {
			c->ufd = fd;
			c->ufdmask = 0;
			if (c->state != CONN_CONNECT &&
			    conn_set_state(c, CONN_CONNECT) == -1) {
				close(fd);
				c->ufd = -1;
				break;
			}
			c->deadline = ev_now() + ROUTER_TIMEOUT_CONNECT;
			return 0;
		}
		log_debug(
		    "conn %u: connect %s: %s", c->id, up, strerror(errno));
		close(fd);
	}
	return conn_error(c, 502, "the app is not answering");
}

/* The upstream connect finished, well or not. */
static int
conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS)
		return 0;
	if (err != 0) {
		log_debug("conn %u: connect %s: %s", c->id, c->upstream,
		    strerror(err));
		ev_del(c->rt->loop, c->ufd);
		close(c->ufd);
		c->ufd = -1;
		c->ufdmask = 0;
		return conn_connect(c);
	}
	if (conn_set_state(c, CONN_PROXY) == -1)
		return conn_close(c, "bad state");
	c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
	return 0;
}

static void
conn_request_id(struct router *rt, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v[2];
	int i, k;

	/* xorshift128+: unique enough for tracing, not a secret */
	for (k = 0; k < 2; k++) {
		uint64_t s1 = rt->rng[0], s0 = rt->rng[1];
		rt->rng[0] = s0;
		s1 ^= s1 << 23;
		rt->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
		v[k] = rt->rng[1] + s0;
	}
	for (i = 0; i < 32; i++)
		out[i] = hex[(v[i / 16] >> ((i % 16) * 4)) & 0xf];
	out[32] = '\0';
}

static int
conn_request_id_ok(const struct http_field *f)
{
	size_t i;

	if (f->valuelen == 0 || f->valuelen > ROUTER_MAXREQUESTID)
		return 0;
	for (i = 0; i < f->valuelen; i++)
		if ((unsigned char)f->value[i] <= 0x20 ||
		    (unsigned char)f->value[i] >= 0x7f)
			return 0;
	return 1;
}

/* Writes the head the upstream sees into c->uout. */
static int
conn_upstream_head(struct conn *c, const struct http_head *h)
{
	const struct http_field *host = NULL, *rid = NULL;
	struct buf *b = &c->uout;
	char id[33];
	int nxff = 0;
	size_t i;

	if (buf_printf(b, "%.*s %.*s HTTP/1.%d\r\n", (int)h->methodlen,
	        h->method, (int)h->targetlen, h->target, h->minor) == -1)
		return -1;
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];

		if (http_hop_by_hop(h, f->name, f->namelen) ||
		    http_field_is(f, "x-forwarded-proto") ||
		    http_field_is(f, "x-forwarded-host"))
			continue;
		if (http_field_is(f, "x-forwarded-for")) {
			nxff++;
			continue;
		}
		if (http_field_is(f, "x-request-id")) {
			if (rid == NULL && conn_request_id_ok(f))
				rid = f;
			continue;
		}
		if (http_field_is(f, "host"))
			host = f;
		if (buf_printf(b, "%.*s: %.*s\r\n", (int)f->namelen, f->name,
		        (int)f->valuelen, f->value) == -1)
			return -1;
	}
	if (buf_puts(b, "X-Forwarded-For: ") == -1)
		return -1;
	for (i = 0; nxff && i < h->nfields; i++)
		if (http_field_is(&h->field[i], "x-forwarded-for") &&
		    h->field[i].valuelen > 0 &&
		    buf_printf(b, "%.*s, ", (int)h->field[i].valuelen,
		        h->field[i].value) == -1)
			return -1;
	if (buf_printf(b, "%s\r\nX-Forwarded-Proto: http\r\n", c->ip) == -1)
		return -1;
	if (host && buf_printf(b, "X-Forwarded-Host: %.*s\r\n",
	                (int)host->valuelen, host->value) == -1)
		return -1;
	if (rid == NULL)
		conn_request_id(c->rt, id);
	if (buf_printf(b, "X-Request-Id: %.*s\r\nConnection: close\r\n\r\n",
	        rid ? (int)rid->valuelen : 32, rid ? rid->value : id) == -1)
		return -1;
	return 0;
}

/* A complete request head sits at the start of c->cin. */
static int
conn_request(struct conn *c, struct http_head *h)
{
	struct router *rt = c->rt;
	size_t plen;
	int rv;

	conn_copy(c->method, sizeof c->method, h->method, h->methodlen);
	conn_copy(c->host, sizeof c->host, h->host, h->hostlen);
	plen = h->targetlen;
	conn_copy(c->path, sizeof c->path, h->target, plen);
	c->minor = h->minor;
	c->keep =
	    h->minor == 1 ? !h->conn_close : (h->conn_keep && !h->conn_close);
	c->is_head = h->methodlen == 4 && memcmp(h->method, "HEAD", 4) == 0;
	c->rframing = h->framing;
	c->rleft = h->length;
	http_chunked_init(&c->rchunk);
	c->req_done = h->framing == HTTP_BODY_NONE;
	c->resp_started = c->resp_keep = 0;
	c->status = 0;
	c->bytes = 0;
	c->tries = 0;
	c->upstream[0] = '\0';
	c->inflight = 1;
	c->start = ev_now();

	if (h->hostlen == 0)
		rv = STATE_NOTFOUND;
	else
		rv = state_reader_route(
		    rt->reader, h->host, h->hostlen, &c->route);
	if (rv == -1) {
		log_error("route lookup for %s: %s", c->host, err_msg());
		buf_consume(&c->cin, h->headlen);
		return conn_error(c, 503, NULL);
	}
	if (rv != 0 || c->route.nupstreams <= 0) {
		buf_consume(&c->cin, h->headlen);
		return conn_error(c, 404, NULL);
	}
	if (c->route.nupstreams > STATE_MAXUPSTREAMS)
		c->route.nupstreams = STATE_MAXUPSTREAMS;
	c->rrbase = rt->rr++;
	if (conn_upstream_head(c, h) == -1) {
		buf_consume(&c->cin, h->headlen);
		return conn_error(c, 500, NULL);
	}
	buf_consume(&c->cin, h->headlen);
	return conn_connect(c);
}

/* Parses the next request head from c->cin when it is complete. */
static int
conn_parse_request(struct conn *c)
{
	struct http_head *h;
	int rv;

	/* The parsed head is large (fields); keep it off the stack of the
	 * common path only while it is used. */
	if ((h = malloc(sizeof *h)) == NULL)
		return conn_close(c, "out of memory");
	http_head_init(h);
	h->scan = c->cscan;
	rv = http_parse_request(h, c->cin.data, c->cin.len);
	c->cscan = h->scan;
	if (rv == HTTP_MORE) {
		free(h);
		return 0;
	}
	c->cscan = 0;
	if (rv == -1) {
		char why[128];

		snprintf(why, sizeof why, "%s", err_msg());
		log_debug("conn %u: bad request: %s", c->id, why);
		c->inflight = 1;
		c->start = ev_now();
		c->method[0] = c->host[0] = c->path[0] = '\0';
		c->upstream[0] = '\0';
		c->bytes = 0;
		c->resp_started = 0;
		rv = conn_error(c, h->error, h->error == 400 ? why : NULL);
		free(h);
		return rv;
	}
	rv = conn_request(c, h);
	free(h);
	return rv;
}

/* Moves request body bytes from cin to uout, no further than the body's
 * end (what follows is the next pipelined request). */
static int
conn_forward_body(struct conn *c)
{
	size_t n, room;
	int rv;

	if (c->req_done || c->cin.len == 0 ||
	    pending(&c->uout, c->uoff) >= ROUTER_MAXBUF)
		return 0;
	room = ROUTER_MAXBUF;
	n = c->cin.len < room ? c->cin.len : room;
	if (c->rframing == HTTP_BODY_LENGTH) {
		if ((uint64_t)n > c->rleft)
			n = (size_t)c->rleft;
		c->rleft -= n;
		if (c->rleft == 0)
			c->req_done = 1;
	} else {
		rv = http_chunked_feed(&c->rchunk, c->cin.data, n, &n);
		if (rv == -1) {
			c->keep = 0;
			return conn_error(c, 400, "malformed chunked body");
		}
		if (rv == HTTP_DONE)
			c->req_done = 1;
	}
	if (buf_append(&c->uout, c->cin.data, n) == -1)
		return conn_close(c, "out of memory");
	buf_consume(&c->cin, n);
	return 0;
}

static int
conn_flush_upstream(struct conn *c)
{
	ssize_t n;

	while (pending(&c->uout, c->uoff) > 0) {
		n = write(
		    c->ufd, c->uout.data + c->uoff, pending(&c->uout, c->uoff));
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_debug("conn %u: write to %s: %s", c->id,
			    c->upstream, strerror(errno));
			/* The upstream may have answered before reading all
			 * of the request; take what it said, if anything. */
			buf_release(&c->uout);
			c->uoff = 0;
			c->req_done = 1;
			c->keep = 0;
			if (!c->resp_started && c->uin.len == 0)
				return conn_error(
				    c, 502, "the app closed the connection");
			return 0;
		}
		c->uoff += (size_t)n;
		c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
	}
	buf_reset(&c->uout);
	c->uoff = 0;
	return 0;
}

/* The response is complete: log it, drop the upstream, keep or end. */
static int
conn_response_done(struct conn *c)
{
	conn_access_log(c, c->status);
	conn_close_upstream(c);
	if (c->resp_keep && c->req_done && !c->rt->stopping) {
		if (conn_set_state(c, CONN_HEAD) == -1)
			return conn_close(c, "bad state");
		c->deadline = ev_now() + (c->cin.len ? ROUTER_TIMEOUT_HEAD
		                                     : ROUTER_TIMEOUT_IDLE);
		return 0;
	}
	if (conn_set_state(c, CONN_CLOSING) == -1)
		return conn_close(c, "bad state");
	return 0;
}

static int
conn_response_body(struct conn *c, const char *p, size_t n)
{
	size_t take = n;
	int rv, done = 0;

	switch (c->sframing) {
	case HTTP_BODY_NONE:
		take = 0;
		done = 1;
		break;
	case HTTP_BODY_LENGTH:
		if ((uint64_t)take >= c->sleft) {
			take = (size_t)c->sleft;
			done = 1;
		}
		c->sleft -= take;
		break;
	case HTTP_BODY_CHUNKED:
		rv = http_chunked_feed(&c->schunk, p, n, &take);
		if (rv == -1) {
			log_warn("conn %u: %s sent a bad chunked body: %s",
			    c->id, c->upstream, err_msg());
			c->resp_keep = 0;
			done = 1;
		} else if (rv == HTTP_DONE) {
			done = 1;
		}
		break;
	case HTTP_BODY_CLOSE:
		break;
	}
	if (take && buf_append(&c->cout, p, take) == -1)
		return conn_close(c, "out of memory");
	c->bytes += take;
	return done ? conn_response_done(c) : 0;
}

static int
conn_response_head(struct conn *c, struct http_head *h)
{
	struct buf *b = &c->cout;
	size_t before = b->len, i;

	c->status = h->status;
	c->sframing = h->framing;
	c->sleft = h->length;
	http_chunked_init(&c->schunk);
	c->resp_keep = c->keep && c->req_done && !c->rt->stopping &&
	               h->framing != HTTP_BODY_CLOSE;
	if (buf_printf(b, "HTTP/1.1 %d %.*s\r\n", h->status, (int)h->reasonlen,
	        h->reason) == -1)
		return conn_close(c, "out of memory");
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];

		if (http_hop_by_hop(h, f->name, f->namelen))
			continue;
		if (buf_printf(b, "%.*s: %.*s\r\n", (int)f->namelen, f->name,
		        (int)f->valuelen, f->value) == -1)
			return conn_close(c, "out of memory");
	}
	if (buf_puts(b, !c->resp_keep   ? "Connection: close\r\n\r\n"
	                : c->minor == 0 ? "Connection: keep-alive\r\n\r\n"
	                                : "\r\n") == -1)
		return conn_close(c, "out of memory");
	c->bytes += b->len - before;
	c->resp_started = 1;
	return 0;
}

/* Gathers the response head in c->uin, then hands the body on. */
static int
conn_upstream_bytes(struct conn *c, const char *p, size_t n)
{
	struct http_head *h;
	size_t hl;
	int rv;

	if (c->resp_started)
		return conn_response_body(c, p, n);
	if (buf_append(&c->uin, p, n) == -1)
		return conn_close(c, "out of memory");
	if ((h = malloc(sizeof *h)) == NULL)
		return conn_close(c, "out of memory");
	for (;;) {
		http_head_init(h);
		h->scan = c->uscan;
		rv =
		    http_parse_response(h, c->uin.data, c->uin.len, c->is_head);
		c->uscan = h->scan;
		if (rv == HTTP_MORE) {
			free(h);
			return 0;
		}
		c->uscan = 0;
		if (rv == -1 || h->status == 101) {
			log_warn("conn %u: bad response from %s: %s", c->id,
			    c->upstream,
			    rv == -1 ? err_msg() : "unexpected upgrade");
			free(h);
			return conn_error(
			    c, 502, "the app sent a bad response");
		}
		if (h->status >= 200)
			break;
		/* 1xx: pass it on to HTTP/1.1 clients, then the next head */
		if (c->minor == 1 &&
		    buf_printf(&c->cout, "HTTP/1.1 %d %.*s\r\n\r\n", h->status,
		        (int)h->reasonlen, h->reason) == -1) {
			free(h);
			return conn_close(c, "out of memory");
		}
		buf_consume(&c->uin, h->headlen);
	}
	rv = conn_response_head(c, h);
	hl = h->headlen;
	free(h);
	if (rv == -1)
		return -1;
	if (c->sframing == HTTP_BODY_NONE || c->uin.len > hl) {
		/* the body bytes that came with the head; uin is released by
		 * conn_response_done, so work on a copy of the pointer only
		 * while uin lives */
		struct buf rest = c->uin;

		c->uin = (struct buf)BUF_INIT;
		rv = conn_response_body(c, rest.data + hl, rest.len - hl);
		buf_release(&rest);
		return rv;
	}
	buf_release(&c->uin);
	return 0;
}

static int
conn_read_upstream(struct conn *c)
{
	char tmp[ROUTER_READSIZE];
	size_t want = sizeof tmp;
	ssize_t n;

	if (c->resp_started && c->sframing == HTTP_BODY_LENGTH &&
	    c->sleft < want)
		want = (size_t)c->sleft;
	n = read(c->ufd, tmp, want);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
		return conn_upstream_bytes(c, tmp, (size_t)n);
	}
	if (n == -1)
		log_debug("conn %u: read from %s: %s", c->id, c->upstream,
		    strerror(errno));
	if (!c->resp_started)
		return conn_error(c, 502, "the app closed the connection");
	if (c->sframing == HTTP_BODY_CLOSE && n == 0)
		return conn_response_done(c);
	log_warn("conn %u: %s ended the response early", c->id, c->upstream);
	c->resp_keep = 0;
	return conn_error(c, 502, NULL);
}

static int
conn_read_client(struct conn *c)
{
	char tmp[ROUTER_READSIZE];
	ssize_t n;

	n = read(c->fd, tmp, sizeof tmp);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0 && c->state == CONN_HEAD && c->cin.len == 0)
		return conn_close(c, "client done");
	if (n <= 0)
		return conn_close(
		    c, n == 0 ? "client closed" : strerror(errno));
	if (c->state == CONN_LINGER)
		return 0;
	if (c->state == CONN_HEAD && c->cin.len == 0)
		c->deadline = ev_now() + ROUTER_TIMEOUT_HEAD;
	else if (c->state == CONN_PROXY)
		c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
	if (buf_append(&c->cin, tmp, (size_t)n) == -1)
		return conn_close(c, "out of memory");
	return 0;
}

static int
conn_flush_client(struct conn *c)
{
	ssize_t n;

	while (pending(&c->cout, c->coff) > 0) {
		n = write(
		    c->fd, c->cout.data + c->coff, pending(&c->cout, c->coff));
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return conn_close(c, strerror(errno));
		}
		c->coff += (size_t)n;
		if (c->state == CONN_PROXY || c->state == CONN_CLOSING)
			c->deadline = ev_now() + ROUTER_TIMEOUT_RESPONSE;
	}
	buf_reset(&c->cout);
	c->coff = 0;
	if (c->state == CONN_CLOSING) {
		/* Shut the write side and drain input for a moment, so the
		 * client reads the answer before a reset can discard it. */
		if (shutdown(c->fd, SHUT_WR) == -1)
			return conn_close(c, "shutdown");
		if (conn_set_state(c, CONN_LINGER) == -1)
			return conn_close(c, "bad state");
		c->deadline = ev_now() + ROUTER_TIMEOUT_LINGER;
	}
	return 0;
}

/* Registers the interest that matches the state and the buffers. */
static int
conn_update_events(struct conn *c)
{
	struct ev_loop *loop = c->rt->loop;
	size_t cpend = pending(&c->cout, c->coff);
	size_t upend = pending(&c->uout, c->uoff);
	int m = 0, um = 0;

	switch (c->state) {
	case CONN_HEAD:
		if (c->cin.len <= ROUTER_MAXHEADER && cpend < ROUTER_MAXBUF)
			m |= EV_READ;
		break;
	case CONN_CONNECT:
		um = EV_WRITE;
		/* FALLTHROUGH */
	case CONN_PROXY:
		if (!c->req_done && upend < ROUTER_MAXBUF &&
		    c->cin.len < ROUTER_MAXBUF)
			m |= EV_READ;
		else if (!c->hup_seen)
			m |= EV_HUP; /* notice a client that gives up */
		if (c->state == CONN_PROXY) {
			if (cpend < ROUTER_MAXBUF)
				um |= EV_READ;
			if (upend)
				um |= EV_WRITE;
		}
		break;
	case CONN_LINGER:
		m |= EV_READ;
		break;
	default:
		break;
	}
	if (cpend)
		m |= EV_WRITE;
	if (m != c->fdmask) {
		if (ev_set(loop, c->fd, m, conn_io, c) == -1)
			return conn_close(c, err_msg());
		c->fdmask = m;
	}
	if (c->ufd != -1 && um != c->ufdmask) {
		if (ev_set(loop, c->ufd, um, conn_io, c) == -1)
			return conn_close(c, err_msg());
		c->ufdmask = um;
	}
	return 0;
}

/* Moves the connection as far as its buffers allow, then re-arms it. */
static void
conn_pump(struct conn *c)
{
	if (c->state == CONN_HEAD && c->cin.len > 0 &&
	    conn_parse_request(c) == -1)
		return;
	if ((c->state == CONN_CONNECT || c->state == CONN_PROXY) &&
	    conn_forward_body(c) == -1)
		return;
	if (c->state == CONN_PROXY && conn_flush_upstream(c) == -1)
		return;
	if (conn_flush_client(c) == -1)
		return;
	if (c->state == CONN_HEAD && c->cin.len == 0 && c->cout.len == 0) {
		if (c->rt->stopping) {
			conn_close(c, "shutting down");
			return;
		}
		buf_release(&c->cin);
		buf_release(&c->cout);
	}
	(void)conn_update_events(c);
}

/*
 * The client shut its side while its request is with the upstream. With no
 * pipelined bytes left unread it has given up: end both connections (499
 * in the log). Otherwise it merely half-closed after sending; carry on.
 */
static int
conn_client_hup(struct conn *c)
{
	int unread = 0;

	if (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0) {
		c->hup_seen = 1;
		return 0;
	}
	return conn_close(c, "client went away");
}

static void
conn_io(struct ev_loop *loop, int fd, int ready, void *arg)
{
	struct conn *c = arg;

	if (fd == c->fd) {
		if ((ready & (EV_HUP | EV_READ)) == EV_HUP &&
		    conn_client_hup(c) == -1)
			return;
		if ((ready & EV_WRITE) && conn_flush_client(c) == -1)
			return;
		if ((ready & EV_READ) && conn_read_client(c) == -1)
			return;
	} else if (fd == c->ufd) {
		if (c->state == CONN_CONNECT) {
			if (conn_connected(c) == -1)
				return;
		} else if ((ready & EV_WRITE) && conn_flush_upstream(c) == -1) {
			return;
		}
		if ((ready & EV_READ) && fd == c->ufd &&
		    c->state == CONN_PROXY && conn_read_upstream(c) == -1)
			return;
	}
	conn_pump(c);
}

static void
conn_accept(struct ev_loop *loop, int lfd, int ready, void *arg)
{
	struct router *rt = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		sl = sizeof ss;
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (rt->nconns >= ROUTER_MAXCONNS ||
		    (c = calloc(1, sizeof *c)) == NULL) {
			log_warn("too many connections, refusing one");
			close(fd);
			continue;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->rt = rt;
		c->id = ++rt->nextid;
		c->fd = fd;
		c->ufd = -1;
		c->state = CONN_HEAD;
		c->deadline = ev_now() + ROUTER_TIMEOUT_HEAD;
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, c->ip,
			    sizeof c->ip);
		else
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, c->ip,
			    sizeof c->ip);
		c->next = rt->conns;
		if (rt->conns)
			rt->conns->prev = c;
		rt->conns = c;
		rt->nconns++;
		log_debug("conn %u: accepted from %s", c->id, c->ip);
		if (conn_update_events(c) == -1)
			continue;
	}
}

int
conn_listen(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
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
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		err_set("cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
conn_start(struct router *rt)
{
	if (getrandom(rt->rng, sizeof rt->rng, 0) != sizeof rt->rng)
		rt->rng[0] = (uint64_t)ev_now() ^ (uint64_t)getpid() << 32;
	rt->rng[1] |= 1;
	return ev_set(rt->loop, rt->lfd, EV_READ, conn_accept, rt);
}

void
conn_stop(struct router *rt)
{
	struct conn *c, *next;

	rt->stopping = 1;
	if (rt->lfd != -1) {
		ev_del(rt->loop, rt->lfd);
		close(rt->lfd);
		rt->lfd = -1;
	}
	for (c = rt->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_HEAD && c->cin.len == 0 &&
		    pending(&c->cout, c->coff) == 0)
			conn_close(c, "shutting down");
	}
}

void
conn_sweep(struct router *rt, int64_t now)
{
	struct conn *c, *next;

	for (c = rt->conns; c; c = next) {
		next = c->next;
		if (c->deadline > now)
			continue;
		switch (c->state) {
		case CONN_HEAD:
			if (c->cin.len == 0) {
				conn_close(c, "idle");
				continue;
			}
			c->inflight = 1;
			c->start = now;
			c->method[0] = c->host[0] = c->path[0] = '\0';
			c->upstream[0] = '\0';
			c->resp_started = 0;
			c->bytes = 0;
			conn_error(c, 408, NULL);
			break;
		case CONN_CONNECT:
			log_warn("conn %u: connect to %s timed out", c->id,
			    c->upstream);
			conn_error(c, 504, "the app took too long to answer");
			break;
		case CONN_PROXY:
			log_warn("conn %u: %s timed out", c->id, c->upstream);
			conn_error(c, 504, "the app took too long to answer");
			break;
		default:
			conn_close(c, "timed out");
			continue;
		}
		conn_pump(c);
	}
}

void
conn_close_all(struct router *rt)
{
	while (rt->conns)
		conn_close(rt->conns, "exiting");
}
