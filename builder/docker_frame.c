/*
 * builder/docker_frame.c: decodes Docker's multiplexed stdout/stderr stream
 * (an 8-byte header [stream, 0, 0, 0, size big-endian u32] before each
 * payload). A state machine, so frames may be split across reads anywhere,
 * even inside the header. A stream that does not start with a valid header
 * (a container with a TTY) is passed through as stdout.
 */
#include <string.h>

#include "builder/docker_int.h"

void
docker_demux_init(struct docker_demux *m, docker_log_fn fn, void *arg)
{
	memset(m, 0, sizeof *m);
	m->fn = fn;
	m->arg = arg;
}

static int
demux_emit(struct docker_demux *m, int stream, const char *data, size_t len)
{
	if (len == 0 || m->stopped)
		return m->stopped;
	if (m->fn(m->arg, stream, data, len) != 0)
		m->stopped = 1;
	return m->stopped;
}

/* A header is [0|1|2, 0, 0, 0, size]; anything else means a raw stream. */
static int
demux_header_valid(const unsigned char *h, size_t n)
{
	if (n >= 1 && h[0] > 2)
		return 0;
	if (n >= 2 && h[1] != 0)
		return 0;
	if (n >= 3 && h[2] != 0)
		return 0;
	if (n >= 4 && h[3] != 0)
		return 0;
	return 1;
}

int
docker_demux_feed(struct docker_demux *m, const char *data, size_t len)
{
	size_t n;

	while (len > 0 && !m->stopped) {
		if (m->raw)
			return demux_emit(m, 1, data, len);
		if (m->left > 0) {
			n = len < m->left ? len : m->left;
			demux_emit(m, m->stream, data, n);
			m->left -= (uint32_t)n;
			data += n;
			len -= n;
			continue;
		}
		m->hdr[m->hdrlen++] = (unsigned char)*data++;
		len--;
		if (!demux_header_valid(m->hdr, m->hdrlen)) {
			/* Hand over what was taken for a header as data. */
			m->raw = 1;
			n = m->hdrlen;
			m->hdrlen = 0;
			if (demux_emit(m, 1, (const char *)m->hdr, n))
				break;
			continue;
		}
		if (m->hdrlen < sizeof m->hdr)
			continue;
		m->stream = m->hdr[0] == 2 ? 2 : 1;
		m->left = (uint32_t)m->hdr[4] << 24 |
		          (uint32_t)m->hdr[5] << 16 | (uint32_t)m->hdr[6] << 8 |
		          (uint32_t)m->hdr[7];
		m->hdrlen = 0;
	}
	return m->stopped;
}
