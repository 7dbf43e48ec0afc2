/*
 * tests/fuzz/fuzz_dockerfile.c: libFuzzer target for the Dockerfile image
 * reader (builder/dockerfile.c). The input is a Dockerfile. Beyond "no
 * crash": every image handed out is non-empty, fits DOCKERFILE_MAXIMAGE,
 * holds no '$' and no whitespace, and reading the same text again hands out
 * the same images.
 *
 * fuzz-sources: builder/dockerfile.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_seen {
	char all[8192];
	size_t len;
};

static int
fuzz_image(void *arg, const char *image)
{
	struct fuzz_seen *s = arg;
	size_t n = strlen(image);

	if (n == 0 || n >= DOCKERFILE_MAXIMAGE || strchr(image, '$') ||
	    strpbrk(image, " \t\r\n"))
		abort();
	if (s->len + n + 1 < sizeof s->all) {
		memcpy(s->all + s->len, image, n);
		s->len += n;
		s->all[s->len++] = '\n';
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_seen a, b;
	int ra, rb;

	a.len = b.len = 0;
	ra = dockerfile_images((const char *)data, size, fuzz_image, &a);
	rb = dockerfile_images((const char *)data, size, fuzz_image, &b);
	if (ra != rb || a.len != b.len || memcmp(a.all, b.all, a.len) != 0)
		abort();
	return 0;
}
