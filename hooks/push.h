/*
 * hooks/push.h: what minpaas-hook does with a push: pick the deploy branch
 * out of the updated refs, then, under the app's deploy lock, detect the
 * runtime, build the image from the pushed tree and deploy the release.
 * On failure the deploy branch is put back to the last deployed commit so
 * that pushing the same commit again retries.
 */
#ifndef MINPAAS_PUSH_H
#define MINPAAS_PUSH_H

#include <stdio.h>

#define PUSH_MAXREFS 1024      /* ref updates read from stdin */
#define PUSH_MAXREF  256       /* bytes in a ref name */
#define PUSH_MAXLINE 1024      /* bytes in one "<old> <new> <ref>" line */
#define PUSH_MAXFILE (1 << 20) /* bytes of a file read for detection */

struct push_update {
	char old[41];
	char new[41];
	char ref[PUSH_MAXREF];
};

struct push_ctx {
	const char *app;      /* $MINPAAS_APP */
	const char *key_name; /* who pushed: $MINPAAS_KEY_NAME, or "admin" */
	FILE *out;            /* progress, relayed to the pusher */
};

/* Parses one stdin line "<old> <new> <ref>" (newline stripped). Returns 0,
 * or -1 with err_set() when it is malformed. */
int push_parse_update(const char *line, struct push_update *out);

/*
 * Handles the updates of one push. Returns 0 when the deploy branch went
 * live or nothing had to be deployed, -1 when the push is rejected; in both
 * cases everything the pusher needs to know has been printed to ctx->out.
 */
int push_run(const struct push_ctx *ctx, const struct push_update *u, size_t n);

#endif
