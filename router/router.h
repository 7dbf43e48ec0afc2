/*
 * router/router.h: minpaas-router, the HTTP/1.1 reverse proxy in front of
 * every app. It looks the Host header up in the LMDB route table on every
 * request and streams the request to one of the route's upstreams on
 * 127.0.0.1, then streams the response back.
 *
 * One file per concern, one header for all of them (OpenBSD relayd style):
 *   ev.c     the event loop; the only file that calls epoll_*
 *   http.c   the HTTP/1.1 head parser and the strict chunked parser; pure
 *   msg.c    every head the router writes (one bounded writer) and the
 *            body framing it forwards; pure
 *   iob.c    growable byte buffers
 *   proxy.c  the connections: accept, route, proxy, errors, timeouts
 *   pool.c   idle keep-alive connections to upstreams
 *   addr.c   socket addresses, the listening socket, trusted networks
 *   main.c   options, logging, context, loop
 */
#ifndef MINPAAS_ROUTER_H
#define MINPAAS_ROUTER_H

#include <stddef.h>
#include <stdint.h>

/* Limits on input from outside. */
#define ROUTER_MAXHEADER     (16 * 1024) /* bytes in a request/response head */
#define ROUTER_MAXHEADERS    100         /* header fields in a head */
#define ROUTER_MAXMETHOD     32          /* bytes in a method token */
#define ROUTER_MAXCONNTOKENS 16          /* tokens in Connection: */
#define ROUTER_MAXCHUNKLINE  1024        /* chunk-size line with extensions */
#define ROUTER_MAXTRAILER    ROUTER_MAXHEADER
#define ROUTER_MAXREQUESTID  128 /* longest X-Request-Id passed on */
/* A head the router writes, its fields added: no more than it would
 * accept itself (Node's default is the same 16 KiB); one that would be
 * larger is answered 431 (request) or 502 (response). */
#define ROUTER_MAXHEADOUT ROUTER_MAXHEADER
#define ROUTER_MAXTRUSTED 32 /* networks in --trusted-proxies */
/* Output buffered before the other side stops being read. */
#define ROUTER_MAXBUF     (64 * 1024)
#define ROUTER_READSIZE   (16 * 1024)
#define ROUTER_MAXWORKERS 64

/*
 * Defaults of the settings (struct router_settings); main.c has flags for
 * them. Timeouts are in milliseconds; a test build may set shorter defaults
 * with -D.
 */
#define ROUTER_MAXCONNS          20000 /* client connections (per worker) */
#define ROUTER_MAXBODY           (100ULL << 20) /* request body bytes; 413 beyond */
#define ROUTER_POOL_PER_UPSTREAM 128  /* idle upstream connections kept */
#define ROUTER_POOL_MAX          4096 /* idle upstream connections in all */
#ifndef ROUTER_TIMEOUT_HEAD
#define ROUTER_TIMEOUT_HEAD 10000 /* first byte to end of request head */
#endif
#ifndef ROUTER_TIMEOUT_IDLE
#define ROUTER_TIMEOUT_IDLE 60000 /* keep-alive wait for the next request */
#endif
#ifndef ROUTER_TIMEOUT_CONNECT
#define ROUTER_TIMEOUT_CONNECT 5000 /* upstream connect */
#endif
#ifndef ROUTER_TIMEOUT_RESPONSE
#define ROUTER_TIMEOUT_RESPONSE 60000 /* upstream silence, body transfer */
#endif
#define ROUTER_TIMEOUT_TUNNEL   3600000 /* silence in an upgraded tunnel */
#define ROUTER_TIMEOUT_POOL     30000   /* idle upstream connection kept */
#define ROUTER_TIMEOUT_LINGER   2000    /* draining a client after an error */
#define ROUTER_TIMEOUT_SHUTDOWN 10000   /* in-flight work after SIGTERM */
#define ROUTER_TICK             250     /* how often deadlines are checked */
#define ROUTER_READER_CHECK     60000   /* ms between stale-reader sweeps */

