/*
 * builder/buildout.c: Docker's build output, filtered into Heroku's shape and
 * kept as the build log (see buildout.h). Guarantees: a line is shown as
 * soon as the next one arrives (a Step line waits for its successor only,
 * to learn whether it was cached); the log never holds more than twice
 * BUILDOUT_MAXLOG bytes and is cut to the last BUILDOUT_MAXLOG when read.
 */
#include <stdlib.h>
#include <string.h>

#include "common/progress.h"
#include "builder/buildout.h"

void
buildout_init(struct buildout *b, FILE *out)
{
	memset(b, 0, sizeof *b);
	b->out = out;
}

void
buildout_release(struct buildout *b)
{
	buf_release(&b->step);
	buf_release(&b->log);
}

static void
log_keep(struct buildout *b, const char *prefix, const char *text)
{
	if (b->oom)
		return;
	if (buf_puts(&b->log, prefix) == -1 || buf_puts(&b->log, text) == -1 ||
	    buf_append(&b->log, "\n", 1) == -1) {
		b->oom = 1;
		return;
	}
	if (b->log.len > 2 * BUILDOUT_MAXLOG) {
		const char *cut = b->log.data + b->log.len - BUILDOUT_MAXLOG;
		const char *nl = memchr(cut, '\n', BUILDOUT_MAXLOG);

		buf_consume(
		    &b->log, (size_t)((nl ? nl + 1 : cut) - b->log.data));
	}
}

void
buildout_say(struct buildout *b, const char *prefix, const char *text)
{
	progress_say(b->out, prefix, "%s", text);
	log_keep(b, prefix, text);
}

void
buildout_flush(struct buildout *b)
{
	if (b->step.len == 0)
		return;
	buildout_say(b, PROGRESS_DETAIL, b->step.data);
	buf_reset(&b->step);
}

static int
starts(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

/* " ---> 3f2a9c1b7d0e": the id of the layer a step made. */
static int
is_layer_id(const char *s)
{
	size_t i;

	if (!starts(s, " ---> "))
		return 0;
	for (i = 6; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i > 6;
}

/* Copies s without its terminal escape sequences (the classic builder
 * colours a RUN's stderr: "\033[91m...\033[0m") into a malloc'd string. */
static char *
strip_escapes(const char *s)
{
	char *out = malloc(strlen(s) + 1), *d = out;

	if (out == NULL)
		return NULL;
	while (*s != '\0') {
		if (s[0] == '\033' && s[1] == '[') {
			for (s += 2; *s != '\0' && !(*s >= '@' && *s <= '~');
			     s++)
				;
			if (*s != '\0')
				s++;
			continue;
		}
		*d++ = *s++;
	}
	*d = '\0';
	return out;
}

static void buildout_clean_line(struct buildout *b, const char *line);

void
buildout_line(void *arg, const char *line)
{
	struct buildout *b = arg;
	char *clean;

	if (strchr(line, '\033') == NULL) {
		buildout_clean_line(b, line);
		return;
	}
	if ((clean = strip_escapes(line)) == NULL) {
		b->oom = 1;
		return;
	}
	buildout_clean_line(b, clean);
	free(clean);
}

static void
buildout_clean_line(struct buildout *b, const char *line)
{
	if (*line == '\0')
		return;
	if (starts(line, " ---> Using cache")) {
		if (b->step.len > 0 && buf_puts(&b->step, " (cached)") == 0)
			buildout_flush(b);
		b->cached++;
		return;
	}
	buildout_flush(b);
	if (starts(line, "Step ")) {
		b->steps++;
		if (buf_puts(&b->step, line) == -1)
			buildout_say(b, PROGRESS_DETAIL, line);
		return;
	}
	if (is_layer_id(line) || starts(line, " ---> Running in ") ||
	    starts(line, "Removing intermediate container ") ||
	    starts(line, "Successfully built ") ||
	    starts(line, "Successfully tagged ") || strcmp(line, " ---> ") == 0)
		return;
	buildout_say(b, PROGRESS_DETAIL, line);
}
