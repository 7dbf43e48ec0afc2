/*
 * cli/cmd_env.c: an app's config, `env`, `env:get`, `env:set`, `env:unset`
 * (and their `config:*` aliases). Keys are [A-Za-z_][A-Za-z0-9_]*; values
 * hold any byte but NUL and reach the app byte for byte (Docker carries env
 * as JSON text, so they must be UTF-8). PORT is the platform's. A change
 * makes a new release from the current image with the new config, through
 * release_deploy under the app's deploy lock; --no-restart only stores it.
 * `env` prints lines that can be pasted back into env:set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/home.h"
#include "common/progress.h"

char *
cmd_env_quote(const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                           "0123456789_@%+=:,./-";
	size_t n = strlen(s), quotes = 0, i, j;
	char *out;

	if (n > 0 && strspn(s, safe) == n)
		return strdup(s);
	for (i = 0; i < n; i++)
		quotes += s[i] == '\'';
	/* each ' becomes '\'' (3 more bytes), plus the two quotes */
	if ((out = malloc(n + quotes * 3 + 3)) == NULL)
		return NULL;
	j = 0;
	out[j++] = '\'';
	for (i = 0; i < n; i++) {
		if (s[i] == '\'') {
			memcpy(out + j, "'\\''", 4);
			j += 4;
		} else
			out[j++] = s[i];
	}
	out[j++] = '\'';
	out[j] = '\0';
	return out;
}

/* 1 when the n bytes of s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing past U+10FFFF). */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

/* Checks one KEY of env:unset or env:get: 0, or 1 with the reason printed. */
static int
key_check(const char *key)
{
	if (!state_env_key_valid(key))
		return cmd_fail(1,
		    "invalid key '%.64s': use letters, digits and _, not "
		    "starting with a digit",
		    key);
	if (strcmp(key, "PORT") == 0)
		return cmd_fail(1, "PORT is set by minpaas: the app must "
		                   "listen on $PORT, and it cannot be changed");
	return 0;
}

/* Checks one KEY=VALUE of env:set: 0, or 1 with the reason printed. */
static int
pair_check(const char *pair)
{
	const char *eq = strchr(pair, '=');
	char key[STATE_MAXENVKEY + 1];
	size_t kl;

	if (eq == NULL)
		return cmd_fail(1, "expected KEY=VALUE, got '%.64s'", pair);
	kl = (size_t)(eq - pair);
	if (kl == 0 || kl > STATE_MAXENVKEY)
		return cmd_fail(1, "invalid key in '%.64s'", pair);
	memcpy(key, pair, kl);
	key[kl] = '\0';
	if (key_check(key) != 0)
		return 1;
	if (strlen(eq + 1) > STATE_MAXENVVALUE)
		return cmd_fail(1, "the value of %s is longer than %d bytes",
		    key, STATE_MAXENVVALUE);
	if (!utf8_valid((const unsigned char *)eq + 1, strlen(eq + 1)))
		return cmd_fail(1, "the value of %s is not valid UTF-8", key);
	return 0;
}

static int
env_equal(const struct state_env *a, const struct state_env *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->vars[i], b->vars[i]) != 0)
			return 0;
	return 1;
}

/* The app named by argument `name` (when non-NULL), or the caller's only
 * app. */
static int
app_arg(struct cmd_ctx *ctx, const char *name, struct state_app *app)
{
	if (name)
		return cmd_app_load(ctx, name, app);
	return cmd_app_only(ctx, app);
}

