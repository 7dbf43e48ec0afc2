/*
 * state/records.c: the typed records (apps, keys, releases, routes) and their
 * encodings. Apps, keys and releases are stored as compact JSON objects so a
 * later field is an addition, not a migration; routes are a tab-separated
 * line because the router decodes one on every request (the app name alone
 * when the app is stopped).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "state/state_int.h"

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int64_t
jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Encodes obj (stealing it) and stores it under key in one write. */
static int
put_json(MDB_txn *txn, struct state *st, int db, const void *key, size_t keylen,
    json_t *obj, unsigned flags)
{
	char *text;
	int rc;

	if (obj == NULL)
		return err_set("out of memory");
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return err_set("out of memory");
	rc = state_put_raw(txn, st, db, key, keylen, text, strlen(text), flags);
	free(text);
	return rc;
}

static json_t *
load_json(const char *text, size_t len)
{
	json_error_t e;
	json_t *o = json_loadb(text, len, 0, &e);

	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		err_set("state: corrupt record: %s", e.text);
		return NULL;
	}
	return o;
}

/* --- apps ----------------------------------------------------------------- */

static json_t *
app_encode(const struct state_app *a)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "name", a->name,
	    "owner", a->owner, "branch", a->branch, "runtime", a->runtime,
	    "commit", a->commit, "release", (json_int_t)a->release, "created",
	    (json_int_t)a->created);
}

static int
app_decode(const char *text, size_t len, void *arg)
{
	struct state_app *a = arg;
	json_t *o = load_json(text, len);

	if (o == NULL)
		return -1;
	memset(a, 0, sizeof *a);
	COPY(a->name, jstr(o, "name"));
	COPY(a->owner, jstr(o, "owner"));
	COPY(a->branch, jstr(o, "branch"));
	COPY(a->runtime, jstr(o, "runtime"));
	COPY(a->commit, jstr(o, "commit"));
	a->release = (uint32_t)jint(o, "release");
	a->created = jint(o, "created");
	json_decref(o);
	return 0;
}

int
state_app_get(struct state *st, const char *name, struct state_app *out)
{
	return state_get_decoded(
	    st, DB_APPS, name, strlen(name), app_decode, out);
}

int
state_app_create(struct state *st, const struct state_app *app)
{
	char host[STATE_MAXHOST + 1];
	MDB_txn *txn;
	MDB_val k = {strlen(app->name), (void *)app->name}, v;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	/* the name first: an app that exists is "exists", not "taken" */
	rc = mdb_get(txn, st->dbi[DB_APPS], &k, &v);
	if (rc == 0)
		rc = STATE_EXISTS;
	else if (rc != MDB_NOTFOUND)
		rc = state_lmdb_error(rc, "get");
	else if ((rc = state_app_host_txn(
	              txn, st, app->name, host, sizeof host)) == 0 &&
	         (rc = state_host_free_txn(txn, st, host)) == 0)
		rc = put_json(txn, st, DB_APPS, app->name, strlen(app->name),
		    app_encode(app), MDB_NOOVERWRITE);
	return state_txn_end(txn, rc);
}

