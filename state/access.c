/*
 * state/access.c: which keys may use an app besides the key that created it.
 * One record per grant, app NUL fingerprint -> "1", so the grants of an app
 * are one prefix and a check is one lookup.
 *
 * Guarantees: a grant names an app and a key fingerprint, nothing else; an
 * app's grants go with it (state_app_delete), a key's with the key
 * (state_access_revoke_key).
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/state_int.h"

#define ACCESS_MAXKEY 160 /* app (31) NUL fingerprint (63) */

static int
access_key(char *key, const char *app, const char *fp, size_t *len)
{
	size_t an = strlen(app), fn = strlen(fp);

	if (an == 0 || an >= 32 || fn == 0 || fn >= 64)
		return err_set("invalid app or key");
	memcpy(key, app, an + 1);
	memcpy(key + an + 1, fp, fn);
	*len = an + 1 + fn;
	return 0;
}

int
state_access_grant(struct state *st, const char *app, const char *fp)
{
	char key[ACCESS_MAXKEY];
	size_t len;

	if (access_key(key, app, fp, &len) == -1)
		return -1;
	return state_put_one(st, DB_ACCESS, key, len, "1", 1, MDB_NOOVERWRITE);
}

int
state_access_revoke(struct state *st, const char *app, const char *fp)
{
	char key[ACCESS_MAXKEY];
	size_t len;

	if (access_key(key, app, fp, &len) == -1)
		return -1;
	return state_del_one(st, DB_ACCESS, key, len);
}

/* Whether grant k is of the key fingerprint fp (whatever the app). */
static int
grant_of_key(const MDB_val *k, const MDB_val *v, const char *fp)
{
	const char *nul = memchr(k->mv_data, '\0', k->mv_size);
	size_t fn = strlen(fp);

	return nul != NULL &&
	       (size_t)((const char *)k->mv_data + k->mv_size - nul - 1) ==
	           fn &&
	       memcmp(nul + 1, fp, fn) == 0;
}

int
state_access_revoke_key(struct state *st, const char *fp)
{
	MDB_txn *txn;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	return state_txn_end(
	    txn, state_del_matching(txn, st, DB_ACCESS, grant_of_key, fp));
}

int
state_access_check(
    struct state *st, const struct state_app *app, const char *fp)
{
	char key[ACCESS_MAXKEY], *v;
	size_t len;
	int rc;

	if (fp == NULL || fp[0] == '\0')
		return STATE_NOTFOUND;
	if (strcmp(app->owner, fp) == 0)
		return 0;
	if (access_key(key, app->name, fp, &len) == -1)
		return STATE_NOTFOUND;
	rc = state_get_copy(st, DB_ACCESS, key, len, &v, NULL);
	if (rc == 0)
		free(v);
	return rc;
}

int
state_access_list(
    struct state *st, const char *app, state_fingerprint **out, size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	state_fingerprint *arr = NULL, *p;
	size_t plen = strlen(app) + 1, cap = 0, cnt = 0, fl;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_ACCESS], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	k.mv_data = (void *)app;
	k.mv_size = plen; /* app NUL: the first grant of app, if any */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= plen || memcmp(k.mv_data, app, plen) != 0)
			break;
		fl = k.mv_size - plen;
		if (fl >= sizeof *arr)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			if ((p = realloc(arr, cap * sizeof *arr)) == NULL) {
				rc = err_set("out of memory");
				break;
			}
			arr = p;
		}
		memcpy(arr[cnt], (char *)k.mv_data + plen, fl);
		arr[cnt++][fl] = '\0';
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(arr);
		return rc == -1 ? -1 : state_lmdb_error(rc, "cursor");
	}
	*out = arr;
	*n = cnt;
	return 0;
}
