/*
 * builder/deploy.h: the deploy pipeline, one library call per source: a
 * push (minpaas-hook), the deploy branch again (`deploy`), a tarball
 * (`deploy:tar`), an image on the host (`deploy:image`); the entry points
 * call it in their own process. Under the app's deploy lock it detects the
 * runtime, builds the image (builder/sched.h), records release vN and
 * takes it live (builder/release.h). On failure the previous release keeps
 * serving, and for a push the deploy branch is put back to the last
 * deployed commit so that pushing the same commit again retries.
 */
#ifndef MINPAAS_DEPLOY_H
#define MINPAAS_DEPLOY_H

#include <signal.h>
#include <stdio.h>

#define DEPLOY_MAXREFS       1024 /* ref updates read from stdin */
#define DEPLOY_MAXREF        256  /* bytes in a ref name */
#define DEPLOY_MAXLINE       1024 /* bytes in one "<old> <new> <ref>" line */
#define DEPLOY_MAXFILE       (1 << 20) /* bytes of a file read for detection */
#define DEPLOY_BUILD_TIMEOUT (15 * 60) /* seconds; $MINPAAS_BUILD_TIMEOUT */
#define DEPLOY_KEEP_IMAGES   5  /* releases per app whose images are kept */
#define DEPLOY_MAXBUILDARGS  64 /* PIP_* / NPM_CONFIG_* config as build args */

struct deploy_update {
	char old[41];
	char new[41];
	char ref[DEPLOY_MAXREF];
};

struct deploy_ctx {
	const char *app;      /* the app deployed */
	const char *key_fp;   /* who deploys; "" for a local admin */
	const char *key_name; /* their key's name, or "admin" */
	FILE *out;            /* progress, relayed to them */
	/* set by the SIGTERM handler: a running build is cancelled */
	const volatile sig_atomic_t *cancel;
};

/* Parses one stdin line "<old> <new> <ref>" (newline stripped). Returns 0,
 * or -1 with err_set() when it is malformed. */
int deploy_parse_update(const char *line, struct deploy_update *out);

/*
 * Handles the updates of one push. Returns 0 when the deploy branch went
 * live or nothing had to be deployed, -1 when the push is rejected; in both
 * cases everything the pusher needs to know has been printed to ctx->out.
 */
int deploy_push(
    const struct deploy_ctx *ctx, const struct deploy_update *u, size_t n);

/* `ssh minpaas deploy <app>`: builds and deploys the deploy branch's
 * current commit again. Returns 0 or -1 like deploy_push. */
int deploy_redeploy(const struct deploy_ctx *ctx);

/* `tar c . | ssh minpaas deploy:tar <app>`: the tarball on fd, detected,
 * built and deployed like a push (no commit). */
int deploy_tar(const struct deploy_ctx *ctx, int fd);

/* `ssh minpaas deploy:image <app> <image>`: an image already on the host,
 * deployed without a build (its own CMD, or a Procfile web command none). */
int deploy_image(const struct deploy_ctx *ctx, const char *image);

#endif
