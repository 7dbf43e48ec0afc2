/*
 * state/state.c: the LMDB environment and its named databases, and the
 * small transaction helpers the other files of state/ (the only ones of
 * minpaas that call mdb_*) build on.
 *
 * Guarantees: every value handed out is a copy made before its transaction
 * ended; every write is one short transaction; a process opens the
 * environment once (never across fork) and clears stale reader slots left by
 * killed processes when it does.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/home.h"
#include "state/state_int.h"

static const char *const state_dbnames[STATE_NDBS] = {
    [DB_APPS] = "apps",
    [DB_KEYS] = "keys",
    [DB_KEYNAMES] = "keynames",
    [DB_RELEASES] = "releases",
    [DB_ROUTES] = "routes",
    [DB_PORTS] = "ports",
    [DB_META] = "meta",
    [DB_ENV] = "env",
    [DB_RELENV] = "relenv",
    [DB_BUILDLOG] = "buildlogs",
    [DB_PROCS] = "procs",
    [DB_DOMAINS] = "domains",
    [DB_ACCESS] = "access",
};

int
state_lmdb_error(int rc, const char *what)
{
	return err_set("state: %s: %s", what, mdb_strerror(rc));
}

int
state_open(struct state **out, const char *home)
{
	struct state *st;
	char path[HOME_MAXPATH];
	MDB_txn *txn = NULL;
	int rc, dead, i;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/state", home) >=
	    sizeof path)
		return err_set("state: path too long");
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return err_set("cannot create '%s': %s", path, strerror(errno));
	if ((st = calloc(1, sizeof *st)) == NULL)
		return err_set("out of memory");
	if ((rc = mdb_env_create(&st->env)) != 0) {
		free(st);
		return state_lmdb_error(rc, "create");
	}
	mdb_env_set_maxdbs(st->env, STATE_NDBS + 2);
	mdb_env_set_maxreaders(st->env, STATE_MAXREADERS);
	mdb_env_set_mapsize(st->env, STATE_MAPSIZE);
	if ((rc = mdb_env_open(st->env, path, MDB_NOTLS, 0660)) != 0) {
		err_set("cannot open state '%s': %s", path, mdb_strerror(rc));
		goto fail;
	}
	mdb_reader_check(st->env, &dead);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
		state_lmdb_error(rc, "begin");
		goto fail;
	}
	for (i = 0; i < STATE_NDBS; i++) {
		rc = mdb_dbi_open(
		    txn, state_dbnames[i], MDB_CREATE, &st->dbi[i]);
		if (rc != 0) {
			state_lmdb_error(rc, state_dbnames[i]);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		state_lmdb_error(rc, "commit");
		goto fail;
	}
	*out = st;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(st->env);
	free(st);
	return -1;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	free(st);
}

int
state_txn_begin(struct state *st, int write, MDB_txn **txn)
{
	int rc;

	rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size, retry */
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, txn);
	}
	if (rc != 0)
		return state_lmdb_error(rc, "begin");
	return 0;
}

int
state_txn_commit(MDB_txn *txn)
{
	int rc;

	if ((rc = mdb_txn_commit(txn)) != 0)
		return state_lmdb_error(rc, "commit");
	return 0;
}

int
state_txn_end(MDB_txn *txn, int rc)
{
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return state_txn_commit(txn);
}

int
state_get_copy(struct state *st, int db, const void *key, size_t keylen,
    char **out, size_t *outlen)
{
	MDB_txn *txn;
	MDB_val k = {keylen, (void *)key}, v;
	int rc;

	*out = NULL;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	rc = mdb_get(txn, st->dbi[db], &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return STATE_NOTFOUND;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "get");
	}
	if ((*out = malloc(v.mv_size + 1)) == NULL) {
		mdb_txn_abort(txn);
		return err_set("out of memory");
	}
	memcpy(*out, v.mv_data, v.mv_size);
	(*out)[v.mv_size] = '\0';
	if (outlen)
		*outlen = v.mv_size;
	mdb_txn_abort(txn);
	return 0;
}

