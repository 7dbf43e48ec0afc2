/*
 * tests/fuzz/fuzz_http.c: libFuzzer target for the router's HTTP parser
 * (router/http.c). The input is read as a request head, as a response head,
 * fed again in two pieces (the split must not change the outcome), and as
 * a chunked body, whole and in two pieces (the same outcome, end and
 * data); every pointer the parser hands out must stay inside the input.
 *
 * fuzz-sources: router/http.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/router.h"

static void
check_inside(const struct http_head *h, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->field[i];
		if (f->name < buf || f->name + f->namelen > buf + len ||
		    f->value < buf || f->value + f->valuelen > buf + len)
			abort();
	}
	if (h->headlen > len || h->hostlen >= sizeof h->host)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_head h, h2;
	struct http_chunked c;
	const char *buf;
	char *copy;
	size_t cut;
	int rv, rv2;

	/* an exact-size copy so ASan sees any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	buf = copy;

	http_head_init(&h);
	rv = http_parse_request(&h, buf, size);
	if (rv == HTTP_DONE)
		check_inside(&h, buf, size);

	cut = size ? data[0] % (size + 1) : 0;
	http_head_init(&h2);
	rv2 = http_parse_request(&h2, buf, cut);
	if (rv2 == HTTP_MORE) {
		size_t scan = h2.scan;
		http_head_init(&h2);
		h2.scan = scan;
		rv2 = http_parse_request(&h2, buf, size);
		if (rv2 != rv || (rv == HTTP_DONE && h2.headlen != h.headlen))
			abort();
	}

	http_head_init(&h);
	if (http_parse_response(&h, buf, size, size & 1) == HTTP_DONE)
		check_inside(&h, buf, size);

	/* chunked: whole, and cut in two at `cut`, the same data and end */
	{
		struct http_chunked d;
		size_t pos, n, off, dl, data1 = 0, data2 = 0, end1 = 0;
		int r1 = HTTP_MORE, r2 = HTTP_MORE;

		http_chunked_init(&c);
		for (pos = 0; pos < size && r1 == HTTP_MORE; pos += n) {
			r1 = http_chunked_next(
			    &c, buf + pos, size - pos, &n, &off, &dl);
			if (r1 == -1)
				break;
			if (n > size - pos || off + dl > n)
				abort();
			data1 += dl;
		}
		end1 = pos;
		http_chunked_init(&d);
		for (pos = 0; pos < size && r2 == HTTP_MORE; pos += n) {
			size_t lim = pos < cut ? cut : size;
			r2 = http_chunked_next(
			    &d, buf + pos, lim - pos, &n, &off, &dl);
			if (r2 == -1)
				break;
			data2 += dl;
		}
		if (r1 != r2 || (r1 != -1 && (end1 != pos || data1 != data2)))
			abort();
	}

	free(copy);
	return 0;
}
