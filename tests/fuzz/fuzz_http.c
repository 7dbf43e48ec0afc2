/*
 * tests/fuzz/fuzz_http.c: libFuzzer target for the router's HTTP parser
 * (router/http.c). The input is read as a request head, as a response head,
 * fed again in two pieces (the split must not change the outcome), and as
 * a chunked body (tracked, and decoded in place: both must agree); every
 * pointer the parser hands out must stay inside the
 * input.
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
	size_t used, cut;
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

	http_chunked_init(&c);
	if (http_chunked_feed(&c, buf, size, &used) != -1 && used > size)
		abort();

	/* decoding in place keeps the same framing and never grows */
	{
		struct http_chunked d;
		size_t dused, out;
		int rf, rd;

		http_chunked_init(&c);
		rf = http_chunked_feed(&c, buf, size, &used);
		memcpy(copy, data, size);
		http_chunked_init(&d);
		rd = http_chunked_decode(&d, copy, size, &dused, &out);
		if (rf != rd || (rf != -1 && (dused != used || out > dused)))
			abort();
	}

	free(copy);
	return 0;
}
