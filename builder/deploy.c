/*
 * builder/deploy.c: the deploy steps of a push (DESIGN.md "The push, step by
 * step", 3-6), in Heroku's output shape: "-----> " steps, 7-space details,
 * " !     " errors, each line flushed as it is written.
 *
 * Guarantees: only the deploy branch deploys; deploys of one app are
 * serialized by its lock; a failed push leaves the previous release serving
 * and the deploy branch pointing at the commit that serves (when nobody
 * pushed to it in the meantime), so the same commit can be pushed again; a
 * deploy that waited for the lock while apps:destroy held it deploys
 * nothing and brings no part of the app back.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "apps/apps.h"
#include "builder/procs.h"
#include "builder/release.h"
#include "common/err.h"
#include "common/home.h"
#include "builder/buildout.h"
#include "builder/dockerfile.h"
#include "builder/gittar.h"
#include "builder/deploy.h"
#include "builder/tarsrc.h"
#include "runtimes/runtime.h"
#include "state/buildlog.h"
#include "state/state.h"

#define ZERO_OID "0000000000000000000000000000000000000000"

struct job {
	const struct deploy_ctx *ctx;
	struct state *st;
	git_repository *repo;
	struct state_app app;
	const char *branch;            /* short name of the deploy branch */
	const struct deploy_update *u; /* its update */
	struct state_release rel;      /* rel.number == 0 until recorded */
	char reason[ERR_MAXLEN];       /* why the push is rejected */
	struct buildout bo; /* what the pusher saw, kept as the log */
};

