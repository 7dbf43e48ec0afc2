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

int state_lmdb_error(int rc, const char *what);
int state_txn_begin(struct state *st, int write, MDB_txn **txn);
int state_txn_commit(MDB_txn *txn);
/* Copies the value of key in db into a malloc'd NUL-terminated *out. */
int state_get_copy(struct state *st, int db, const void *key, size_t keylen,
    char **out, size_t *outlen);
int state_put_raw(MDB_txn *txn, struct state *st, int db, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags);
int state_del_raw(
    MDB_txn *txn, struct state *st, int db, const void *key, size_t keylen);

/*
 * Stores the env snapshot of release (app, number) inside txn: env, or the
 * app's current config when env is NULL (state/relenv.c).
 */
int state_relenv_put(MDB_txn *txn, struct state *st, const char *app,
    uint32_t number, const struct state_env *env);

/* Stores the route of host inside txn (state/records.c). */
int state_route_write(MDB_txn *txn, struct state *st, const char *host,
    const struct state_route *route);
/* Points every custom domain of app at route inside txn (state/domains.c). */
int state_domain_routes_txn(MDB_txn *txn, struct state *st, const char *app,
    const struct state_route *route);

/* Route values are "app\tupstream\tupstream...": compact for the router. */
int state_route_decode(const char *v, size_t len, struct state_route *out);

#endif