#define ROUTER_DEFAULT_PORT     8080
#define ROUTER_DEFAULT_BIND     "0.0.0.0"

/* ---- ev.c: a level-triggered event loop over epoll --------------------- */
#define EV_READ  0x1
#define EV_WRITE 0x2
#define EV_HUP   0x4 /* peer shut its side; without reading data */

struct ev_loop;
/* Called with the fd, the EV_* bits that are ready, and the caller's arg.
 * Errors and hang-ups are reported as EV_READ and EV_WRITE (and EV_HUP) so
 * that the next read or write sees them. */
typedef void ev_fn(struct ev_loop *loop, int fd, int ready, void *arg);

/* Creates a loop; 0 or -1 with err_set(). Free it with ev_loop_free(). */
int ev_loop_new(struct ev_loop **out);
void ev_loop_free(struct ev_loop *loop);
/* Sets the EV_* interest of fd (adding, changing or, for 0, removing it);
 * fn and arg replace the previous ones. 0, or -1 with err_set(). */
int ev_set(struct ev_loop *loop, int fd, int mask, ev_fn *fn, void *arg);
/* Forgets fd; call it before close(fd). */
void ev_del(struct ev_loop *loop, int fd);
/* Waits up to timeout_ms and runs the callbacks of ready fds. Returns the
 * number of events, 0 on timeout or signal, -1 with err_set() on failure. */
int ev_poll(struct ev_loop *loop, int timeout_ms);
/* Milliseconds on a monotonic clock. */
int64_t ev_now(void);

/* ---- http.c: request/response heads and chunked framing; no I/O -------- */
#define HTTP_MORE 0 /* a complete head is not there yet */
#define HTTP_DONE 1 /* parsed; h->headlen bytes make the head */

enum http_framing {
	HTTP_BODY_NONE,    /* no body */
	HTTP_BODY_LENGTH,  /* Content-Length bytes */
	HTTP_BODY_CHUNKED, /* chunked transfer coding */
	HTTP_BODY_CLOSE    /* until the sender closes (responses only) */
};

struct http_field {
	const char *name;
	size_t namelen;
	const char *value; /* without surrounding white space */
	size_t valuelen;
};

struct http_head {
	size_t scan;    /* progress of the end-of-head search; 0 at start */
	size_t headlen; /* bytes of the head including its empty line */
	int error;      /* HTTP status to answer with when parsing failed */

	const char *method; /* requests */
	size_t methodlen;
	const char *target;
	size_t targetlen;
	int status; /* responses */
	const char *reason;
	size_t reasonlen;
	int minor; /* HTTP/1.<minor>: 0 or 1 */

	struct http_field field[ROUTER_MAXHEADERS];
	size_t nfields;

	/* Host, port removed and lower-cased; requests only. */
	char host[256];
	size_t hostlen;
	int hashost;

	enum http_framing framing;
	uint64_t length;                  /* Content-Length's value */
	int haslength;                    /* a Content-Length was there */
	int chunked;                      /* Transfer-Encoding: chunked */
	int conn_close;                   /* Connection: close */
	int conn_keep;                    /* Connection: keep-alive */
	int conn_upgrade;                 /* Connection: upgrade */
	const struct http_field *upgrade; /* the Upgrade field, or NULL */
	int expect_continue;              /* Expect: 100-continue */

	/* Requests: what the upstream sees as target (origin-form), and the
	 * authority of an absolute-form target (NULL otherwise), which
	 * replaces Host for routing. */
	const char *path;
	size_t pathlen;
	const char *authority;
	size_t authoritylen;
	/* Tokens named in Connection:, which are hop-by-hop headers. */
	struct http_field conntok[ROUTER_MAXCONNTOKENS];
	size_t nconntok;
};