int
state_app_put(struct state *st, const struct state_app *app)
{
	MDB_txn *txn;
	MDB_val k = {strlen(app->name), (void *)app->name}, v;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = mdb_get(txn, st->dbi[DB_APPS], &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = STATE_NOTFOUND;
	else if (rc != 0)
		rc = state_lmdb_error(rc, "get");
	else
		rc = put_json(txn, st, DB_APPS, app->name, strlen(app->name),
		    app_encode(app), 0);
	return state_txn_end(txn, rc);
}

static int
release_of(const MDB_val *k, const MDB_val *v, const char *app)
{
	size_t n = strlen(app);

	return k->mv_size == n + 5 && memcmp(k->mv_data, app, n) == 0 &&
	       ((char *)k->mv_data)[n] == '\0';
}

static int
env_of(const MDB_val *k, const MDB_val *v, const char *app)
{
	size_t n = strlen(app);

	return k->mv_size > n + 1 && memcmp(k->mv_data, app, n) == 0 &&
	       ((char *)k->mv_data)[n] == '\0';
}

static int
value_is(const MDB_val *k, const MDB_val *v, const char *app)
{
	return v->mv_size == strlen(app) &&
	       memcmp(v->mv_data, app, v->mv_size) == 0;
}

static int
route_of(const MDB_val *k, const MDB_val *v, const char *app)
{
	size_t n = strlen(app);

	/* a stopped app's route is the app name alone */
	return v->mv_size >= n && memcmp(v->mv_data, app, n) == 0 &&
	       (v->mv_size == n || ((char *)v->mv_data)[n] == '\t');
}

/* What an app owns in each db besides its record, and how to find it. */
static const struct {
	int db;
	int (*match)(const MDB_val *, const MDB_val *, const char *);
} app_owned[] = {
    {DB_RELEASES, release_of},
    {DB_RELENV, release_of},
    {DB_PORTS, value_is},
    {DB_ROUTES, route_of},
    {DB_ENV, env_of},
    {DB_BUILDLOG, release_of},
    {DB_PROCS, release_of},
    {DB_DOMAINS, value_is},
    {DB_ACCESS, env_of},
};

int
state_app_delete(struct state *st, const char *name)
{
	MDB_txn *txn;
	size_t i;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = state_del_raw(txn, st, DB_APPS, name, strlen(name));
	for (i = 0; rc == 0 && i < sizeof app_owned / sizeof *app_owned; i++)
		rc = state_del_matching(
		    txn, st, app_owned[i].db, app_owned[i].match, name);
	return state_txn_end(txn, rc);
}

/*
 * Copies out every record of db whose key starts with prefix (all when
 * prefix is NULL), decoded by decode into an array of elements of size
 * `size`. Walks backwards when reverse is set.
 */
static int
list_records(struct state *st, int db, const char *prefix, size_t plen,
    int reverse, size_t size, int (*decode)(const char *, size_t, void *),
    void **out, size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	char *arr = NULL, *p;
	size_t cap = 0, cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_LAST : MDB_FIRST);
	     rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
		if (prefix &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = realloc(arr, cap * size)) == NULL) {
				rc = err_set("out of memory");
				goto done;
			}
			arr = p;
		}
		if (decode(v.mv_data, v.mv_size, arr + cnt * size) == -1) {
			rc = -1;
			goto done;
		}
		cnt++;
	}
	rc = 0;
done:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0) {
		free(arr);
		return -1;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

int
state_app_list(struct state *st, struct state_app **out, size_t *n)
{
	return list_records(
	    st, DB_APPS, NULL, 0, 0, sizeof **out, app_decode, (void **)out, n);
}

/* --- keys ----------------------------------------------------------------- */

static int
key_decode(const char *text, size_t len, void *arg)
{
	struct state_key *key = arg;
	json_t *o = load_json(text, len);

	if (o == NULL)
		return -1;
	memset(key, 0, sizeof *key);
	COPY(key->fp, jstr(o, "fp"));
	COPY(key->name, jstr(o, "name"));
	/* keys stored before roles existed are admins */
	COPY(key->role, *jstr(o, "role") ? jstr(o, "role") : "admin");
	COPY(key->pubkey, jstr(o, "pubkey"));
	key->created = jint(o, "created");
	json_decref(o);
	return 0;
}

int
state_key_add(struct state *st, const struct state_key *key)
{
	MDB_txn *txn;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = state_put_raw(txn, st, DB_KEYNAMES, key->name, strlen(key->name),
	    key->fp, strlen(key->fp), MDB_NOOVERWRITE);
	if (rc == 0)
		rc = put_json(txn, st, DB_KEYS, key->fp, strlen(key->fp),
		    json_pack("{s:s, s:s, s:s, s:s, s:I}", "fp", key->fp,
		        "name", key->name, "role", key->role, "pubkey",
		        key->pubkey, "created", (json_int_t)key->created),
		    MDB_NOOVERWRITE);
	return state_txn_end(txn, rc);
}

int
state_key_get(struct state *st, const char *fp, struct state_key *out)
{
	return state_get_decoded(st, DB_KEYS, fp, strlen(fp), key_decode, out);
}

int
state_key_remove(struct state *st, const char *name)
{
	MDB_txn *txn;
	MDB_val k = {strlen(name), (void *)name}, v;
	char fp[64];
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = mdb_get(txn, st->dbi[DB_KEYNAMES], &k, &v);
	if (rc != 0 || v.mv_size >= sizeof fp) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? STATE_NOTFOUND
		                          : state_lmdb_error(rc, "get");
	}
	memcpy(fp, v.mv_data, v.mv_size);
	fp[v.mv_size] = '\0';
	rc = state_del_raw(txn, st, DB_KEYNAMES, name, strlen(name));
	if (rc == 0)
		rc = state_del_raw(txn, st, DB_KEYS, fp, strlen(fp));
	return state_txn_end(txn, rc == STATE_NOTFOUND ? 0 : rc);
}

