/*
 * runtimes/runtime.c: what a pushed tree is, and the platform Dockerfile
 * that builds it (see runtime.h). The templates are runtimes/<name>/
 * Dockerfile, compiled in by runtimes/embed.sh; their "{{stack}}" names the
 * stack image.
 *
 * Guarantees: detection only asks the tree about a fixed list of root
 * paths; a Procfile is read at most once and capped at RUNTIME_MAXPROCFILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "runtimes/files.h"
#include "runtimes/runtime.h"

#define RUNTIME_STACK_DEFAULT "minpaas/stack:bookworm"
#define RUNTIME_STACK_VAR     "{{stack}}"

struct runtime_kind {
	const char *name;
	const char *files[4]; /* any of these at the root selects it */
	const char *template; /* path in runtime_files[] */
};

static const struct runtime_kind kinds[] = {
    {"python", {"requirements.txt", "pyproject.toml", "app.py", NULL},
        "runtimes/python/Dockerfile"},
};

const char *
runtime_stack_image(void)
{
	const char *s = getenv("MINPAAS_STACK_IMAGE");

	return s != NULL && *s != '\0' ? s : RUNTIME_STACK_DEFAULT;
}

/* The template at path with every {{stack}} replaced; malloc'd. */
static int
render(const char *path, char **out)
{
	const struct runtime_file *f;
	struct buf b = BUF_INIT;
	const char *p, *v;
	size_t varlen = strlen(RUNTIME_STACK_VAR);

	for (f = runtime_files; f->path != NULL; f++)
		if (strcmp(f->path, path) == 0)
			break;
	if (f->path == NULL)
		return err_set("%s is not built into minpaas", path);
	for (p = f->text; (v = strstr(p, RUNTIME_STACK_VAR)) != NULL;
	     p = v + varlen)
		if (buf_append(&b, p, v - p) == -1 ||
		    buf_puts(&b, runtime_stack_image()) == -1)
			goto fail;
	if (buf_puts(&b, p) == -1)
		goto fail;
	*out = b.data;
	return 0;
fail:
	buf_release(&b);
	return -1;
}

static int
read_procfile(const struct runtime_tree *tree, struct runtime_result *out)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = tree->read(tree->arg, "Procfile", &text, &len);
	if (rc == 1)
		return 0;
	if (rc == -1)
		return -1;
	if (len > RUNTIME_MAXPROCFILE)
		rc = err_set(
		    "Procfile is larger than %d bytes", RUNTIME_MAXPROCFILE);
	else
		rc = runtime_procfile_web(
		    text, len, out->command, sizeof out->command);
	free(text);
	return rc == -1 ? -1 : 0;
}

int
runtime_detect(const struct runtime_tree *tree, struct runtime_result *out)
{
	const struct runtime_kind *k = NULL;
	size_t i, j;

	memset(out, 0, sizeof *out);
	if (tree->exists(tree->arg, "Dockerfile")) {
		snprintf(out->name, sizeof out->name, "dockerfile");
	} else {
		for (i = 0; i < sizeof kinds / sizeof kinds[0] && !k; i++)
			for (j = 0; kinds[i].files[j] != NULL && !k; j++)
				if (tree->exists(tree->arg, kinds[i].files[j]))
					k = &kinds[i];
		if (k == NULL)
			return err_set("no runtime detected: minpaas looks for "
			               "a Dockerfile, requirements.txt, "
			               "pyproject.toml or app.py at the root");
		snprintf(out->name, sizeof out->name, "%s", k->name);
		if (render(k->template, &out->dockerfile) == -1)
			return -1;
	}
	if (read_procfile(tree, out) == -1) {
		runtime_result_release(out);
		return -1;
	}
	return 0;
}

void
runtime_result_release(struct runtime_result *r)
{
	free(r->dockerfile);
	r->dockerfile = NULL;
}

static int
is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Heroku's (and foreman's) line grammar: ^([A-Za-z0-9_-]+):\s*(.+)$. So
 * "web:cmd" and "web:   cmd" are web lines; "#web: x", " web: x" and
 * "web : x" are not. The first web line wins.
 */
int
runtime_procfile_web(const char *text, size_t len, char *out, size_t outlen)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *line = p, *le = nl ? nl : end, *s = line;

		p = nl ? nl + 1 : end;
		while (s < le && is_name_char(*s))
			s++;
		if (s == line || s == le || *s != ':')
			continue;
		if (s - line != 3 || memcmp(line, "web", 3) != 0)
			continue;
		for (s++; s < le && is_space(*s); s++)
			;
		while (le > s && is_space(le[-1]))
			le--;
		if (le == s)
			continue;
		if ((size_t)(le - s) >= outlen)
			return err_set("the Procfile's web command is longer "
			               "than %zu bytes",
			    outlen - 1);
		memcpy(out, s, le - s);
		out[le - s] = '\0';
		return 0;
	}
	if (outlen > 0)
		*out = '\0';
	return 1;
}
