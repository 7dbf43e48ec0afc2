/*
 * router/msg.c: everything the router writes into a message: the heads
 * it sends upstream and to the client, its own error pages, and the
 * framing of the bodies it forwards.
 *
 * Pure code (no I/O), so that the fuzz target drives exactly what the
 * proxy runs. It guarantees:
 *  - every head goes through one bounded writer (struct hbuf) that never
 *    writes past its buffer; a head that would not fit is refused whole;
 *  - the router owns framing: the upstream's and the client's framing
 *    fields are never copied; the one framing field forwarded (a single
 *    Content-Length, or Transfer-Encoding: chunked for a body the router
 *    re-chunks) is written from the router's own decision, and a body
 *    moves no further than that decision says;
 *  - forwarding fields (X-Forwarded-For, -Proto, -Host, -Port, Forwarded)
 *    say what the router saw; a client's own are dropped unless it is a
 *    trusted proxy, whose chain is kept and extended.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "router/router.h"

/* ---- the bounded writer ------------------------------------------------ */

void
hbuf_init(struct hbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->over = 0;
}

void
hbuf_put(struct hbuf *b, const char *s, size_t n)
{
	if (b->over || n > b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void
hbuf_str(struct hbuf *b, const char *s)
{
	hbuf_put(b, s, strlen(s));
}

void
hbuf_field(
    struct hbuf *b, const char *name, size_t nl, const char *v, size_t vl)
{
	hbuf_put(b, name, nl);
	hbuf_put(b, ": ", 2);
	hbuf_put(b, v, vl);
	hbuf_put(b, "\r\n", 2);
}

void
hbuf_num(struct hbuf *b, uint64_t v, int hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned base = hex ? 16 : 10;
	char tmp[24];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v > 0);
	hbuf_put(b, tmp + i, sizeof tmp - i);
}

static void
hbuf_status_line(struct hbuf *b, int status, const char *reason, size_t rl)
{
	hbuf_put(b, "HTTP/1.1 ", 9);
	hbuf_num(b, (uint64_t)status, 0);
	hbuf_put(b, " ", 1);
	hbuf_put(b, reason, rl);
	hbuf_put(b, "\r\n", 2);
}

static int
hbuf_end(struct hbuf *b)
{
	hbuf_put(b, "\r\n", 2);
	return b->over ? -1 : 0;
}

/* ---- fields ------------------------------------------------------------ */

static int
msg_is_framing(const struct http_field *f)
{
	return http_field_is(f, "content-length") ||
	       http_field_is(f, "transfer-encoding");
}

enum { FWD_NONE, FWD_FOR, FWD_PROTO, FWD_HOST, FWD_PORT, FWD_FORWARDED };

/* 1 when f's name is name (lower case), reading '_' as '-': servers that
 * name fields CGI-style (HTTP_X_FORWARDED_FOR) cannot tell them apart. */
static int
msg_name_is(const struct http_field *f, const char *name)
{
	size_t i, n = strlen(name);

	if (f->namelen != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = f->name[i];
		if (c == '_')
			c = '-';
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c + ('a' - 'A'));
		if (c != name[i])
			return 0;
	}
	return 1;
}

/* Which forwarding field f is, if any. */
static int
msg_forwarding(const struct http_field *f)
{
	if (msg_name_is(f, "forwarded"))
		return FWD_FORWARDED;
	if (f->namelen < 11 || (f->name[0] | 0x20) != 'x')
		return FWD_NONE;
	if (msg_name_is(f, "x-forwarded-for"))
		return FWD_FOR;
	if (msg_name_is(f, "x-forwarded-proto"))
		return FWD_PROTO;
	if (msg_name_is(f, "x-forwarded-host"))
		return FWD_HOST;
	if (msg_name_is(f, "x-forwarded-port"))
		return FWD_PORT;
	return FWD_NONE;
}

static int
msg_request_id_ok(const struct http_field *f)
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

/* The values of every field of kind `which`, joined with ", ", then a
 * separator when there was any: a trusted proxy's chain, to extend. */
