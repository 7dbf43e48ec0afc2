/*
 * router/proxy.c: the router's connections, from accept to close.
 *
 * A client connection reads one request head, looks its Host up in the
 * route table, takes an idle keep-alive connection to one of the route's
 * upstreams from the pool (or opens one), sends the rewritten head and
 * streams the body, then streams the response back; with keep-alive it goes
 * back for the next request, which may go to another upstream. Pipelined
 * requests wait in the input buffer until the current response is done, so
 * answers keep their order. After a 101 answer to an Upgrade request the
 * two connections become a byte tunnel until either side closes.
 *
 * Guarantees:
 *  - a connection's state changes only in conn_set_state(), which checks
 *    the transition (head -> connect -> proxy -> head ..., proxy ->
 *    tunnel, any -> closing -> linger -> closed);
 *  - a failing client or upstream ends that one connection (an error status
 *    when nothing of the response was sent yet, a close otherwise), never
 *    the process;
 *  - a reused upstream connection that turns out dead before the first
 *    byte of its response is replaced once by a fresh one, for idempotent
 *    requests without a body;
 *  - neither side is read while the other side's output holds more than
 *    ROUTER_MAXBUF bytes, so a connection buffers a bounded amount;
 *  - an idle client costs its struct conn (a few hundred bytes): buffers
 *    and the request record exist only while a request is in flight;
 *  - every wait has a deadline (the timeout_* settings);
 *  - what it writes into a message comes from router/msg.c: heads through
 *    one bounded writer (431 or 502 when one would not fit), framing
 *    decided by the router, bodies moved no further than that framing
 *    says; raw bodies are read straight into the other side's buffer,
 *    chunked ones through uin, where they are re-chunked.
 *
 * A route lookup that fails (an LMDB error, not "no such host") answers
 * 502 "route lookup failed": the router is the gateway and what failed is
 * behind it; 503 would invite a client to retry a fault that is ours.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "router/router.h"
#include "state/state.h"

enum conn_state {
	CONN_HEAD,    /* reading a request head (or idle between requests) */
	CONN_CONNECT, /* connecting to an upstream */
	CONN_PROXY,   /* request and response flowing */
	CONN_TUNNEL,  /* upgraded: bytes both ways */
	CONN_CLOSING, /* flushing the last bytes to the client */
	CONN_LINGER,  /* write side shut; draining input before close */
	CONN_CLOSED
};

static const char *conn_state_name[] = {
    "head", "connect", "proxy", "tunnel", "closing", "linger", "closed"};

/* The request in flight and its response; allocated per busy connection. */
struct xfer {
	int inflight; /* an access log line is owed */
	int minor;    /* client's HTTP/1.<minor> */
	int keep;     /* the client allows keep-alive */
	int is_head;  /* HEAD request: the response has no body */
	int upgrade;  /* an Upgrade request passed on */
	int retry_ok; /* idempotent and bodiless: may be sent twice */
	int reused;   /* the upstream connection came from the pool */
	int retried;
	int req_done; /* the whole request body went to uout */
	struct msg_body req;
	struct state_route route;
	unsigned rrbase;
	int tries;
	int64_t start;

	int resp_started; /* its head went to cout */
	int resp_keep;    /* it told the client the connection stays */
	int up_keep;      /* the upstream connection may be reused */
	struct msg_body resp;
	int status;
	uint64_t bytes;

	char method[ROUTER_MAXMETHOD + 1];
	char host[256];
	char path[256];
	char upstream[24];
};

struct conn {
	struct router *rt;
	struct conn *prev, *next;
	struct xfer *x;
	unsigned id;
	enum conn_state state;
	int fd, ufd;         /* client, upstream (-1 when none) */
	int fdmask, ufdmask; /* interest registered with the loop */
	int client_eof;      /* the client shut its side after pipelining */
	int trusted;         /* its forwarding fields are believed */
	int64_t deadline;
	size_t cscan, uscan;
	struct iob cin;  /* client bytes not yet used */
	struct iob cout; /* bytes for the client */
	struct iob uout; /* bytes for the upstream */
	struct iob uin;  /* upstream response head being gathered */
	char ip[INET6_ADDRSTRLEN];
};

static void conn_io(struct ev_loop *, int, int, void *);
static int conn_connect(struct conn *);

void
router_settings_init(struct router_settings *s)
{
	memset(s, 0, sizeof *s);
	s->timeout_head = ROUTER_TIMEOUT_HEAD;
	s->timeout_idle = ROUTER_TIMEOUT_IDLE;
	s->timeout_connect = ROUTER_TIMEOUT_CONNECT;
	s->timeout_response = ROUTER_TIMEOUT_RESPONSE;
	s->timeout_tunnel = ROUTER_TIMEOUT_TUNNEL;
	s->timeout_pool = ROUTER_TIMEOUT_POOL;
	s->timeout_linger = ROUTER_TIMEOUT_LINGER;
	s->timeout_shutdown = ROUTER_TIMEOUT_SHUTDOWN;
	s->max_body = ROUTER_MAXBODY;
	s->max_conns = ROUTER_MAXCONNS;
	s->pool_per_upstream = ROUTER_POOL_PER_UPSTREAM;
	s->pool_max = ROUTER_POOL_MAX;
	s->access_log = 1;
}

