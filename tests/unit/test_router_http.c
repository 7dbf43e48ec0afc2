/*
 * tests/unit/test_router_http.c: the router's HTTP head parser and strict
 * chunked parser (router/http.c), fed crafted bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router/router.h"

static struct http_head h;

static int
parse(const char *s)
{
	http_head_init(&h);
	return http_parse_request(&h, s, strlen(s));
}

static const struct http_field *
field(const char *name)
{
	size_t i;

	for (i = 0; i < h.nfields; i++)
		if (http_field_is(&h.field[i], name))
			return &h.field[i];
	return NULL;
}

static void
test_simple_get(void **state)
{
	const char *req = "GET /a?b=c HTTP/1.1\r\nHost: hello.localhost\r\n"
	                  "Accept: */*\r\n\r\nEXTRA";

	assert_int_equal(parse(req), HTTP_DONE);
	assert_int_equal(h.headlen, strlen(req) - 5);
	assert_int_equal(h.methodlen, 3);
	assert_memory_equal(h.method, "GET", 3);
	assert_int_equal(h.targetlen, 6);
	assert_memory_equal(h.target, "/a?b=c", 6);
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.nfields, 2);
	assert_string_equal(h.host, "hello.localhost");
	assert_int_equal(h.framing, HTTP_BODY_NONE);
	assert_int_equal(h.conn_close, 0);
}

static void
test_headers_case_insensitive(void **state)
{
	const struct http_field *f;

	assert_int_equal(parse("GET / HTTP/1.1\r\nhOsT: Hello.LocalHost\r\n"
	                       "CONNECTION: Close\r\nx-Thing:   v  \r\n\r\n"),
	    HTTP_DONE);
	assert_string_equal(h.host, "hello.localhost");
	assert_int_equal(h.conn_close, 1);
	assert_non_null(f = field("X-THING"));
	assert_int_equal(f->valuelen, 1);
	assert_memory_equal(f->value, "v", 1);
	assert_true(http_hop_by_hop(&h, "connection", 10));
	assert_true(http_hop_by_hop(&h, "Keep-Alive", 10));
	assert_false(http_hop_by_hop(&h, "x-thing", 7));
}

static void
test_host_with_port(void **state)
{
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: App.Localhost:8080\r\n"
	                       "\r\n"),
	    HTTP_DONE);
	assert_string_equal(h.host, "app.localhost");
	assert_int_equal(h.hostlen, 13);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), HTTP_DONE);
	assert_string_equal(h.host, "[::1]");
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a.b.:80\r\n\r\n"), HTTP_DONE);
	assert_string_equal(h.host, "a.b");
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"), -1);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -1);
}