static void
msg_chain(struct hbuf *b, const struct http_head *h, int which)
{
	size_t i;

	for (i = 0; i < h->nfields; i++)
		if (msg_forwarding(&h->field[i]) == which &&
		    h->field[i].valuelen > 0 &&
		    !http_hop_by_hop(
		        h, h->field[i].name, h->field[i].namelen)) {
			hbuf_put(b, h->field[i].value, h->field[i].valuelen);
			hbuf_put(b, ", ", 2);
		}
}

/* A Forwarded element: for=...;host=...;proto=... (RFC 7239 4), with
 * the values that are not tokens quoted. */
static void
msg_forwarded(
    struct hbuf *b, const struct msg_peer *peer, const char *host, size_t hl)
{
	int v6 = strchr(peer->ip, ':') != NULL;

	hbuf_str(b, v6 ? "for=\"[" : "for=");
	hbuf_str(b, peer->ip);
	hbuf_str(b, v6 ? "]\"" : "");
	if (hl > 0) {
		int quote = memchr(host, ':', hl) || memchr(host, '[', hl);
		hbuf_str(b, quote ? ";host=\"" : ";host=");
		hbuf_put(b, host, hl);
		hbuf_str(b, quote ? "\"" : "");
	}
	hbuf_str(b, ";proto=");
	hbuf_str(b, peer->proto);
}

/* ---- requests ---------------------------------------------------------- */

static void
msg_request_framing(struct hbuf *b, const struct http_head *h)
{
	if (h->chunked) {
		hbuf_str(b, "Transfer-Encoding: chunked\r\n");
	} else if (h->haslength) {
		hbuf_str(b, "Content-Length: ");
		hbuf_num(b, h->length, 0);
		hbuf_put(b, "\r\n", 2);
	}
}

int
msg_request_head(struct hbuf *b, const struct http_head *h,
    const struct msg_peer *peer, int upgrade)
{
	const struct http_field *host = NULL, *rid = NULL;
	const char *fhost;
	size_t i, fhostlen;
	int framed = 0, seen[FWD_FORWARDED + 1] = {0};

	hbuf_put(b, h->method, h->methodlen);
	hbuf_put(b, " ", 1);
	if (h->pathlen == 0 || h->path[0] == '?')
		hbuf_put(b, "/", 1);
	hbuf_put(b, h->path, h->pathlen);
	hbuf_put(b, " HTTP/1.1\r\n", 11);
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];
		int fwd = msg_forwarding(f);

		if (fwd != FWD_NONE) {
			/* a trusted proxy's For and Forwarded chains are
			 * written below, extended; its others pass, unless
			 * its Connection drops them: then ours are written */
			if (!peer->trusted || fwd == FWD_FOR ||
			    fwd == FWD_FORWARDED ||
			    http_hop_by_hop(h, f->name, f->namelen))
				continue;
			seen[fwd] = 1;
		} else if (msg_is_framing(f)) {
			if (!framed)
				msg_request_framing(b, h);
			framed = 1;
			continue;
		} else if (http_field_is(f, "x-request-id")) {
			if (rid == NULL && msg_request_id_ok(f))
				rid = f;
			continue;
		} else if (http_field_is(f, "host")) {
			host = f;
			if (h->authority) /* absolute-form wins */
				continue;
		} else if (h->minor == 0 && http_field_is(f, "expect")) {
			continue; /* a 1.0 request's expectation is ignored */
		}
		if (http_hop_by_hop(h, f->name, f->namelen))
			continue;
		hbuf_field(b, f->name, f->namelen, f->value, f->valuelen);
	}
	if (h->authority)
		hbuf_field(b, "Host", 4, h->authority, h->authoritylen);
	else if (host == NULL)
		hbuf_field(b, "Host", 4, h->host, h->hostlen);
	if (!framed)
		msg_request_framing(b, h);

	fhost = h->authority ? h->authority : host ? host->value : NULL;
	fhostlen = h->authority ? h->authoritylen : host ? host->valuelen : 0;
	hbuf_str(b, "X-Forwarded-For: ");
	if (peer->trusted)
		msg_chain(b, h, FWD_FOR);
	hbuf_str(b, peer->ip);
	hbuf_put(b, "\r\n", 2);
	if (!(peer->trusted && seen[FWD_PROTO])) {
		hbuf_str(b, "X-Forwarded-Proto: ");
		hbuf_str(b, peer->proto);
		hbuf_put(b, "\r\n", 2);
	}
	if (fhost && !(peer->trusted && seen[FWD_HOST]))
		hbuf_field(b, "X-Forwarded-Host", 16, fhost, fhostlen);
	if (!(peer->trusted && seen[FWD_PORT])) {
		hbuf_str(b, "X-Forwarded-Port: ");
		hbuf_num(b, peer->port, 0);
		hbuf_put(b, "\r\n", 2);
	}
	hbuf_str(b, "Forwarded: ");
	if (peer->trusted)
		msg_chain(b, h, FWD_FORWARDED);
	msg_forwarded(b, peer, fhost, fhostlen);
	hbuf_put(b, "\r\n", 2);
	if (rid)
		hbuf_field(b, "X-Request-Id", 12, rid->value, rid->valuelen);
	else
		hbuf_field(b, "X-Request-Id", 12, peer->request_id,
		    strlen(peer->request_id));
	if (upgrade) {
		hbuf_field(
		    b, "Upgrade", 7, h->upgrade->value, h->upgrade->valuelen);
		hbuf_str(b, "Connection: upgrade\r\n");
	}
	return hbuf_end(b);
}