struct http_chunked {
	int state;
	uint64_t left;  /* bytes of chunk data still to come */
	size_t line;    /* bytes in the current chunk-size line */
	size_t trailer; /* bytes of the trailer section */
	int digits;
	int canvalue; /* a chunk extension name may take "=value" now */
	int ws;       /* white space since the last size, name or value */
};

/* Resets h before the first call for a new head. */
void http_head_init(struct http_head *h);
/*
 * Parses a request head from buf[0..len), the bytes received so far (the
 * same buffer grown between calls; h->scan remembers where the search for
 * the head's end stopped). Returns HTTP_DONE, HTTP_MORE, or -1 with
 * h->error set to 400, 431 or 505 and err_set() naming the fault. Field
 * pointers point into buf.
 */
int http_parse_request(struct http_head *h, const char *buf, size_t len);
/* Same for a response head. req_head is 1 when answering a HEAD request,
 * which has no body whatever the head says. */
int http_parse_response(
    struct http_head *h, const char *buf, size_t len, int req_head);
/* 1 when the field's name is name (case-insensitive), else 0. */
int http_field_is(const struct http_field *f, const char *name);
/* 1 when name is hop-by-hop for h (fixed list plus Connection tokens). */
int http_hop_by_hop(
    const struct http_head *h, const char *name, size_t namelen);
/* The standard reason phrase of a status code. */
const char *http_reason(int status);

/* Resets c before the first byte of a chunked body. */
void http_chunked_init(struct http_chunked *c);
/*
 * Follows a chunked body through buf[0..len), strictly (RFC 9112 7.1):
 * CRLF line ends only, chunk extensions checked against their grammar,
 * trailer fields checked as header fields (and left for the caller to
 * drop). Stops after the first run of chunk data it meets: *used is set to
 * the bytes consumed and [*data, *data + *datalen) to that run (0 when
 * there is none). Returns HTTP_DONE when the body, trailers included,
 * ended at *used, HTTP_MORE when it goes on, -1 with err_set() when the
 * framing is malformed.
 */
int http_chunked_next(struct http_chunked *c, const char *buf, size_t len,
    size_t *used, size_t *data, size_t *datalen);

/* ---- iob.c: growable byte buffers -------------------------------------- */
#define HTTP_NOMEM (-2) /* out of memory, from functions that fill an iob */

/* Spare blocks of ROUTER_READSIZE bytes, kept by a worker so that a
 * connection going idle and the next request busy cost no malloc. */
#define ROUTER_IOBCACHE 256 /* blocks kept: 4 MiB */
struct iob_cache {
	char *block[ROUTER_IOBCACHE];
	size_t n;
};

/* Bytes in data[off, len); storage is freed by iob_free (into cache, when
 * there is one). */
struct iob {
	char *data;
	size_t off, len, cap;
	struct iob_cache *cache; /* NULL: plain malloc and free */
};

/* Bytes in b not consumed yet. */
size_t iob_pending(const struct iob *b);
/* Room for n more bytes at data + len (compacting or growing b); NULL when
 * memory runs out. */
char *iob_reserve(struct iob *b, size_t n);
/* Appends n bytes; 0 or -1 when memory runs out. */
int iob_put(struct iob *b, const char *p, size_t n);
/* Marks n bytes consumed; an emptied buffer starts over at 0. */
void iob_consume(struct iob *b, size_t n);
/* Frees the storage (a block of the usual size goes back to b's cache);
 * b is empty after and keeps its cache. */
void iob_free(struct iob *b);
/* Frees the blocks a cache holds. */
void iob_cache_clear(struct iob_cache *cache);

/* ---- msg.c: what the router writes; no I/O ----------------------------- */

/*
 * The one bounded writer of heads: writes never go past cap; one that
 * would sets over, and everything after it is dropped. A head is used
 * only when over is 0.
 */
struct hbuf {
	char *p;
	size_t len, cap;
	int over;
};

