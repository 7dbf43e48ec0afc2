/*
 * common/home.h: where things live under MINPAAS_HOME, and the names minpaas
 * accepts from outside. Every binary agrees on these through this file.
 *
 *   $MINPAAS_HOME/state/                 LMDB environment
 *   $MINPAAS_HOME/repos/<app>.git        bare repositories
 *   $MINPAAS_HOME/locks/<app>.lock       per-app deploy lock (flock)
 *   $MINPAAS_HOME/up.lock                held by the one `minpaas up` (flock)
 *   $MINPAAS_HOME/ssh_host_ed25519_key   SSH host key
 */
#ifndef MINPAAS_HOME_H
#define MINPAAS_HOME_H

#include <stddef.h>

#define HOME_DEFAULT "/var/lib/minpaas"
#define HOME_MAXPATH 4096
#define APP_MAXNAME  30 /* ^[a-z][a-z0-9-]{0,29}$ */

/* $MINPAAS_HOME, or HOME_DEFAULT when unset or empty. */
const char *home_dir(void);

/* Writes "<home>/<fmt...>" into out; -1 with err_set() when too long. */
int home_path(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p for <home>, state/, repos/, locks/; 0 or -1 with err_set(). */
int home_prepare(void);

/* 1 when name matches ^[a-z][a-z0-9-]{0,29}$, else 0: safe as one path
 * component here. Parsers of outside input check it early; apps_create
 * (apps/) is where a new app's name must pass it. */
int app_name_valid(const char *name);

/*
 * Opens <home>/locks/<app>.lock and takes an exclusive flock. When the lock
 * is held by another process and `waiting` is non-NULL, calls it once before
 * blocking (so the caller can say it waits). Returns the fd (close it to
 * release) or -1 with err_set(). The file is never unlinked (apps:destroy
 * leaves it), so every waiter and every newcomer lock the same file; one
 * that waited re-reads the app, which may be gone.
 */
int home_lock_app(const char *app, void (*waiting)(void *), void *arg);

/* home_lock_app without waiting: the fd, HOME_LOCK_BUSY when another
 * process holds the lock (a deploy of the app runs), or -1 with err_set(). */
#define HOME_LOCK_BUSY (-2)
int home_trylock_app(const char *app);

#endif
