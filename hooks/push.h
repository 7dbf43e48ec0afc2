/*
 * hooks/push.h: what minpaas-hook does with a push: pick the deploy branch
 * out of the updated refs, then, under the app's deploy lock, detect the
 * runtime, build the image from the pushed tree and deploy the release.
 * On failure the deploy branch is put back to the last deployed commit so
 * that pushing the same commit again retries.
 */
#ifndef MINPAAS_PUSH_H
#define MINPAAS_PUSH_H

#include <signal.h>
#include <stdio.h>

#define PUSH_MAXREFS       1024      /* ref updates read from stdin */
#define PUSH_MAXREF        256       /* bytes in a ref name */
#define PUSH_MAXLINE       1024      /* bytes in one "<old> <new> <ref>" line */
#define PUSH_MAXFILE       (1 << 20) /* bytes of a file read for detection */
#define PUSH_BUILD_TIMEOUT (15 * 60) /* seconds; $MINPAAS_BUILD_TIMEOUT */
#define PUSH_KEEP_IMAGES   5  /* releases per app whose images are kept */
#define PUSH_MAXBUILDARGS  64 /* PIP_* / NPM_CONFIG_* config as build args */

struct push_update {
	char old[41];
	char new[41];
	char ref[PUSH_MAXREF];
};

struct push_ctx {
	const char *app;      /* $MINPAAS_APP */
	const char *key_fp;   /* $MINPAAS_KEY_FP; "" for a local push */
	const char *key_name; /* who pushed: $MINPAAS_KEY_NAME, or "admin" */
	FILE *out;            /* progress, relayed to the pusher */
	/* set by the SIGTERM handler: a running build is cancelled */
	const volatile sig_atomic_t *cancel;
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

/* `ssh minpaas deploy <app>`: builds and deploys the deploy branch's
 * current commit again. Returns 0 or -1 like push_run. */
int push_run_redeploy(const struct push_ctx *ctx);

/* `tar c . | ssh minpaas deploy:tar <app>`: the tarball on fd, detected,
 * built and deployed like a push (no commit). */
int push_run_tar(const struct push_ctx *ctx, int fd);

/* `ssh minpaas deploy:image <app> <image>`: an image already on the host,
 * deployed without a build (its own CMD, or a Procfile web command none). */
int push_run_image(const struct push_ctx *ctx, const char *image);

#endif
