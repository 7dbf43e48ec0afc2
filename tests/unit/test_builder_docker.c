/*
 * tests/unit/test_builder_docker.c: the Docker client's byte-level parts
 * without a daemon: the log frame demuxer, the build-output parser and the
 * container-create body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "builder/docker_int.h"

/* --- frame demuxer ------------------------------------------------------- */

struct logsink {
	struct buf out; /* stdout bytes */
	struct buf err; /* stderr bytes */
	size_t calls;
	size_t stop_after; /* 0: never stop */
};

static int
logsink_fn(void *arg, int stream, const char *data, size_t len)
{
	struct logsink *s = arg;

	assert_true(stream == 1 || stream == 2);
	assert_true(len > 0);
	assert_int_equal(
	    buf_append(stream == 1 ? &s->out : &s->err, data, len), 0);
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after;
}

/* Appends one frame to b. */
static void
frame(struct buf *b, int stream, const char *payload, size_t len)
{
	unsigned char h[8] = {(unsigned char)stream, 0, 0, 0,
	    (unsigned char)(len >> 24), (unsigned char)(len >> 16),
	    (unsigned char)(len >> 8), (unsigned char)len};

	assert_int_equal(buf_append(b, h, sizeof h), 0);
	assert_int_equal(buf_append(b, payload, len), 0);
}

static void
sample_frames(struct buf *b)
{
	static char big[70000];

	memset(big, 'x', sizeof big);
	frame(b, 1, "to stdout 1795618693\n", 21);
	frame(b, 2, "to stderr\n", 10);
	frame(b, 1, "", 0);
	frame(b, 1, big, sizeof big);
	frame(b, 2, "last\n", 5);
}

static void
run_demux_chunked(size_t chunk)
{
	struct buf in = BUF_INIT;
	struct logsink s = {BUF_INIT, BUF_INIT, 0, 0};
	struct docker_demux m;
	size_t off, n;

	sample_frames(&in);
	docker_demux_init(&m, logsink_fn, &s);
	for (off = 0; off < in.len; off += n) {
		n = in.len - off < chunk ? in.len - off : chunk;
		assert_int_equal(docker_demux_feed(&m, in.data + off, n), 0);
	}
	assert_int_equal(s.out.len, 21 + 70000);
	assert_memory_equal(s.out.data, "to stdout 1795618693\n", 21);
	assert_int_equal(s.out.data[21], 'x');
	assert_int_equal(s.out.data[s.out.len - 1], 'x');
	assert_string_equal(s.err.data, "to stderr\nlast\n");
	assert_int_equal(m.hdrlen, 0);
	assert_int_equal(m.left, 0);
	buf_release(&in);
	buf_release(&s.out);
	buf_release(&s.err);
}

static void
test_demux_byte_by_byte(void **st)
{
	run_demux_chunked(1);
}

static void
test_demux_odd_chunks(void **st)
{
	static const size_t sizes[] = {
	    2, 3, 5, 7, 8, 9, 13, 4096, 65537, 1 << 20};
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		run_demux_chunked(sizes[i]);
}

static void
test_demux_stop(void **st)
{
	struct buf in = BUF_INIT;
	struct logsink s = {BUF_INIT, BUF_INIT, 0, 1};
	struct docker_demux m;

	sample_frames(&in);
	docker_demux_init(&m, logsink_fn, &s);
	assert_int_equal(docker_demux_feed(&m, in.data, in.len), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(docker_demux_feed(&m, in.data, in.len), 1);
	assert_int_equal(s.calls, 1);
	buf_release(&in);
	buf_release(&s.out);
	buf_release(&s.err);
}

static void
test_demux_raw(void **st)
{
	struct logsink s = {BUF_INIT, BUF_INIT, 0, 0};
	struct docker_demux m;

	docker_demux_init(&m, logsink_fn, &s);
	assert_int_equal(docker_demux_feed(&m, "hel", 3), 0);
	assert_int_equal(docker_demux_feed(&m, "lo\n", 3), 0);
	assert_string_equal(s.out.data, "hello\n");
	buf_release(&s.out);
}

/* --- build output -------------------------------------------------------- */

struct lines {
	char *v[64];
	size_t n;
};

static void
lines_fn(void *arg, const char *line)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	assert_non_null(l->v[l->n++] = strdup(line));
	assert_null(strchr(line, '\n'));
}

static void
lines_free(struct lines *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
}

static const char build_ok[] =
    "{\"stream\":\"Step 1/3 : FROM minpaas/stack:bookworm\"}\r\n"
    "{\"stream\":\"\\n\"}\r\n"
    "{\"stream\":\" ---\\u003e 17c66e107d4f\\n\"}\r\n"
    "{\"stream\":\"Step 2/3 : RUN echo hi\"}\r\n"
    "{\"stream\":\"\\n\"}\r\n"
    "{\"stream\":\" ---\\u003e Running in 2d893f96df19\\n\"}\r\n"
    "{\"stream\":\"hi\\nsecond \"}\r\n"
    "{\"stream\":\"half\\n\"}\r\n"
    "{\"status\":\"Downloading\",\"id\":\"abc\"}\r\n"
    "{\"aux\":{\"ID\":\"sha256:38d05fe808c4aa\"}}\r\n"
    "{\"stream\":\"Successfully built 38d05fe808c4\\n\"}\r\n"
    "{\"stream\":\"Successfully tagged app:1\\n\"}\r\n";

