/*
 * tests/fuzz/fuzz_ignore.c: libFuzzer target for the .dockerignore matcher
 * (builder/ignore.c). The input is .dockerignore text, a NUL byte, then the
 * paths to match, one a line (no NUL: the whole input is the patterns, and
 * its lines are the paths too). Beyond "no crash": matching ends quickly
 * (run with -timeout), a pattern list that parses gives the same answers
 * when parsed again and asked again, and an empty list matches nothing.
 *
 * fuzz-sources: builder/ignore.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/ignore.h"

#define FUZZ_MAXPATHS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const struct ignore *a, const struct ignore *b, const char *path)
{
	int m = ignore_match(a, path);

	if ((m != 0 && m != 1) || ignore_match(b, path) != m ||
	    ignore_match(a, path) != m)
		abort();
	if (ignore_count(a) == 0 && m != 0)
		abort();
	if (ignore_skip_dir(a, path) != ignore_skip_dir(b, path))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ignore *a = NULL, *b = NULL;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size, n = 0;
	char *text, *paths, *p, *nl;
	int ra, rb;

	/* exact-size copies so ASan sees any read past the end */
	if ((text = malloc(plen ? plen : 1)) == NULL)
		return 0;
	memcpy(text, data, plen);
	if ((paths = malloc(size + 1)) == NULL) {
		free(text);
		return 0;
	}
	if (nul) {
		memcpy(paths, nul + 1, size - plen - 1);
		paths[size - plen - 1] = '\0';
	} else {
		memcpy(paths, data, size);
		paths[size] = '\0';
	}

	ra = ignore_new(&a, text, plen);
	rb = ignore_new(&b, text, plen);
	if (ra != rb || (ra == 0) != (a != NULL) || (rb == 0) != (b != NULL))
		abort();
	if (ra == 0 && ignore_count(a) != ignore_count(b))
		abort();
	if (ra == 0) {
		for (p = paths; n < FUZZ_MAXPATHS; p = nl + 1, n++) {
			if ((nl = strchr(p, '\n')) != NULL)
				*nl = '\0';
			check_path(a, b, p);
			if (nl == NULL)
				break;
		}
	}
	ignore_free(a);
	ignore_free(b);
	free(paths);
	free(text);
	return 0;
}
