/*
 * router/http.c: the HTTP/1.1 head parser and the chunked framing tracker.
 *
 * Pure functions: bytes in, parsed fields or an error status out; no I/O,
 * no allocation. It is what stands between the network and the rest of the
 * router, so it is strict where laxness lets one message be read two ways
 * (RFC 9112 sections 2, 3, 5, 6, 7): no obs-fold, no white space before the
 * colon, no control bytes in fields, one Host, one Content-Length value,
 * never both Content-Length and Transfer-Encoding, no transfer coding but
 * chunked, and no framing or routing field (Content-Length,
 * Transfer-Encoding, Host) named in Connection. Head lines may end in CRLF
 * or a bare LF, as RFC 9112 allows: the router writes every head anew, so
 * the next hop never sees the difference. Chunked bodies are parsed
 * strictly (CRLF only, extensions and trailers checked against their
 * grammar), as the router re-chunks them and must agree with its peers on
 * where one ends.
 */
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "router/router.h"

enum {
	CH_SIZE,
	CH_AFTER, /* after the size, an extension name or value: BWS ; = CR */
	CH_NAME0, /* BWS, then an extension name */
	CH_NAME,
	CH_VALUE0, /* BWS, then a token or a quoted string */
	CH_VALUE,
	CH_QUOTED,
	CH_QESC,
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER, /* start of a trailer line, or the final CRLF */
	CH_TNAME,
	CH_TVALUE,
	CH_TLINE_LF,
	CH_END_LF,
	CH_DONE
};

static int
http_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
http_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
http_fail(struct http_head *h, int status, const char *why)
{
	h->error = status;
	return err_set("%s", why);
}

void
http_head_init(struct http_head *h)
{
	memset(h, 0, sizeof *h);
}

int
http_field_is(const struct http_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && strncasecmp(f->name, name, n) == 0;
}

static int
http_token_eq(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len == n && strncasecmp(s, word, n) == 0;
}

int
http_hop_by_hop(const struct http_head *h, const char *name, size_t namelen)
{
	static const char *fixed[] = {"connection", "keep-alive",
	    "proxy-connection", "te", "trailer", "upgrade"};
	size_t i;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (http_token_eq(name, namelen, fixed[i]))
			return 1;
	for (i = 0; i < h->nconntok; i++)
		if (namelen == h->conntok[i].namelen &&
		    strncasecmp(name, h->conntok[i].name, namelen) == 0)
			return 1;
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/*
 * Finds the empty line that ends the head. Returns the head length, 0 when
 * more bytes are needed, -1 when the limit is crossed. Leading empty lines
 * (allowed before a request line) are left to the caller to skip.
 */
static size_t
http_find_end(struct http_head *h, const char *buf, size_t len, size_t start,
    int *toolarge)
{
	size_t i;

	*toolarge = 0;
	for (i = h->scan > start ? h->scan : start; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 >= len)
			break;
		if (buf[i + 1] == '\n')
			return i + 2 <= ROUTER_MAXHEADER ? i + 2
			                                 : (*toolarge = 1, 0);
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len)
				break;
			if (buf[i + 2] == '\n')
				return i + 3 <= ROUTER_MAXHEADER
				           ? i + 3
				           : (*toolarge = 1, 0);
		}
	}
	h->scan = i;
	if (len > ROUTER_MAXHEADER)
		*toolarge = 1;
	return 0;
}

/* Next line in [*p, end): returns its length without CR LF, or -1. */
static long
http_line(const char **p, const char *end, const char **line)
{
	const char *nl = memchr(*p, '\n', end - *p);
	size_t n;

	if (nl == NULL)
		return -1;
	*line = *p;
	n = nl - *p;
	if (n > 0 && (*p)[n - 1] == '\r')
		n--;
	*p = nl + 1;
	return (long)n;
}

static int
http_version(struct http_head *h, const char *s, size_t n)
{
	if (n == 8 && memcmp(s, "HTTP/1.", 7) == 0 &&
	    (s[7] == '0' || s[7] == '1')) {
		h->minor = s[7] - '0';
		return 0;
	}
	if (n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' &&
	    s[5] <= '9' && s[6] == '.' && s[7] >= '0' && s[7] <= '9')
		return http_fail(h, 505, "unsupported HTTP version");
	return http_fail(h, 400, "malformed HTTP version");
}