/* Prints one line and keeps it in the release's build log. */
static void __attribute__((format(printf, 3, 4)))
say(struct buildout *bo, const char *prefix, const char *fmt, ...)
{
	char line[ERR_MAXLEN + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buildout_say(bo, prefix, line);
}

/* STEP(p, ...) and the others print through say(), into the build log. */
#define PROGRESS_SAY(p, prefix, ...) say(&(p)->bo, prefix, __VA_ARGS__)
#include "common/progress.h"

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
deploy_parse_update(const char *line, struct deploy_update *out)
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

static const struct deploy_update *
find_branch(const struct deploy_update *u, size_t n, const char *branch)
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
	char name[DEPLOY_MAXREF + 16];

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
	if (n > DEPLOY_MAXFILE) {
		err_set("%s is larger than %d bytes", path, DEPLOY_MAXFILE);
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

/* Where a release comes from: a commit, a tarball or a ready image. */
struct source {
	const char *cause; /* "push", "deploy", "tar", "image" */
	char commit[41];   /* "" for tarballs and images */
	git_commit *gcommit;
	git_tree *gtree;
	struct tarsrc *tar;
	const char *image; /* deploy:image: no build */
};

/* Records the failure on the release when release_deploy did not. */
static void
release_failed(struct job *p)
{
	if (p->rel.number == 0 || strcmp(p->rel.status, STATE_REL_FAILED) == 0)
		return;
	p->rel.finished = (int64_t)time(NULL);
	if (state_release_move(p->st, &p->rel, STATE_REL_FAILED) != 0)
		FAIL(p, "cannot record v%u as failed: %s", p->rel.number,
		    err_msg());
}

/* $MINPAAS_BUILD_TIMEOUT seconds, or DEPLOY_BUILD_TIMEOUT. */
static long
build_timeout(void)
{
	const char *s = getenv("MINPAAS_BUILD_TIMEOUT");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return DEPLOY_BUILD_TIMEOUT;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : DEPLOY_BUILD_TIMEOUT;
}

/* The app's config entries that the platform Dockerfiles take as build
 * args (package indexes); NULL-terminated, pointing into env. */
static void
build_args(const struct state_env *env, const char **args, size_t max)
{
	static const char *const prefixes[] = {"PIP_", "NPM_CONFIG_", NULL};
	size_t i, j, n = 0;

	for (i = 0; i < env->n && n + 1 < max; i++)
		for (j = 0; prefixes[j] != NULL; j++)
			if (strncmp(env->vars[i], prefixes[j],
			        strlen(prefixes[j])) == 0) {
				args[n++] = env->vars[i];
				break;
			}
	args[n] = NULL;
}

static int
build(struct job *p, struct sched *s, struct source *src,
    const struct runtime_result *rr, char *image, size_t imagelen)
{
	struct gittar_file df = {"Dockerfile", rr->dockerfile,
	    rr->dockerfile ? strlen(rr->dockerfile) : 0};
	struct sched_build_opts opts;
	struct state_env env = {0, NULL};
	const char *args[DEPLOY_MAXBUILDARGS];
	struct gittar *tar = NULL;
	sched_read_fn read;
	void *rarg;
	const char *ctxerr;
	int rc = -1;

	args[0] = NULL;
	if (rr->dockerfile != NULL &&
	    state_env_get(p->st, p->ctx->app, &env) == 0)
		build_args(&env, args, DEPLOY_MAXBUILDARGS);
	if (src->tar != NULL) {
		if (tarsrc_stream(src->tar, &df, rr->dockerfile ? 1 : 0) ==
		    -1) {
			FAIL(p, "Build failed: %s", err_msg());
			goto out;
		}
		read = tarsrc_read;
		rarg = src->tar;
		DETAIL(p, "build context: %.1f KiB (tarball)",
		    (double)tarsrc_size(src->tar) / 1024.0);
	} else {
		if (gittar_new(&tar, p->repo, src->gcommit, &df,
		        rr->dockerfile ? 1 : 0) == -1) {
			FAIL(p, "Build failed: %s", err_msg());
			goto out;
		}
		read = gittar_read;
		rarg = tar;
		DETAIL(p, "build context: %.1f KiB",
		    (double)gittar_size(tar) / 1024.0);
	}
	memset(&opts, 0, sizeof opts);
	opts.buildargs = args;
	opts.timeout = build_timeout();
	opts.cancel = p->ctx->cancel;
	rc = sched_build(s, p->ctx->app, p->rel.number, &opts, read, rarg,
	    buildout_line, &p->bo, image, imagelen);
	buildout_flush(&p->bo);
	if (rc != 0) {
		ctxerr = src->tar ? tarsrc_error(src->tar) : gittar_error(tar);
		if (rc == SCHED_CANCELLED)
			FAIL(p, "Build cancelled: the push was interrupted");
		else if (rc == SCHED_TIMEOUT)
			FAIL(p,
			    "Build failed: it took longer than %ld seconds "
			    "(MINPAAS_BUILD_TIMEOUT)",
			    opts.timeout);
		else
			FAIL(
			    p, "Build failed: %s", ctxerr ? ctxerr : err_msg());
		goto out;
	}
	if (p->bo.cached > 0)
		DETAIL(p, "%u of %u steps from the cache", p->bo.cached,
		    p->bo.steps);
out:
	state_env_release(&env);
	gittar_free(tar);
	return rc;
}

/* Keeps the build log with the release (failures included). */
static void
keep_log(struct job *p)
{
	if (p->rel.number == 0 || p->bo.log.len == 0)
		return;
	if (state_buildlog_put(p->st, p->ctx->app, p->rel.number,
	        p->bo.log.data, p->bo.log.len) == -1)
		FAIL(p, "cannot keep the build log: %s", err_msg());
}

/* 1 when image id is used by one of the releases in keep[0..n). */
static int
image_kept(const char *image, const struct state_release *keep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keep[i].image, image) == 0)
			return 1;
	return 0;
}

/*
 * After a successful deploy: the images of releases older than the last
 * DEPLOY_KEEP_IMAGES are removed (never one that a kept release uses, never
 * an image minpaas did not build), then the app's dangling build images.
 * Only this app's of this instance: while another app builds, its newest
 * step is a dangling image with that app's label, and pruning it fails that
 * build ("failed to get digest", "No such image"). This app's own builds
 * wait for its lock.
 */
