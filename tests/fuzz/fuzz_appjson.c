/*
 * tests/fuzz/fuzz_appjson.c: libFuzzer target for the app.json health-check
 * reader (release_healthcheck_parse, builder/appjson.c). The input is the
 * app.json text; it is read into a buffer the size of a release's stored
 * check and into one of a size picked by the input. Beyond "no crash": the
 * result is NUL-terminated inside the buffer, "" or a check that passes
 * release_healthcheck_valid (a "/" path, or "exec:" and a JSON array of
 * strings whose argv release_exec_argv hands back), and both sizes agree
 * when both accept.
 *
 * fuzz-sources: builder/appjson.c common/err.c
 * fuzz-libs: -ljansson
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builder/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses into an exact-size buffer of outlen bytes; checks the result. */
static int
parse(const char *text, size_t size, size_t outlen, char *copy)
{
	char *out;
	const char **argv;
	json_t *owner;
	int rc;

	if ((out = malloc(outlen)) == NULL)
		return -2;
	memset(out, 'x', outlen);
	rc = release_healthcheck_parse(text, size, out, outlen);
	if (rc != 0 && rc != -1)
		abort();
	if (memchr(out, '\0', outlen) == NULL)
		abort();
	if (rc == 0 && out[0] != '\0') {
		if (!release_healthcheck_valid(out) ||
		    strlen(out) >= RELEASE_MAXHEALTHPATH)
			abort();
		if (strncmp(out, RELEASE_EXEC_PREFIX,
		        strlen(RELEASE_EXEC_PREFIX)) == 0) {
			if ((argv = release_exec_argv(out, &owner)) == NULL ||
			    argv[0] == NULL)
				abort();
			free(argv);
			json_decref(owner);
		} else if (out[0] != '/')
			abort();
	}
	memcpy(copy, out, strlen(out) + 1);
	free(out);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, big[RELEASE_MAXHEALTHPATH], small[RELEASE_MAXHEALTHPATH];
	size_t outlen = size ? 1 + data[size - 1] % RELEASE_MAXHEALTHPATH : 1;
	int r1, r2;

	/* an exact-size copy so ASan sees any read past the end */
	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	r1 = parse(text, size, RELEASE_MAXHEALTHPATH, big);
	r2 = parse(text, size, outlen, small);
	if (r1 == 0 && r2 == 0 && strcmp(big, small) != 0)
		abort();
	if (r1 == -1 && r2 == 0 && small[0] != '\0')
		abort();
	free(text);
	return 0;
}
