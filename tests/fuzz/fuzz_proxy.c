/*
 * tests/fuzz/fuzz_proxy.c: libFuzzer target for what the router forwards:
 * the real head-building and body-framing code of router/msg.c, driven in
 * memory the way router/proxy.c drives it, with a request from the client
 * and a response from the app, each fed in pieces of a size the input
 * chooses.
 *
 * Input: byte 0 flags (bit 0: the client is a trusted proxy), bytes 1-2
 * the request's length, byte 3 and byte 4 the piece sizes of the request
 * and the response (0: all at once), then the request bytes, then the
 * response bytes.
 *
 * Checked, for the upstream connection and for the client's:
 *  - nothing is written outside a buffer (exact-size buffers under ASan);
 *  - every head written is well-formed HTTP/1.1 with CRLF line ends and at
 *    most one framing field, and reads back with the framing the router
 *    decided;
 *  - the body bytes forwarded are exactly what that framing says: the
 *    same data, re-chunked canonically or as it came, never longer;
 *  - nothing after the body on the upstream connection comes from the
 *    client (the next pipelined request stays behind), and nothing after
 *    the response reaches the client.
 *
 * fuzz-sources: router/http.c router/msg.c router/iob.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "router/router.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static struct http_head h, back;

/* Head lines: CRLF only, "name: value" fields; returns the number of
 * framing fields (Content-Length, Transfer-Encoding). */