void hbuf_init(struct hbuf *b, char *p, size_t cap);
void hbuf_put(struct hbuf *b, const char *s, size_t n);
void hbuf_str(struct hbuf *b, const char *s);
/* Appends "name: value\r\n". */
void hbuf_field(
    struct hbuf *b, const char *name, size_t nl, const char *v, size_t vl);
/* Appends v in decimal (or hex, lower case). */
void hbuf_num(struct hbuf *b, uint64_t v, int hex);

/* What the router knows of the client, for the forwarding fields. */
struct msg_peer {
	const char *ip;         /* its address, as text */
	int trusted;            /* it is in the trusted-proxies setting */
	const char *proto;      /* "http" */
	unsigned port;          /* the port it connected to */
	const char *request_id; /* 32 hex digits, used when it sent none */
};

/*
 * Writes the head the upstream sees for request h: origin-form target,
 * always HTTP/1.1 with keep-alive, hop-by-hop fields dropped, the framing
 * field written by the router from its own decision (one Content-Length,
 * or Transfer-Encoding: chunked for a body it re-chunks), the forwarding
 * fields set from peer (a trusted peer's chain kept and extended), and
 * Upgrade passed on when upgrade is set. 0, or -1 when it does not fit.
 */
int msg_request_head(struct hbuf *b, const struct http_head *h,
    const struct msg_peer *peer, int upgrade);

/* How a response goes to the client, decided from its head. */
struct msg_plan {
	int dechunk; /* chunked response to an HTTP/1.0 client: data only */
	int rechunk; /* chunked response re-chunked by the router */
	int keep;    /* the client connection stays open after it */
	int up_keep; /* the upstream connection may be reused after it */
};

/*
 * Decides the plan of response h to a request of HTTP/1.<minor> whose
 * client allows keep-alive (client_keep, already false when the router is
 * stopping or the request is not fully read) and that asked for an
 * upgrade (upgrade).
 */
void msg_response_plan(struct msg_plan *p, const struct http_head *h, int minor,
    int client_keep, int upgrade);
/*
 * Writes the head the client sees: status line, the upstream's fields
 * but hop-by-hop and framing ones, the router's own framing field, and
 * Connection as the plan says; for a HEAD request or 304 (is_head or the
 * status) Content-Length is passed on as metadata. 0, or -1 when it does
 * not fit.
 */
int msg_response_head(struct hbuf *b, const struct http_head *h,
    const struct msg_plan *p, int minor, int is_head);
/* The head of a 1xx (but 101) answer passed on to an HTTP/1.1 client. */
int msg_interim_head(struct hbuf *b, const struct http_head *h);
/* The head of a 101 answer that starts a tunnel. */
int msg_upgrade_head(struct hbuf *b, const struct http_head *h);
/* The head of an error page the router writes itself. */
int msg_error_head(struct hbuf *b, int status, size_t bodylen);

/*
 * A body on its way through: framed as it arrives (in), written the way
 * the router decided: a chunked one re-chunked (rechunk) or as data alone;
 * the others as they came.
 */
struct msg_body {
	enum http_framing in;
	int rechunk; /* chunked in, fresh chunks out; else data only */
	uint64_t left;
	uint64_t data; /* body data bytes seen so far */
	struct http_chunked ch;
	int done;
};

void msg_body_init(
    struct msg_body *b, enum http_framing in, uint64_t length, int rechunk);
/* 1 when the body's bytes are forwarded as they came (no re-encoding):
 * the caller moves in[0..*used) itself after msg_body_feed. */
int msg_body_raw(const struct msg_body *b);
/*
 * Follows the body through in[0..len); *used is set to the bytes that
 * belong to it (what follows is the next message). A raw body is left for
 * the caller to move; a chunked one is re-encoded into out (fresh chunks
 * and a last chunk without trailers, or the data alone). Returns
 * HTTP_DONE when the body ended within *used, HTTP_MORE, -1 with
 * err_set() when it is malformed, HTTP_NOMEM when out cannot grow.
 */
int msg_body_feed(struct msg_body *b, const char *in, size_t len, size_t *used,
    struct iob *out);

