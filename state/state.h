/*
 * state/state.h: minpaas's shared truth, in one LMDB environment under
 * $MINPAAS_HOME/state/. This module is the only code that includes <lmdb.h>.
 *
 * Records are typed structs copied out of LMDB before the transaction ends.
 * Write transactions are short and never span a Docker call. Every process
 * opens its own handle (never across fork) and calls state_open once.
 *
 * Functions return 0 on success, STATE_NOTFOUND / STATE_EXISTS /
 * STATE_TAKEN for expected outcomes, and -1 with err_set() on failure.
 */
#ifndef MINPAAS_STATE_H
#define MINPAAS_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_NOTFOUND     1
#define STATE_EXISTS       2
#define STATE_TAKEN        3 /* a hostname that another app holds */
#define STATE_RESERVED     4 /* a hostname under the platform domain */

#define STATE_MAPSIZE      (256UL << 20)
#define STATE_MAXREADERS   1024
#define STATE_MAXUPSTREAMS 8
#define STATE_PORT_MIN     20000
#define STATE_PORT_MAX     29999
#define STATE_MAXHOST      253
#define STATE_DOMAIN       "localhost" /* when meta "domain" is unset */

struct state;

/* Opens (creating when needed) <home>/state and clears stale readers. */
int state_open(struct state **out, const char *home);
void state_close(struct state *st);

/* --- apps: one record per app ------------------------------------------ */
struct state_app {
	char name[32];
	char owner[64];   /* fingerprint of the key that created it */
	char branch[32];  /* deploy branch: "main" (or "master") */
	char runtime[16]; /* last detected runtime, "" before the first build */
	char commit[41];  /* commit of the current release, "" when none */
	uint32_t release; /* current release number, 0 when none */
	int64_t created;  /* unix seconds */
};

/* The app `name` into out; STATE_NOTFOUND when there is none. */
int state_app_get(struct state *st, const char *name, struct state_app *out);
/*
 * Creates app in one write, the only way an app comes to be: STATE_EXISTS
 * when an app of that name exists already, STATE_TAKEN when its generated
 * name "<app>.<domain>" is a custom domain or has a route. The checks and
 * the write share the transaction, so a concurrent creation of the same
 * name, or state_domain_add of that hostname, sees one or the other.
 * (apps_create in apps/ is what entry points call.)
 */
int state_app_create(struct state *st, const struct state_app *app);
/* Replaces an existing app; STATE_NOTFOUND when there is none (a destroyed
 * app is never brought back by an update). */
int state_app_put(struct state *st, const struct state_app *app);
/* Also removes the app's releases (with their env snapshots, build logs and
 * process lists), routes, ports, env, custom domains and access grants. */
int state_app_delete(struct state *st, const char *name);
/* *out is an array of *n apps sorted by name; the caller frees it. */
int state_app_list(struct state *st, struct state_app **out, size_t *n);

/* --- keys: SSH public keys by SHA256 fingerprint ---------------------------
 */
struct state_key {
	char fp[64];       /* "SHA256:..." */
	char name[64];     /* [A-Za-z0-9_.@-]{1,63} */
	char role[16];     /* "admin" or "developer" */
	char pubkey[2048]; /* "ssh-ed25519 AAAA..." (type and base64) */
	int64_t created;
};

/* STATE_EXISTS when the fingerprint or the name is taken. */
int state_key_add(struct state *st, const struct state_key *key);
int state_key_get(struct state *st, const char *fp, struct state_key *out);
int state_key_remove(struct state *st, const char *name);
int state_key_list(struct state *st, struct state_key **out, size_t *n);

/* --- releases: app NUL big-endian u32 -> record ----------------------------
 */
struct state_release {
	char app[32];
	uint32_t number;
	char commit[41];
	char image[80];  /* image id "sha256:..." */
	char status[16]; /* STATE_REL_*: changed by state_release_move only */
	char cause[16];  /* "push", "env", "rollback", "deploy" */
	char by[64];     /* key name (or "admin") that made it */
	char command[1024]; /* web command, "" for the image's CMD */
	char container[72]; /* container id of its web process, "" before start
	                     */
	uint16_t port;      /* host port on 127.0.0.1, 0 before start */
	int64_t created;
	int64_t finished;
	char healthcheck[256]; /* HTTP path that must answer 2xx/3xx; "": any
	                          answer on "/" */
};

/* Takes the next number for app (1, 2, ...) and stores rel under it, with
 * rel->number set, and a snapshot of the app's current env (same write). */
int state_release_new(struct state *st, struct state_release *rel);
struct state_env;
/* As state_release_new, with env as the release's snapshot (a rollback
 * runs the old release's env). */
