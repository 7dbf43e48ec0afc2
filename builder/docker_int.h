/*
 * builder/docker_int.h: the Docker client's internals, shared by its files
 * and by the unit tests: the log frame demuxer, the build-output (JSON lines)
 * parser and the container-create body. None of them does any I/O, so each
 * can be fed bytes in any chunking and checked without a daemon.
 */
#ifndef MINPAAS_DOCKER_INT_H
#define MINPAAS_DOCKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "builder/docker.h"
#include "common/buf.h"
#include "common/err.h"

#define DOCKER_MAXRESPONSE     (4UL << 20) /* non-streaming response body cap */
#define DOCKER_TIMEOUT         120  /* seconds, calls that do not stream */
#define DOCKER_CONNECT_TIMEOUT 10   /* seconds */
#define DOCKER_MAXPATH         2048 /* request path with its query */

/* --- docker_frame.c: 8-byte multiplexed stream headers (logs, attach) ---- */
struct docker_demux {
	unsigned char hdr[8];
	size_t hdrlen; /* header bytes collected so far */
	uint32_t left; /* payload bytes left in the current frame */
	int stream;    /* 1 stdout, 2 stderr */
	int raw;       /* not multiplexed (a TTY container): pass through */
	int stopped;   /* the callback asked to stop */
	docker_log_fn fn;
	void *arg;
};

/* Starts m: decoded payload goes to fn(arg, ...). */
void docker_demux_init(struct docker_demux *m, docker_log_fn fn, void *arg);
/* Decodes len more bytes, calling fn for each run of payload bytes (a frame
 * may arrive in several calls). Returns 0, or 1 once fn returned non-zero;
 * nothing more is delivered after that. */
int docker_demux_feed(struct docker_demux *m, const char *data, size_t len);

/* --- docker_progress.c: POST /build output, one JSON object per line ----- */
struct docker_progress {
	struct buf line;   /* an object not yet ended by \n */
	struct buf text;   /* "stream" text not yet ended by \n */
	int skipping;      /* dropping the rest of an over-long line */
	int text_skipping; /* dropping the rest of an over-long text line */
	int failed;        /* an error / errorDetail object was seen */
	char error[ERR_MAXLEN];
	char
	    image_id[80]; /* "sha256:..." from aux.ID or "Successfully built" */
	docker_line_fn fn;
	void *arg;
};

/* Starts p: each line of output goes to fn(arg, line). */
void docker_progress_init(
    struct docker_progress *p, docker_line_fn fn, void *arg);
/* Consumes len bytes of the response; complete lines go to fn. Returns 0, or
 * -1 with err_set() when memory runs out. */
int docker_progress_feed(
    struct docker_progress *p, const char *data, size_t len);
/* Ends the stream: a last object without newline and pending text are
 * delivered. Returns 0 or -1 like feed. */
int docker_progress_finish(struct docker_progress *p);
/* Frees what p holds; p may be started again after. */
void docker_progress_release(struct docker_progress *p);

/* --- docker.c ------------------------------------------------------------ */
/* The POST /containers/create body for spec (a new reference), or NULL with
 * err_set(). */
json_t *docker_spec_json(const struct docker_spec *spec);
/* 1 when name is a valid container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at
 * most 128 bytes), else 0. */
int docker_name_valid(const char *name);

#endif