static void
test_missing_host(void **state)
{
	assert_int_equal(parse("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(
	    parse("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n"), HTTP_DONE);
	assert_int_equal(h.minor, 0);
	assert_int_equal(h.hostlen, 0);
	assert_int_equal(h.hashost, 0);
}

static void
test_bad_method(void **state)
{
	assert_int_equal(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(parse("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(
	    parse("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_DONE);
}

static void
test_bad_version(void **state)
{
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(h.error, 505);
	assert_int_equal(parse("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse("GET / http/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse("GET /\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
}

static void
test_too_large(void **state)
{
	size_t n = ROUTER_MAXHEADER + 100;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
	big[n] = '\0';
	/* no end in sight, past the limit */
	assert_int_equal(parse(big), -1);
	assert_int_equal(h.error, 431);
	/* an end, but past the limit */
	memcpy(big + n - 4, "\r\n\r\n", 4);
	assert_int_equal(parse(big), -1);
	assert_int_equal(h.error, 431);
	/* short of the limit and incomplete: wait for more */
	big[1000] = '\0';
	assert_int_equal(parse(big), HTTP_MORE);
	free(big);
}

static void
test_too_many(void **state)
{
	char buf[4096];
	size_t len;
	int i;

	len =
	    (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < ROUTER_MAXHEADERS - 1; i++)
		len += (size_t)snprintf(
		    buf + len, sizeof buf - len, "X: %d\r\n", i % 10);
	strcpy(buf + len, "\r\n");
	assert_int_equal(parse(buf), HTTP_DONE);
	assert_int_equal(h.nfields, ROUTER_MAXHEADERS);
	strcpy(buf + len, "Y: 1\r\n\r\n");
	assert_int_equal(parse(buf), -1);
	assert_int_equal(h.error, 431);
}

static void
test_obs_fold(void **state)
{
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"), -1);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), -1);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), -1);
}

static void
test_ctl_in_field(void **state)
{
	static const char nul[] =
	    "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

	http_head_init(&h);
	assert_int_equal(http_parse_request(&h, nul, sizeof nul - 1), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), -1);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), -1);
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n"),
	    HTTP_DONE);
}

static void
test_content_length(void **state)
{
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: 42\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_LENGTH);
	assert_int_equal(h.length, 42);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nHost: a\r\n"
	          "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.length, 5);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nHost: a\r\n"
	          "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	    -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: 5, 6\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: -1\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: 99999999999999999999\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: 0\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_NONE);
}

static void
test_cl_and_te(void **state)
{
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	          "Transfer-Encoding: chunked\r\n\r\n"),
	    -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Transfer-Encoding: chunked\r\n"
	                       "Content-Length: 3\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Transfer-Encoding: chunked, chunked\r\n\r\n"),
	    -1);
	assert_int_equal(parse("POST / HTTP/1.0\r\n"
	                       "Transfer-Encoding: chunked\r\n\r\n"),
	    -1);
}

/*
 * Runs body[0..len) through the chunked parser in pieces of step bytes
 * (0: all at once), gathering the data into out. Returns the parser's last
 * answer; *used is the bytes the body took.
 */
static int
dechunk(const char *body, size_t len, size_t step, char *out, size_t *outlen,
    size_t *used)
{
	struct http_chunked c;
	size_t pos = 0, end, n, off, dl;
	int rv = HTTP_MORE;

	http_chunked_init(&c);
	*outlen = 0;
	while (pos < len && rv == HTTP_MORE) {
		end = step && pos + step < len ? pos + step : len;
		while (pos < end && rv == HTTP_MORE) {
			rv = http_chunked_next(
			    &c, body + pos, end - pos, &n, &off, &dl);
			if (rv == -1)
				return -1;
			memcpy(out + *outlen, body + pos + off, dl);
			*outlen += dl;
			pos += n;
		}
	}
	*used = pos;
	return rv;
}

static int
dechunk_str(const char *body)
{
	char out[256];
	size_t n, used;

	return dechunk(body, strlen(body), 0, out, &n, &used);
}

static void
test_chunked(void **state)
{
	static const char body[] =
	    "5;ext=1\r\nhello\r\n6 ; a = \"q \\\" s\" ;b\r\n world\r\n"
	    "0\r\nX-Trailer: t\r\nX-Two: a b\r\n\r\nNEXT";
	char out[64];
	size_t used, n, step;

	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n"
	                       "Transfer-Encoding: Chunked\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_CHUNKED);

	/* whole, and in pieces of every size: the same data and end */
	for (step = 0; step < sizeof body; step++) {
		assert_int_equal(
		    dechunk(body, sizeof body - 1, step, out, &n, &used),
		    HTTP_DONE);
		assert_int_equal(used, sizeof body - 1 - 4);
		assert_int_equal(n, 11);
		assert_memory_equal(out, "hello world", 11);
	}
	assert_int_equal(dechunk_str("0\r\n\r\n"), HTTP_DONE);
	assert_int_equal(dechunk_str("3\r\nabc\r\n"), HTTP_MORE);
}