/* ---- state, logging, closing ------------------------------------------- */

/*
 * The one place a connection changes state. Returns 0, or -1 (state left
 * as it was, an error logged) when the transition is not one of the
 * allowed ones.
 */
static int
conn_set_state(struct conn *c, enum conn_state to)
{
	static const unsigned allowed[] = {
	    [CONN_HEAD] = 1u << CONN_CONNECT | 1u << CONN_PROXY |
	                  1u << CONN_CLOSING | 1u << CONN_CLOSED,
	    [CONN_CONNECT] =
	        1u << CONN_PROXY | 1u << CONN_CLOSING | 1u << CONN_CLOSED,
	    [CONN_PROXY] = 1u << CONN_HEAD | 1u << CONN_CONNECT |
	                   1u << CONN_TUNNEL | 1u << CONN_CLOSING |
	                   1u << CONN_CLOSED,
	    [CONN_TUNNEL] = 1u << CONN_CLOSING | 1u << CONN_CLOSED,
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

/* The request record, made (cleared) for a new request. */
static struct xfer *
conn_xfer(struct conn *c)
{
	if (c->x == NULL && (c->x = malloc(sizeof *c->x)) == NULL)
		return NULL;
	memset(c->x, 0, offsetof(struct xfer, method));
	c->x->method[0] = c->x->host[0] = c->x->path[0] = '\0';
	c->x->upstream[0] = '\0';
	return c->x;
}

static void
conn_access_log(struct conn *c, int status)
{
	struct xfer *x = c->x;

	if (x == NULL || !x->inflight)
		return;
	x->inflight = 0;
	if (!c->rt->set.access_log)
		return;
	log_info("%s %s %s %d %llu %s %lldms", x->method[0] ? x->method : "-",
	    x->host[0] ? x->host : "-", x->path[0] ? x->path : "-", status,
	    (unsigned long long)x->bytes, x->upstream[0] ? x->upstream : "-",
	    (long long)(ev_now() - x->start));
}

/* Lets go of the upstream connection: back to the pool when reuse is
 * set, closed otherwise. */
static void
conn_drop_upstream(struct conn *c, int reuse)
{
	if (c->ufd != -1) {
		if (reuse && c->x)
			pool_put(c->rt->pool, c->x->upstream, c->ufd);
		else {
			ev_del(c->rt->loop, c->ufd);
			close(c->ufd);
		}
		c->ufd = -1;
		c->ufdmask = 0;
	}
	c->uout.off = c->uout.len = 0;
	c->uin.off = c->uin.len = 0;
	c->uscan = 0;
}

/* Ends the connection and frees c; the caller must not touch c after. */
static int
conn_close(struct conn *c, const char *why)
{
	struct router *rt = c->rt;

	conn_access_log(c, c->x && c->x->resp_started ? c->x->status : 499);
	(void)conn_set_state(c, CONN_CLOSED);
	log_debug("conn %u: closed: %s", c->id, why);
	conn_drop_upstream(c, 0);
	ev_del(rt->loop, c->fd);
	close(c->fd);
	iob_free(&c->cin);
	iob_free(&c->cout);
	iob_free(&c->uout);
	iob_free(&c->uin);
	free(c->x);
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
 * When part of the response went out already, only closes. Returns 0, or
 * -1 when c was freed.
 */
static int
conn_error(struct conn *c, int status, const char *detail)
{
	struct xfer *x = c->x;
	char body[256], head[256];
	struct hbuf hb;
	int n;

	conn_drop_upstream(c, 0);
	if (x == NULL) {
		if ((x = conn_xfer(c)) == NULL)
			return conn_close(c, "out of memory");
		x->inflight = 1;
		x->start = ev_now();
	}
	if (x->resp_started) {
		conn_access_log(c, x->status);
		(void)conn_set_state(c, CONN_CLOSING);
		c->deadline = ev_now() + c->rt->set.timeout_response;
		return 0;
	}
	if (status == 404)
		n = snprintf(
		    body, sizeof body, "No app is deployed at this address.\n");
	else if (status == 503 && detail == NULL)
		n = snprintf(body, sizeof body,
		    "This app is stopped. Its owner can start it again.\n");
	else if (detail)
		n = snprintf(body, sizeof body, "%d %s: %s\n", status,
		    http_reason(status), detail);
	else
		n = snprintf(
		    body, sizeof body, "%d %s\n", status, http_reason(status));
	if (n < 0 || (size_t)n >= sizeof body)
		n = 0;
	hbuf_init(&hb, head, sizeof head);
	if (msg_error_head(&hb, status, (size_t)n) == -1 ||
	    iob_put(&c->cout, head, hb.len) == -1 ||
	    (!x->is_head && iob_put(&c->cout, body, (size_t)n) == -1))
		return conn_close(c, "out of memory");
	x->bytes = (uint64_t)hb.len + (x->is_head ? 0 : (uint64_t)n);
	x->status = status;
	x->resp_started = 1;
	conn_access_log(c, status);
	(void)conn_set_state(c, CONN_CLOSING);
	c->deadline = ev_now() + c->rt->set.timeout_response;
	return 0;
}

/* ---- upstream connections ---------------------------------------------- */

/* Uses fd, connected (or connecting) to x->upstream, for this request. */
static int
conn_attach(struct conn *c, int fd, int connecting)
{
	c->ufd = fd;
	c->ufdmask = connecting ? EV_WRITE : EV_READ;
	if (ev_set(c->rt->loop, fd, c->ufdmask, conn_io, c) == -1) {
		ev_del(c->rt->loop, fd);
		close(fd);
		c->ufd = -1;
		c->ufdmask = 0;
		return conn_error(c, 500, NULL);
	}
	if (conn_set_state(c, connecting ? CONN_CONNECT : CONN_PROXY) == -1)
		return conn_close(c, "bad state");
	c->deadline = ev_now() + (connecting ? c->rt->set.timeout_connect
	                                     : c->rt->set.timeout_response);
	return 0;
}

/* Connects to the route's next upstream not tried yet, through the pool
 * when it holds one. Returns 0 (connect in progress, or the error
 * answered) or -1 when c was freed. */
static int
conn_connect(struct conn *c)
{
	struct xfer *x = c->x;
	struct sockaddr_storage ss;
	unsigned sl;
	int fd, one = 1;

	while (x->tries < x->route.nupstreams) {
		const char *up =
		    x->route.upstream[(x->rrbase + (unsigned)x->tries) %
		                      (unsigned)x->route.nupstreams];

		x->tries++;
		conn_copy(x->upstream, sizeof x->upstream, up, strlen(up));
		if (!x->retried && !x->upgrade &&
		    (fd = pool_get(c->rt->pool, x->upstream)) != -1) {
			x->reused = 1;
			return conn_attach(c, fd, 0);
		}
		x->reused = 0;
		if (conn_sockaddr(up, &ss, &sl) == -1) {
			log_warn("conn %u: bad upstream '%s' for %s", c->id, up,
			    x->host);
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
		    errno == EINPROGRESS)
			return conn_attach(c, fd, 1);
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
		log_debug("conn %u: connect %s: %s", c->id, c->x->upstream,
		    strerror(err));
		ev_del(c->rt->loop, c->ufd);
		close(c->ufd);
		c->ufd = -1;
		c->ufdmask = 0;
		return conn_connect(c);
	}
	if (conn_set_state(c, CONN_PROXY) == -1)
		return conn_close(c, "bad state");
	c->deadline = ev_now() + c->rt->set.timeout_response;
	return 0;
}

/*
 * A reused upstream connection failed before any byte of its response:
 * the upstream closed it while it sat in the pool. Sends the request once
 * more on a fresh connection to the same upstream when that is safe.
 * Returns 1 when it did (or c was answered), 0 when the caller goes on.
 */
static int
conn_retry(struct conn *c, int *rv)
{
	struct xfer *x = c->x;

	if (!x->reused || x->retried || !x->retry_ok || x->resp_started ||
	    iob_pending(&c->uin) > 0)
		return 0;
	log_debug("conn %u: reused connection to %s failed; retrying", c->id,
	    x->upstream);
	ev_del(c->rt->loop, c->ufd);
	close(c->ufd);
	c->ufd = -1;
	c->ufdmask = 0;
	x->retried = 1;
	x->tries--;
	c->uout.off = 0; /* the head is still there (see conn_flush_up) */
	*rv = conn_connect(c);
	return 1;
}

/* ---- the request ------------------------------------------------------- */

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

/*
 * Writes the head the upstream sees into c->uout (msg_request_head says
 * what it holds). Returns 0, or 431 when it would not fit.
 */
static int
conn_upstream_head(struct conn *c, const struct http_head *h)
{
	struct router *rt = c->rt;
	struct msg_peer peer;
	struct hbuf hb;
	char id[33];

	conn_request_id(rt, id);
	peer.ip = c->ip;
	peer.trusted = c->trusted;
	peer.proto = "http";
	peer.port = rt->port;
	peer.request_id = id;
	hbuf_init(&hb, rt->headout, sizeof rt->headout);
	if (msg_request_head(&hb, h, &peer, c->x->upgrade) == -1)
		return 431;
	return iob_put(&c->uout, hb.p, hb.len) == -1 ? -1 : 0;
}

static int
conn_idempotent(const struct http_head *h)
{
	static const char *m[] = {
	    "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
	size_t i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++)
		if (h->methodlen == strlen(m[i]) &&
		    memcmp(h->method, m[i], h->methodlen) == 0)
			return 1;
	return 0;
}

/* A complete request head sits at the start of c->cin. */
static int
conn_request(struct conn *c, struct http_head *h)
{
	struct router *rt = c->rt;
	struct xfer *x;
	int rv;

	if ((x = conn_xfer(c)) == NULL)
		return conn_close(c, "out of memory");
	conn_copy(x->method, sizeof x->method, h->method, h->methodlen);
	conn_copy(x->host, sizeof x->host, h->host, h->hostlen);
	conn_copy(x->path, sizeof x->path, h->path, h->pathlen);
	x->minor = h->minor;
	x->keep =
	    h->minor == 1 ? !h->conn_close : (h->conn_keep && !h->conn_close);
	x->is_head = h->methodlen == 4 && memcmp(h->method, "HEAD", 4) == 0;
	x->upgrade = h->minor == 1 && h->conn_upgrade && h->upgrade != NULL;
	msg_body_init(&x->req, h->framing, h->length, 1);
	x->req_done = x->req.done;
	x->retry_ok = x->req_done && !x->upgrade && conn_idempotent(h);
	x->inflight = 1;
	x->start = ev_now();

	if (h->hostlen == 0)
		rv = STATE_NOTFOUND;
	else
		rv = state_reader_route(
		    rt->reader, h->host, h->hostlen, &x->route);
	iob_consume(&c->cin, h->headlen);
	x->keep = x->keep && !rt->stopping;
	if (rv == -1) {
		log_error("route lookup for %s: %s", x->host, err_msg());
		return conn_error(c, 502, "route lookup failed");
	}
	if (rv != 0)
		return conn_error(c, 404, NULL);
	/* a route with no upstream is an app that was stopped (ps:stop) */
	if (x->route.nupstreams <= 0)
		return conn_error(c, 503, NULL);
	if (h->framing == HTTP_BODY_LENGTH && h->length > rt->set.max_body)
		return conn_error(c, 413, "request body too large");
	if (x->route.nupstreams > STATE_MAXUPSTREAMS)
		x->route.nupstreams = STATE_MAXUPSTREAMS;
	x->rrbase = rt->rr++;
	/* the head is built from h, which points into cin: still intact,
	 * as consuming only moved the offset */
	if ((rv = conn_upstream_head(c, h)) == -1)
		return conn_close(c, "out of memory");
	if (rv == 431) {
		x->keep = 0;
		return conn_error(c, 431, "the request head is too large");
	}
	return conn_connect(c);
}

/* Parses the next request head from c->cin when it is complete. */
static int
conn_parse_request(struct conn *c)
{
	struct http_head *h = &c->rt->head;
	char why[128];
	int rv;

	http_head_init(h);
	h->scan = c->cscan;
	rv = http_parse_request(
	    h, c->cin.data + c->cin.off, iob_pending(&c->cin));
	c->cscan = h->scan;
	if (rv == HTTP_MORE)
		return 0;
	c->cscan = 0;
	if (rv == HTTP_DONE)
		return conn_request(c, h);
	snprintf(why, sizeof why, "%s", err_msg());
	log_debug("conn %u: bad request: %s", c->id, why);
	if (conn_xfer(c) == NULL)
		return conn_close(c, "out of memory");
	c->x->inflight = 1;
	c->x->start = ev_now();
	return conn_error(c, h->error, h->error == 400 ? why : NULL);
}

/* Moves request body bytes from cin to uout, framed as the router
 * decided, no further than the body's end (what follows is the next
 * pipelined request). */
static int
conn_forward_body(struct conn *c)
{
	struct xfer *x = c->x;
	size_t n;
	int rv;

	if (c->state == CONN_TUNNEL) {
		n = iob_pending(&c->cin);
		if (n && iob_put(&c->uout, c->cin.data + c->cin.off, n) == -1)
			return conn_close(c, "out of memory");
		iob_consume(&c->cin, n);
		return 0;
	}
	if (x->req_done || iob_pending(&c->cin) == 0 ||
	    iob_pending(&c->uout) >= ROUTER_MAXBUF)
		return 0;
	rv = msg_body_feed(&x->req, c->cin.data + c->cin.off,
	    iob_pending(&c->cin), &n, &c->uout);
	if (rv == HTTP_NOMEM)
		return conn_close(c, "out of memory");
	if (rv == -1) {
		log_debug("conn %u: bad request body: %s", c->id, err_msg());
		x->keep = 0;
		return conn_error(c, 400, "malformed chunked body");
	}
	if (x->req.data > c->rt->set.max_body) {
		x->keep = 0;
		return conn_error(c, 413, "request body too large");
	}
	if (msg_body_raw(&x->req) &&
	    iob_put(&c->uout, c->cin.data + c->cin.off, n) == -1)
		return conn_close(c, "out of memory");
	iob_consume(&c->cin, n);
	if (rv == HTTP_DONE)
		x->req_done = 1;
	return 0;
}

static int
conn_flush_upstream(struct conn *c)
{
	struct xfer *x = c->x;
	struct iob *b = &c->uout;
	ssize_t n;
	int rv;

	while (iob_pending(b) > 0) {
		n = write(c->ufd, b->data + b->off, iob_pending(b));
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_debug("conn %u: write to %s: %s", c->id,
			    x->upstream, strerror(errno));
			if (c->state == CONN_TUNNEL)
				return conn_close(c, "upstream gone");
			if (conn_retry(c, &rv))
				return rv;
			/* The upstream may have answered before reading all
			 * of the request; take what it said, if anything. */
			b->off = b->len = 0;
			x->req_done = 1;
			x->keep = 0;
			x->up_keep = 0;
			if (!x->resp_started && iob_pending(&c->uin) == 0)
				return conn_error(
				    c, 502, "the app closed the connection");
			return 0;
		}
		b->off += (size_t)n;
		c->deadline = ev_now() + (c->state == CONN_TUNNEL
		                                 ? c->rt->set.timeout_tunnel
		                                 : c->rt->set.timeout_response);
	}
	/* A request that may be sent again keeps its head until the
	 * response begins (conn_retry rewinds to it). */
	if (c->state == CONN_TUNNEL || !x->retry_ok || x->resp_started)
		b->off = b->len = 0;
	return 0;
}

/* ---- the response ------------------------------------------------------ */

/* The response is complete: log it, pool or drop the upstream, keep or
 * end the client connection. */
static int
conn_response_done(struct conn *c)
{
	struct xfer *x = c->x;

	conn_access_log(c, x->status);
	conn_drop_upstream(
	    c, x->up_keep && x->req_done && iob_pending(&c->uout) == 0);
	if (x->resp_keep && x->req_done && !c->rt->stopping) {
		if (conn_set_state(c, CONN_HEAD) == -1)
			return conn_close(c, "bad state");
		c->deadline =
		    ev_now() + (iob_pending(&c->cin) ? c->rt->set.timeout_head
		                                     : c->rt->set.timeout_idle);
		return 0;
	}
	if (conn_set_state(c, CONN_CLOSING) == -1)
		return conn_close(c, "bad state");
	return 0;
}

/*
 * Body bytes of the response arrived: raw ones sit in cout[from, len) (read
 * there directly), chunked ones in uin, re-encoded into cout here. Keeps
 * what belongs to the body and notices its end.
 */
static int
conn_response_body(struct conn *c, size_t from)
{
	struct xfer *x = c->x;
	const char *in;
	/* cout may move as the body is written into it: count from off */
	size_t n, used, before = iob_pending(&c->cout);
	int rv, raw = msg_body_raw(&x->resp);

	if (raw) {
		in = c->cout.data + from;
		n = c->cout.len - from;
	} else {
		in = c->uin.data + c->uin.off;
		n = iob_pending(&c->uin);
	}
	rv = msg_body_feed(&x->resp, in, n, &used, &c->cout);
	if (rv == HTTP_NOMEM)
		return conn_close(c, "out of memory");
	if (rv == -1) {
		log_warn("conn %u: %s sent a bad chunked body: %s", c->id,
		    x->upstream, err_msg());
		x->resp_keep = x->up_keep = 0;
		c->cout.len = c->cout.off + before;
		return conn_error(c, 502, NULL);
	}
	if (used < n) {
		/* bytes past the response's end: the upstream is confused */
		log_debug("conn %u: %s sent bytes after the response", c->id,
		    x->upstream);
		x->up_keep = 0;
	}
	if (raw) {
		c->cout.len = from + used;
		x->bytes += used;
	} else {
		c->uin.off = c->uin.len = 0;
		x->bytes += iob_pending(&c->cout) - before;
	}
	return rv == HTTP_DONE ? conn_response_done(c) : 0;
}

/* Appends the head in hb to cout (rv: what writing it returned). Returns
 * 0; 1 when it did not fit and 502 was answered instead; -1 when c was
 * freed. */
static int
conn_put_head(struct conn *c, struct hbuf *hb, int rv)
{
	if (rv == -1) {
		log_warn("conn %u: response head from %s too large", c->id,
		    c->x->upstream);
		return conn_error(
		           c, 502, "the app's response head is too large") == -1
		           ? -1
		           : 1;
	}
	if (iob_put(&c->cout, hb->p, hb->len) == -1)
		return conn_close(c, "out of memory");
	c->x->bytes += hb->len;
	return 0;
}

/* Appends the response head the client sees to cout. */
static int
conn_response_head(struct conn *c, const struct http_head *h)
{
	struct xfer *x = c->x;
	struct msg_plan plan;
	struct hbuf hb;
	int rv;

	msg_response_plan(&plan, h, x->minor,
	    x->keep && x->req_done && !c->rt->stopping, x->upgrade);
	hbuf_init(&hb, c->rt->headout, sizeof c->rt->headout);
	if ((rv = conn_put_head(c, &hb,
	         msg_response_head(&hb, h, &plan, x->minor, x->is_head))) != 0)
		return rv;
	x->status = h->status;
	x->up_keep = plan.up_keep;
	x->resp_keep = plan.keep;
	msg_body_init(&x->resp, h->framing, h->length, plan.rechunk);
	x->resp_started = 1;
	if (x->retry_ok) /* the kept head need not be sent again now */
		c->uout.off = c->uout.len = 0;
	return 0;
}

/* A 101 answer to an Upgrade request: pass its head on, then tunnel. */
static int
conn_upgraded(struct conn *c, const struct http_head *h)
{
	struct xfer *x = c->x;
	struct hbuf hb;
	int rv;

	hbuf_init(&hb, c->rt->headout, sizeof c->rt->headout);
	if ((rv = conn_put_head(c, &hb, msg_upgrade_head(&hb, h))) != 0)
		return rv;
	x->status = 101;
	x->resp_started = 1;
	x->up_keep = 0;
	conn_access_log(c, 101);
	if (conn_set_state(c, CONN_TUNNEL) == -1)
		return conn_close(c, "bad state");
	c->deadline = ev_now() + c->rt->set.timeout_tunnel;
	return 0;
}

/* Parses the response head gathered in c->uin and hands the body on. */
static int
conn_upstream_head_done(struct conn *c)
{
	struct xfer *x = c->x;
	struct http_head *h = &c->rt->head;
	struct hbuf hb;
	size_t from, n;
	int rv;

	for (;;) {
		http_head_init(h);
		h->scan = c->uscan;
		rv = http_parse_response(h, c->uin.data + c->uin.off,
		    iob_pending(&c->uin), x->is_head);
		c->uscan = h->scan;
		if (rv == HTTP_MORE)
			return 0;
		c->uscan = 0;
		if (rv == -1 || (h->status == 101 && !x->upgrade)) {
			log_warn("conn %u: bad response from %s: %s", c->id,
			    x->upstream,
			    rv == -1 ? err_msg() : "unexpected upgrade");
			return conn_error(
			    c, 502, "the app sent a bad response");
		}
		/* 1: answered with an error, the upstream let go */
		if (h->status == 101) {
			if ((rv = conn_upgraded(c, h)) != 0)
				return rv == 1 ? 0 : -1;
			iob_consume(&c->uin, h->headlen);
			break;
		}
		if (h->status >= 200) {
			if ((rv = conn_response_head(c, h)) != 0)
				return rv == 1 ? 0 : -1;
			iob_consume(&c->uin, h->headlen);
			break;
		}
		/* other 1xx: pass it on to HTTP/1.1 clients; then the next */
		if (x->minor == 1) {
			hbuf_init(&hb, c->rt->headout, sizeof c->rt->headout);
			rv = conn_put_head(c, &hb, msg_interim_head(&hb, h));
			if (rv != 0)
				return rv == 1 ? 0 : -1;
		}
		iob_consume(&c->uin, h->headlen);
	}
	if (c->state != CONN_TUNNEL && !msg_body_raw(&x->resp))
		return conn_response_body(c, 0);
	n = iob_pending(&c->uin);
	if (iob_put(&c->cout, c->uin.data + c->uin.off, n) == -1)
		return conn_close(c, "out of memory");
	from = c->cout.len - n; /* after the put, which may move cout */
	c->uin.off = c->uin.len = 0;
	if (c->state == CONN_TUNNEL)
		return 0;
	return conn_response_body(c, from);
}

static int
conn_read_upstream(struct conn *c)
{
	struct xfer *x = c->x;
	/* raw bodies go straight to the client's buffer; heads and chunked
	 * bodies, which the router rewrites, to uin first */
	struct iob *b = c->state == CONN_TUNNEL ||
	                        (x->resp_started && msg_body_raw(&x->resp))
	                    ? &c->cout
	                    : &c->uin;
	size_t want = ROUTER_READSIZE, from;
	ssize_t n;
	char *d;
	int rv, one = 1, ufd = c->ufd;

	if (c->state == CONN_PROXY && x->resp_started &&
	    x->resp.in == HTTP_BODY_LENGTH && x->resp.left < want)
		want = x->resp.left ? (size_t)x->resp.left : 1;
	/* reserving may move the pending bytes down: where the new ones
	 * start is known only after it */
	if ((d = iob_reserve(b, want)) == NULL)
		return conn_close(c, "out of memory");
	from = (size_t)(d - b->data);
	n = read(c->ufd, d, want);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		b->len += (size_t)n;
		c->deadline = ev_now() + (c->state == CONN_TUNNEL
		                                 ? c->rt->set.timeout_tunnel
		                                 : c->rt->set.timeout_response);
		if (c->state == CONN_TUNNEL)
			return 0;
		rv = x->resp_started ? conn_response_body(c, from)
		                     : conn_upstream_head_done(c);
		/* The response goes on (the upstream is still ours): ACK at
		 * once. An app that writes its head and body in two small
		 * sends (Python's http.server, ...) otherwise waits out our
		 * delayed ACK under Nagle: 40 ms a request on a kept-alive
		 * connection. A response read whole costs no syscall. */
		if (rv == 0 && c->ufd == ufd && c->state == CONN_PROXY)
			(void)setsockopt(
			    ufd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		return rv;
	}
	if (n == -1)
		log_debug("conn %u: read from %s: %s", c->id, x->upstream,
		    strerror(errno));
	if (c->state == CONN_TUNNEL) {
		conn_drop_upstream(c, 0);
		return conn_set_state(c, CONN_CLOSING) == -1
		           ? conn_close(c, "bad state")
		           : 0;
	}
	if (!x->resp_started) {
		if (conn_retry(c, &rv))
			return rv;
		return conn_error(c, 502, "the app closed the connection");
	}
	if (x->resp.in == HTTP_BODY_CLOSE && n == 0) {
		x->up_keep = 0;
		return conn_response_done(c);
	}
	log_warn("conn %u: %s ended the response early", c->id, x->upstream);
	x->resp_keep = 0;
	return conn_error(c, 502, NULL);
}

/* ---- the client -------------------------------------------------------- */

static int
conn_read_client(struct conn *c)
{
	struct iob *b = c->state == CONN_TUNNEL ? &c->uout : &c->cin;
	char tmp[512], *d;
	ssize_t n;

	if (c->state == CONN_LINGER) {
		n = read(c->fd, tmp, sizeof tmp);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return conn_close(c, "lingered");
		return 0;
	}
	if ((d = iob_reserve(b, ROUTER_READSIZE)) == NULL)
		return conn_close(c, "out of memory");
	n = read(c->fd, d, ROUTER_READSIZE);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0 && c->state == CONN_HEAD && iob_pending(&c->cin) == 0)
		return conn_close(c, "client done");
	if (n == 0 && (c->state == CONN_PROXY || c->state == CONN_CONNECT) &&
	    c->x->req_done && iob_pending(&c->cin) > 0) {
		/* half-closed after pipelining: answer what was sent */
		c->client_eof = 1;
		c->x->keep = 0;
		return 0;
	}
	if (n <= 0)
		return conn_close(
		    c, n == 0 ? "client closed" : strerror(errno));
	if (c->state == CONN_HEAD && iob_pending(&c->cin) == 0)
		c->deadline = ev_now() + c->rt->set.timeout_head;
	b->len += (size_t)n;
	return 0;
}

static int
conn_flush_client(struct conn *c)
{
	struct iob *b = &c->cout;
	ssize_t n;

	while (iob_pending(b) > 0) {
		n = write(c->fd, b->data + b->off, iob_pending(b));
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return conn_close(c, strerror(errno));
		}
		b->off += (size_t)n;
		if (c->state == CONN_PROXY || c->state == CONN_CLOSING)
			c->deadline = ev_now() + c->rt->set.timeout_response;
	}
	b->off = b->len = 0;
	if (c->state == CONN_CLOSING) {
		/* Shut the write side and drain input for a moment, so the
		 * client reads the answer before a reset can discard it. */
		if (shutdown(c->fd, SHUT_WR) == -1)
			return conn_close(c, "shutdown");
		if (conn_set_state(c, CONN_LINGER) == -1)
			return conn_close(c, "bad state");
		c->deadline = ev_now() + c->rt->set.timeout_linger;
	}
	return 0;
}