/* ---- proxy.c: connections; pool.c: idle upstream connections -------- */
struct state;
struct state_reader;
struct conn;
struct pool;

/* Every limit and timeout, set in main from flags and defaults. */
struct router_settings {
	int timeout_head, timeout_idle, timeout_connect, timeout_response;
	int timeout_tunnel, timeout_pool, timeout_linger, timeout_shutdown;
	uint64_t max_body;
	size_t max_conns;
	int pool_per_upstream, pool_max;
	int access_log;
	/* clients whose forwarding fields are believed */
	struct trust_net {
		int family; /* AF_INET or AF_INET6 */
		unsigned char addr[16];
		int bits;
	} trusted[ROUTER_MAXTRUSTED];
	size_t ntrusted;
};

/* Fills s with the defaults above. */
void router_settings_init(struct router_settings *s);

/* The router's one context (one per worker), made in main and passed
 * down. */
struct router {
	struct router_settings set;
	struct ev_loop *loop;
	struct state *st;
	struct state_reader *reader;
	struct pool *pool;
	int lfd;           /* listening socket, -1 once closed */
	int stopping;      /* no new connections, no keep-alive */
	int64_t accept_at; /* accepting paused (out of fds) until then */
	unsigned rr;       /* round-robin counter over upstreams */
	unsigned nextid;   /* connection ids for the log */
	size_t nconns;
	struct conn *conns;              /* every open connection */
	uint64_t rng[2];                 /* request id generator state */
	unsigned port;                   /* the listening socket's port */
	struct iob_cache spare;          /* buffers of idle connections */
	struct http_head head;           /* scratch for the head being parsed */
	char headout[ROUTER_MAXHEADOUT]; /* scratch for the head written */
};

/* Binds and listens on addr:port (IPv4 or IPv6 literal), with SO_REUSEPORT
 * when reuseport is set; returns the fd or -1 with err_set(). */
int conn_listen(const char *addr, int port, int reuseport);
/* Starts accepting on rt->lfd. 0, or -1 with err_set(). */
int conn_start(struct router *rt);
/* Stops accepting and lets keep-alive connections end. */
void conn_stop(struct router *rt);
/* Ends connections whose deadline has passed (408, 504, idle close), and
 * idle upstream connections past their time. */
void conn_sweep(struct router *rt, int64_t now);
/* Closes every connection at once. */
void conn_close_all(struct router *rt);
/* Parses "127.0.0.1:8080" or "[::1]:8080" into ss; 0 or -1. */
int conn_sockaddr(const char *up, void *ss, unsigned *sl);
/* Copies the len bytes at src into dst NUL-terminated, cut to fit dstlen. */
void conn_copy(char *dst, size_t dstlen, const char *src, size_t len);
/* Parses "10.0.0.0/8,::1,192.168.1.7" into s->trusted; 0, or -1 with
 * err_set() naming the bad entry. */
int trust_parse(struct router_settings *s, const char *list);
/* 1 when the socket address ss (struct sockaddr_storage) is in one of
 * s's trusted networks; an IPv4-mapped IPv6 address matches as IPv4. */
int trust_has(const struct router_settings *s, const void *ss);

/* Makes an empty pool of idle upstream connections; 0 or -1. */
int pool_new(struct pool **out, struct router *rt);
/* Closes every idle connection and frees the pool. */
void pool_free(struct pool *p);
/* An idle connection to upstream addr, removed from the pool, or -1 when
 * there is none. Its fd is still registered with the loop: the caller
 * sets its own callback at once. */
int pool_get(struct pool *p, const char *addr);
/* Keeps fd, connected to addr and between responses, for reuse; closes it
 * when the pool is full. */
void pool_put(struct pool *p, const char *addr, int fd);
/* Closes idle connections kept longer than the pool timeout. */
void pool_sweep(struct pool *p, int64_t now);
/* Idle connections held. */
size_t pool_count(const struct pool *p);

#endif