/* ---- responses --------------------------------------------------------- */

void
msg_response_plan(struct msg_plan *p, const struct http_head *h, int minor,
    int client_keep, int upgrade)
{
	p->dechunk = minor == 0 && h->framing == HTTP_BODY_CHUNKED;
	p->rechunk = minor == 1 && h->framing == HTTP_BODY_CHUNKED;
	p->up_keep = (h->minor == 1 ? !h->conn_close : h->conn_keep) &&
	             h->framing != HTTP_BODY_CLOSE && !upgrade;
	p->keep = client_keep && h->framing != HTTP_BODY_CLOSE && !p->dechunk;
}

/* The framing field the client sees, from the router's decision. */
static void
msg_response_framing(struct hbuf *b, const struct http_head *h,
    const struct msg_plan *p, int minor, int is_head)
{
	if (h->status < 200 || h->status == 204)
		return;
	if (is_head || h->status == 304) {
		/* no body: the fields only describe the one GET would get */
		if (h->chunked && minor == 1)
			hbuf_str(b, "Transfer-Encoding: chunked\r\n");
		else if (h->haslength && !h->chunked) {
			hbuf_str(b, "Content-Length: ");
			hbuf_num(b, h->length, 0);
			hbuf_put(b, "\r\n", 2);
		}
		return;
	}
	switch (h->framing) {
	case HTTP_BODY_NONE: /* Content-Length: 0 */
	case HTTP_BODY_LENGTH:
		hbuf_str(b, "Content-Length: ");
		hbuf_num(b, h->length, 0);
		hbuf_put(b, "\r\n", 2);
		break;
	case HTTP_BODY_CHUNKED:
		if (p->rechunk)
			hbuf_str(b, "Transfer-Encoding: chunked\r\n");
		break;
	case HTTP_BODY_CLOSE:
		break;
	}
}

/* How a final response is framed for the client (msg_response_fields). */
struct msg_framing {
	const struct msg_plan *plan;
	int minor, is_head;
};

/*
 * The upstream's fields but hop-by-hop and framing ones; Upgrade too when
 * keep_upgrade. With fr, the router's own framing field goes where the
 * upstream's first one was (or last, when it had none).
 */
static void
msg_response_fields(struct hbuf *b, const struct http_head *h, int keep_upgrade,
    const struct msg_framing *fr)
{
	size_t i;
	int framed = 0;

	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];

		if (msg_is_framing(f)) {
			if (fr && !framed)
				msg_response_framing(
				    b, h, fr->plan, fr->minor, fr->is_head);
			framed = 1;
			continue;
		}
		if (http_hop_by_hop(h, f->name, f->namelen) &&
		    !(keep_upgrade && http_field_is(f, "upgrade")))
			continue;
		hbuf_field(b, f->name, f->namelen, f->value, f->valuelen);
	}
	if (fr && !framed)
		msg_response_framing(b, h, fr->plan, fr->minor, fr->is_head);
}

