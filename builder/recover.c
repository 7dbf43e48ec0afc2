/*
 * builder/recover.c: the state a killed deploy leaves, put right (see
 * recover.h). Guarantees: a release moves only from building or deploying
 * to failed; the branch moves only when it still points at a commit that
 * failed and is not the one serving, so a push made since is never undone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "builder/recover.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"

/* Puts a branch of app's repository that points at `failed` back to
 * `serving` (deleted when nothing serves); 1 when one moved, else 0. */
static int
recover_branch(const struct state_app *app, const char *failed,
    const char *serving, char *which, size_t len)
{
	static const char *const names[] = {"main", "master"};
	git_repository *repo = NULL;
	git_reference *ref = NULL, *moved = NULL;
	git_oid bad, good;
	char path[HOME_MAXPATH], name[64];
	const char *try[3];
	size_t i, n = 0;
	int done = 0;

	if (failed[0] == '\0' || strcmp(failed, serving) == 0 ||
	    git_oid_fromstr(&bad, failed) != 0 ||
	    home_path(path, sizeof path, "repos/%s.git", app->name) == -1)
		return 0;
	git_libgit2_init();
	if (git_repository_open_bare(&repo, path) != 0)
		goto out;
	if (app->branch[0])
		try[n++] = app->branch;
	for (i = 0; i < 2; i++)
		if (strcmp(names[i], app->branch) != 0)
			try[n++] = names[i];
	for (i = 0; i < n && !done; i++) {
		snprintf(name, sizeof name, "refs/heads/%s", try[i]);
		if (git_reference_lookup(&ref, repo, name) != 0)
			continue;
		if (git_reference_target(ref) != NULL &&
		    git_oid_equal(git_reference_target(ref), &bad)) {
			if (serving[0] && git_oid_fromstr(&good, serving) == 0)
				done = git_reference_create_matching(&moved,
				           repo, name, &good, 1, &bad,
				           "minpaas: deploy interrupted") == 0;
			else
				done = git_reference_delete(ref) == 0;
			if (done)
				snprintf(which, len, "%s", try[i]);
			git_reference_free(moved);
			moved = NULL;
		}
		git_reference_free(ref);
		ref = NULL;
	}
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	return done;
}

int
recover_app(struct state *st, const char *name, struct recover_result *out)
{
	struct state_release *rels = NULL;
	struct state_app app;
	char commit[41] = "";
	size_t i, n = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = state_app_get(st, name, &app)) != 0)
		return rc;
	if (state_release_list(st, name, &rels, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(rels[i].status, STATE_REL_BUILDING) != 0 &&
		    strcmp(rels[i].status, STATE_REL_DEPLOYING) != 0)
			continue;
		rels[i].finished = (int64_t)time(NULL);
		if (state_release_move(st, &rels[i], STATE_REL_FAILED) != 0) {
			free(rels);
			return -1;
		}
		log_info("%s v%u: its deploy was interrupted; marked failed",
		    name, rels[i].number);
		/* newest first: the first one is what was pushed last */
		if (out->nfailed++ == 0) {
			out->failed = rels[i].number;
			snprintf(commit, sizeof commit, "%s", rels[i].commit);
		}
	}
	free(rels);
	out->live = app.release;
	if (out->nfailed > 0)
		out->branch_reset = recover_branch(
		    &app, commit, app.commit, out->branch, sizeof out->branch);
	return 0;
}