int
state_key_list(struct state *st, struct state_key **out, size_t *n)
{
	return list_records(
	    st, DB_KEYS, NULL, 0, 0, sizeof **out, key_decode, (void **)out, n);
}

/* --- releases ------------------------------------------------------------- */

static json_t *
release_encode(const struct state_release *r)
{
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
	                 "s:I, s:I, s:s}",
	    "app", r->app, "number", (json_int_t)r->number, "commit", r->commit,
	    "image", r->image, "status", r->status, "cause", r->cause, "by",
	    r->by, "command", r->command, "container", r->container, "port",
	    (json_int_t)r->port, "created", (json_int_t)r->created, "finished",
	    (json_int_t)r->finished, "healthcheck", r->healthcheck);
}

static int
release_decode(const char *text, size_t len, void *arg)
{
	struct state_release *r = arg;
	json_t *o = load_json(text, len);

	if (o == NULL)
		return -1;
	memset(r, 0, sizeof *r);
	COPY(r->app, jstr(o, "app"));
	r->number = (uint32_t)jint(o, "number");
	COPY(r->commit, jstr(o, "commit"));
	COPY(r->image, jstr(o, "image"));
	COPY(r->status, jstr(o, "status"));
	/* what earlier versions called a release that stopped serving */
	if (strcmp(r->status, "retired") == 0)
		COPY(r->status, STATE_REL_SUPERSEDED);
	COPY(r->cause, jstr(o, "cause"));
	COPY(r->by, jstr(o, "by"));
	COPY(r->command, jstr(o, "command"));
	COPY(r->container, jstr(o, "container"));
	r->port = (uint16_t)jint(o, "port");
	r->created = jint(o, "created");
	r->finished = jint(o, "finished");
	COPY(r->healthcheck, jstr(o, "healthcheck"));
	json_decref(o);
	return 0;
}

static int
release_write(MDB_txn *txn, struct state *st, const struct state_release *r,
    unsigned flags)
{
	char key[sizeof r->app + 5];

	if (strlen(r->app) == 0 || r->number == 0)
		return err_set("state: release without app or number");
	return put_json(txn, st, DB_RELEASES, key,
	    state_relkey(key, r->app, r->number), release_encode(r), flags);
}

/* Numbers and stores rel with its env snapshot (env, or the app's current
 * config when NULL) in one write. */
static int
release_new(
    struct state *st, struct state_release *rel, const struct state_env *env)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	char key[sizeof rel->app + 5];
	size_t klen, plen = strlen(rel->app) + 1;
	uint32_t last = 0;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_RELEASES], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	/* the app's highest number sits just before app NUL ff ff ff ff */
	klen = state_relkey(key, rel->app, UINT32_MAX);
	k.mv_size = klen;
	k.mv_data = key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == klen && memcmp(k.mv_data, key, klen) == 0)
		last = UINT32_MAX;
	else if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && last == 0 && k.mv_size == plen + 4 &&
	    memcmp(k.mv_data, key, plen) == 0) {
		const unsigned char *p = (unsigned char *)k.mv_data + plen;
		last = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	}
	mdb_cursor_close(cur);
	if (last == UINT32_MAX) {
		mdb_txn_abort(txn);
		return err_set(
		    "app '%s' has run out of release numbers", rel->app);
	}
	if (strcmp(rel->status, STATE_REL_BUILDING) != 0 &&
	    strcmp(rel->status, STATE_REL_DEPLOYING) != 0) {
		mdb_txn_abort(txn);
		return err_set("a new release starts building or deploying, "
		               "not '%s'",
		    rel->status);
	}
	rel->number = last + 1;
	rc = release_write(txn, st, rel, MDB_NOOVERWRITE);
	if (rc == 0)
		rc = state_relenv_put(txn, st, rel->app, rel->number, env);
	return state_txn_end(txn, rc);
}

int
state_release_new(struct state *st, struct state_release *rel)
{
	return release_new(st, rel, NULL);
}

int
state_release_new_env(
    struct state *st, struct state_release *rel, const struct state_env *env)
{
	static const struct state_env none = {0, NULL};

	return release_new(st, rel, env ? env : &none);
}

