/*
 * builder/docker_progress.c: reads the output of POST /build, one JSON object
 * per line, as it arrives in arbitrary chunks. Guarantees: every "stream"
 * line reaches the callback as soon as its newline arrives, without the
 * newline; an error object fails the build with the daemon's own message;
 * the image id comes from aux.ID (or "Successfully built <id>"); no line
 * held in memory is longer than DOCKER_MAXLINE.
 */
#include <stdio.h>
#include <string.h>

#include "builder/docker_int.h"

void
docker_progress_init(struct docker_progress *p, docker_line_fn fn, void *arg)
{
	memset(p, 0, sizeof *p);
	p->fn = fn;
	p->arg = arg;
}

void
docker_progress_release(struct docker_progress *p)
{
	buf_release(&p->line);
	buf_release(&p->text);
}

/* Passes one line (not NUL-terminated in s, no '\n' inside) to the
 * callback. */
static void
progress_emit_line(struct docker_progress *p, char *s, size_t len)
{
	char *cr, save;

	/* a NUL byte (output that is not text) ends what can be shown */
	len = strnlen(s, len);
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	/* A carriage return inside a line redraws it: keep the last part. */
	save = s[len];
	s[len] = '\0';
	if ((cr = strrchr(s, '\r')) != NULL) {
		len -= (size_t)(cr + 1 - s);
		s = cr + 1;
	}
	if (len > 0 && p->fn)
		p->fn(p->arg, s);
	s[len] = save;
}

/* Passes text (not NUL-terminated in s) to the callback, line by line: a
 * "status" or "id" may hold a newline too. */
static void
progress_emit(struct docker_progress *p, char *s, size_t len)
{
	char *nl;

	while ((nl = memchr(s, '\n', len)) != NULL) {
		progress_emit_line(p, s, (size_t)(nl - s));
		len -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	progress_emit_line(p, s, len);
}

/* Version 1 builds without aux end with "Successfully built <short id>". */
static void
progress_built(struct docker_progress *p, const char *line)
{
	const char *pre = "Successfully built ";
	size_t n = strlen(pre);

	if (p->image_id[0] == '\0' && strncmp(line, pre, n) == 0)
		snprintf(p->image_id, sizeof p->image_id, "%s", line + n);
}

/* Delivers the pending "stream" line, if any. */
static void
progress_line(struct docker_progress *p)
{
	if (p->text.len > 0) {
		progress_built(p, p->text.data);
		progress_emit(p, p->text.data, p->text.len);
	}
	buf_reset(&p->text);
}

/* Adds "stream" text; each completed line goes to the callback. A line
 * over DOCKER_MAXLINE is delivered cut there and its rest dropped. */
static int
progress_text(struct docker_progress *p, const char *s, size_t len)
{
	const char *nl;
	size_t n, room;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl ? (size_t)(nl - s) : len;
		if (!p->text_skipping) {
			room = DOCKER_MAXLINE - p->text.len;
			if (buf_append(&p->text, s, n < room ? n : room) == -1)
				return -1;
			if (p->text.len >= DOCKER_MAXLINE) {
				progress_line(p);
				p->text_skipping = 1;
			}
		}
		if (nl == NULL)
			return 0;
		if (p->text_skipping)
			p->text_skipping = 0;
		else
			progress_line(p);
		len -= n + 1;
		s = nl + 1;
	}
	return 0;
}

static void
progress_fail(struct docker_progress *p, const char *msg)
{
	if (p->failed)
		return;
	p->failed = 1;
	snprintf(p->error, sizeof p->error, "%s", msg);
}

/* One complete line: a JSON object (or blank). */
static int
progress_object(struct docker_progress *p, const char *s, size_t len)
{
	json_t *o, *v, *e;
	const char *status, *id;
	json_error_t jerr;
	struct buf b = BUF_INIT;
	int rc = 0;

	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	if ((o = json_loadb(s, len, 0, &jerr)) == NULL || !json_is_object(o)) {
		/* Not JSON: show it as it is rather than lose it. */
		json_decref(o);
		if (buf_append(&b, s, len) == -1)
			return -1;
		progress_emit(p, b.data, b.len);
		buf_release(&b);
		return 0;
	}
	if (json_is_string(v = json_object_get(o, "stream")))
		rc = progress_text(
		    p, json_string_value(v), json_string_length(v));
	if (json_is_string(v = json_object_get(o, "status"))) {
		status = json_string_value(v);
		id = json_string_value(json_object_get(o, "id"));
		if (id ? buf_printf(&b, "%s: %s", id, status)
		       : buf_puts(&b, status))
			rc = -1;
		else
			progress_emit(p, b.data, b.len);
	}
	if (json_is_object(v = json_object_get(o, "aux")) &&
	    json_is_string(e = json_object_get(v, "ID")))
		snprintf(p->image_id, sizeof p->image_id, "%s",
		    json_string_value(e));
	e = json_object_get(json_object_get(o, "errorDetail"), "message");
	if (json_is_string(e) && json_string_length(e) > 0)
		progress_fail(p, json_string_value(e));
	else if (json_is_string(v = json_object_get(o, "error")))
		progress_fail(p, json_string_value(v));
	else if (json_is_object(json_object_get(o, "errorDetail")))
		progress_fail(p, "the build failed");
	buf_release(&b);
	json_decref(o);
	return rc;
}

int
docker_progress_feed(struct docker_progress *p, const char *data, size_t len)
{
	const char *nl;
	char note[80];
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		if (p->skipping) {
			/* The rest of an over-long object: drop it. */
		} else if (p->line.len + n > DOCKER_MAXLINE) {
			p->skipping = 1;
			buf_release(&p->line);
			if (p->fn) {
				snprintf(note, sizeof note,
				    "(an output line longer than %d bytes "
				    "was left out)",
				    DOCKER_MAXLINE);
				p->fn(p->arg, note);
			}
		} else if (buf_append(&p->line, data, n) == -1) {
			return -1;
		}
		if (nl == NULL)
			return 0;
		if (!p->skipping && p->line.len > 0 &&
		    progress_object(p, p->line.data, p->line.len) == -1)
			return -1;
		p->skipping = 0;
		buf_reset(&p->line);
		len -= n + 1;
		data = nl + 1;
	}
	return 0;
}

int
docker_progress_finish(struct docker_progress *p)
{
	if (!p->skipping && p->line.len > 0 &&
	    progress_object(p, p->line.data, p->line.len) == -1)
		return -1;
	buf_reset(&p->line);
	p->skipping = 0;
	progress_line(p);
	p->text_skipping = 0;
	return 0;
}