/* Registers the interest that matches the state and the buffers. Reading
 * stays on in the common states, so that a request costs no epoll_ctl. */
static int
conn_update_events(struct conn *c)
{
	struct ev_loop *loop = c->rt->loop;
	size_t cpend = iob_pending(&c->cout);
	size_t upend = iob_pending(&c->uout);
	size_t ipend = iob_pending(&c->cin);
	int m = 0, um = 0;

	switch (c->state) {
	case CONN_HEAD:
		if (ipend <= ROUTER_MAXHEADER && cpend < ROUTER_MAXBUF)
			m |= EV_READ;
		break;
	case CONN_CONNECT:
	case CONN_PROXY:
		if (!c->client_eof && upend < ROUTER_MAXBUF &&
		    ipend < ROUTER_MAXBUF)
			m |= EV_READ;
		if (c->state == CONN_CONNECT) {
			um = EV_WRITE;
			break;
		}
		if (cpend < ROUTER_MAXBUF)
			um |= EV_READ;
		if (upend)
			um |= EV_WRITE;
		break;
	case CONN_TUNNEL:
		if (upend < ROUTER_MAXBUF)
			m |= EV_READ;
		if (cpend < ROUTER_MAXBUF)
			um |= EV_READ;
		if (upend)
			um |= EV_WRITE;
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
	if (c->state == CONN_HEAD && iob_pending(&c->cin) > 0 &&
	    conn_parse_request(c) == -1)
		return;
	if ((c->state == CONN_CONNECT || c->state == CONN_PROXY ||
	        c->state == CONN_TUNNEL) &&
	    conn_forward_body(c) == -1)
		return;
	if ((c->state == CONN_PROXY || c->state == CONN_TUNNEL) &&
	    iob_pending(&c->uout) > 0 && conn_flush_upstream(c) == -1)
		return;
	if (iob_pending(&c->cout) > 0 && conn_flush_client(c) == -1)
		return;
	if (c->state == CONN_CLOSING && iob_pending(&c->cout) == 0 &&
	    conn_flush_client(c) == -1)
		return;
	if (c->state == CONN_HEAD && iob_pending(&c->cin) == 0 &&
	    iob_pending(&c->cout) == 0) {
		if (c->rt->stopping || c->client_eof) {
			conn_close(c, "done");
			return;
		}
		/* idle: keep only the struct */
		iob_free(&c->cin);
		iob_free(&c->cout);
		iob_free(&c->uout);
		iob_free(&c->uin);
		free(c->x);
		c->x = NULL;
	}
	(void)conn_update_events(c);
}

static void
conn_io(struct ev_loop *loop, int fd, int ready, void *arg)
{
	struct conn *c = arg;

	if (fd == c->fd) {
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
		    (c->state == CONN_PROXY || c->state == CONN_TUNNEL) &&
		    conn_read_upstream(c) == -1)
			return;
	} else {
		return;
	}
	conn_pump(c);
}