static void
run_build_chunked(size_t chunk)
{
	struct docker_progress p;
	struct lines l = {{0}, 0};
	size_t off, n, len = sizeof build_ok - 1;

	docker_progress_init(&p, lines_fn, &l);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		assert_int_equal(
		    docker_progress_feed(&p, build_ok + off, n), 0);
	}
	assert_int_equal(docker_progress_finish(&p), 0);
	assert_int_equal(p.failed, 0);
	assert_string_equal(p.image_id, "sha256:38d05fe808c4aa");
	assert_int_equal(l.n, 9);
	assert_string_equal(l.v[0], "Step 1/3 : FROM minpaas/stack:bookworm");
	assert_string_equal(l.v[1], " ---> 17c66e107d4f");
	assert_string_equal(l.v[2], "Step 2/3 : RUN echo hi");
	assert_string_equal(l.v[3], " ---> Running in 2d893f96df19");
	assert_string_equal(l.v[4], "hi");
	assert_string_equal(l.v[5], "second half");
	assert_string_equal(l.v[6], "abc: Downloading");
	assert_string_equal(l.v[7], "Successfully built 38d05fe808c4");
	assert_string_equal(l.v[8], "Successfully tagged app:1");
	lines_free(&l);
	docker_progress_release(&p);
}

static void
test_build_lines(void **st)
{
	size_t chunk;

	for (chunk = 1; chunk < 40; chunk++)
		run_build_chunked(chunk);
	run_build_chunked(sizeof build_ok);
}

static void
test_build_error(void **st)
{
	static const char in[] =
	    "{\"stream\":\"Step 2/2 : RUN exit 3\\n\"}\r\n"
	    "{\"errorDetail\":{\"code\":3,\"message\":\"The command '/bin/sh "
	    "-c exit 3' returned a non-zero code: 3\"},\"error\":\"The "
	    "command '/bin/sh -c exit 3' returned a non-zero code: 3\"}\r\n";
	struct docker_progress p;
	struct lines l = {{0}, 0};
	size_t i;

	docker_progress_init(&p, lines_fn, &l);
	for (i = 0; i < sizeof in - 1; i++)
		assert_int_equal(docker_progress_feed(&p, in + i, 1), 0);
	assert_int_equal(docker_progress_finish(&p), 0);
	assert_int_equal(p.failed, 1);
	assert_string_equal(p.error,
	    "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
	assert_string_equal(p.image_id, "");
	assert_int_equal(l.n, 1);
	lines_free(&l);
	docker_progress_release(&p);
}

static void
test_build_fallback_id(void **st)
{
	static const char in[] =
	    "{\"stream\":\"Successfully built 38d05fe808c4\\n\"}";
	struct docker_progress p;

	docker_progress_init(&p, NULL, NULL);
	assert_int_equal(docker_progress_feed(&p, in, sizeof in - 1), 0);
	/* No trailing newline: only finish delivers it. */
	assert_string_equal(p.image_id, "");
	assert_int_equal(docker_progress_finish(&p), 0);
	assert_string_equal(p.image_id, "38d05fe808c4");
	docker_progress_release(&p);
}

static void
test_build_long_line(void **st)
{
	struct docker_progress p;
	struct lines l = {{0}, 0};
	char *big;
	size_t n = DOCKER_MAXLINE + 1000, i;
	static const char after[] = "{\"stream\":\"after\\n\"}\r\n";

	assert_non_null(big = malloc(n));
	memcpy(big, "{\"stream\":\"", 11);
	memset(big + 11, 'y', n - 11);
	docker_progress_init(&p, lines_fn, &l);
	for (i = 0; i < n; i += 4096)
		assert_int_equal(docker_progress_feed(
		                     &p, big + i, n - i < 4096 ? n - i : 4096),
		    0);
	assert_true(p.line.cap <= DOCKER_MAXLINE + 1);
	assert_int_equal(docker_progress_feed(&p, "\\n\"}\r\n", 6), 0);
	assert_int_equal(docker_progress_feed(&p, after, sizeof after - 1), 0);
	assert_int_equal(docker_progress_finish(&p), 0);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.v[0], "left out"));
	assert_string_equal(l.v[1], "after");
	assert_int_equal(p.failed, 0);
	lines_free(&l);
	docker_progress_release(&p);
	free(big);
}

