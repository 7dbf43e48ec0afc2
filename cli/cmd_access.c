/*
 * cli/cmd_access.c: who may use an app, `access`, `access:grant`,
 * `access:revoke`, and finding keys by name.
 *
 * The rule (cmd_app_visible): an admin key may do everything; a developer
 * key sees and changes the apps it created and the ones it was granted.
 * Granting and revoking is for the app's creator and admins. A refusal names
 * what was refused and why, and an app the caller cannot see "does not
 * exist".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/progress.h"

int
cmd_key_by_name(struct cmd_ctx *ctx, const char *name, struct state_key *out)
{
	struct state_key *keys;
	size_t i, n;
	int found = 0;

	if (state_key_list(ctx->st, &keys, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	for (i = 0; i < n && !found; i++)
		if (strcmp(keys[i].name, name) == 0) {
			*out = keys[i];
			found = 1;
		}
	free(keys);
	/* to a developer, a missing key and an admin key read the same */
	if (!found || (!ctx->admin && strcmp(out->role, "admin") == 0))
		return cmd_fail(1, "no %skey named '%.64s'%s",
		    ctx->admin ? "" : "developer ", name,
		    ctx->admin ? " ('keys' lists them)" : "");
	return 0;
}

void
cmd_key_name(struct state *st, const char *fp, char *out, size_t len)
{
	struct state_key key;

	if (fp[0] != '\0' && state_key_get(st, fp, &key) == 0)
		snprintf(out, len, "%s", key.name);
	else
		snprintf(out, len, "%s", fp[0] ? fp : "");
}

/* "APP KEY": the app (with the caller's rights to manage it) and the key. */
static int
access_args(struct cmd_ctx *ctx, int argc, char **argv, struct state_app *app,
    struct state_key *key)
{
	int rc;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cmd_fail(2, "usage: %s APP KEY", argv[0]);
	if ((rc = cmd_app_load(ctx, argv[1], app)) != 0)
		return rc;
	if (!cmd_app_owner(ctx, app))
		return cmd_fail(1,
		    "%s: only the key that created %s, or an admin, may "
		    "change who uses it",
		    argv[0], app->name);
	return cmd_key_by_name(ctx, argv[2], key);
}

int
cmd_access(struct cmd_ctx *ctx, int argc, char **argv)
{
	state_fingerprint *fps = NULL;
	struct state_app app;
	char name[64];
	size_t i, n = 0;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: access [APP]");
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (state_access_list(ctx->st, app.name, &fps, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	printf("=== %s access (admin keys may use every app)\n", app.name);
	cmd_key_name(ctx->st, app.owner, name, sizeof name);
	printf("%-20s creator\n", name[0] ? name : "(local admin)");
	for (i = 0; i < n; i++) {
		cmd_key_name(ctx->st, fps[i], name, sizeof name);
		printf("%-20s granted\n", name);
	}
	free(fps);
	return 0;
}

int
cmd_access_grant(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_app app;
	struct state_key key;
	int rc;

	if ((rc = access_args(ctx, argc, argv, &app, &key)) != 0)
		return rc;
	if (strcmp(key.role, "admin") == 0) {
		printf("%s is an admin key: it may use every app already\n",
		    key.name);
		return 0;
	}
	if (strcmp(app.owner, key.fp) == 0) {
		printf("%s created %s: it may use it already\n", key.name,
		    app.name);
		return 0;
	}
	rc = state_access_grant(ctx->st, app.name, key.fp);
	if (rc == STATE_EXISTS) {
		printf("%s may use %s already\n", key.name, app.name);
		return 0;
	}
	if (rc != 0)
		return cmd_fail(1, "%s", err_msg());
	STEP(stdout, "%s may now use %s", key.name, app.name);
	return 0;
}

int
cmd_access_revoke(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_app app;
	struct state_key key;
	int rc;

	if ((rc = access_args(ctx, argc, argv, &app, &key)) != 0)
		return rc;
	if (strcmp(app.owner, key.fp) == 0)
		return cmd_fail(1,
		    "%s created %s: its access cannot be revoked (an admin "
		    "can remove the key)",
		    key.name, app.name);
	rc = state_access_revoke(ctx->st, app.name, key.fp);
	if (rc == STATE_NOTFOUND)
		return cmd_fail(
		    1, "%s holds no grant on %s", key.name, app.name);
	if (rc != 0)
		return cmd_fail(1, "%s", err_msg());
	STEP(stdout, "%s may no longer use %s", key.name, app.name);
	return 0;
}