int state_release_new_env(
    struct state *st, struct state_release *rel, const struct state_env *env);
/* Stores rel's other fields; its status must be the stored one (-1 when
 * not: a status changes only through state_release_move). */
int state_release_put(struct state *st, const struct state_release *rel);

/*
 * A release's status, and the one function that changes it. A release is
 * made building (a build) or deploying (an image already built: rollback,
 * env change, restart), then
 *
 *   building  -> deploying | failed
 *   deploying -> live | failed        (live: state_release_activate)
 *   live      -> superseded           (when a newer release goes live)
 *
 * failed and superseded are final.
 */
#define STATE_REL_BUILDING   "building"
#define STATE_REL_DEPLOYING  "deploying"
#define STATE_REL_LIVE       "live"
#define STATE_REL_SUPERSEDED "superseded"
#define STATE_REL_FAILED     "failed"
#define STATE_BADMOVE        5

/* 1 when a release may move from status `from` to `to`, else 0. */
int state_release_move_ok(const char *from, const char *to);
/*
 * In one write: checks that the stored status of rel may become `to`, sets
 * rel->status and stores rel (its other fields as the caller set them), and
 * logs the move (debug). STATE_BADMOVE (err_msg() says why; nothing stored,
 * rel unchanged) when the move is not allowed.
 */
int state_release_move(
    struct state *st, struct state_release *rel, const char *to);
int state_release_get(struct state *st, const char *app, uint32_t number,
    struct state_release *out);
/* Newest first; the caller frees *out. */
int state_release_list(
    struct state *st, const char *app, struct state_release **out, size_t *n);

/* --- routes: hostname -> app and upstreams ---------------------------------
 */
struct state_route {
	char app[32];
	int nupstreams;
	char upstream[STATE_MAXUPSTREAMS][24]; /* "127.0.0.1:20001" */
};

/* The route of host into out; STATE_NOTFOUND when there is none. */
int state_route_get(
    struct state *st, const char *host, struct state_route *out);
/* Points host at route (creating or replacing it), in one write. */
int state_route_put(
    struct state *st, const char *host, const struct state_route *route);
/* Removes host's route; STATE_NOTFOUND when there is none. */
int state_route_delete(struct state *st, const char *host);

/*
 * The swap, in one write transaction: moves rel from deploying to live and
 * stores it, moves the app's previous live release to superseded, makes rel
 * the app's current release and commit, and points `host` (and the custom
 * domains) at `route`. The router sees the new route on its next request.
 */
int state_release_activate(struct state *st, struct state_release *rel,
    const char *host, const struct state_route *route);

/*
 * Rewrites every route of app (its generated name and its custom domains)
 * to `route` in one write: a route with nupstreams 0 marks the app stopped
 * (the router answers 503 for it).
 */
int state_route_set_app(
    struct state *st, const char *app, const struct state_route *route);

/* --- domains: custom hostnames, host -> app (state/domains.c) ------------ */
#define STATE_MAXDOMAINS 100 /* custom domains per app */

/*
 * The generated hostname of app, "<app>.<domain>" with the domain of meta
 * "domain" (STATE_DOMAIN when unset or empty), into host; -1 with err_set()
 * when it does not fit. Entry points ask apps_hosts_get (apps/) instead.
 */
int state_app_host(struct state *st, const char *app, char *host, size_t len);

/*
 * Adds host (valid, lower-case) to app in one write, and points it at the
 * app's current upstreams (those of "<app>.<domain>") when it has any.
 * STATE_RESERVED (err_msg() says why) when host is the platform domain or
 * under it: "<a>.<domain>" is app a's own name, whether a exists yet or not,
 * and the rest (the bare domain, minpaas.<domain>) is the platform's.
 * STATE_EXISTS when host is taken: a custom domain of any app or a route;
 * the app that holds it (when known) is copied to owner.
 */
int state_domain_add(struct state *st, const char *app, const char *host,
    char *owner, size_t ownerlen);
/* Removes host from app and its route; STATE_NOTFOUND when app lacks it. */
int state_domain_remove(struct state *st, const char *app, const char *host);
/* The app that has host as a custom domain into app (STATE_NOTFOUND). */
int state_domain_get(
    struct state *st, const char *host, char *app, size_t applen);
/* app's custom domains, sorted; *out is an array of *n hostnames (free). */
typedef char state_hostname[STATE_MAXHOST + 1];
int state_domain_list(
    struct state *st, const char *app, state_hostname **out, size_t *n);