int
state_put_raw(MDB_txn *txn, struct state *st, int db, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags)
{
	MDB_val k = {keylen, (void *)key}, v = {vallen, (void *)val};
	int rc;

	rc = mdb_put(txn, st->dbi[db], &k, &v, flags);
	if (rc == MDB_KEYEXIST)
		return STATE_EXISTS;
	if (rc != 0)
		return state_lmdb_error(rc, "put");
	return 0;
}

int
state_del_raw(
    MDB_txn *txn, struct state *st, int db, const void *key, size_t keylen)
{
	MDB_val k = {keylen, (void *)key};
	int rc;

	rc = mdb_del(txn, st->dbi[db], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return STATE_NOTFOUND;
	if (rc != 0)
		return state_lmdb_error(rc, "del");
	return 0;
}

int
state_get_decoded(struct state *st, int db, const void *key, size_t keylen,
    int (*decode)(const char *, size_t, void *), void *out)
{
	char *v;
	size_t n;
	int rc;

	if ((rc = state_get_copy(st, db, key, keylen, &v, &n)) != 0)
		return rc;
	rc = decode(v, n, out);
	free(v);
	return rc;
}

int
state_put_one(struct state *st, int db, const void *key, size_t keylen,
    const void *val, size_t vallen, unsigned flags)
{
	MDB_txn *txn;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	return state_txn_end(
	    txn, state_put_raw(txn, st, db, key, keylen, val, vallen, flags));
}

int
state_del_one(struct state *st, int db, const void *key, size_t keylen)
{
	MDB_txn *txn;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	return state_txn_end(txn, state_del_raw(txn, st, db, key, keylen));
}

int
state_del_matching(MDB_txn *txn, struct state *st, int db,
    int (*match)(const MDB_val *, const MDB_val *, const char *),
    const char *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0)
		return state_lmdb_error(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (match(&k, &v, arg) && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return state_lmdb_error(rc, "delete");
	return 0;
}

size_t
state_relkey(char *key, const char *app, uint32_t number)
{
	size_t n = strlen(app);

	memcpy(key, app, n);
	key[n] = '\0';
	key[n + 1] = (char)(number >> 24);
	key[n + 2] = (char)(number >> 16);
	key[n + 3] = (char)(number >> 8);
	key[n + 4] = (char)number;
	return n + 5;
}

/* --- meta ----------------------------------------------------------------- */

int
state_meta_get(struct state *st, const char *key, char *out, size_t outlen)
{
	char *v;
	size_t n;
	int rc;

	rc = state_get_copy(st, DB_META, key, strlen(key), &v, &n);
	if (rc != 0)
		return rc;
	if (outlen) {
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, v, n);
		out[n] = '\0';
	}
	free(v);
	return 0;
}

int
state_meta_set(struct state *st, const char *key, const char *value)
{
	return state_put_one(
	    st, DB_META, key, strlen(key), value, strlen(value), 0);
}

int
state_instance(struct state *st, char *out, size_t outlen)
{
	unsigned char rnd[STATE_INSTANCE_LEN / 2];
	char id[STATE_INSTANCE_LEN + 1];
	size_t i;
	int rc;

	if (outlen <= STATE_INSTANCE_LEN)
		return err_set("instance id buffer too small");
	rc = state_meta_get(st, "instance", out, outlen);
	if (rc == 0 && strlen(out) == STATE_INSTANCE_LEN)
		return 0;
	if (rc == -1)
		return -1;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return err_set("no random bytes: %s", strerror(errno));
	for (i = 0; i < sizeof rnd; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	/* two first starts at once: the first write wins, both read it */
	rc = state_put_one(st, DB_META, "instance", 8, id, STATE_INSTANCE_LEN,
	    MDB_NOOVERWRITE);
	if (rc == -1)
		return -1;
	return state_meta_get(st, "instance", out, outlen);
}

/* --- ports ---------------------------------------------------------------- */

int
state_port_alloc(struct state *st, const char *app, uint16_t *port)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char key[2];
	unsigned want = STATE_PORT_MIN, have;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_PORTS], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	/* keys are big-endian, so the cursor walks ports in order: the first
	 * gap is the lowest free port */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 2)
			continue;
		have = ((unsigned char *)k.mv_data)[0] << 8 |
		       ((unsigned char *)k.mv_data)[1];
		if (have < want)
			continue;
		if (have > want)
			break;
		want++;
	}
	mdb_cursor_close(cur);
	if (want > STATE_PORT_MAX) {
		mdb_txn_abort(txn);
		return err_set("no free port left in %d-%d", STATE_PORT_MIN,
		    STATE_PORT_MAX);
	}
	key[0] = want >> 8;
	key[1] = want & 0xff;
	rc = state_put_raw(txn, st, DB_PORTS, key, 2, app, strlen(app), 0);
	if ((rc = state_txn_end(txn, rc)) != 0)
		return rc;
	*port = (uint16_t)want;
	return 0;
}

