/*
 * state/state_int.h: what the files of state/ share; nothing outside state/
 * includes it (it brings in <lmdb.h>).
 */
#ifndef MINPAAS_STATE_INT_H
#define MINPAAS_STATE_INT_H

#include <lmdb.h>

#include "state/state.h"

enum {
	DB_APPS,
	DB_KEYS,     /* fingerprint -> key record */
	DB_KEYNAMES, /* name -> fingerprint */
	DB_RELEASES,
	DB_ROUTES,
	DB_PORTS,
	DB_META,
	DB_ENV,      /* app NUL KEY -> value */
	DB_RELENV,   /* app NUL big-endian u32 -> "KEY=VAL\0KEY=VAL\0" */
	DB_BUILDLOG, /* app NUL be32 -> build log (state/buildlog.c) */
	DB_PROCS,    /* app NUL be32 -> process list (state/buildlog.c) */
	DB_DOMAINS,  /* custom hostname -> app (state/domains.c) */
	DB_ACCESS,   /* app NUL key fingerprint -> "1" (state/access.c) */
	STATE_NDBS
};

struct state {
	MDB_env *env;
	MDB_dbi dbi[STATE_NDBS];
};

/* Key bytes of a release-keyed record: app NUL big-endian u32 number. */
#define STATE_RELKEY_MAX (sizeof(((struct state_app *)0)->name) + 5)

/* Records "state: <what>: <LMDB's message>" and returns -1. */
int state_lmdb_error(int rc, const char *what);
/* Begins a transaction (a write one when write is set), adopting a map
 * grown by another process. */
int state_txn_begin(struct state *st, int write, MDB_txn **txn);
int state_txn_commit(MDB_txn *txn);
/*
 * Ends txn as rc says: commits it when rc is 0 and returns what the commit
 * returns, aborts it and returns rc otherwise. The tail of every write.
 */
int state_txn_end(MDB_txn *txn, int rc);
/* Copies the value of key in db into a malloc'd NUL-terminated *out. */
int state_get_copy(struct state *st, int db, const void *key, size_t keylen,
    char **out, size_t *outlen);
/*
 * Reads the value of key in db and hands it to decode(text, len, out):
 * STATE_NOTFOUND, -1, or what decode returns.
 */
int state_get_decoded(struct state *st, int db, const void *key, size_t keylen,
    int (*decode)(const char *, size_t, void *), void *out);
/* mdb_put inside txn: 0, STATE_EXISTS (with MDB_NOOVERWRITE) or -1. */
int state_put_raw(MDB_txn *txn, struct state *st, int db, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags);
/* mdb_del inside txn: 0, STATE_NOTFOUND or -1. */
int state_del_raw(
    MDB_txn *txn, struct state *st, int db, const void *key, size_t keylen);
/* state_put_raw in a write transaction of its own. */
int state_put_one(struct state *st, int db, const void *key, size_t keylen,
    const void *val, size_t vallen, unsigned flags);
/* state_del_raw in a write transaction of its own. */
int state_del_one(struct state *st, int db, const void *key, size_t keylen);
/* Deletes inside txn every record of db for which match(key, value, arg)
 * is true. */
int state_del_matching(MDB_txn *txn, struct state *st, int db,
    int (*match)(const MDB_val *, const MDB_val *, const char *),
    const char *arg);
/*
 * Writes the key of release (app, number) into key (STATE_RELKEY_MAX bytes)
 * and returns its length; the caller has checked that app fits.
 */
size_t state_relkey(char *key, const char *app, uint32_t number);

/* Reads app's config inside txn into out, "KEY=VALUE" each (state/env.c). */
int state_env_read(
    MDB_txn *txn, struct state *st, const char *app, struct state_env *out);

/*
 * Stores the env snapshot of release (app, number) inside txn: env, or the
 * app's current config when env is NULL (state/relenv.c).
 */
int state_relenv_put(MDB_txn *txn, struct state *st, const char *app,
    uint32_t number, const struct state_env *env);

/* Stores the route of host inside txn (state/records.c). */
int state_route_write(MDB_txn *txn, struct state *st, const char *host,
    const struct state_route *route);
/* The generated hostname "<app>.<domain>" of app inside txn into host; -1
 * when it does not fit (state/domains.c). */
int state_app_host_txn(
    MDB_txn *txn, struct state *st, const char *app, char *host, size_t len);
/* STATE_TAKEN when host is a custom domain or has a route, else 0 (or -1),
 * inside txn (state/domains.c). */
int state_host_free_txn(MDB_txn *txn, struct state *st, const char *host);
/* Points every custom domain of app at route inside txn (state/domains.c). */
int state_domain_routes_txn(MDB_txn *txn, struct state *st, const char *app,
    const struct state_route *route);

/* Route values are "app\tupstream\tupstream...": compact for the router. */
int state_route_decode(const char *v, size_t len, struct state_route *out);

#endif
