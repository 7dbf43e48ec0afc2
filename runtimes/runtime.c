/*
 * runtimes/runtime.c: what a pushed tree is, and the platform Dockerfile
 * that builds it (see runtime.h). The templates are runtimes/<name>/
 * Dockerfile, compiled in by runtimes/embed.sh; their "{{stack}}" names the
 * stack image.
 *
 * Guarantees: detection only asks the tree about a fixed list of paths; a
 * Procfile is read at most once and capped at RUNTIME_MAXPROCFILE, a
 * package.json at RUNTIME_MAXPKGJSON.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "runtimes/files.h"
#include "runtimes/runtime.h"

#define RUNTIME_STACK_DEFAULT "minpaas/stack:bookworm"
#define RUNTIME_STACK_VAR     "{{stack}}"
#define PROCFILE_NUL          "the Procfile holds a NUL byte: it is not text"

#define RUNTIME_LOOKS_FOR                                                      \
	"a Dockerfile; requirements.txt, pyproject.toml or app.py (python); "  \
	"package.json (node); index.html or public/index.html (static)"

struct runtime_kind {
	const char *name;
	const char *files[4]; /* any of these selects it */
	const char *template; /* path in runtime_files[] */
};

static const struct runtime_kind kinds[] = {
    {"python", {"requirements.txt", "pyproject.toml", "app.py", NULL},
        "runtimes/python/Dockerfile"},
    {"node", {"package.json", NULL}, "runtimes/node/Dockerfile"},
    {"static", {"index.html", "public/index.html", NULL},
        "runtimes/static/Dockerfile"},
};

const char *
runtime_stack_image(void)
{
	const char *s = getenv("MINPAAS_STACK_IMAGE");

	return s != NULL && *s != '\0' ? s : RUNTIME_STACK_DEFAULT;
}

const char *
runtime_image(const char *name)
{
	char var[64];
	const char *s;
	size_t i;

	i = (size_t)snprintf(var, sizeof var, "MINPAAS_IMAGE_");
	for (; *name != '\0' && i + 1 < sizeof var; name++)
		var[i++] = (char)toupper((unsigned char)*name);
	var[i] = '\0';
	s = getenv(var);
	return s != NULL && *s != '\0' ? s : runtime_stack_image();
}

/* The template at path with every {{stack}} replaced by image; malloc'd. */
static int
render(const char *path, const char *image, char **out)
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
		if (buf_append(&b, p, v - p) == -1 || buf_puts(&b, image) == -1)
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
	else if ((rc = runtime_procfile_web(
	              text, len, out->command, sizeof out->command)) != -1)
		rc = runtime_procfile_parse(
		    text, len, out->procs, RUNTIME_MAXPROCS, &out->nprocs);
	free(text);
	return rc == -1 ? -1 : 0;
}

/*
 * A node app needs something to run: package.json's scripts.start (what
 * `npm start` runs, the image's CMD) or a Procfile web: line.
 */
static int
check_node(const struct runtime_tree *tree, const struct runtime_result *r)
{
	json_t *o = NULL, *start;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = tree->read(tree->arg, "package.json", &text, &len)) != 0)
		return rc == 1 ? err_set("package.json is not a file") : -1;
	if (len > RUNTIME_MAXPKGJSON) {
		rc = err_set(
		    "package.json is larger than %d bytes", RUNTIME_MAXPKGJSON);
		goto out;
	}
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL ||
	    !json_is_object(o)) {
		rc = err_set("package.json is not valid JSON: line %d: %s",
		    jerr.line, o ? "not an object" : jerr.text);
		goto out;
	}
	start = json_object_get(json_object_get(o, "scripts"), "start");
	if (r->command[0] == '\0' &&
	    (!json_is_string(start) || json_string_length(start) == 0)) {
		rc = err_set("node app without a start command: add "
		             "\"scripts\": {\"start\": \"node server.js\"} to "
		             "package.json, or a Procfile with a web: line");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	free(text);
	return rc;
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
			               "%s",
			    RUNTIME_LOOKS_FOR);
		snprintf(out->name, sizeof out->name, "%s", k->name);
		if (render(k->template, runtime_image(k->name),
		        &out->dockerfile) == -1)
			return -1;
	}
	if (read_procfile(tree, out) == -1 ||
	    (k != NULL && strcmp(k->name, "node") == 0 &&
	        check_node(tree, out) == -1)) {
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

/* One Procfile line: 1 with name/command spans set when it is a process
 * line, 0 when not (comment, blank, malformed). */
static int
procfile_line(const char *line, const char *le, const char **name,
    size_t *namelen, const char **cmd, size_t *cmdlen)
{
	const char *s = line;

	while (s < le && is_name_char(*s))
		s++;
	if (s == line || s == le || *s != ':')
		return 0;
	*name = line;
	*namelen = (size_t)(s - line);
	for (s++; s < le && is_space(*s); s++)
		;
	while (le > s && is_space(le[-1]))
		le--;
	if (le == s)
		return 0;
	*cmd = s;
	*cmdlen = (size_t)(le - s);
	return 1;
}

int
runtime_procfile_parse(const char *text, size_t len, struct runtime_proc *procs,
    size_t max, size_t *n)
{
	const char *p = text, *end = text + len, *name, *cmd;
	size_t namelen, cmdlen, i;

	*n = 0;
	if (memchr(text, '\0', len) != NULL)
		return err_set(PROCFILE_NUL);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end, *line = p;

		p = nl ? nl + 1 : end;
		if (!procfile_line(line, le, &name, &namelen, &cmd, &cmdlen))
			continue;
		/* names are kept lower-cased: "Worker" and "worker" are one */
		for (i = 0; i < *n; i++)
			if (strlen(procs[i].name) == namelen &&
			    strncasecmp(procs[i].name, name, namelen) == 0)
				break;
		if (i < *n)
			continue; /* the first line of a name wins */
		if (*n == max)
			return err_set(
			    "the Procfile has more than %zu process types",
			    max);
		if (namelen >= RUNTIME_MAXPROCNAME)
			return err_set("Procfile process type '%.*s' is longer "
			               "than %d bytes",
			    (int)namelen, name, RUNTIME_MAXPROCNAME - 1);
		if (cmdlen >= RUNTIME_MAXCOMMAND)
			return err_set("the Procfile's %.*s command is longer "
			               "than %d bytes",
			    (int)namelen, name, RUNTIME_MAXCOMMAND - 1);
		for (i = 0; i < namelen; i++)
			procs[*n].name[i] =
			    (char)tolower((unsigned char)name[i]);
		procs[*n].name[namelen] = '\0';
		memcpy(procs[*n].command, cmd, cmdlen);
		procs[*n].command[cmdlen] = '\0';
		(*n)++;
	}
	return 0;
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

	if (outlen > 0)
		*out = '\0';
	if (memchr(text, '\0', len) != NULL)
		return err_set(PROCFILE_NUL);
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
	return 1;
}
