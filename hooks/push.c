/*
 * hooks/push.c: the deploy steps of a push (DESIGN.md "The push, step by
 * step", 3-6), in Heroku's output shape: "-----> " steps, 7-space details,
 * " !     " errors, each line flushed as it is written.
 *
 * Guarantees: only the deploy branch deploys; deploys of one app are
 * serialized by its lock; a failed push leaves the previous release serving
 * and the deploy branch pointing at the commit that serves (when nobody
 * pushed to it in the meantime), so the same commit can be pushed again.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "builder/docker.h"
#include "builder/release.h"
#include "common/err.h"
#include "common/home.h"
#include "hooks/gittar.h"
#include "hooks/push.h"
#include "runtimes/runtime.h"
#include "state/state.h"

#define ZERO_OID "0000000000000000000000000000000000000000"

struct push {
	const struct push_ctx *ctx;
	struct state *st;
	git_repository *repo;
	struct state_app app;
	const char *branch;          /* short name of the deploy branch */
	const struct push_update *u; /* its update */
	struct state_release rel;    /* rel.number == 0 until recorded */
	char reason[ERR_MAXLEN];     /* why the push is rejected */
};

static void __attribute__((format(printf, 3, 4)))
say(FILE *out, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	fputs(prefix, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

#define STEP(p, ...)   say((p)->ctx->out, "-----> ", __VA_ARGS__)
#define DETAIL(p, ...) say((p)->ctx->out, "       ", __VA_ARGS__)
#define FAIL(p, ...)   say((p)->ctx->out, " !     ", __VA_ARGS__)

static int
is_hex40(const char *s, size_t n)
{
	size_t i;

	if (n != 40)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
push_parse_update(const char *line, struct push_update *out)
{
	const char *a = line, *b, *c;

	memset(out, 0, sizeof *out);
	if ((b = strchr(a, ' ')) == NULL || (c = strchr(b + 1, ' ')) == NULL ||
	    !is_hex40(a, b - a) || !is_hex40(b + 1, c - b - 1) ||
	    c[1] == '\0' || strchr(c + 1, ' ') != NULL)
		return err_set("malformed ref update: %.80s", line);
	if (strlen(c + 1) >= sizeof out->ref)
		return err_set("ref name too long: %.80s...", c + 1);
	memcpy(out->old, a, 40);
	memcpy(out->new, b + 1, 40);
	strcpy(out->ref, c + 1);
	return 0;
}

static const char *
short_ref(const char *ref)
{
	return strncmp(ref, "refs/heads/", 11) == 0 ? ref + 11 : ref;
}

static const struct push_update *
find_branch(const struct push_update *u, size_t n, const char *branch)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(u[i].ref, "refs/heads/", 11) == 0 &&
		    strcmp(u[i].ref + 11, branch) == 0)
			return &u[i];
	return NULL;
}

/* 1 when refs/heads/<branch> exists in the repository. */
static int
has_branch(git_repository *repo, const char *branch)
{
	git_reference *ref;
	char name[PUSH_MAXREF + 16];

	snprintf(name, sizeof name, "refs/heads/%s", branch);
	if (git_reference_lookup(&ref, repo, name) != 0)
		return 0;
	git_reference_free(ref);
	return 1;
}

/* --- the tree, as runtime detection sees it ----------------------------- */

static int
tree_exists(void *arg, const char *path)
{
	git_tree_entry *e;
	git_filemode_t mode;

	if (git_tree_entry_bypath(&e, arg, path) != 0)
		return 0;
	mode = git_tree_entry_filemode(e);
	git_tree_entry_free(e);
	return mode == GIT_FILEMODE_BLOB ||
	       mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static int
tree_read(void *arg, const char *path, char **out, size_t *len)
{
	git_tree_entry *e;
	git_blob *blob = NULL;
	git_repository *repo = git_tree_owner(arg);
	size_t n;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (git_tree_entry_bypath(&e, arg, path) != 0)
		return 1;
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE) {
		rc = 1;
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) != 0) {
		err_set("cannot read %s: %s", path, git_error_last()->message);
		goto out;
	}
	n = (size_t)git_blob_rawsize(blob);
	if (n > PUSH_MAXFILE) {
		err_set("%s is larger than %d bytes", path, PUSH_MAXFILE);
		goto out;
	}
	if ((*out = malloc(n + 1)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	memcpy(*out, git_blob_rawcontent(blob), n);
	(*out)[n] = '\0';
	*len = n;
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	return rc;
}

/* --- build and deploy --------------------------------------------------- */

static void
relay_line(void *arg, const char *line)
{
	struct push *p = arg;

	if (*line != '\0')
		DETAIL(p, "%s", line);
}

/* Records the failure on the release when release_deploy did not. */
static void
release_failed(struct push *p)
{
	if (p->rel.number == 0 || strcmp(p->rel.status, "failed") == 0)
		return;
	snprintf(p->rel.status, sizeof p->rel.status, "failed");
	p->rel.finished = (int64_t)time(NULL);
	if (state_release_put(p->st, &p->rel) == -1)
		FAIL(p, "cannot record v%u as failed: %s", p->rel.number,
		    err_msg());
}

static int
build(struct push *p, git_commit *commit, const struct runtime_result *rr,
    char *image, size_t imagelen)
{
	struct gittar_file df = {"Dockerfile", rr->dockerfile,
	    rr->dockerfile ? strlen(rr->dockerfile) : 0};
	struct docker *d = NULL;
	struct gittar *tar = NULL;
	char tag[64];
	int rc = -1;

	snprintf(tag, sizeof tag, "minpaas/%s:v%u", p->ctx->app, p->rel.number);
	if (gittar_new(&tar, p->repo, commit, &df, rr->dockerfile ? 1 : 0) ==
	    -1) {
		FAIL(p, "Build failed: %s", err_msg());
		goto out;
	}
	DETAIL(p, "build context: %.1f KiB", (double)gittar_size(tar) / 1024.0);
	if (docker_open(&d, NULL) == -1) {
		FAIL(p, "Build failed: %s", err_msg());
		goto out;
	}
	if (docker_build(d, tag, gittar_read, tar, relay_line, p, image,
	        imagelen) == -1) {
		FAIL(p, "Build failed: %s",
		    gittar_error(tar) ? gittar_error(tar) : err_msg());
		goto out;
	}
	rc = 0;
out:
	gittar_free(tar);
	docker_close(d);
	return rc;
}

static int
deploy(struct push *p)
{
	struct runtime_tree rt = {tree_exists, tree_read, NULL};
	struct runtime_result rr;
	struct docker *d = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	char image[sizeof((struct state_release *)0)->image];
	int rc = -1;

	memset(&rr, 0, sizeof rr);
	if (git_oid_fromstr(&oid, p->u->new) != 0 ||
	    git_commit_lookup(&commit, p->repo, &oid) != 0 ||
	    git_commit_tree(&tree, commit) != 0) {
		FAIL(p, "cannot read commit %.7s: %s", p->u->new,
		    git_error_last() ? git_error_last()->message : "?");
		snprintf(p->reason, sizeof p->reason, "cannot read the commit");
		goto out;
	}
	rt.arg = tree;
	if (runtime_detect(&rt, &rr) == -1) {
		FAIL(p, "%s", err_msg());
		snprintf(p->reason, sizeof p->reason, "no runnable app found");
		goto out;
	}
	STEP(p, "Detected %s", rr.name);
	if (rr.command[0] != '\0')
		DETAIL(p, "Procfile web: %s", rr.command);
	snprintf(p->app.runtime, sizeof p->app.runtime, "%s", rr.name);
	if (state_app_put(p->st, &p->app) == -1)
		goto fail_state;

	snprintf(p->rel.app, sizeof p->rel.app, "%s", p->ctx->app);
	snprintf(p->rel.commit, sizeof p->rel.commit, "%s", p->u->new);
	snprintf(p->rel.status, sizeof p->rel.status, "building");
	snprintf(p->rel.cause, sizeof p->rel.cause, "push");
	snprintf(p->rel.by, sizeof p->rel.by, "%s", p->ctx->key_name);
	snprintf(p->rel.command, sizeof p->rel.command, "%s", rr.command);
	p->rel.created = (int64_t)time(NULL);
	if (state_release_new(p->st, &p->rel) == -1) {
		p->rel.number = 0;
		goto fail_state;
	}
	STEP(
	    p, "Building %s v%u (%.7s)", p->ctx->app, p->rel.number, p->u->new);
	if (build(p, commit, &rr, image, sizeof image) == -1) {
		snprintf(p->reason, sizeof p->reason, "build failed");
		goto out;
	}

	snprintf(p->rel.image, sizeof p->rel.image, "%s", image);
	snprintf(p->rel.status, sizeof p->rel.status, "deploying");
	if (state_release_put(p->st, &p->rel) == -1)
		goto fail_state;
	if (docker_open(&d, NULL) == -1) {
		FAIL(p, "%s", err_msg());
		snprintf(p->reason, sizeof p->reason, "Docker is unreachable");
		goto out;
	}
	if (release_deploy(p->st, d, &p->rel, p->ctx->out) == -1) {
		fflush(p->ctx->out);
		snprintf(p->reason, sizeof p->reason, "v%u did not start",
		    p->rel.number);
		goto out;
	}
	fflush(p->ctx->out);
	rc = 0;
	goto out;
fail_state:
	FAIL(p, "%s", err_msg());
	snprintf(p->reason, sizeof p->reason, "minpaas could not record it");
out:
	docker_close(d);
	runtime_result_release(&rr);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

/*
 * Puts the deploy branch back to the commit that serves (or deletes it when
 * nothing ever went live), unless another push moved it meanwhile.
 */
static void
restore_branch(struct push *p)
{
	struct state_app now;
	git_reference *ref = NULL, *out = NULL;
	git_oid pushed, serving;
	const char *commit = p->app.commit;

	if (state_app_get(p->st, p->ctx->app, &now) == 0)
		commit = now.commit;
	if (git_oid_fromstr(&pushed, p->u->new) != 0 ||
	    git_reference_lookup(&ref, p->repo, p->u->ref) != 0)
		return;
	if (git_reference_target(ref) == NULL ||
	    !git_oid_equal(git_reference_target(ref), &pushed))
		goto out; /* someone pushed since: leave it to that push */
	if (commit[0] != '\0' && git_oid_fromstr(&serving, commit) == 0 &&
	    git_reference_create_matching(&out, p->repo, p->u->ref, &serving, 1,
	        &pushed, "minpaas: push rejected") == 0)
		goto out;
	if (git_reference_delete(ref) != 0)
		FAIL(p, "cannot put %s back: %s", p->branch,
		    git_error_last() ? git_error_last()->message : "?");
out:
	git_reference_free(out);
	git_reference_free(ref);
}

static void
lock_waiting(void *arg)
{
	struct push *p = arg;

	STEP(p, "Another deploy of %s is running; waiting for it to finish",
	    p->ctx->app);
}

static int
open_state(struct push *p)
{
	int rc;

	if (state_open(&p->st, home_dir()) == -1)
		return -1;
	rc = state_app_get(p->st, p->ctx->app, &p->app);
	if (rc != STATE_NOTFOUND)
		return rc;
	/* A push that did not come through minpaas-sshd (a local push). */
	memset(&p->app, 0, sizeof p->app);
	snprintf(p->app.name, sizeof p->app.name, "%s", p->ctx->app);
	snprintf(p->app.branch, sizeof p->app.branch, "main");
	p->app.created = (int64_t)time(NULL);
	rc = state_app_create(p->st, &p->app);
	if (rc == STATE_EXISTS)
		rc = state_app_get(p->st, p->ctx->app, &p->app);
	return rc == 0 ? 0 : -1;
}

static int
open_repo(struct push *p)
{
	if (git_repository_open_ext(
	        &p->repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) == 0 ||
	    git_repository_open(&p->repo, ".") == 0)
		return 0;
	return err_set("cannot open the repository: %s",
	    git_error_last() ? git_error_last()->message : "?");
}

/* Picks the deploy branch's update and notes the other refs. */
static void
pick_branch(struct push *p, const struct push_update *u, size_t n)
{
	size_t i;

	p->branch = p->app.branch[0] != '\0' ? p->app.branch : "main";
	p->u = find_branch(u, n, p->branch);
	if (p->u == NULL && strcmp(p->branch, "main") == 0 &&
	    (p->u = find_branch(u, n, "master")) != NULL) {
		if (has_branch(p->repo, "main"))
			p->u = NULL;
		else
			p->branch = "master";
	}
	for (i = 0; i < n; i++)
		if (&u[i] != p->u)
			STEP(p, "Branch '%s' pushed; only '%s' deploys",
			    short_ref(u[i].ref), p->branch);
}

int
push_run(const struct push_ctx *ctx, const struct push_update *u, size_t n)
{
	struct push p;
	int lock = -1, rc = -1;

	memset(&p, 0, sizeof p);
	p.ctx = ctx;
	if (open_repo(&p) == -1 || home_prepare() == -1 ||
	    open_state(&p) == -1) {
		FAIL(&p, "%s", err_msg());
		goto out;
	}
	pick_branch(&p, u, n);
	if (p.u == NULL) {
		rc = 0;
		goto out;
	}
	if (strcmp(p.u->new, ZERO_OID) == 0) {
		STEP(&p, "Branch '%s' deleted; %s keeps serving %s", p.branch,
		    ctx->app,
		    p.app.release ? "its current release" : "nothing");
		rc = 0;
		goto out;
	}
	if ((lock = home_lock_app(ctx->app, lock_waiting, &p)) == -1 ||
	    state_app_get(p.st, ctx->app, &p.app) == -1) {
		/* (the app is read again: it may have changed while another
		 * deploy held the lock) */
		FAIL(&p, "%s", err_msg());
		snprintf(p.reason, sizeof p.reason,
		    "minpaas could not start "
		    "the deploy");
	} else if (deploy(&p) == 0) {
		rc = 0;
		goto out;
	}
	release_failed(&p);
	restore_branch(&p);
	FAIL(&p, "Push rejected: %s; %s", p.reason[0] ? p.reason : "error",
	    p.app.release ? "the previous release keeps serving"
	                  : "nothing was deployed");
out:
	if (lock != -1)
		close(lock);
	git_repository_free(p.repo);
	state_close(p.st);
	return rc;
}
