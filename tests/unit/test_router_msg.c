/*
 * tests/unit/test_router_msg.c: what the router writes (router/msg.c): the
 * bounded head writer, the heads sent upstream and to the client with the
 * router's own framing and forwarding fields, body re-framing; and the
 * trusted-proxies networks (router/addr.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "router/router.h"

static struct http_head h;
static char out[ROUTER_MAXHEADOUT + 1];

static const struct msg_peer peer = {
    "127.0.0.1", 0, "http", 8080, "0123456789abcdef0123456789abcdef"};

/* The upstream head for request s, NUL-terminated in out; -1 when it does
 * not fit. */
static int
request_head(const char *s, const struct msg_peer *p)
{
	struct hbuf b;

	http_head_init(&h);
	assert_int_equal(http_parse_request(&h, s, strlen(s)), HTTP_DONE);
	hbuf_init(&b, out, ROUTER_MAXHEADOUT);
	if (msg_request_head(&b, &h, p, 0) == -1)
		return -1;
	out[b.len] = '\0';
	return 0;
}

static void
response_head(const char *s, int minor, int is_head, struct msg_plan *plan)
{
	struct hbuf b;

	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, s, strlen(s), is_head), HTTP_DONE);
	msg_response_plan(plan, &h, minor, 1, 0);
	hbuf_init(&b, out, ROUTER_MAXHEADOUT);
	assert_int_equal(msg_response_head(&b, &h, plan, minor, is_head), 0);
	out[b.len] = '\0';
}

static void
test_hbuf_bounded(void **state)
{
	char buf[8];
	struct hbuf b;

	memset(buf, 'z', sizeof buf);
	hbuf_init(&b, buf, 6);
	hbuf_str(&b, "abc");
	hbuf_num(&b, 255, 1);
	assert_int_equal(b.over, 0);
	assert_memory_equal(buf, "abcff", 5);
	hbuf_str(&b, "xy"); /* one byte too many: nothing of it written */
	assert_int_equal(b.over, 1);
	assert_int_equal(b.len, 5);
	hbuf_str(&b, "q");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf[5], 'z');
	assert_int_equal(buf[6], 'z');
}

static void
test_request_framing_once(void **state)
{
	assert_int_equal(request_head("POST /p HTTP/1.1\r\nHost: a\r\n"
	                              "Content-Length: 4, 4\r\nX: 1\r\n"
	                              "Content-Length: 4\r\n\r\n",
	                     &peer),
	    0);
	assert_non_null(
	    strstr(out, "Host: a\r\nContent-Length: 4\r\nX: 1\r\n"));
	assert_null(
	    strstr(strstr(out, "Content-Length") + 1, "Content-Length"));

	assert_int_equal(request_head("POST /p HTTP/1.1\r\nHost: a\r\n"
	                              "Transfer-Encoding: chunked\r\n\r\n",
	                     &peer),
	    0);
	assert_non_null(strstr(out, "Transfer-Encoding: chunked\r\n"));
	/* an empty body still says so: some apps want Content-Length */
	assert_int_equal(request_head("POST /p HTTP/1.1\r\nHost: a\r\n"
	                              "Content-Length: 0\r\n\r\n",
	                     &peer),
	    0);
	assert_non_null(strstr(out, "Content-Length: 0\r\n"));
	assert_int_equal(
	    request_head(
	        "GET http://b.test?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", &peer),
	    0);
	assert_memory_equal(out, "GET /?q=1 HTTP/1.1\r\nHost: b.test\r\n", 34);
}