static void
collect_images(struct job *p, struct sched *s)
{
	struct state_release *rels = NULL;
	size_t i, n, nkeep;
	int removed = 0;

	if (state_release_list(p->st, p->ctx->app, &rels, &n) == -1)
		return;
	nkeep = n < DEPLOY_KEEP_IMAGES ? n : DEPLOY_KEEP_IMAGES;
	for (i = nkeep; i < n; i++) {
		if (rels[i].image[0] == '\0' ||
		    image_kept(rels[i].image, rels, nkeep) ||
		    rels[i].number == p->app.release)
			continue;
		if (sched_image_remove(s, p->ctx->app, rels[i].number) == 0)
			removed++;
	}
	free(rels);
	if (removed > 0)
		DETAIL(p, "removed the images of %d old release%s", removed,
		    removed == 1 ? "" : "s");
	sched_image_prune(s, p->ctx->app);
}

/*
 * The health-check path of an app.json at the root (Dokku's format:
 * healthchecks.web[].path), into p->rel.healthcheck; none is fine. -1 (the
 * push fails) when app.json is there but unreadable or wrong.
 */
static int
read_healthcheck(struct job *p, const struct runtime_tree *rt)
{
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = rt->read(rt->arg, "app.json", &json, &len);
	if (rc == 1)
		return 0;
	if (rc == 0 && len > RELEASE_MAXAPPJSON)
		rc = err_set(
		    "app.json is larger than %d bytes", RELEASE_MAXAPPJSON);
	if (rc == 0)
		rc = release_healthcheck_parse(
		    json, len, p->rel.healthcheck, sizeof p->rel.healthcheck);
	free(json);
	if (rc == -1) {
		FAIL(p, "app.json: %s", err_msg());
		snprintf(p->reason, sizeof p->reason, "app.json is not valid");
		return -1;
	}
	if (strncmp(p->rel.healthcheck, RELEASE_EXEC_PREFIX,
	        strlen(RELEASE_EXEC_PREFIX)) == 0)
		DETAIL(p, "health check: %s must exit 0 (app.json)",
		    p->rel.healthcheck + strlen(RELEASE_EXEC_PREFIX));
	else if (p->rel.healthcheck[0] != '\0')
		DETAIL(p,
		    "health check: GET %s must answer 2xx or 3xx (app.json)",
		    p->rel.healthcheck);
	return 0;
}

static int job_caller(struct job *p, struct apps_caller *who);

struct image_check {
	struct job *p;
	struct apps_caller who;
	char instance[STATE_INSTANCE_LEN + 1];
};

static int
image_check_one(void *arg, const char *image)
{
	struct image_check *c = arg;

	return apps_image_allowed(c->p->st, &c->who, c->instance, image);
}

/*
 * A developer key builds only from images it may use, and deploys only
 * such an image (apps_image_allowed): every image the app's own Dockerfile
 * reads from, or the image of deploy:image. 0, or non-zero with the
 * refusal printed.
 */
static int
check_images(struct job *p, struct source *src, const struct runtime_tree *rt,
    const struct runtime_result *rr)
{
	struct image_check c;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(&c, 0, sizeof c);
	c.p = p;
	if (job_caller(p, &c.who) == -1 ||
	    state_instance(p->st, c.instance, sizeof c.instance) == -1) {
		FAIL(p, "%s", err_msg());
		snprintf(p->reason, sizeof p->reason,
		    "minpaas could not start the deploy");
		return -1;
	}
	if (c.who.admin)
		return 0;
	if (src->image != NULL) {
		rc = apps_image_allowed(p->st, &c.who, c.instance, src->image);
	} else if (strcmp(rr->name, "dockerfile") == 0) {
		rc = rt->read(rt->arg, "Dockerfile", &text, &len);
		if (rc == 1)
			rc = err_set("cannot read the Dockerfile");
		if (rc == 0)
			rc = dockerfile_images(text, len, image_check_one, &c);
		free(text);
	} else {
		return 0;
	}
	if (rc == 0)
		return 0;
	FAIL(p, "%s", err_msg());
	snprintf(p->reason, sizeof p->reason,
	    src->image ? "the image is not one this key may deploy"
	               : "the Dockerfile uses an image this key may not");
	return -1;
}