/* ---- listening --------------------------------------------------------- */

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
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: pause accepting for a
				 * tick rather than spin on the listener */
				log_warn(
				    "accept: %s; pausing", strerror(errno));
				ev_del(loop, lfd);
				rt->accept_at = ev_now() + ROUTER_TICK;
			} else if (errno != EAGAIN && errno != EINTR &&
			           errno != ECONNABORTED) {
				log_warn("accept: %s", strerror(errno));
			}
			return;
		}
		if (rt->nconns >= rt->set.max_conns ||
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
		c->cin.cache = c->cout.cache = &rt->spare;
		c->uout.cache = c->uin.cache = &rt->spare;
		c->ufd = -1;
		c->state = CONN_HEAD;
		c->trusted = rt->set.ntrusted > 0 && trust_has(&rt->set, &ss);
		c->deadline = ev_now() + rt->set.timeout_head;
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
		(void)conn_update_events(c);
	}
}

int
conn_start(struct router *rt)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getsockname(rt->lfd, (struct sockaddr *)&ss, &sl) == 0)
		rt->port = ntohs(ss.ss_family == AF_INET6
		                     ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                     : ((struct sockaddr_in *)&ss)->sin_port);
	if (getrandom(rt->rng, sizeof rt->rng, 0) != sizeof rt->rng)
		rt->rng[0] = (uint64_t)ev_now() ^ (uint64_t)getpid() << 32;
	rt->rng[1] |= 1;
	if (rt->pool == NULL && pool_new(&rt->pool, rt) == -1)
		return -1;
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
		if (c->state == CONN_HEAD && iob_pending(&c->cin) == 0 &&
		    iob_pending(&c->cout) == 0)
			conn_close(c, "shutting down");
	}
}