static void
test_request_forwarding(void **state)
{
	static const char req[] =
	    "GET / HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 6.6.6.6\r\n"
	    "Forwarded: for=6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Port: 1\r\nX-Forwarded-Host: evil\r\n\r\n";
	struct msg_peer trusted = peer;

	assert_int_equal(request_head(req, &peer), 0);
	assert_null(strstr(out, "6.6.6.6"));
	assert_null(strstr(out, "evil"));
	assert_null(strstr(out, "https"));
	assert_non_null(strstr(out,
	    "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: a.test\r\nX-Forwarded-Port: 8080\r\n"
	    "Forwarded: for=127.0.0.1;host=a.test;proto=http\r\n"
	    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n"));

	trusted.trusted = 1;
	assert_int_equal(request_head(req, &trusted), 0);
	assert_non_null(strstr(out, "X-Forwarded-For: 6.6.6.6, 127.0.0.1\r\n"));
	assert_non_null(strstr(out, "Forwarded: for=6.6.6.6, for=127.0.0.1;"));
	assert_non_null(strstr(out, "X-Forwarded-Proto: https\r\n"));
	assert_non_null(strstr(out, "X-Forwarded-Host: evil\r\n"));
	assert_null(strstr(out, "X-Forwarded-Proto: http\r\n"));

	/* CGI-style servers read X_Forwarded_For as X-Forwarded-For */
	assert_int_equal(request_head("GET / HTTP/1.1\r\nHost: a\r\n"
	                              "X_Forwarded_For: 6.6.6.6\r\n"
	                              "x-forwarded_proto: https\r\n\r\n",
	                     &peer),
	    0);
	assert_null(strstr(out, "6.6.6.6"));
	assert_null(strstr(out, "https"));
	/* a trusted proxy's Connection drops its field: ours is written */
	assert_int_equal(request_head("GET / HTTP/1.1\r\nHost: a\r\n"
	                              "X-Forwarded-Proto: https\r\n"
	                              "X-Forwarded-For: 6.6.6.6\r\n"
	                              "Connection: X-Forwarded-Proto, "
	                              "X-Forwarded-For\r\n\r\n",
	                     &trusted),
	    0);
	assert_null(strstr(out, "https"));
	assert_non_null(strstr(out, "X-Forwarded-Proto: http\r\n"));
	assert_non_null(strstr(out, "X-Forwarded-For: 127.0.0.1\r\n"));

	trusted.ip = "::1";
	assert_int_equal(
	    request_head("GET / HTTP/1.1\r\nHost: a:81\r\n\r\n", &trusted), 0);
	assert_non_null(strstr(
	    out, "Forwarded: for=\"[::1]\";host=\"a:81\";proto=http\r\n"));
}

/* A request head that is fine as it came but too large once rewritten. */
static void
test_request_too_large(void **state)
{
	static char req[ROUTER_MAXHEADER];
	size_t n = 0;

	int i;

	n += (size_t)sprintf(req, "GET /");
	memset(req + n, 't', ROUTER_MAXHEADER - 350);
	n += ROUTER_MAXHEADER - 350;
	n += (size_t)sprintf(req + n, " HTTP/1.1\nHost: a\n");
	for (i = 0; i < ROUTER_MAXHEADERS - 2; i++)
		n += (size_t)sprintf(req + n, "a:\n");
	n += (size_t)sprintf(req + n, "\n");
	assert_true(n <= ROUTER_MAXHEADER);
	assert_int_equal(request_head(req, &peer), -1);
}

static void
test_response_framing(void **state)
{
	struct msg_plan p;

	response_head("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nX: 1\r\n"
	              "Content-Length: 2\r\n\r\n",
	    1, 0, &p);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	                         "X: 1\r\n\r\n");
	response_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1, 0, &p);
	assert_string_equal(
	    out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	response_head("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", 1, 1, &p);
	assert_string_equal(
	    out, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
	response_head(
	    "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 1, 0, &p);
	assert_string_equal(out, "HTTP/1.1 204 No Content\r\n\r\n");
	response_head(
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1, 0, &p);
	assert_int_equal(p.rechunk, 1);
	assert_string_equal(
	    out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	response_head(
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, &p);
	assert_int_equal(p.dechunk, 1);
	assert_int_equal(p.keep, 0);
	assert_string_equal(
	    out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	response_head("HTTP/1.1 200 OK\r\n\r\n", 1, 0, &p);
	assert_int_equal(p.keep, 0);
	assert_int_equal(p.up_keep, 0);
}

/* body[0..len) through msg_body in pieces of step bytes; the output
 * NUL-terminated in got. Returns the last answer; *used the body's bytes. */
static int
reframe(struct msg_body *b, const char *body, size_t len, size_t step,
    char *got, size_t *used)
{
	struct iob o = {0};
	size_t pos = 0, n, end;
	int rv = HTTP_MORE;

	while (pos < len && rv == HTTP_MORE) {
		end = step && pos + step < len ? pos + step : len;
		rv = msg_body_feed(b, body + pos, end - pos, &n, &o);
		if (rv < 0)
			break;
		if (msg_body_raw(b))
			assert_int_equal(iob_put(&o, body + pos, n), 0);
		if (n < end - pos && rv == HTTP_MORE)
			fail_msg("stopped early");
		pos += n;
	}
	memcpy(got, o.data ? o.data : "", o.len);
	got[o.len] = '\0';
	iob_free(&o);
	*used = pos;
	return rv;
}

static void
test_body_reframing(void **state)
{
	static const char chunked[] =
	    "5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\nGET /";
	struct msg_body b;
	char got[256];
	size_t used, step;

	for (step = 0; step < sizeof chunked; step++) {
		msg_body_init(&b, HTTP_BODY_CHUNKED, 0, 1);
		assert_int_equal(
		    reframe(&b, chunked, sizeof chunked - 1, step, got, &used),
		    HTTP_DONE);
		assert_int_equal(used, sizeof chunked - 1 - 5);
		assert_int_equal(b.data, 11);
		/* the chunks are the router's: sizes may differ, data not */
		{
			struct msg_body d;
			char again[256];
			size_t u2;
			msg_body_init(&d, HTTP_BODY_CHUNKED, 0, 0);
			assert_int_equal(
			    reframe(&d, got, strlen(got), 0, again, &u2),
			    HTTP_DONE);
			assert_string_equal(again, "hello world");
			assert_int_equal(u2, strlen(got));
		}
	}
	msg_body_init(&b, HTTP_BODY_CHUNKED, 0, 0);
	assert_int_equal(
	    reframe(&b, chunked, sizeof chunked - 1, 3, got, &used), HTTP_DONE);
	assert_string_equal(got, "hello world");

	msg_body_init(&b, HTTP_BODY_LENGTH, 4, 1);
	assert_int_equal(reframe(&b, "abcdGET /", 9, 0, got, &used), HTTP_DONE);
	assert_int_equal(used, 4);
	assert_string_equal(got, "abcd");

	msg_body_init(&b, HTTP_BODY_CHUNKED, 0, 1);
	assert_int_equal(reframe(&b, "3\nabc\r\n", 7, 0, got, &used), -1);
}

static void
test_trusted_networks(void **state)
{
	struct router_settings s;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	router_settings_init(&s);
	assert_int_equal(trust_parse(&s, "10.0.0.0/8,192.168.1.7,fd00::/8"), 0);
	assert_int_equal(s.ntrusted, 3);
	memset(&ss, 0, sizeof ss);
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "10.200.3.4", &s4->sin_addr);
	assert_int_equal(trust_has(&s, &ss), 1);
	inet_pton(AF_INET, "11.0.0.1", &s4->sin_addr);
	assert_int_equal(trust_has(&s, &ss), 0);
	inet_pton(AF_INET, "192.168.1.7", &s4->sin_addr);
	assert_int_equal(trust_has(&s, &ss), 1);
	inet_pton(AF_INET, "192.168.1.8", &s4->sin_addr);
	assert_int_equal(trust_has(&s, &ss), 0);
	memset(&ss, 0, sizeof ss);
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "fd12::1", &s6->sin6_addr);
	assert_int_equal(trust_has(&s, &ss), 1);
	inet_pton(AF_INET6, "fe80::1", &s6->sin6_addr);
	assert_int_equal(trust_has(&s, &ss), 0);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6->sin6_addr);
	assert_int_equal(trust_has(&s, &ss), 1);

	assert_int_equal(trust_parse(&s, "10.0.0.0/33"), -1);
	assert_int_equal(trust_parse(&s, "example.org"), -1);
	assert_int_equal(trust_parse(&s, "10.0.0.0/"), -1);
	assert_int_equal(trust_parse(&s, "::/129"), -1);
	assert_int_equal(trust_parse(&s, "0.0.0.0/0"), 0);
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "8.8.8.8", &s4->sin_addr);
	assert_int_equal(trust_has(&s, &ss), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hbuf_bounded),
	    cmocka_unit_test(test_request_framing_once),
	    cmocka_unit_test(test_request_forwarding),
	    cmocka_unit_test(test_request_too_large),
	    cmocka_unit_test(test_response_framing),
	    cmocka_unit_test(test_body_reframing),
	    cmocka_unit_test(test_trusted_networks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