static int
check_head_lines(const char *p, size_t n)
{
	size_t i, start = 0;
	int framing = 0, first = 1;

	CHECK(n >= 4 && memcmp(p + n - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			CHECK(i + 1 < n && p[i + 1] == '\n');
		if (p[i] == '\n')
			CHECK(i > 0 && p[i - 1] == '\r');
		if (p[i] != '\n')
			continue;
		if (!first && i - 1 > start) {
			const char *colon =
			    memchr(p + start, ':', i - 1 - start);
			CHECK(colon != NULL && colon > p + start);
			if ((colon - (p + start) == 14 &&
			        strncasecmp(p + start, "content-length", 14) ==
			            0) ||
			    (colon - (p + start) == 17 &&
			        strncasecmp(
			            p + start, "transfer-encoding", 17) == 0))
				framing++;
		}
		first = 0;
		start = i + 1;
	}
	CHECK(framing <= 1);
	return framing;
}

/* Decodes a body in the router's canonical chunked form exactly:
 * "<hex>\r\n<data>\r\n"... "0\r\n\r\n". Returns the bytes it took (the
 * whole of p when complete is set), appending the data to data. */
static size_t
canonical_chunks(const char *p, size_t n, struct iob *data, int *complete)
{
	size_t pos = 0;

	*complete = 0;
	while (pos < n) {
		size_t size = 0, start = pos;
		while (pos < n && strchr("0123456789abcdef", p[pos]) &&
		       p[pos] != '\0') {
			size = size * 16 + (size_t)(p[pos] <= '9'
			                                ? p[pos] - '0'
			                                : p[pos] - 'a' + 10);
			pos++;
			CHECK(pos - start <= 16);
		}
		CHECK(pos > start);
		CHECK(pos + 2 <= n && memcmp(p + pos, "\r\n", 2) == 0);
		pos += 2;
		if (size == 0) {
			CHECK(pos + 2 <= n && memcmp(p + pos, "\r\n", 2) == 0);
			*complete = 1;
			return pos + 2;
		}
		CHECK(p[start] != '0');
		CHECK(pos + size + 2 <= n);
		CHECK(iob_put(data, p + pos, size) == 0);
		pos += size;
		CHECK(memcmp(p + pos, "\r\n", 2) == 0);
		pos += 2;
	}
	return pos;
}

/* All the data of a chunked body in one call per span, for comparison. */
static void
reference_data(const char *p, size_t n, struct iob *data)
{
	struct http_chunked c;
	size_t pos = 0, used, off, dl;
	int rv = HTTP_MORE;

	http_chunked_init(&c);
	while (pos < n && rv == HTTP_MORE) {
		rv = http_chunked_next(&c, p + pos, n - pos, &used, &off, &dl);
		if (rv == -1)
			return;
		CHECK(iob_put(data, p + pos + off, dl) == 0);
		pos += used;
	}
}

/*
 * Runs body bytes in[0..len) through b in pieces of step, as the proxy
 * does, appending what goes out to out. Returns the last answer; *used is
 * what the body took.
 */
static int
run_body(struct msg_body *b, const char *in, size_t len, size_t step,
    struct iob *out, size_t *used)
{
	size_t pos = 0, end, n;
	int rv = b->done ? HTTP_DONE : HTTP_MORE;

	while (pos < len && rv == HTTP_MORE) {
		end = step && pos + step < len ? pos + step : len;
		/* the proxy hands over everything it holds: what a call
		 * leaves is the next message, or waits for more bytes */
		rv = msg_body_feed(b, in + pos, end - pos, &n, out);
		CHECK(rv != HTTP_NOMEM);
		if (rv == -1)
			break;
		CHECK(n <= end - pos);
		CHECK(rv == HTTP_DONE || n == end - pos);
		if (msg_body_raw(b))
			CHECK(iob_put(out, in + pos, n) == 0);
		pos += n;
	}
	*used = pos;
	return rv;
}

/*
 * Checks the body that went out (out[0..n)) against the one that came
 * in (in[0..used)) and the framing decided (b): the same data, framed as
 * decided, nothing more.
 */
static void
check_body(const struct msg_body *b, int rv, const char *in, size_t used,
    const char *out, size_t n)
{
	struct iob want = {0}, got = {0};
	int complete;

	if (rv == -1)
		return; /* refused: the proxy drops what went out */
	switch (b->in) {
	case HTTP_BODY_NONE:
		CHECK(n == 0 && used == 0);
		break;
	case HTTP_BODY_LENGTH:
	case HTTP_BODY_CLOSE:
		CHECK(n == used && (n == 0 || memcmp(out, in, n) == 0));
		if (b->in == HTTP_BODY_LENGTH)
			CHECK(rv == HTTP_DONE ? b->left == 0 : b->left > 0);
		break;
	case HTTP_BODY_CHUNKED:
		reference_data(in, used, &want);
		if (b->rechunk) {
			CHECK(canonical_chunks(out, n, &got, &complete) == n);
			CHECK(complete == (rv == HTTP_DONE));
		} else {
			CHECK(iob_put(&got, out, n) == 0);
		}
		CHECK(iob_pending(&got) == iob_pending(&want));
		CHECK(iob_pending(&got) == 0 ||
		      memcmp(got.data, want.data, iob_pending(&got)) == 0);
		CHECK(iob_pending(&got) == b->data);
		break;
	}
	iob_free(&want);
	iob_free(&got);
}

/* Parses a head from in[0..len) fed in pieces, as the proxy gathers one.
 * Returns HTTP_DONE, HTTP_MORE or -1. */
static int
parse_pieces(struct http_head *hd, const char *in, size_t len, size_t step,
    int request, int is_head)
{
	size_t have = 0, scan = 0;
	int rv = HTTP_MORE;

	while (rv == HTTP_MORE && have < len) {
		have = step && have + step < len ? have + step : len;
		http_head_init(hd);
		hd->scan = scan;
		rv = request ? http_parse_request(hd, in, have)
		             : http_parse_response(hd, in, have, is_head);
		scan = hd->scan;
	}
	return rv;
}

/* A head the router wrote, read back as its peer reads it; NULL-safe for
 * a parse refused only because the router added fields past the count. */
static int
read_back(const char *p, size_t n, int request, int is_head)
{
	int rv;

	check_head_lines(p, n);
	http_head_init(&back);
	rv = request ? http_parse_request(&back, p, n)
	             : http_parse_response(&back, p, n, is_head);
	if (rv == -1 && strcmp(err_msg(), "too many headers") == 0)
		return 0;
	CHECK(rv == HTTP_DONE && back.headlen == n);
	return 1;
}

static void
fuzz_response(const char *in, size_t len, size_t step, int minor, int is_head,
    int upgrade, int keep)
{
	struct iob out = {0};
	char *head;
	struct hbuf hb;
	struct msg_plan plan;
	struct msg_body b;
	size_t off = 0, used;
	int rv;

	head = malloc(ROUTER_MAXHEADOUT);
	CHECK(head != NULL);
	for (;;) {
		rv = parse_pieces(&h, in + off, len - off, step, 0, is_head);
		if (rv != HTTP_DONE || (h.status == 101 && !upgrade))
			goto out;
		hbuf_init(&hb, head, ROUTER_MAXHEADOUT);
		if (h.status == 101) {
			if (msg_upgrade_head(&hb, &h) == 0)
				read_back(hb.p, hb.len, 0, 0);
			goto out;
		}
		if (h.status >= 200)
			break;
		if (msg_interim_head(&hb, &h) == 0 &&
		    read_back(hb.p, hb.len, 0, 0))
			CHECK(back.status == h.status);
		off += h.headlen;
	}
	msg_response_plan(&plan, &h, minor, keep, upgrade);
	CHECK(!(plan.rechunk && plan.dechunk));
	CHECK(!plan.keep || h.framing != HTTP_BODY_CLOSE);
	if (msg_response_head(&hb, &h, &plan, minor, is_head) == -1)
		goto out;
	if (read_back(hb.p, hb.len, 0, is_head)) {
		CHECK(back.status == h.status);
		if (plan.rechunk)
			CHECK(back.framing == HTTP_BODY_CHUNKED);
		else if (plan.dechunk)
			CHECK(
			    back.framing == HTTP_BODY_CLOSE && back.conn_close);
		else
			CHECK(back.framing == h.framing &&
			      (h.framing != HTTP_BODY_LENGTH ||
			          back.length == h.length));
		/* a body's size as metadata (HEAD, 304) is passed on; a
		 * 204 never has one (RFC 9110 8.6) */
		if ((is_head || h.status == 304) && h.status != 204 &&
		    h.haslength && !h.chunked)
			CHECK(back.haslength && back.length == h.length);
		if (!plan.keep)
			CHECK(back.conn_close);
	}
	off += h.headlen;
	msg_body_init(&b, h.framing, h.length, plan.rechunk);
	rv = run_body(&b, in + off, len - off, step, &out, &used);
	check_body(&b, rv, in + off, used, out.data, iob_pending(&out));
out:
	iob_free(&out);
	free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_peer peer = {
	    "127.0.0.1", 0, "http", 8080, "0123456789abcdef0123456789abcdef"};
	struct iob up = {0};
	struct msg_body b;
	struct hbuf hb;
	char *req, *resp, *head;
	size_t reqlen, resplen, rstep, sstep, used;
	int rv, upgrade, framing;

	if (size < 5)
		return 0;
	peer.trusted = data[0] & 1;
	reqlen = ((size_t)data[1] << 8 | data[2]) % (size - 5 + 1);
	rstep = data[3] % 64;
	sstep = data[4] % 64;
	resplen = size - 5 - reqlen;
	/* exact-size copies, so ASan sees a read past either end */
	req = malloc(reqlen ? reqlen : 1);
	resp = malloc(resplen ? resplen : 1);
	head = malloc(ROUTER_MAXHEADOUT);
	CHECK(req && resp && head);
	memcpy(req, data + 5, reqlen);
	memcpy(resp, data + 5 + reqlen, resplen);

	rv = parse_pieces(&h, req, reqlen, rstep, 1, 0);
	if (rv != HTTP_DONE)
		goto out;
	upgrade = h.minor == 1 && h.conn_upgrade && h.upgrade != NULL;
	hbuf_init(&hb, head, ROUTER_MAXHEADOUT);
	if (msg_request_head(&hb, &h, &peer, upgrade) == -1) {
		CHECK(hb.over && hb.len <= ROUTER_MAXHEADOUT);
		goto out; /* answered 431 */
	}
	CHECK(!hb.over && hb.len <= ROUTER_MAXHEADOUT);
	framing = check_head_lines(hb.p, hb.len);
	CHECK(framing == (h.haslength || h.chunked));
	if (read_back(hb.p, hb.len, 1, 0)) {
		CHECK(back.framing == h.framing && back.length == h.length);
		CHECK(back.pathlen > 0 && back.path[0] == '/');
		CHECK(back.hostlen == h.hostlen &&
		      memcmp(back.host, h.host, h.hostlen) == 0);
		if (!peer.trusted) {
			size_t i, xff = 0;
			for (i = 0; i < back.nfields; i++)
				if (http_field_is(
				        &back.field[i], "x-forwarded-for")) {
					CHECK(back.field[i].valuelen == 9);
					xff++;
				}
			CHECK(xff == 1);
		}
	}

	/* the body, then what follows it (the next request) stays behind */
	msg_body_init(&b, h.framing, h.length, 1);
	rv = run_body(
	    &b, req + h.headlen, reqlen - h.headlen, rstep, &up, &used);
	check_body(&b, rv, req + h.headlen, used, up.data, iob_pending(&up));
	if (rv == HTTP_MORE)
		CHECK(h.headlen + used == reqlen);

	fuzz_response(resp, resplen, sstep, h.minor,
	    h.methodlen == 4 && memcmp(h.method, "HEAD", 4) == 0, upgrade,
	    rv == HTTP_DONE && (data[0] & 2));
out:
	iob_free(&up);
	free(head);
	free(req);
	free(resp);
	return 0;
}