int
msg_response_head(struct hbuf *b, const struct http_head *h,
    const struct msg_plan *p, int minor, int is_head)
{
	struct msg_framing fr = {p, minor, is_head};

	hbuf_status_line(b, h->status, h->reason, h->reasonlen);
	msg_response_fields(b, h, 0, &fr);
	if (!p->keep)
		hbuf_str(b, "Connection: close\r\n");
	else if (minor == 0)
		hbuf_str(b, "Connection: keep-alive\r\n");
	return hbuf_end(b);
}

int
msg_interim_head(struct hbuf *b, const struct http_head *h)
{
	hbuf_status_line(b, h->status, h->reason, h->reasonlen);
	msg_response_fields(b, h, 0, NULL);
	return hbuf_end(b);
}

int
msg_upgrade_head(struct hbuf *b, const struct http_head *h)
{
	hbuf_status_line(b, 101, h->reason, h->reasonlen);
	msg_response_fields(b, h, 1, NULL);
	hbuf_str(b, "Connection: upgrade\r\n");
	return hbuf_end(b);
}

int
msg_error_head(struct hbuf *b, int status, size_t bodylen)
{
	const char *reason = http_reason(status);

	hbuf_status_line(b, status, reason, strlen(reason));
	hbuf_str(b, "Content-Type: text/plain; charset=utf-8\r\n"
	            "Content-Length: ");
	hbuf_num(b, bodylen, 0);
	hbuf_str(b, "\r\nConnection: close\r\n");
	return hbuf_end(b);
}

/* ---- bodies ------------------------------------------------------------ */

void
msg_body_init(
    struct msg_body *b, enum http_framing in, uint64_t length, int rechunk)
{
	memset(b, 0, sizeof *b);
	b->in = in;
	b->left = length;
	b->rechunk = in == HTTP_BODY_CHUNKED && rechunk;
	http_chunked_init(&b->ch);
	b->done =
	    in == HTTP_BODY_NONE || (in == HTTP_BODY_LENGTH && length == 0);
}

int
msg_body_raw(const struct msg_body *b)
{
	return b->in != HTTP_BODY_CHUNKED;
}

/* Appends one chunk holding data[0..n) to out. */
static int
msg_chunk(struct iob *out, const char *data, size_t n)
{
	char line[24];
	struct hbuf hb;
	char *d;

	hbuf_init(&hb, line, sizeof line);
	hbuf_num(&hb, n, 1);
	hbuf_put(&hb, "\r\n", 2);
	if ((d = iob_reserve(out, hb.len + n + 2)) == NULL)
		return -1;
	memcpy(d, line, hb.len);
	memcpy(d + hb.len, data, n);
	memcpy(d + hb.len + n, "\r\n", 2);
	out->len += hb.len + n + 2;
	return 0;
}

int
msg_body_feed(struct msg_body *b, const char *in, size_t len, size_t *used,
    struct iob *out)
{
	size_t pos = 0, n, off, dl;
	int rv;

	*used = 0;
	if (b->done)
		return HTTP_DONE;
	switch (b->in) {
	case HTTP_BODY_NONE:
		b->done = 1;
		return HTTP_DONE;
	case HTTP_BODY_LENGTH:
		n = (uint64_t)len > b->left ? (size_t)b->left : len;
		b->left -= n;
		b->data += n;
		*used = n;
		b->done = b->left == 0;
		return b->done ? HTTP_DONE : HTTP_MORE;
	case HTTP_BODY_CLOSE:
		b->data += len;
		*used = len;
		return HTTP_MORE;
	case HTTP_BODY_CHUNKED:
		break;
	}
	while (pos < len && !b->done) {
		rv = http_chunked_next(
		    &b->ch, in + pos, len - pos, &n, &off, &dl);
		if (rv == -1)
			return -1;
		if (dl > 0) {
			b->data += dl;
			if (b->rechunk ? msg_chunk(out, in + pos + off, dl)
			               : iob_put(out, in + pos + off, dl))
				return HTTP_NOMEM;
		}
		pos += n;
		if (rv == HTTP_DONE) {
			b->done = 1;
			if (b->rechunk && iob_put(out, "0\r\n\r\n", 5) == -1)
				return HTTP_NOMEM;
		}
	}
	*used = pos;
	return b->done ? HTTP_DONE : HTTP_MORE;
}
