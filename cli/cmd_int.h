/*
 * cli/cmd_int.h: what the files of cli/ share behind the command table: the
 * error line, finding the app a command names (or the caller's only app) with
 * the caller's rights, and the commands themselves. Nothing outside cli/
 * includes it.
 */
#ifndef MINPAAS_CMD_INT_H
#define MINPAAS_CMD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "apps/apps.h"
#include "cli/commands.h"
#include "state/state.h"

#define CMD_LOGS_DEFAULT 100   /* lines `logs` shows without -n */
#define CMD_LOGS_MAX     10000 /* most lines -n may ask for */

/* Prints " !     <reason>" on stderr; returns status (1 failure, 2 usage). */
int cmd_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cmd_releases.c */
/* The caller as the app rules (apps/) see it. */
struct apps_caller cmd_caller(const struct cmd_ctx *ctx);
/* 1 when the caller may see and change app (apps_access APPS_USE: admins,
 * the key that owns it and the keys granted it), else 0. */
int cmd_app_visible(const struct cmd_ctx *ctx, const struct state_app *app);
/* 1 when the caller is an admin or the key that created app (apps_access
 * APPS_MANAGE), else 0. */
int cmd_app_owner(const struct cmd_ctx *ctx, const struct state_app *app);
/* The app `name` (cmd_app_load), or the caller's only app when name is NULL
 * (cmd_app_only). */
int cmd_app_arg(struct cmd_ctx *ctx, const char *name, struct state_app *out);
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

/* The commands (usage and help text in cli/commands.c's table). */
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

/* The commands (usage and help text in cli/commands.c's table). */
int cmd_env(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_get(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_set(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_env_unset(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_logs.c */
int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_apps.c */
struct json_t;
/* Prints v as indented JSON and a newline, and drops it; 0, or 1 printed. */
int cmd_json_print(struct json_t *v);
/* 1 when argv[i] is "--json" for some i in 1..argc-1; removes it. */
int cmd_take_json(int *argc, char **argv);

/* The commands (usage and help text in cli/commands.c's table). */
int cmd_apps(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_apps_create(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_apps_info(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_apps_destroy(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_ps.c */
#define CMD_PROBE_MS 300 /* how long apps:info and ps wait for a connect */

/* One process of an app as ps shows it. */
#define CMD_CRASHLOOP        3  /* restarts that make a crash loop ... */
#define CMD_CRASHLOOP_WINDOW 60 /* ... while its last start is this recent */

struct cmd_proc {
	char type[32];      /* "web", "worker", ... */
	char container[72]; /* "" when none */
	/* "running", "restarting" (Docker starts it again), "crash-looping"
	 * (CMD_CRASHLOOP restarts or more, and down or up for less than
	 * CMD_CRASHLOOP_WINDOW s), "exited", "created", "missing" (no
	 * container), "unknown" */
	char state[16];
	int running;   /* the process runs now */
	int exit_code; /* of its last exit (known when not running) */
	int restarts;  /* times Docker started it again */
	uint32_t release;
	int64_t since; /* unix seconds it started (running) or ended */
	int answering; /* web only: accepts connections on its port */
};

/*
 * The processes of app's current release into *out (*n of them; free it),
 * with their Docker state. *stopped is set when the app's routes say it is
 * stopped. 0, or -1 with err_set().
 */
int cmd_ps_list(struct state *st, const struct state_app *app,
    struct cmd_proc **out, size_t *n, int *stopped);
/* The JSON object of p (type, container, state, release, since) with one
 * more field, key: value (stolen); a new reference, NULL when memory ran
 * out. */
struct json_t *cmd_proc_json(
    const struct cmd_proc *p, const char *key, struct json_t *value);
/* p's state as shown: "running", "exited (137)", "crash-looping (1)". */
void cmd_proc_describe(const struct cmd_proc *p, char *out, size_t len);
/* "3d 4h", "5m 10s": how long since t. */
void cmd_ago(int64_t t, char *out, size_t len);

/* The commands (usage and help text in cli/commands.c's table). */
int cmd_ps(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_ps_stop(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_ps_start(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_ps_restart(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_domains.c */
/* Lower-cases host in place; 1 when it is then a valid hostname (RFC 1123
 * labels, no port, at most STATE_MAXHOST bytes), else 0 with *why set. */
int cmd_host_valid(char *host, const char **why);

/* The commands (usage and help text in cli/commands.c's table). */
int cmd_domains(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_domains_add(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_domains_remove(struct cmd_ctx *ctx, int argc, char **argv);

/* cmd_access.c */
/* The key named name into out: 0, or 1 with "no key named" printed. */
int cmd_key_by_name(
    struct cmd_ctx *ctx, const char *name, struct state_key *out);
/* The name of the key with fingerprint fp into out ("" when none). */
void cmd_key_name(struct state *st, const char *fp, char *out, size_t len);

/* The commands (usage and help text in cli/commands.c's table). */
int cmd_access(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_access_grant(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_access_revoke(struct cmd_ctx *ctx, int argc, char **argv);

#endif