/* What RFC 9112 7.1 does not allow, each refused. */
static void
test_chunked_strict(void **state)
{
	static const char *bad[] = {
	    "zz\r\n",                 /* no size */
	    "3\r\nabcX",              /* data without CRLF */
	    "3\r\nabc\nX",            /* data ended by a bare LF */
	    "ffffffffffffffff\r\n",   /* too large */
	    "3\nabc\r\n0\r\n\r\n",    /* size line ended by a bare LF */
	    "0\n\n",                  /* last chunk with bare LFs */
	    "3;a=b\rc\r\nabc\r\n",    /* bare CR in an extension */
	    "3;\r\nabc\r\n",          /* extension without a name */
	    "3;a=\r\nabc\r\n",        /* extension without a value */
	    "3;a b\r\nabc\r\n",       /* two names */
	    "3;a=\"x\r\n",            /* unterminated quoted string */
	    "3;a=\"\x01\"\r\n",       /* control byte in a quoted string */
	    "3=a\r\n",                /* value without a name */
	    "3 x\r\n",                /* junk after the size */
	    "2 \r\nab\r\n",           /* white space, then no extension */
	    "2;a=b \r\nab\r\n",       /* white space after a value */
	    "0\r\nX-T 1\r\n\r\n",     /* trailer without a colon */
	    "0\r\nX-T: 1\n\r\n",      /* trailer line ended by a bare LF */
	    "0\r\nX-T: a\rb\r\n\r\n", /* bare CR in a trailer */
	    "0\r\n: x\r\n\r\n",       /* trailer without a name */
	    "0\r\n\r\r",              /* end without LF */
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (dechunk_str(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
	/* the size line has a limit, extensions included */
	{
		char line[ROUTER_MAXCHUNKLINE + 16];
		memset(line, 0, sizeof line);
		strcpy(line, "1;a=");
		memset(line + 4, 'x', ROUTER_MAXCHUNKLINE);
		assert_int_equal(dechunk_str(line), -1);
	}
}

static void
test_connection_names_framing(void **state)
{
	static const char *names[] = {
	    "content-length", "Transfer-Encoding", "host"};
	char req[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(req, sizeof req,
		    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
		    "Connection: keep-alive, %s\r\n\r\n",
		    names[i]);
		assert_int_equal(parse(req), -1);
		assert_int_equal(h.error, 400);
	}
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	                           "Connection: content-length\r\n\r\n";
	http_head_init(&h);
	assert_int_equal(http_parse_response(&h, resp, sizeof resp - 1, 0), -1);
	assert_int_equal(h.error, 502);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"
	                       "Connection: close, x-other\r\n\r\n"),
	    HTTP_DONE);
}

static void
test_targets(void **state)
{
	assert_int_equal(
	    parse("GET app.test:80 HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(parse("GET x HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(parse("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(
	    parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_DONE);
	assert_int_equal(
	    parse("GET http://b.test?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
	    HTTP_DONE);
	assert_string_equal(h.host, "b.test");
	assert_int_equal(h.pathlen, 4);
	assert_memory_equal(h.path, "?q=1", 4);
}

static void
test_absolute_form(void **state)
{
	assert_int_equal(parse("GET http://App.Example:8080/p?q=1 HTTP/1.1\r\n"
	                       "Host: other\r\n\r\n"),
	    HTTP_DONE);
	assert_string_equal(h.host, "app.example");
	assert_int_equal(h.pathlen, 6);
	assert_memory_equal(h.path, "/p?q=1", 6);
	assert_int_equal(h.authoritylen, 16);
	assert_memory_equal(h.authority, "App.Example:8080", 16);

	assert_int_equal(
	    parse("GET http://a.b HTTP/1.1\r\nHost: a.b\r\n\r\n"), HTTP_DONE);
	assert_int_equal(h.pathlen, 0);
	assert_string_equal(h.host, "a.b");

	assert_int_equal(
	    parse("GET http://u@a.b/ HTTP/1.1\r\nHost: a\r\n\r\n"), -1);
	assert_int_equal(h.error, 400);
	assert_int_equal(
	    parse("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), -1);

	assert_int_equal(
	    parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_DONE);
	assert_null(h.authority);
	assert_int_equal(h.pathlen, 2);
}

static void
test_upgrade_expect(void **state)
{
	assert_int_equal(parse("GET /ws HTTP/1.1\r\nHost: a\r\n"
	                       "Connection: keep-alive, Upgrade\r\n"
	                       "Upgrade: websocket\r\n"
	                       "Expect: 100-Continue\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.conn_upgrade, 1);
	assert_non_null(h.upgrade);
	assert_int_equal(h.expect_continue, 1);
	assert_int_equal(http_hop_by_hop(&h, "Upgrade", 7), 1);

	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n"),
	    HTTP_DONE);
	assert_int_equal(h.conn_upgrade, 0);
	assert_int_equal(h.expect_continue, 0);
}

static void
test_lf_only(void **state)
{
	assert_int_equal(
	    parse("GET /x HTTP/1.1\nHost: a\nX: y\n\n"), HTTP_DONE);
	assert_int_equal(h.nfields, 2);
	assert_int_equal(
	    h.headlen, strlen("GET /x HTTP/1.1\nHost: a\nX: y\n\n"));
	/* leading empty lines are skipped */
	assert_int_equal(
	    parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_DONE);
	assert_memory_equal(h.method, "GET", 3);
}

static void
test_split_feeds(void **state)
{
	static const char req[] =
	    "POST /upload HTTP/1.1\r\nHost: split.example\r\n"
	    "Content-Length: 3\r\nX-Long: abcdefghij\r\n"
	    "\r\nabc";
	size_t len, headlen = sizeof req - 1 - 3;
	int rv = HTTP_MORE;

	/* the same buffer, one more byte each time */
	http_head_init(&h);
	for (len = 1; len <= sizeof req - 1; len++) {
		size_t scan = h.scan;

		http_head_init(&h);
		h.scan = scan;
		rv = http_parse_request(&h, req, len);
		if (len < headlen)
			assert_int_equal(rv, HTTP_MORE);
		else
			break;
	}
	assert_int_equal(rv, HTTP_DONE);
	assert_int_equal(len, headlen);
	assert_int_equal(h.headlen, headlen);
	assert_string_equal(h.host, "split.example");
	assert_int_equal(h.framing, HTTP_BODY_LENGTH);
	assert_int_equal(h.length, 3);
}

static void
test_response(void **state)
{
	static const char r1[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody";
	static const char r2[] = "HTTP/1.1 204 No Content\r\n\r\n";
	static const char r3[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
	                         "\r\n\r\n";
	static const char r4[] = "HTTP/1.1 200\r\nContent-Length: 7\r\n\r\n";
	static const char r5[] = "HTTP/1.1 2x0 OK\r\n\r\n";

	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, r1, sizeof r1 - 1, 0), HTTP_DONE);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.framing, HTTP_BODY_CLOSE);
	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, r2, sizeof r2 - 1, 0), HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_NONE);
	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, r3, sizeof r3 - 1, 0), HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_CHUNKED);
	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, r4, sizeof r4 - 1, 0), HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_LENGTH);
	assert_int_equal(h.length, 7);
	http_head_init(&h);
	assert_int_equal(
	    http_parse_response(&h, r4, sizeof r4 - 1, 1), HTTP_DONE);
	assert_int_equal(h.framing, HTTP_BODY_NONE);
	http_head_init(&h);
	assert_int_equal(http_parse_response(&h, r5, sizeof r5 - 1, 0), -1);
	assert_int_equal(h.error, 502);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_get),
	    cmocka_unit_test(test_headers_case_insensitive),
	    cmocka_unit_test(test_host_with_port),
	    cmocka_unit_test(test_missing_host),
	    cmocka_unit_test(test_bad_method),
	    cmocka_unit_test(test_bad_version),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_obs_fold),
	    cmocka_unit_test(test_ctl_in_field),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_cl_and_te),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_strict),
	    cmocka_unit_test(test_connection_names_framing),
	    cmocka_unit_test(test_targets),
	    cmocka_unit_test(test_absolute_form),
	    cmocka_unit_test(test_upgrade_expect),
	    cmocka_unit_test(test_lf_only),
	    cmocka_unit_test(test_split_feeds),
	    cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