static void
test_build_long_stream_text(void **st)
{
	struct docker_progress p;
	struct lines l = {{0}, 0};
	char obj[4200];
	int i;

	/* 20 objects of 4000 bytes each, no newline: one 80000-byte line. */
	docker_progress_init(&p, lines_fn, &l);
	memcpy(obj, "{\"stream\":\"", 11);
	memset(obj + 11, 'z', 4000);
	memcpy(obj + 4011, "\"}\r\n", 4);
	for (i = 0; i < 20; i++)
		assert_int_equal(docker_progress_feed(&p, obj, 4015), 0);
	assert_int_equal(
	    docker_progress_feed(&p, "{\"stream\":\"\\nnext\\n\"}\n", 22), 0);
	assert_int_equal(docker_progress_finish(&p), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(strlen(l.v[0]), DOCKER_MAXLINE);
	assert_string_equal(l.v[1], "next");
	lines_free(&l);
	docker_progress_release(&p);
}

/* --- create body --------------------------------------------------------- */

static void
test_spec_json(void **st)
{
	const char *env[] = {"PORT=5000", "FOO=bar baz", NULL};
	struct docker_spec spec = {
	    .name = "demo.3.web",
	    .image = "sha256:abc",
	    .env = env,
	    .command = "python3 app.py",
	    .app = "demo",
	    .release = 3,
	    .process = "web",
	    .port = 5000,
	    .host_port = 20001,
	    .memory = 512LL << 20,
	    .nano_cpus = 1000000000LL,
	    .pids = 512,
	    .user = "app",
	};
	json_t *o, *h, *b;

	assert_non_null(o = docker_spec_json(&spec));
	assert_string_equal(
	    json_string_value(json_object_get(o, "Image")), "sha256:abc");
	assert_int_equal(json_array_size(json_object_get(o, "Env")), 2);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(o, "Env"), 1)),
	    "FOO=bar baz");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(o, "Labels"), "minpaas.app")),
	    "demo");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(o, "Labels"), "minpaas.release")),
	    "3");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(o, "Labels"), "minpaas.process")),
	    "web");
	assert_non_null(
	    json_object_get(json_object_get(o, "ExposedPorts"), "5000/tcp"));
	assert_int_equal(json_array_size(json_object_get(o, "Cmd")), 3);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(o, "Cmd"), 2)),
	    "python3 app.py");
	assert_string_equal(
	    json_string_value(json_object_get(o, "User")), "app");
	h = json_object_get(o, "HostConfig");
	b = json_array_get(
	    json_object_get(json_object_get(h, "PortBindings"), "5000/tcp"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(b, "HostIp")), "127.0.0.1");
	assert_string_equal(
	    json_string_value(json_object_get(b, "HostPort")), "20001");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(h, "RestartPolicy"), "Name")),
	    "unless-stopped");
	assert_true(json_is_true(json_object_get(h, "Init")));
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(h, "SecurityOpt"), 0)),
	    "no-new-privileges");
	assert_int_equal(
	    json_integer_value(json_object_get(h, "Memory")), 512LL << 20);
	assert_int_equal(
	    json_integer_value(json_object_get(h, "NanoCpus")), 1000000000LL);
	assert_int_equal(
	    json_integer_value(json_object_get(h, "PidsLimit")), 512);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(h, "LogConfig"), "Config"),
	        "max-size")),
	    "10m");
	json_decref(o);
}

static void
test_spec_json_minimal(void **st)
{
	struct docker_spec spec = {.image = "minpaas/stack:bookworm"};
	json_t *o, *h;

	assert_non_null(o = docker_spec_json(&spec));
	h = json_object_get(o, "HostConfig");
	assert_null(json_object_get(o, "Cmd"));
	assert_null(json_object_get(o, "User"));
	assert_null(json_object_get(o, "ExposedPorts"));
	assert_null(json_object_get(h, "PortBindings"));
	assert_null(json_object_get(h, "Memory"));
	assert_null(json_object_get(h, "NanoCpus"));
	assert_null(json_object_get(h, "PidsLimit"));
	assert_int_equal(json_array_size(json_object_get(o, "Env")), 0);
	json_decref(o);

	spec.image = NULL;
	assert_null(docker_spec_json(&spec));
}

static void
test_spec_json_bad_utf8(void **st)
{
	const char *env[] = {"A=\xff\xfe", NULL};
	struct docker_spec spec = {.image = "x", .env = env};

	assert_null(docker_spec_json(&spec));
	assert_non_null(strstr(err_msg(), "UTF-8"));
}

static void
test_name_valid(void **st)
{
	assert_true(docker_name_valid("demo.3.web"));
	assert_true(docker_name_valid("3f1c0a"));
	assert_false(docker_name_valid(""));
	assert_false(docker_name_valid(".x"));
	assert_false(docker_name_valid("a/b"));
	assert_false(docker_name_valid("a?b"));
	assert_false(docker_name_valid("a b"));
	assert_false(docker_name_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demux_byte_by_byte),
	    cmocka_unit_test(test_demux_odd_chunks),
	    cmocka_unit_test(test_demux_stop),
	    cmocka_unit_test(test_demux_raw),
	    cmocka_unit_test(test_build_lines),
	    cmocka_unit_test(test_build_error),
	    cmocka_unit_test(test_build_fallback_id),
	    cmocka_unit_test(test_build_long_line),
	    cmocka_unit_test(test_build_long_stream_text),
	    cmocka_unit_test(test_spec_json),
	    cmocka_unit_test(test_spec_json_minimal),
	    cmocka_unit_test(test_spec_json_bad_utf8),
	    cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