/* The stored record of rel inside txn into out: 0, STATE_NOTFOUND or -1. */
static int
release_read(MDB_txn *txn, struct state *st, const char *app, uint32_t number,
    struct state_release *out)
{
	char key[STATE_RELKEY_MAX];
	MDB_val k, v;
	int rc;

	if (strlen(app) >= sizeof out->app)
		return STATE_NOTFOUND;
	k.mv_size = state_relkey(key, app, number);
	k.mv_data = key;
	rc = mdb_get(txn, st->dbi[DB_RELEASES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STATE_NOTFOUND;
	if (rc != 0)
		return state_lmdb_error(rc, "get");
	return release_decode(v.mv_data, v.mv_size, out);
}

int
state_release_move_ok(const char *from, const char *to)
{
	static const char *const moves[][2] = {
	    {STATE_REL_BUILDING, STATE_REL_DEPLOYING},
	    {STATE_REL_BUILDING, STATE_REL_FAILED},
	    {STATE_REL_DEPLOYING, STATE_REL_LIVE},
	    {STATE_REL_DEPLOYING, STATE_REL_FAILED},
	    {STATE_REL_LIVE, STATE_REL_SUPERSEDED},
	};
	size_t i;

	for (i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (strcmp(from, moves[i][0]) == 0 &&
		    strcmp(to, moves[i][1]) == 0)
			return 1;
	return 0;
}

/* Inside txn: checks that the stored record of rel may move to `to`, then
 * stores rel with that status. */
static int
release_move_txn(
    MDB_txn *txn, struct state *st, struct state_release *rel, const char *to)
{
	struct state_release cur;
	int rc;

	rc = release_read(txn, st, rel->app, rel->number, &cur);
	if (rc == STATE_NOTFOUND)
		return err_set("%s v%u is not recorded", rel->app, rel->number);
	if (rc != 0)
		return -1;
	if (!state_release_move_ok(cur.status, to)) {
		err_set("%s v%u is %s; it cannot become %s", rel->app,
		    rel->number, cur.status, to);
		return STATE_BADMOVE;
	}
	COPY(rel->status, to);
	if ((rc = release_write(txn, st, rel, 0)) != 0)
		return rc;
	log_debug(
	    "release %s v%u: %s -> %s", rel->app, rel->number, cur.status, to);
	return 0;
}

int
state_release_move(struct state *st, struct state_release *rel, const char *to)
{
	char was[sizeof rel->status];
	MDB_txn *txn;
	int rc;

	memcpy(was, rel->status, sizeof was);
	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = state_txn_end(txn, release_move_txn(txn, st, rel, to));
	if (rc != 0)
		memcpy(rel->status, was, sizeof was);
	return rc;
}

int
state_release_put(struct state *st, const struct state_release *rel)
{
	struct state_release cur;
	MDB_txn *txn;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = release_read(txn, st, rel->app, rel->number, &cur);
	if (rc == 0 && strcmp(cur.status, rel->status) != 0)
		rc = err_set("%s v%u: its status changes only through "
		             "state_release_move (%s -> %s)",
		    rel->app, rel->number, cur.status, rel->status);
	else if (rc == STATE_NOTFOUND)
		rc = err_set("%s v%u is not recorded", rel->app, rel->number);
	if (rc == 0)
		rc = release_write(txn, st, rel, 0);
	return state_txn_end(txn, rc);
}

int
state_release_get(struct state *st, const char *app, uint32_t number,
    struct state_release *out)
{
	char key[STATE_RELKEY_MAX];

	if (strlen(app) >= sizeof out->app)
		return STATE_NOTFOUND;
	return state_get_decoded(st, DB_RELEASES, key,
	    state_relkey(key, app, number), release_decode, out);
}

int
state_release_list(
    struct state *st, const char *app, struct state_release **out, size_t *n)
{
	char prefix[64];
	size_t plen = strlen(app) + 1;

	if (plen > sizeof prefix - 4)
		return err_set("app name too long");
	memcpy(prefix, app, plen);
	return list_records(st, DB_RELEASES, prefix, plen, 1, sizeof **out,
	    release_decode, (void **)out, n);
}

/* --- routes --------------------------------------------------------------- */

int
state_route_decode(const char *v, size_t len, struct state_route *out)
{
	const char *end = v + len, *p = v, *tab;
	size_t n;
	int field = 0;

	memset(out, 0, sizeof *out);
	while (p <= end) {
		tab = memchr(p, '\t', end - p);
		if (tab == NULL)
			tab = end;
		n = tab - p;
		if (field == 0) {
			if (n >= sizeof out->app)
				return err_set("state: corrupt route");
			memcpy(out->app, p, n);
		} else if (out->nupstreams < STATE_MAXUPSTREAMS && n > 0 &&
		           n < sizeof out->upstream[0]) {
			memcpy(out->upstream[out->nupstreams++], p, n);
		}
		field++;
		p = tab + 1;
	}
	return 0;
}

int
state_route_write(MDB_txn *txn, struct state *st, const char *host,
    const struct state_route *r)
{
	char val[sizeof r->app + STATE_MAXUPSTREAMS * sizeof r->upstream[0]];
	size_t len;
	int i;

	if (strlen(host) == 0 || strlen(host) > STATE_MAXHOST)
		return err_set("invalid hostname '%s'", host);
	len = (size_t)snprintf(val, sizeof val, "%s", r->app);
	for (i = 0; i < r->nupstreams && i < STATE_MAXUPSTREAMS; i++)
		len += (size_t)snprintf(
		    val + len, sizeof val - len, "\t%s", r->upstream[i]);
	return state_put_raw(
	    txn, st, DB_ROUTES, host, strlen(host), val, len, 0);
}

int
state_route_set_app(
    struct state *st, const char *app, const struct state_route *route)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	state_hostname *hosts = NULL, *p;
	size_t n = 0, cap = 0, i;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_ROUTES], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	/* collect first: the values change size, so no put under the cursor */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!route_of(&k, &v, app) || k.mv_size > STATE_MAXHOST)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((p = realloc(hosts, cap * sizeof *hosts)) == NULL) {
				rc = err_set("out of memory");
				break;
			}
			hosts = p;
		}
		memcpy(hosts[n], k.mv_data, k.mv_size);
		hosts[n++][k.mv_size] = '\0';
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = state_lmdb_error(rc, "cursor");
	for (i = 0; rc == 0 && i < n; i++)
		rc = state_route_write(txn, st, hosts[i], route);
	free(hosts);
	return state_txn_end(txn, rc);
}