void
conn_sweep(struct router *rt, int64_t now)
{
	struct conn *c, *next;

	if (rt->accept_at && now >= rt->accept_at && rt->lfd != -1) {
		rt->accept_at = 0;
		(void)ev_set(rt->loop, rt->lfd, EV_READ, conn_accept, rt);
	}
	pool_sweep(rt->pool, now);
	for (c = rt->conns; c; c = next) {
		next = c->next;
		if (c->deadline > now)
			continue;
		switch (c->state) {
		case CONN_HEAD:
			if (iob_pending(&c->cin) == 0 &&
			    iob_pending(&c->cout) == 0) {
				conn_close(c, "idle");
				continue;
			}
			if (iob_pending(&c->cin) == 0) {
				conn_close(c, "client not reading");
				continue;
			}
			if (conn_xfer(c) == NULL) {
				conn_close(c, "out of memory");
				continue;
			}
			c->x->inflight = 1;
			c->x->start = now;
			if (conn_error(c, 408, NULL) == -1)
				continue;
			break;
		case CONN_CONNECT:
		case CONN_PROXY:
			if (c->state == CONN_PROXY && c->x->resp_started) {
				conn_close(c, "response stalled");
				continue;
			}
			log_warn("conn %u: %s %s timed out", c->id,
			    c->state == CONN_CONNECT ? "connect to"
			                             : "waiting for",
			    c->x->upstream);
			if (conn_error(c, 504,
			        "the app took too long to answer") == -1)
				continue;
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
	pool_free(rt->pool);
	rt->pool = NULL;
	iob_cache_clear(&rt->spare);
}