static int
deploy(struct job *p, struct source *src)
{
	struct runtime_tree rt = {tree_exists, tree_read, NULL};
	struct runtime_result rr;
	struct sched *s = NULL;
	char image[sizeof((struct state_release *)0)->image];
	uint32_t previous = p->app.release;
	int rc = -1;

	memset(&rr, 0, sizeof rr);
	if (src->image != NULL) {
		snprintf(rr.name, sizeof rr.name, "image");
	} else {
		if (src->tar != NULL)
			tarsrc_tree(src->tar, &rt);
		else
			rt.arg = src->gtree;
		if (runtime_detect(&rt, &rr) == -1) {
			FAIL(p, "%s", err_msg());
			snprintf(p->reason, sizeof p->reason,
			    "no runnable app found");
			goto out;
		}
		STEP(p, "Detected %s", rr.name);
		if (read_healthcheck(p, &rt) == -1)
			goto out;
	}
	if (check_images(p, src, &rt, &rr) != 0)
		goto out;
	if (rr.command[0] != '\0')
		DETAIL(p, "Procfile web: %s", rr.command);
	if (src->image == NULL) {
		snprintf(p->app.runtime, sizeof p->app.runtime, "%s", rr.name);
		if (state_app_put(p->st, &p->app) == -1)
			goto fail_state;
	}

	snprintf(p->rel.app, sizeof p->rel.app, "%s", p->ctx->app);
	snprintf(p->rel.commit, sizeof p->rel.commit, "%s", src->commit);
	snprintf(p->rel.status, sizeof p->rel.status, STATE_REL_BUILDING);
	snprintf(p->rel.cause, sizeof p->rel.cause, "%s", src->cause);
	snprintf(p->rel.by, sizeof p->rel.by, "%s", p->ctx->key_name);
	snprintf(p->rel.command, sizeof p->rel.command, "%s", rr.command);
	p->rel.created = (int64_t)time(NULL);
	if (state_release_new(p->st, &p->rel) == -1) {
		p->rel.number = 0;
		goto fail_state;
	}
	if (sched_open(&s, p->st) == -1) {
		FAIL(p, "%s", err_msg());
		snprintf(p->reason, sizeof p->reason, "Docker is unreachable");
		goto out;
	}
	if (src->image != NULL) {
		STEP(p, "Deploying image %s as %s v%u", src->image, p->ctx->app,
		    p->rel.number);
		snprintf(image, sizeof image, "%s", src->image);
	} else {
		if (src->commit[0] != '\0')
			STEP(p, "Building %s v%u (%.7s)", p->ctx->app,
			    p->rel.number, src->commit);
		else
			STEP(p, "Building %s v%u", p->ctx->app, p->rel.number);
		if (build(p, s, src, &rr, image, sizeof image) != 0) {
			snprintf(p->reason, sizeof p->reason, "build failed");
			goto out;
		}
	}

	snprintf(p->rel.image, sizeof p->rel.image, "%s", image);
	if (state_release_move(p->st, &p->rel, STATE_REL_DEPLOYING) != 0)
		goto fail_state;
	if (src->image != NULL && sched_image_exists(s, image) != 0) {
		FAIL(p, "no image '%s' on this host", image);
		snprintf(p->reason, sizeof p->reason, "no such image");
		goto out;
	}
	if (release_deploy(p->st, s, &p->rel, p->ctx->out) == -1) {
		fflush(p->ctx->out);
		snprintf(p->reason, sizeof p->reason, "v%u did not start",
		    p->rel.number);
		goto out;
	}
	fflush(p->ctx->out);
	/* The release is live: its other processes follow, then the
	 * previous release's stop. A failure here leaves web serving. */
	if (rr.nprocs > 0) {
		STEP(p, "Starting processes");
		if (procs_start(p->st, s, &p->rel, rr.procs, rr.nprocs,
		        p->ctx->out) == -1)
			FAIL(p, "%s", err_msg());
	}
	if (previous != 0 && previous != p->rel.number &&
	    procs_stop_release(p->st, s, p->ctx->app, previous) == -1)
		FAIL(p, "cannot stop the processes of v%u: %s", previous,
		    err_msg());
	if (state_app_get(p->st, p->ctx->app, &p->app) == 0)
		collect_images(p, s);
	rc = 0;
	goto out;
fail_state:
	FAIL(p, "%s", err_msg());
	snprintf(p->reason, sizeof p->reason, "minpaas could not record it");
out:
	keep_log(p);
	sched_close(s);
	runtime_result_release(&rr);
	return rc;
}