static int
route_decode(const char *text, size_t len, void *out)
{
	return state_route_decode(text, len, out);
}

int
state_route_get(struct state *st, const char *host, struct state_route *out)
{
	return state_get_decoded(
	    st, DB_ROUTES, host, strlen(host), route_decode, out);
}

int
state_route_put(
    struct state *st, const char *host, const struct state_route *route)
{
	MDB_txn *txn;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	return state_txn_end(txn, state_route_write(txn, st, host, route));
}

int
state_route_delete(struct state *st, const char *host)
{
	return state_del_one(st, DB_ROUTES, host, strlen(host));
}

int
state_release_activate(struct state *st, struct state_release *rel,
    const char *host, const struct state_route *route)
{
	struct state_release prev;
	struct state_app app;
	MDB_txn *txn;
	MDB_val k = {strlen(rel->app), (void *)rel->app}, v;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = mdb_get(txn, st->dbi[DB_APPS], &k, &v);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND
		           ? err_set("app '%s' does not exist", rel->app)
		           : state_lmdb_error(rc, "get");
	}
	if (app_decode(v.mv_data, v.mv_size, &app) == -1) {
		mdb_txn_abort(txn);
		return -1;
	}
	/* the release that served until now stops being live in this write */
	rc = 0;
	if (app.release != 0 && app.release != rel->number)
		rc = release_read(txn, st, rel->app, app.release, &prev);
	if (rc == 0 && app.release != 0 && app.release != rel->number &&
	    strcmp(prev.status, STATE_REL_LIVE) == 0)
		rc = release_move_txn(txn, st, &prev, STATE_REL_SUPERSEDED);
	else if (rc == STATE_NOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = release_move_txn(txn, st, rel, STATE_REL_LIVE);
	app.release = rel->number;
	COPY(app.commit, rel->commit);
	if (rc == 0)
		rc = put_json(txn, st, DB_APPS, app.name, strlen(app.name),
		    app_encode(&app), 0);
	if (rc == 0)
		rc = state_route_write(txn, st, host, route);
	/* the custom domains follow the swap in the same write */
	if (rc == 0)
		rc = state_domain_routes_txn(txn, st, rel->app, route);
	return state_txn_end(txn, rc);
}