static int
http_request_line(struct http_head *h, const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n && http_tchar(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return http_fail(h, 400, "malformed method");
	if (i > ROUTER_MAXMETHOD)
		return http_fail(h, 400, "method too long");
	h->method = s;
	h->methodlen = i;
	j = ++i;
	while (
	    i < n && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
		i++;
	if (i == j || i >= n || s[i] != ' ')
		return http_fail(h, 400, "malformed request target");
	h->target = s + j;
	h->targetlen = i - j;
	return http_version(h, s + i + 1, n - i - 1);
}

static int
http_status_line(struct http_head *h, const char *s, size_t n)
{
	size_t i;

	if (n < 12 || s[8] != ' ' || http_version(h, s, 8) == -1)
		return http_fail(h, 502, "malformed status line");
	for (i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return http_fail(h, 502, "malformed status code");
	h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (h->status < 100)
		return http_fail(h, 502, "malformed status code");
	if (n > 12 && s[12] != ' ')
		return http_fail(h, 502, "malformed status line");
	for (i = 13; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return http_fail(h, 502, "control byte in reason");
	h->reason = n > 13 ? s + 13 : "";
	h->reasonlen = n > 13 ? n - 13 : 0;
	return 0;
}

static int
http_field_line(struct http_head *h, const char *s, size_t n, int bad)
{
	struct http_field *f;
	size_t i = 0, v, e;

	if (n > 0 && http_ows(s[0]))
		return http_fail(h, bad, "obsolete line folding");
	while (i < n && http_tchar(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ':')
		return http_fail(h, bad, "malformed header field name");
	for (v = i + 1; v < n && http_ows(s[v]); v++)
		;
	for (e = n; e > v && http_ows(s[e - 1]); e--)
		;
	for (size_t k = v; k < e; k++) {
		unsigned char c = s[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return http_fail(
			    h, bad, "control byte in header field");
	}
	if (h->nfields >= ROUTER_MAXHEADERS)
		return http_fail(h, bad == 400 ? 431 : bad, "too many headers");
	f = &h->field[h->nfields++];
	f->name = s;
	f->namelen = i;
	f->value = s + v;
	f->valuelen = e - v;
	return 0;
}

/* Calls fn for each non-empty element of a comma-separated list. */
static int
http_list(struct http_head *h, const struct http_field *f, int bad,
    int (*fn)(struct http_head *, const char *, size_t, int))
{
	const char *p = f->value, *end = f->value + f->valuelen, *q;
	const char *s, *e;

	while (p < end) {
		q = memchr(p, ',', end - p);
		if (q == NULL)
			q = end;
		for (s = p; s < q && http_ows(*s); s++)
			;
		for (e = q; e > s && http_ows(e[-1]); e--)
			;
		if (e > s && fn(h, s, e - s, bad) == -1)
			return -1;
		p = q + 1;
	}
	return 0;
}

static int
http_conn_token(struct http_head *h, const char *s, size_t n, int bad)
{
	/* Naming them would make the next hop drop what frames or routes
	 * the message while this one still used it. */
	if (http_token_eq(s, n, "content-length") ||
	    http_token_eq(s, n, "transfer-encoding") ||
	    http_token_eq(s, n, "host"))
		return http_fail(h, bad, "Connection names a framing field");
	if (http_token_eq(s, n, "close"))
		h->conn_close = 1;
	else if (http_token_eq(s, n, "keep-alive"))
		h->conn_keep = 1;
	else if (http_token_eq(s, n, "upgrade"))
		h->conn_upgrade = 1;
	if (h->nconntok >= ROUTER_MAXCONNTOKENS)
		return http_fail(h, bad, "too many Connection options");
	h->conntok[h->nconntok].name = s;
	h->conntok[h->nconntok].namelen = n;
	h->nconntok++;
	return 0;
}

static int
http_length(struct http_head *h, const char *s, size_t n, int bad)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return http_fail(h, bad, "malformed Content-Length");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return http_fail(h, bad, "malformed Content-Length");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (h->framing == HTTP_BODY_LENGTH && h->length != v)
		return http_fail(h, bad, "conflicting Content-Length");
	h->framing = HTTP_BODY_LENGTH;
	h->length = v;
	h->haslength = 1;
	return 0;
}

/* Transfer codings: chunked alone. Another coding is refused in both
 * directions: the router re-chunks bodies and could not pass one on. */
static int
http_coding(struct http_head *h, const char *s, size_t n, int bad)
{
	if (h->framing == HTTP_BODY_CHUNKED)
		return http_fail(h, bad, "transfer coding after chunked");
	if (!http_token_eq(s, n, "chunked"))
		return http_fail(
		    h, h->method ? 501 : 502, "unsupported transfer coding");
	h->framing = HTTP_BODY_CHUNKED;
	h->chunked = 1;
	return 0;
}

static int
http_host(struct http_head *h, const char *s, size_t n)
{
	size_t i, hl;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb == NULL)
			return http_fail(h, 400, "malformed Host");
		hl = rb - s + 1;
		for (i = 1; i < hl - 1; i++)
			if (!(strchr("0123456789abcdefABCDEF:.", s[i]) &&
			        s[i] != '\0'))
				return http_fail(h, 400, "malformed Host");
	} else {
		const char *colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		for (i = 0; i < hl; i++) {
			unsigned char c = s[i];
			if (!((c >= 'a' && c <= 'z') ||
			        (c >= 'A' && c <= 'Z') ||
			        (c >= '0' && c <= '9') || c == '-' ||
			        c == '.' || c == '_'))
				return http_fail(h, 400, "malformed Host");
		}
		/* "hello.localhost." names the same host */
		if (hl > 1 && s[hl - 1] == '.')
			hl--;
	}
	i = hl;
	if (i < n && s[i] == '.') /* the trailing dot dropped above */
		i++;
	if (i < n) {
		if (s[i] != ':')
			return http_fail(h, 400, "malformed Host");
		if (n - i - 1 > 5)
			return http_fail(h, 400, "malformed Host port");
		for (i++; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return http_fail(h, 400, "malformed Host port");
	}
	if (hl >= sizeof h->host)
		return http_fail(h, 400, "Host too long");
	for (i = 0; i < hl; i++) {
		char c = s[i];
		h->host[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
	}
	h->host[hl] = '\0';
	h->hostlen = hl;
	return 0;
}

/*
 * Splits the request target (RFC 9112 3.2): origin-form is the path
 * itself; in absolute-form ("http://host:port/path?q") the authority
 * replaces Host for routing and the path and query are what the upstream
 * sees (the writer puts a "/" before a path that lacks it); "*" only for
 * OPTIONS. Anything else (authority-form, a bare word) is refused.
 */
static int
http_target(struct http_head *h)
{
	const char *t = h->target, *a, *end = h->target + h->targetlen;
	size_t skip;

	h->path = t;
	h->pathlen = h->targetlen;
	if (t[0] == '/')
		return 0;
	if (h->targetlen == 1 && t[0] == '*' && h->methodlen == 7 &&
	    memcmp(h->method, "OPTIONS", 7) == 0)
		return 0;
	if (h->targetlen >= 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (h->targetlen >= 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return http_fail(h, 400, "malformed request target");
	a = t + skip;
	for (h->path = a; h->path < end && *h->path != '/' && *h->path != '?';
	     h->path++)
		;
	if (h->path == a || memchr(a, '@', h->path - a) != NULL)
		return http_fail(h, 400, "malformed absolute request target");
	h->authority = a;
	h->authoritylen = h->path - a;
	h->pathlen = end - h->path;
	if (http_host(h, a, h->authoritylen) == -1)
		return -1;
	h->hashost = 1;
	return 0;
}

/* Works out framing, Host and Connection from the parsed fields. */
static int
http_semantics(struct http_head *h, int req_head)
{
	int bad = h->method ? 400 : 502;
	int cl = 0, te = 0;
	size_t i;

	h->framing = HTTP_BODY_NONE;
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];

		if (http_field_is(f, "connection")) {
			if (http_list(h, f, bad, http_conn_token) == -1)
				return -1;
		} else if (http_field_is(f, "content-length")) {
			if (te)
				goto both;
			cl = 1;
			if (f->valuelen == 0)
				return http_fail(
				    h, bad, "malformed Content-Length");
			if (http_list(h, f, bad, http_length) == -1)
				return -1;
		} else if (http_field_is(f, "transfer-encoding")) {
			if (cl)
				goto both;
			te = 1;
			if (h->method && h->minor == 0)
				return http_fail(
				    h, 400, "Transfer-Encoding in HTTP/1.0");
			if (http_list(h, f, bad, http_coding) == -1)
				return -1;
		} else if (http_field_is(f, "upgrade")) {
			h->upgrade = f;
		} else if (h->method && http_field_is(f, "expect")) {
			if (http_token_eq(
			        f->value, f->valuelen, "100-continue"))
				h->expect_continue = 1;
		} else if (h->method && http_field_is(f, "host")) {
			if (h->hashost)
				return http_fail(h, 400, "more than one Host");
			h->hashost = 1;
			if (http_host(h, f->value, f->valuelen) == -1)
				return -1;
		}
	}
	if (te && h->framing == HTTP_BODY_NONE)
		return http_fail(h, bad, "empty Transfer-Encoding");
	if (h->method) {
		if (h->minor == 1 && !h->hashost)
			return http_fail(h, 400, "missing Host");
		if (http_target(h) == -1)
			return -1;
		if (h->framing == HTTP_BODY_LENGTH && h->length == 0)
			h->framing = HTTP_BODY_NONE;
		return 0;
	}
	if (req_head || h->status < 200 || h->status == 204 || h->status == 304)
		h->framing = HTTP_BODY_NONE;
	else if (!cl && !te)
		h->framing = HTTP_BODY_CLOSE;
	else if (h->framing == HTTP_BODY_LENGTH && h->length == 0)
		h->framing = HTTP_BODY_NONE;
	return 0;
both:
	return http_fail(h, bad, "both Content-Length and Transfer-Encoding");
}

static int
http_parse(
    struct http_head *h, const char *buf, size_t len, int request, int req_head)
{
	const char *p, *end, *line;
	size_t start = 0, hend;
	int toolarge, bad = request ? 400 : 502;
	long n;

	/* Empty lines before a request line are ignored (RFC 9112 2.2). */
	while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
		start++;
	hend = http_find_end(h, buf, len, start, &toolarge);
	if (toolarge)
		return http_fail(h, request ? 431 : 502, "head too large");
	if (hend == 0)
		return HTTP_MORE;
	h->headlen = hend;
	p = buf + start;
	end = buf + hend;
	if ((n = http_line(&p, end, &line)) <= 0)
		return http_fail(h, bad, "empty first line");
	if (memchr(line, '\r', n) || memchr(line, '\0', n))
		return http_fail(h, bad, "control byte in first line");
	if (request ? http_request_line(h, line, n) == -1
	            : http_status_line(h, line, n) == -1)
		return -1;
	while ((n = http_line(&p, end, &line)) > 0)
		if (http_field_line(h, line, n, bad) == -1)
			return -1;
	if (n < 0 || p != end)
		return http_fail(h, bad, "malformed head");
	if (http_semantics(h, req_head) == -1)
		return -1;
	return HTTP_DONE;
}

int
http_parse_request(struct http_head *h, const char *buf, size_t len)
{
	return http_parse(h, buf, len, 1, 0);
}

int
http_parse_response(
    struct http_head *h, const char *buf, size_t len, int req_head)
{
	return http_parse(h, buf, len, 0, req_head);
}

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof *c);
	c->state = CH_SIZE;
}

static int
http_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* HTAB, SP, VCHAR, obs-text: a field value's bytes, and those of a quoted
 * string (qdtext, quoted-pair) but for the '"' and '\\' the caller sees
 * first. */
static int
http_textchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int
http_chunked_next(struct http_chunked *c, const char *buf, size_t len,
    size_t *used, size_t *data, size_t *datalen)
{
	size_t i = 0, take;
	int d;

	*data = *datalen = 0;
	while (i < len && c->state != CH_DONE) {
		unsigned char ch = (unsigned char)buf[i];
		int was = c->state;

		if (c->state < CH_SIZE_LF && ++c->line > ROUTER_MAXCHUNKLINE)
			return err_set("chunk size line too long");
		switch (c->state) {
		case CH_SIZE:
			if ((d = http_hex((char)ch)) >= 0) {
				if (++c->digits > 15)
					return err_set("chunk size too large");
				c->left = c->left * 16 + (uint64_t)d;
				i++;
				break;
			}
			if (c->digits == 0)
				return err_set("malformed chunk size");
			c->state = CH_AFTER;
			c->canvalue = 0;
			continue; /* the same byte, in CH_AFTER */
		case CH_AFTER:
			/* BWS comes only before ';' or '=', never before CR */
			if (http_ows((char)ch))
				c->ws = 1;
			else if (ch == ';')
				c->state = CH_NAME0, c->ws = 0;
			else if (ch == '=' && c->canvalue)
				c->state = CH_VALUE0, c->ws = 0;
			else if (ch == '\r' && !c->ws)
				c->state = CH_SIZE_LF;
			else if (ch == '\n')
				return err_set("chunk size line without CRLF");
			else
				return err_set("malformed chunk extension");
			i++;
			break;
		case CH_NAME0:
		case CH_VALUE0:
			if (http_ows((char)ch)) {
				i++;
			} else if (http_tchar(ch)) {
				c->state =
				    c->state == CH_NAME0 ? CH_NAME : CH_VALUE;
			} else if (ch == '"' && c->state == CH_VALUE0) {
				c->state = CH_QUOTED;
				i++;
			} else {
				return err_set("malformed chunk extension");
			}
			break;
		case CH_NAME:
		case CH_VALUE:
			if (http_tchar(ch)) {
				i++;
				break;
			}
			c->canvalue = c->state == CH_NAME;
			c->state = CH_AFTER;
			break;
		case CH_QUOTED:
			if (ch == '"')
				c->state = CH_AFTER, c->canvalue = 0;
			else if (ch == '\\')
				c->state = CH_QESC;
			else if (!http_textchar(ch))
				return err_set("malformed chunk extension");
			i++;
			break;
		case CH_QESC:
			if (!http_textchar(ch))
				return err_set("malformed chunk extension");
			c->state = CH_QUOTED;
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return err_set("chunk size line without CRLF");
			c->state = c->left == 0 ? CH_TRAILER : CH_DATA;
			c->digits = 0;
			c->line = 0;
			i++;
			break;
		case CH_DATA:
			take = len - i;
			if ((uint64_t)take > c->left)
				take = (size_t)c->left;
			c->left -= take;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			*data = i;
			*datalen = take;
			*used = i + take;
			return HTTP_MORE;
		case CH_DATA_CR:
		case CH_DATA_LF:
			if (ch != (c->state == CH_DATA_CR ? '\r' : '\n'))
				return err_set("chunk data without CRLF");
			c->state =
			    c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
			i++;
			break;
		case CH_TRAILER:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (http_tchar(ch))
				c->state = CH_TNAME;
			else
				return err_set("malformed trailer field");
			break;
		case CH_TNAME:
			if (ch == ':')
				c->state = CH_TVALUE;
			else if (!http_tchar(ch))
				return err_set("malformed trailer field");
			break;
		case CH_TVALUE:
			if (ch == '\r')
				c->state = CH_TLINE_LF;
			else if (!http_textchar(ch))
				return err_set("control byte in trailer field");
			break;
		case CH_TLINE_LF:
		case CH_END_LF:
			if (ch != '\n')
				return err_set("trailer line without CRLF");
			c->state =
			    c->state == CH_TLINE_LF ? CH_TRAILER : CH_DONE;
			break;
		}
		if (was >= CH_TRAILER) {
			/* the trailer states consume their byte here */
			if (++c->trailer > ROUTER_MAXTRAILER)
				return err_set("trailer too large");
			i++;
		}
	}
	*used = i;
	return c->state == CH_DONE ? HTTP_DONE : HTTP_MORE;
}