/* A commit of the repository as a source; 0 or -1 (printed). */
static int
source_commit(struct job *p, struct source *src, const char *hex)
{
	git_oid oid;

	snprintf(src->commit, sizeof src->commit, "%s", hex);
	if (git_oid_fromstr(&oid, hex) != 0 ||
	    git_commit_lookup(&src->gcommit, p->repo, &oid) != 0 ||
	    git_commit_tree(&src->gtree, src->gcommit) != 0) {
		FAIL(p, "cannot read commit %.7s: %s", hex,
		    git_error_last() ? git_error_last()->message : "?");
		snprintf(p->reason, sizeof p->reason, "cannot read the commit");
		return -1;
	}
	return 0;
}

static void
source_release(struct source *src)
{
	git_tree_free(src->gtree);
	git_commit_free(src->gcommit);
	tarsrc_free(src->tar);
}

/*
 * Puts the deploy branch back to the commit that serves (or deletes it when
 * nothing ever went live), unless another push moved it meanwhile.
 */
static void
restore_branch(struct job *p)
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
	struct job *p = arg;

	STEP(p, "Another deploy of %s is running; waiting for it to finish",
	    p->ctx->app);
}

/*
 * Who deploys, for the app rules: the key minpaas-sshd authenticated
 * ($MINPAAS_KEY_FP, with its role from state), or the local admin command
 * when there is none.
 */
static int
job_caller(struct job *p, struct apps_caller *who)
{
	struct state_key key;
	int rc;

	who->fp = p->ctx->key_fp ? p->ctx->key_fp : "";
	who->admin = who->fp[0] == '\0';
	if (who->admin)
		return 0;
	rc = state_key_get(p->st, who->fp, &key);
	if (rc == -1)
		return -1;
	who->admin = rc == 0 && strcmp(key.role, "admin") == 0;
	return 0;
}

static int
open_state(struct job *p)
{
	struct apps_caller who;
	int rc;

	if (state_open(&p->st, home_dir()) == -1 || job_caller(p, &who) == -1)
		return -1;
	/* minpaas-sshd and the deploy commands made the app already; a push
	 * that came another way (a local push) makes it here */
	rc = apps_create(p->st, p->ctx->app, &who, &p->app);
	return rc == 0 || rc == APPS_EXISTS ? 0 : -1;
}

static int
open_repo(struct job *p)
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
pick_branch(struct job *p, const struct deploy_update *u, size_t n)
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

/*
 * Under the app's deploy lock: deploy src. On failure the release is marked
 * failed, the branch put back (git pushes) and the rejection printed. An
 * app destroyed while this waited for the lock stays destroyed.
 */
static int
run_locked(struct job *p, struct source *src, const char *what)
{
	struct state_app now;
	char verb[16];
	int lock, got = -1, rc = -1;

	/* the app is read again: it may have changed while another deploy,
	 * or apps:destroy, held the lock */
	if ((lock = home_lock_app(p->ctx->app, lock_waiting, p)) != -1)
		got = state_app_get(p->st, p->ctx->app, &now);
	if (got == STATE_NOTFOUND ||
	    (got == 0 && now.created != p->app.created)) {
		/* gone, or gone and made again by someone else: deploying
		 * would bring it back, or into an app that is not this one */
		snprintf(verb, sizeof verb, "%s", what);
		verb[0] = (char)tolower((unsigned char)verb[0]);
		FAIL(p,
		    "%s was destroyed while this %s waited; nothing was "
		    "deployed",
		    p->ctx->app, verb);
		goto out;
	}
	if (got == -1) {
		FAIL(p, "%s", err_msg());
		snprintf(p->reason, sizeof p->reason,
		    "minpaas could not start the deploy");
	} else {
		p->app = now;
		if (deploy(p, src) == 0) {
			rc = 0;
			goto out;
		}
	}
	release_failed(p);
	if (p->u != NULL)
		restore_branch(p);
	FAIL(p, "%s rejected: %s; %s", what, p->reason[0] ? p->reason : "error",
	    p->app.release ? "the previous release keeps serving"
	                   : "nothing was deployed");
out:
	if (lock != -1)
		close(lock);
	return rc;
}

