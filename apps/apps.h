/*
 * apps/apps.h: the app rules, written once for every entry point (sshd,
 * the hook, the command table): how an app is created (its name, its
 * hostname, its owner), whether a key may use an app, and an app's
 * hostnames and URLs. It sits above state/ and below the entry points, and
 * never calls Docker.
 *
 * Functions return 0, a named APPS_* code for an expected outcome with a
 * one-line message in err_msg(), or -1 with err_set() on failure.
 */
#ifndef MINPAAS_APPS_H
#define MINPAAS_APPS_H

#include <stddef.h>

#include "state/state.h"

#define APPS_INVALID    1 /* the name breaks ^[a-z][a-z0-9-]{0,29}$ */
#define APPS_EXISTS     2 /* an app of that name exists, one the key may use */
#define APPS_TAKEN      3 /* an app of that name exists, one it may not use */
#define APPS_HOST_TAKEN 4 /* "<name>.<domain>" is a custom domain or route */
#define APPS_DENIED     5 /* the key may not use (or manage) the app */

#define APPS_BRANCH                                                            \
	"main" /* deploy branch of a new app ("master" when                    \
	          a repository has no main: builder/deploy.c) */
#define APPS_MAXURL   (STATE_MAXHOST + 32) /* "http://<host>:<port>/" */
#define APPS_PLATFORM "minpaas" /* minpaas.<domain> is the platform's */

/* Who asks. The local admin command is {"", 1}. */
struct apps_caller {
	const char *fp; /* the key's "SHA256:..." fingerprint; "" or NULL */
	int admin;      /* an admin key, or the local admin command */
};

/*
 * Creates the app `name`, owned by who->fp (by nobody when that is empty:
 * the local admin command), deploying APPS_BRANCH, created now; a copy into
 * out when out is non-NULL. Returns 0, or with the reason in err_msg():
 * APPS_INVALID for a name that breaks the rule or is APPS_PLATFORM; APPS_EXISTS
 * when the app exists and who may use it (out then holds it); APPS_TAKEN when
 * it exists and who may not (the message says only "not available");
 * APPS_HOST_TAKEN when "<name>.<domain>" is a custom domain or has a route; -1
 * on error. Race-free: the checks and the write are one state transaction.
 */
int apps_create(struct state *st, const char *name,
    const struct apps_caller *who, struct state_app *out);

enum apps_right {
	APPS_USE,    /* push, clone, deploy, configure: owner, grant, admin */
	APPS_MANAGE, /* destroy, grant, revoke: owner or admin */
};

/*
 * Whether who may use (APPS_USE) or manage (APPS_MANAGE) app: 0 when it
 * may, APPS_DENIED when not, -1 when the grants cannot be read (refuse:
 * never more than allowed).
 */
int apps_access(struct state *st, const struct state_app *app,
    const struct apps_caller *who, enum apps_right right);

/* One hostname of an app and the URL the router serves it on. */
struct apps_host {
	char name[STATE_MAXHOST + 1];
	char url[APPS_MAXURL]; /* "http://<host>[:<http_port>]/" */
};

struct apps_hosts {
	size_t n;               /* 1 + the app's custom domains */
	struct apps_host *host; /* [0] is "<app>.<domain>", then the custom
	                           domains, sorted */
};

/*
 * The hostnames of app and their URLs into out: its generated name (state
 * meta "domain", STATE_DOMAIN by default), then its custom domains; the port
 * is state meta "http_port", left out when it is 80. 0 or -1; the caller
 * frees out with apps_hosts_release (also after a failure).
 */
int apps_hosts_get(struct state *st, const char *app, struct apps_hosts *out);
void apps_hosts_release(struct apps_hosts *hosts);

/*
 * Whether who may build FROM, or deploy, the image named `image` (a name,
 * "name:tag", with an optional registry or digest): admins any image;
 * developer keys only the platform's images (the stack image and each
 * runtime's, runtimes/), images of apps they may use (this instance's
 * "minpaas-<instance>/<app>:v<n>") and images an admin allowed
 * (images:allow). 0 when it may, APPS_DENIED with the rule in err_msg()
 * when not, -1 on error.
 */
int apps_image_allowed(struct state *st, const struct apps_caller *who,
    const char *instance, const char *image);

#endif