int
state_port_free(struct state *st, uint16_t port)
{
	unsigned char key[2] = {port >> 8, port & 0xff};

	return state_del_one(st, DB_PORTS, key, 2);
}

int
state_port_list(struct state *st, struct state_port **out, size_t *n)
{
	struct state_port *ports = NULL, *grown;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_PORTS], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 2)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(ports, cap * sizeof *ports)) ==
			    NULL) {
				rc = err_set("out of memory");
				break;
			}
			ports = grown;
		}
		ports[cnt].port =
		    (uint16_t)(((unsigned char *)k.mv_data)[0] << 8 |
		               ((unsigned char *)k.mv_data)[1]);
		snprintf(ports[cnt].app, sizeof ports[cnt].app, "%.*s",
		    (int)(v.mv_size < sizeof ports[cnt].app
		              ? v.mv_size
		              : sizeof ports[cnt].app - 1),
		    (const char *)v.mv_data);
		cnt++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND) {
		free(ports);
		return rc == -1 ? -1 : state_lmdb_error(rc, "cursor");
	}
	*out = ports;
	*n = cnt;
	return 0;
}

/* --- the router's reader -------------------------------------------------- */

struct state_reader {
	struct state *st;
	MDB_txn *txn; /* reset between lookups; renewed per lookup */
};

int
state_reader_new(struct state_reader **out, struct state *st)
{
	struct state_reader *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return err_set("out of memory");
	r->st = st;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &r->txn)) != 0) {
		free(r);
		return state_lmdb_error(rc, "begin");
	}
	mdb_txn_reset(r->txn);
	*out = r;
	return 0;
}

void
state_reader_free(struct state_reader *r)
{
	if (r == NULL)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

int
state_reader_route(struct state_reader *r, const char *host, size_t hostlen,
    struct state_route *out)
{
	MDB_val k = {hostlen, (void *)host}, v;
	int rc;

	rc = mdb_txn_renew(r->txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_txn_abort(r->txn);
		r->txn = NULL;
		mdb_env_set_mapsize(r->st->env, 0);
		rc = mdb_txn_begin(r->st->env, NULL, MDB_RDONLY, &r->txn);
	}
	if (rc != 0) {
		if (r->txn == NULL) {
			/* keep the handle usable: the next lookup retries */
			if (mdb_txn_begin(
			        r->st->env, NULL, MDB_RDONLY, &r->txn) == 0)
				mdb_txn_reset(r->txn);
		}
		return state_lmdb_error(rc, "renew");
	}
	if (hostlen == 0 || hostlen > STATE_MAXHOST) {
		mdb_txn_reset(r->txn);
		return STATE_NOTFOUND;
	}
	rc = mdb_get(r->txn, r->st->dbi[DB_ROUTES], &k, &v);
	if (rc == 0)
		rc = state_route_decode(v.mv_data, v.mv_size, out);
	else if (rc == MDB_NOTFOUND)
		rc = STATE_NOTFOUND;
	else
		rc = state_lmdb_error(rc, "get");
	mdb_txn_reset(r->txn);
	return rc;
}

int
state_reader_check(struct state *st)
{
	int dead = 0, rc;

	if ((rc = mdb_reader_check(st->env, &dead)) != 0)
		return state_lmdb_error(rc, "reader check");
	return dead;
}
