/*
 * tests/fuzz/fuzz_procfile.c: libFuzzer target for the Procfile readers of
 * runtime detection (runtime_procfile_web and runtime_procfile_parse,
 * runtimes/runtime.c). The input is a Procfile; its first byte also picks
 * the size of the web command's buffer. Beyond "no crash": every output is
 * NUL-terminated inside its buffer, commands are text of the input (trimmed,
 * one line), names are a line's name lower-cased, no two process types have
 * the same name, and a Procfile with a web: line has a "web" type.
 *
 * fuzz-sources: runtimes/runtime.c common/buf.c common/err.c
 * fuzz-libs: -ljansson
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/files.h"
#include "runtimes/runtime.h"

/* runtime.c renders the embedded Dockerfiles; none is needed here. */
const struct runtime_file runtime_files[] = {{NULL, NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when s (len bytes) is one trimmed line of text. */
static int
from_input(const char *text, size_t size, const char *s, size_t len)
{
	if (len == 0 || memchr(s, '\n', len) != NULL || isspace(s[0]) ||
	    isspace(s[len - 1]))
		return 0;
	return memmem(text, size, s, len) != NULL;
}

/* 1 when some line of text starts with name (any case) and a ':'. */
static int
name_in_input(const char *text, size_t size, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i + n < size; i++) {
		if (i > 0 && text[i - 1] != '\n')
			continue;
		if (strncasecmp(text + i, name, n) == 0 && text[i + n] == ':')
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runtime_proc procs[RUNTIME_MAXPROCS];
	char *text, *out;
	size_t outlen, n, i, j;
	int rw, rp, has_web = 0;

	/* exact-size copies so ASan sees any access past the end */
	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	outlen = size ? 1 + data[0] % 64 : RUNTIME_MAXCOMMAND;
	if (size && data[0] >= 128)
		outlen = RUNTIME_MAXCOMMAND;
	if ((out = malloc(outlen)) == NULL) {
		free(text);
		return 0;
	}

	memset(out, 'x', outlen);
	rw = runtime_procfile_web(text, size, out, outlen);
	if (rw == 0) {
		if (memchr(out, '\0', outlen) == NULL ||
		    !from_input(text, size, out, strlen(out)) ||
		    !name_in_input(text, size, "web"))
			abort();
	} else if (rw == 1) {
		if (out[0] != '\0')
			abort();
	} else if (rw != -1)
		abort();

	memset(procs, 'x', sizeof procs);
	rp = runtime_procfile_parse(text, size, procs, RUNTIME_MAXPROCS, &n);
	if (rp == 0) {
		if (n > RUNTIME_MAXPROCS)
			abort();
		for (i = 0; i < n; i++) {
			const struct runtime_proc *p = &procs[i];

			if (memchr(p->name, '\0', sizeof p->name) == NULL ||
			    memchr(p->command, '\0', sizeof p->command) ==
			        NULL ||
			    p->name[0] == '\0' ||
			    !name_in_input(text, size, p->name) ||
			    !from_input(
			        text, size, p->command, strlen(p->command)))
				abort();
			for (j = 0; p->name[j] != '\0'; j++)
				if (isupper((unsigned char)p->name[j]))
					abort();
			for (j = 0; j < i; j++)
				if (strcmp(procs[j].name, p->name) == 0)
					abort();
			if (strcmp(p->name, "web") == 0)
				has_web = 1;
		}
		if (rw == 0 && !has_web)
			abort();
	} else if (rp != -1)
		abort();

	free(out);
	free(text);
	return 0;
}
