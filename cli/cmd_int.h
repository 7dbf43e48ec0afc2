/*
 * cli/cmd_int.h: what the files of cli/ share behind the command table: the
 * error line, finding the app a command names (or the caller's only app) with
 * the caller's rights, and the commands themselves. Nothing outside cli/
 * includes it.
 */
#ifndef MINPAAS_CMD_INT_H
#define MINPAAS_CMD_INT_H

#include <stddef.h>

#include "cli/commands.h"
#include "state/state.h"

#define CMD_LOGS_DEFAULT 100   /* lines `logs` shows without -n */
#define CMD_LOGS_MAX     10000 /* most lines -n may ask for */

/* Prints " !     <reason>" on stderr; returns status (1 failure, 2 usage). */
int cmd_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cmd_releases.c */
/* 1 when the caller may see and change app (admins, and the key that owns
 * it), else 0. */
int cmd_app_visible(const struct cmd_ctx *ctx, const struct state_app *app);
/*
 * Loads the app `name` into out when the caller may see it. Otherwise prints
 * "app 'x' does not exist" (whether it exists or not) and returns 1, as on
 * a state error (printed). 0 on success.
 */
int cmd_app_load(struct cmd_ctx *ctx, const char *name, struct state_app *out);
/* The caller's only app into out: 0, or prints why not (no app, several)
 * and returns 2. */
int cmd_app_only(struct cmd_ctx *ctx, struct state_app *out);
/* Takes app's deploy lock, saying on stdout when it has to wait for another
 * deploy. Returns the lock's fd (close it to release) or -1 (printed). */
int cmd_app_lock(const char *app);
/*
 * Makes a release (cause, by ctx->key_name) from the image, commit, command
 * and health check of release `from`, with env as its snapshot (NULL: the
 * app's current config), and deploys it through release_deploy without a
 * rebuild; progress on stdout. The caller holds the app's deploy lock.
 * Returns 0 or 1 (failure printed). *number gets the new release's number.
 */
int cmd_release_from(struct cmd_ctx *ctx, const char *app, uint32_t from,
    const char *cause, const struct state_env *env, uint32_t *number);

int cmd_releases(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_rollback(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_env.c */
/*
 * Quotes s for a POSIX shell when it needs it, so that cmd_split gives s
 * back: returned as is when it holds only [A-Za-z0-9_@%+=:,./-] (and is not
 * empty), else in single quotes with each ' written '\''. Returns a malloc'd
 * string, NULL when out of memory.
 */
char *cmd_env_quote(const char *s);

int cmd_env(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_get(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_set(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_unset(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_logs.c */
int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv);

#endif
