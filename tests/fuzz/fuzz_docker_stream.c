/*
 * tests/fuzz/fuzz_docker_stream.c: libFuzzer target for the two stream
 * decoders of the Docker client: the log frame demuxer
 * (builder/docker_frame.c) and the POST /build output reader
 * (builder/docker_progress.c). The input is 3 control bytes (a mode and two
 * cut points) and the stream. The stream is fed whole, then in three pieces
 * cut anywhere, or byte by byte (the mode's bit 0); when mode & 0x0e is 2,
 * the stream is repeated past DOCKER_MAXLINE so the over-long line
 * paths run. Beyond "no crash": every feeding gives the same result (the
 * demuxer: the same bytes on each stream, in the same order, never more than
 * came in; the build reader: the same lines, error, failure and image id, each
 * line at most DOCKER_MAXLINE bytes, no newline in a line).
 *
 * fuzz-sources: builder/docker_frame.c builder/docker_progress.c
 * fuzz-sources: common/buf.c common/err.c
 * fuzz-libs: -ljansson
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/docker_int.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a decoder handed out: runs tagged by stream, or lines. */
struct seen {
	struct buf out;
	int last;     /* stream of the run being collected, 0 at first */
	size_t bytes; /* payload bytes handed out */
};

static int
on_log(void *arg, int stream, const char *data, size_t len)
{
	struct seen *s = arg;

	if ((stream != 1 && stream != 2) || len == 0)
		abort();
	/* adjacent runs of one stream are one run, however they came */
	if (stream != s->last) {
		char tag = stream == 1 ? '\x01' : '\x02';
		if (buf_append(&s->out, &tag, 1) == -1)
			abort();
		s->last = stream;
	}
	if (buf_append(&s->out, data, len) == -1)
		abort();
	s->bytes += len;
	return 0;
}

static void
on_line(void *arg, const char *line)
{
	struct seen *s = arg;
	size_t n = strlen(line);

	if (n == 0 || n > DOCKER_MAXLINE || strchr(line, '\n') != NULL)
		abort();
	if (buf_append(&s->out, line, n + 1) == -1)
		abort();
}

/* The stream: `reps` copies of data, each fed in three pieces (cut) or
 * byte by byte when not fed whole. */
struct feeding {
	const char *data;
	size_t len, reps, cut[2];
	int bytewise;
};

/* The whole stream, all its copies, in one malloc'd buffer. */
static char *
feeding_whole(const struct feeding *f)
{
	char *all = malloc(f->len * f->reps + 1);
	size_t r;

	if (all == NULL)
		abort();
	for (r = 0; r < f->reps; r++)
		memcpy(all + r * f->len, f->data, f->len);
	return all;
}

static void
demux(const struct feeding *f, int whole, struct seen *s)
{
	struct docker_demux m;
	size_t r, a, b;

	memset(s, 0, sizeof *s);
	docker_demux_init(&m, on_log, s);
	if (whole) {
		char *all = feeding_whole(f);

		if (docker_demux_feed(&m, all, f->len * f->reps) != 0)
			abort();
		free(all);
		return;
	}
	for (r = 0; r < f->reps; r++) {
		a = f->cut[0];
		b = f->cut[1];
		if (f->bytewise) {
			for (a = 0; a < f->len; a++)
				docker_demux_feed(&m, f->data + a, 1);
			continue;
		}
		docker_demux_feed(&m, f->data, a);
		docker_demux_feed(&m, f->data + a, b - a);
		docker_demux_feed(&m, f->data + b, f->len - b);
	}
}

struct progress_seen {
	struct seen lines;
	int failed;
	char error[ERR_MAXLEN], image_id[80];
};

static void
progress(const struct feeding *f, int whole, struct progress_seen *ps)
{
	struct docker_progress p;
	size_t r, a, b;

	memset(ps, 0, sizeof *ps);
	docker_progress_init(&p, on_line, &ps->lines);
	if (whole) {
		char *all = feeding_whole(f);

		if (docker_progress_feed(&p, all, f->len * f->reps) != 0)
			abort();
		free(all);
	} else {
		for (r = 0; r < f->reps; r++) {
			a = f->cut[0];
			b = f->cut[1];
			if (f->bytewise) {
				for (a = 0; a < f->len; a++)
					docker_progress_feed(
					    &p, f->data + a, 1);
				continue;
			}
			docker_progress_feed(&p, f->data, a);
			docker_progress_feed(&p, f->data + a, b - a);
			docker_progress_feed(&p, f->data + b, f->len - b);
		}
	}
	if (docker_progress_finish(&p) != 0)
		abort();
	if (memchr(p.error, '\0', sizeof p.error) == NULL ||
	    memchr(p.image_id, '\0', sizeof p.image_id) == NULL)
		abort();
	ps->failed = p.failed;
	memcpy(ps->error, p.error, sizeof ps->error);
	memcpy(ps->image_id, p.image_id, sizeof ps->image_id);
	docker_progress_release(&p);
}

static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feeding f;
	struct seen d1, d2;
	struct progress_seen p1, p2;
	size_t t;

	if (size < 3)
		return 0;
	memset(&f, 0, sizeof f);
	f.len = size - 3;
	if ((f.data = malloc(f.len ? f.len : 1)) == NULL)
		return 0;
	memcpy((char *)f.data, data + 3, f.len);
	f.cut[0] = data[1] * (f.len + 1) / 256;
	f.cut[1] = data[2] * (f.len + 1) / 256;
	if (f.cut[0] > f.cut[1]) {
		t = f.cut[0];
		f.cut[0] = f.cut[1];
		f.cut[1] = t;
	}
	f.reps = 1;
	if ((data[0] & 0x0e) == 2 && f.len > 0) /* slow: one mode in 8 */
		f.reps = DOCKER_MAXLINE / f.len + 2;
	f.bytewise = (data[0] & 1) && f.reps == 1;

	demux(&f, 1, &d1);
	demux(&f, 0, &d2);
	if (!same(&d1.out, &d2.out) || d1.bytes > f.len * f.reps)
		abort();
	buf_release(&d1.out);
	buf_release(&d2.out);

	progress(&f, 1, &p1);
	progress(&f, 0, &p2);
	if (!same(&p1.lines.out, &p2.lines.out) || p1.failed != p2.failed ||
	    strcmp(p1.error, p2.error) != 0 ||
	    strcmp(p1.image_id, p2.image_id) != 0)
		abort();
	buf_release(&p1.lines.out);
	buf_release(&p2.lines.out);

	free((char *)f.data);
	return 0;
}