int
cmd_env(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_env env;
	struct state_app app;
	char *q;
	size_t i, kl;
	int rc, status = 0;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: %s [APP]", argv[0]);
	if ((rc = app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (state_env_get(ctx->st, app.name, &env) == -1)
		return cmd_fail(1, "%s", err_msg());
	for (i = 0; i < env.n; i++) {
		kl = strcspn(env.vars[i], "=");
		if ((q = cmd_env_quote(env.vars[i] + kl + 1)) == NULL) {
			status = cmd_fail(1, "out of memory");
			break;
		}
		printf("%.*s=%s\n", (int)kl, env.vars[i], q);
		free(q);
	}
	state_env_release(&env);
	return status;
}

int
cmd_env_get(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_env env;
	struct state_app app;
	const char *key;
	size_t i, kl;
	int rc;

	if (argc < 2 || argc > 3 || argv[argc - 1][0] == '-')
		return cmd_fail(2, "usage: %s [APP] KEY", argv[0]);
	key = argv[argc - 1];
	if ((rc = app_arg(ctx, argc == 3 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (!state_env_key_valid(key))
		return cmd_fail(1, "invalid key '%.64s'", key);
	if (state_env_get(ctx->st, app.name, &env) == -1)
		return cmd_fail(1, "%s", err_msg());
	kl = strlen(key);
	for (i = 0; i < env.n; i++) {
		if (strncmp(env.vars[i], key, kl) == 0 &&
		    env.vars[i][kl] == '=') {
			fputs(env.vars[i] + kl + 1, stdout);
			fputc('\n', stdout);
			state_env_release(&env);
			return 0;
		}
	}
	state_env_release(&env);
	return cmd_fail(1, "%s is not set on %s", key, app.name);
}

/*
 * env:set and env:unset: store the change and, unless --no-restart, make a
 * release from the current image with the new config and deploy it.
 */
static int
env_change(struct cmd_ctx *ctx, struct state_app *app, const char *const *set,
    const char *const *unset, int restart)
{
	struct state_env before = {0, NULL}, after = {0, NULL};
	const char *const *p;
	int lock = -1, status = 1;

	if (restart && (lock = cmd_app_lock(app->name)) == -1)
		return 1;
	if (state_env_get(ctx->st, app->name, &before) == -1 ||
	    state_env_update(ctx->st, app->name, set, unset, &after) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto out;
	}
	if (restart)
		STEP(stdout, "%s config vars and restarting %s",
		    set ? "Setting" : "Unsetting", app->name);
	else
		STEP(stdout, "%s config vars on %s",
		    set ? "Setting" : "Unsetting", app->name);
	printf("      ");
	for (p = set ? set : unset; *p; p++)
		printf(" %.*s", (int)strcspn(*p, "="), *p);
	printf("\n");
	if (!restart) {
		DETAIL(stdout, "stored; not restarted (--no-restart): they "
		               "apply on the next deploy");
		status = 0;
		goto out;
	}
	/* what serves may have changed while we waited for the lock */
	if (state_app_get(ctx->st, app->name, app) != 0) {
		cmd_fail(1, "app '%s' does not exist", app->name);
		goto out;
	}
	if (app->release == 0) {
		DETAIL(stdout,
		    "%s has no release yet: they apply on the next deploy",
		    app->name);
		status = 0;
		goto out;
	}
	if (env_equal(&before, &after)) {
		DETAIL(stdout, "no change: v%u keeps running", app->release);
		status = 0;
		goto out;
	}
	fflush(stdout);
	status =
	    cmd_release_from(ctx, app->name, app->release, "env", NULL, NULL);
	if (status != 0)
		cmd_fail(1,
		    "the new config is stored but did not start; v%u keeps "
		    "serving",
		    app->release);
out:
	fflush(stdout);
	state_env_release(&before);
	state_env_release(&after);
	if (lock != -1)
		close(lock);
	return status;
}

/* Splits argv into --no-restart and the positional words (pos, npos). */
static int
env_args(int argc, char **argv, const char **pos, int *npos, int *restart)
{
	int i;

	*npos = 0;
	*restart = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-restart") == 0)
			*restart = 0;
		else if (argv[i][0] == '-' && strchr(argv[i], '=') == NULL)
			return -1;
		else
			pos[(*npos)++] = argv[i];
	}
	pos[*npos] = NULL;
	return 0;
}

int
cmd_env_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char **pos;
	struct state_app app;
	int npos, restart, first = 0, rc, i;

	if ((pos = calloc((size_t)argc + 1, sizeof *pos)) == NULL)
		return cmd_fail(1, "out of memory");
	rc = 2;
	if (env_args(argc, argv, pos, &npos, &restart) == -1)
		goto usage;
	/* app names never hold '=', so a first word without one names it */
	if (npos > 0 && strchr(pos[0], '=') == NULL)
		first = 1;
	if (npos - first < 1)
		goto usage;
	for (i = first; i < npos; i++)
		if ((rc = pair_check(pos[i])) != 0)
			goto out;
	if ((rc = app_arg(ctx, first ? pos[0] : NULL, &app)) != 0)
		goto out;
	rc = env_change(ctx, &app, pos + first, NULL, restart);
	goto out;
usage:
	rc =
	    cmd_fail(2, "usage: %s [APP] KEY=VALUE... [--no-restart]", argv[0]);
out:
	free(pos);
	return rc;
}

int
cmd_env_unset(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char **pos;
	struct state_app app;
	int npos, restart, first = 0, rc, i;

	if ((pos = calloc((size_t)argc + 1, sizeof *pos)) == NULL)
		return cmd_fail(1, "out of memory");
	if (env_args(argc, argv, pos, &npos, &restart) == -1 || npos < 1) {
		rc = cmd_fail(
		    2, "usage: %s [APP] KEY... [--no-restart]", argv[0]);
		goto out;
	}
	/* With several words, a first one that can be an app name is one;
	 * keys are usually upper-case, app names never are. */
	if (npos > 1 && app_name_valid(pos[0]))
		first = 1;
	for (i = first; i < npos; i++)
		if ((rc = key_check(pos[i])) != 0)
			goto out;
	if ((rc = app_arg(ctx, first ? pos[0] : NULL, &app)) != 0)
		goto out;
	rc = env_change(ctx, &app, NULL, pos + first, restart);
out:
	free(pos);
	return rc;
}