static void
job_init(struct job *p, const struct deploy_ctx *ctx)
{
	memset(p, 0, sizeof *p);
	p->ctx = ctx;
	buildout_init(&p->bo, ctx->out);
}

static void
job_release(struct job *p)
{
	git_repository_free(p->repo);
	state_close(p->st);
	buildout_release(&p->bo);
}

int
deploy_push(
    const struct deploy_ctx *ctx, const struct deploy_update *u, size_t n)
{
	struct source src;
	struct job p;
	int rc = -1;

	memset(&src, 0, sizeof src);
	src.cause = "push";
	job_init(&p, ctx);
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
	if (source_commit(&p, &src, p.u->new) == -1) {
		release_failed(&p);
		restore_branch(&p);
		goto out;
	}
	rc = run_locked(&p, &src, "Push");
out:
	source_release(&src);
	job_release(&p);
	return rc;
}

int
deploy_redeploy(const struct deploy_ctx *ctx)
{
	struct apps_caller who;
	struct source src;
	struct job p;
	git_reference *ref = NULL;
	char name[DEPLOY_MAXREF + 16], hex[41];
	int got, rc = -1;

	memset(&src, 0, sizeof src);
	src.cause = "deploy";
	job_init(&p, ctx);
	if (home_prepare() == -1 || state_open(&p.st, home_dir()) == -1 ||
	    job_caller(&p, &who) == -1) {
		FAIL(&p, "%s", err_msg());
		goto out;
	}
	/* an app the key may not use looks like no app at all */
	got = state_app_get(p.st, ctx->app, &p.app);
	if (got == 0 && apps_access(p.st, &p.app, &who, APPS_USE) != 0)
		got = STATE_NOTFOUND;
	if (got != 0) {
		FAIL(&p, "%s", got == -1 ? err_msg() : "no such app");
		goto out;
	}
	if (home_path(name, sizeof name, "repos/%s.git", ctx->app) == -1 ||
	    git_repository_open_bare(&p.repo, name) != 0) {
		FAIL(&p, "%s has no repository: push to it first", ctx->app);
		goto out;
	}
	snprintf(name, sizeof name, "refs/heads/%s",
	    p.app.branch[0] ? p.app.branch : "main");
	if (git_reference_lookup(&ref, p.repo, name) != 0 ||
	    git_reference_target(ref) == NULL) {
		FAIL(
		    &p, "%s has no branch '%s' to deploy", ctx->app, name + 11);
		goto out;
	}
	git_oid_tostr(hex, sizeof hex, git_reference_target(ref));
	if (source_commit(&p, &src, hex) == -1)
		goto out;
	rc = run_locked(&p, &src, "Deploy");
out:
	git_reference_free(ref);
	source_release(&src);
	job_release(&p);
	return rc;
}

int
deploy_tar(const struct deploy_ctx *ctx, int fd)
{
	struct source src;
	struct job p;
	int rc = -1;

	memset(&src, 0, sizeof src);
	src.cause = "tar";
	job_init(&p, ctx);
	if (home_prepare() == -1 || open_state(&p) == -1) {
		FAIL(&p, "%s", err_msg());
		goto out;
	}
	STEP(&p, "Receiving the tarball");
	if (tarsrc_new(&src.tar, fd) == -1) {
		FAIL(&p, "%s", err_msg());
		FAIL(&p, "Deploy rejected; %s",
		    p.app.release ? "the previous release keeps serving"
		                  : "nothing was deployed");
		goto out;
	}
	DETAIL(&p, "%.1f KiB received", (double)tarsrc_size(src.tar) / 1024.0);
	rc = run_locked(&p, &src, "Deploy");
out:
	source_release(&src);
	job_release(&p);
	return rc;
}

int
deploy_image(const struct deploy_ctx *ctx, const char *image)
{
	struct source src;
	struct job p;
	int rc = -1;

	memset(&src, 0, sizeof src);
	src.cause = "image";
	src.image = image;
	job_init(&p, ctx);
	if (home_prepare() == -1 || open_state(&p) == -1) {
		FAIL(&p, "%s", err_msg());
		goto out;
	}
	rc = run_locked(&p, &src, "Deploy");
out:
	job_release(&p);
	return rc;
}