/* --- access: keys granted an app besides its owner (state/access.c) ------ */
/* STATE_EXISTS when fp holds the grant already. */
int state_access_grant(struct state *st, const char *app, const char *fp);
/* STATE_NOTFOUND when fp holds no grant on app. */
int state_access_revoke(struct state *st, const char *app, const char *fp);
/* Removes every grant of fp (the key is gone). */
int state_access_revoke_key(struct state *st, const char *fp);
/*
 * 0 when the key fp owns app or was granted it, STATE_NOTFOUND when not
 * (admins are apps_access's business: entry points call that), -1 on error.
 */
int state_access_check(
    struct state *st, const struct state_app *app, const char *fp);
/* Fingerprints granted app, sorted; *out is an array of *n (free it). */
typedef char state_fingerprint[64];
int state_access_list(
    struct state *st, const char *app, state_fingerprint **out, size_t *n);

/* --- ports: the fixed host-port pool for containers ----------------------- */
/* Takes the lowest free port in [STATE_PORT_MIN, STATE_PORT_MAX] for app. */
int state_port_alloc(struct state *st, const char *app, uint16_t *port);
int state_port_free(struct state *st, uint16_t port);
struct state_port {
	uint16_t port;
	char app[32];
};
/* Every port taken from the pool, in order, with the app it went to
 * (*out: free it). */
int state_port_list(struct state *st, struct state_port **out, size_t *n);

/* --- meta: small settings shared by the processes (domain, ports) -------- */
/* Copies the value NUL-terminated into out (truncating to outlen - 1). */
int state_meta_get(struct state *st, const char *key, char *out, size_t outlen);
int state_meta_set(struct state *st, const char *key, const char *value);

/* --- images an admin allowed developers to use (state/images.c) -------- */
#define STATE_MAXIMAGE 255
typedef char state_image[STATE_MAXIMAGE + 1];
/* STATE_EXISTS when it is allowed already. */
int state_image_allow(struct state *st, const char *name);
/* STATE_NOTFOUND when it was not allowed. */
int state_image_disallow(struct state *st, const char *name);
/* 0 when name is allowed, STATE_NOTFOUND when not. */
int state_image_allowed(struct state *st, const char *name);
/* The allowed images, sorted; *out is an array of *n names (free it). */
int state_image_list(struct state *st, state_image **out, size_t *n);

#define STATE_INSTANCE_LEN 8
/*
 * This instance's id into out (at least STATE_INSTANCE_LEN + 1 bytes): eight
 * lower-case hex digits made from the kernel's random bytes at first use and
 * kept (meta "instance"). Every container, image and label minpaas makes in
 * Docker carries it, so two instances on one daemon never touch each
 * other's things.
 */
int state_instance(struct state *st, char *out, size_t outlen);

/* --- env: the app's config, app NUL KEY -> value bytes ------------------- */
#define STATE_MAXENVKEY   255
#define STATE_MAXENVVALUE (64 * 1024)
#define STATE_MAXENVVARS  1000

/* An app's config as "KEY=VALUE" strings sorted by key; values hold any byte
 * but NUL. */
struct state_env {
	size_t n;
	char **vars; /* n strings, then NULL */
};

/* 1 when key matches [A-Za-z_][A-Za-z0-9_]* and fits STATE_MAXENVKEY. */
int state_env_key_valid(const char *key);
int state_env_get(struct state *st, const char *app, struct state_env *out);
/*
 * In one write: sets each "KEY=VALUE" of set and removes each KEY of unset
 * (either may be NULL; NULL-terminated arrays). Keys must be valid; the
 * caller checks values. Fills `after` (when non-NULL) with the result.
 */
int state_env_update(struct state *st, const char *app, const char *const *set,
    const char *const *unset, struct state_env *after);
void state_env_release(struct state_env *env);
/* The env snapshot release app/number runs with (state_env_release it);
 * STATE_NOTFOUND when the release has none. */
int state_release_env(
    struct state *st, const char *app, uint32_t number, struct state_env *out);

/* --- the router's per-request reader -------------------------------------- */
/*
 * A read-only lookup handle that keeps one reset read transaction and renews
 * it per lookup (no syscall, no lock), so a route committed by any process
 * is seen by the next lookup. One per thread.
 */
struct state_reader;

/* A new reader on st into *out (free it with state_reader_free); 0 or -1. */
int state_reader_new(struct state_reader **out, struct state *st);
void state_reader_free(struct state_reader *r);
/* Clears reader slots left by processes that died; long-running processes
 * call it now and then (e.g. every minute). Returns how many were cleared,
 * or -1 with err_set(). */
int state_reader_check(struct state *st);
/* host need not be NUL-terminated; it must already be lower-case. */
int state_reader_route(struct state_reader *r, const char *host, size_t hostlen,
    struct state_route *out);

#endif
