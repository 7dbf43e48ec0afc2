/*
 * builder/dockerfile.c: the images a Dockerfile reads from (dockerfile.h).
 * Guarantees: never reads past len; a reference it cannot resolve without
 * building (a variable) is an error, never skipped, so the caller's rule
 * cannot be walked around.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/dockerfile.h"
#include "common/err.h"

struct df {
	char stages[DOCKERFILE_MAXSTAGES][DOCKERFILE_MAXIMAGE];
	size_t nstages;
	char escape;
	dockerfile_image_fn fn;
	void *arg;
};

static int
df_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated word of *p into out (NUL-terminated); 0
 * when there is none, -1 when it does not fit. */
static int
df_word(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0;

	while (df_space(*s))
		s++;
	if (*s == '\0')
		return 0;
	while (*s != '\0' && !df_space(*s)) {
		if (n + 1 >= outlen)
			return err_set(
			    "a word of the Dockerfile is longer than "
			    "%zu bytes",
			    outlen - 1);
		out[n++] = *s++;
	}
	out[n] = '\0';
	*p = s;
	return 1;
}

static int
df_is_stage(const struct df *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nstages; i++)
		if (strcasecmp(d->stages[i], name) == 0)
			return 1;
	return 0;
}

static int
df_all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* An image reference: hands it to fn unless it is a stage (or, for
 * --from, a stage index) or scratch. */
static int
df_image(struct df *d, const char *image, int from_flag, int lineno)
{
	if (image[0] == '\0')
		return err_set("Dockerfile line %d: no image", lineno);
	if (strchr(image, '$') != NULL)
		return err_set("Dockerfile line %d: the image '%.64s' is a "
		               "variable; name the image itself",
		    lineno, image);
	if (df_is_stage(d, image) || (from_flag && df_all_digits(image)))
		return 0;
	if (strcasecmp(image, "scratch") == 0 && !from_flag)
		return 0;
	return d->fn(d->arg, image);
}

/* One instruction, continuation lines joined. */
static int
df_instruction(struct df *d, const char *line, int lineno)
{
	char word[DOCKERFILE_MAXIMAGE], image[DOCKERFILE_MAXIMAGE];
	const char *p = line;
	int rc, from, copy;

	if ((rc = df_word(&p, word, sizeof word)) <= 0)
		return rc;
	from = strcasecmp(word, "FROM") == 0;
	copy = strcasecmp(word, "COPY") == 0 || strcasecmp(word, "ADD") == 0;
	if (!from && !copy)
		return 0;
	image[0] = '\0';
	while ((rc = df_word(&p, word, sizeof word)) == 1) {
		if (strncmp(word, "--", 2) != 0)
			break;
		if (copy && strncmp(word, "--from=", 7) == 0 &&
		    (rc = df_image(d, word + 7, 1, lineno)) != 0)
			return rc;
	}
	if (rc == -1 || !from)
		return rc == -1 ? -1 : 0;
	if (rc == 0)
		return err_set(
		    "Dockerfile line %d: FROM without an image", lineno);
	snprintf(image, sizeof image, "%s", word);
	if ((rc = df_image(d, image, 0, lineno)) != 0)
		return rc;
	/* FROM image AS name: a stage later lines may name */
	if (df_word(&p, word, sizeof word) == 1 &&
	    strcasecmp(word, "AS") == 0 &&
	    df_word(&p, word, sizeof word) == 1) {
		if (d->nstages == DOCKERFILE_MAXSTAGES)
			return err_set("the Dockerfile has more than %d "
			               "stages",
			    DOCKERFILE_MAXSTAGES);
		snprintf(
		    d->stages[d->nstages++], sizeof d->stages[0], "%s", word);
	}
	return 0;
}

/* `# escape=<c>` among the parser directives at the top. */
static void
df_directive(struct df *d, const char *line)
{
	const char *p = line + 1;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "escape", 6) != 0)
		return;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '`' || *p == '\\')
		d->escape = *p;
}

int
dockerfile_images(
    const char *text, size_t len, dockerfile_image_fn fn, void *arg)
{
	struct df *d;
	char *ins = NULL;
	size_t i = 0, n = 0, start, end, e;
	int rc = 0, lineno = 0, first = 0, directives = 1;

	if (memchr(text, '\0', len) != NULL)
		return err_set("the Dockerfile holds a NUL byte");
	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (ins = malloc(DOCKERFILE_MAXLINE + 1)) == NULL) {
		free(d);
		return err_set("out of memory");
	}
	d->escape = '\\';
	d->fn = fn;
	d->arg = arg;
	while (i < len && rc == 0) {
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		end = i;
		if (i < len)
			i++;
		lineno++;
		if (end > start && text[end - 1] == '\r')
			end--;
		e = start;
		while (e < end && (text[e] == ' ' || text[e] == '\t'))
			e++;
		if (e < end && text[e] == '#') {
			/* a comment, or a directive before any instruction */
			if (directives && n == 0) {
				char dir[128];

				snprintf(dir, sizeof dir, "%.*s",
				    (int)(end - e), text + e);
				df_directive(d, dir);
			}
			continue;
		}
		if (e == end && n == 0)
			continue;
		directives = 0;
		if (n == 0)
			first = lineno;
		if (n + (end - start) > DOCKERFILE_MAXLINE) {
			rc = err_set("Dockerfile line %d: an instruction "
			             "longer than %d bytes",
			    first, DOCKERFILE_MAXLINE);
			break;
		}
		memcpy(ins + n, text + start, end - start);
		n += end - start;
		/* a trailing escape character continues the instruction */
		e = n;
		while (e > 0 && (ins[e - 1] == ' ' || ins[e - 1] == '\t'))
			e--;
		if (e > 0 && ins[e - 1] == d->escape) {
			n = e - 1;
			ins[n++] = ' ';
			continue;
		}
		ins[n] = '\0';
		rc = df_instruction(d, ins, first);
		n = 0;
	}
	if (rc == 0 && n > 0) {
		ins[n] = '\0';
		rc = df_instruction(d, ins, first);
	}
	free(ins);
	free(d);
	return rc;
}
