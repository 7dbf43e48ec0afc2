/*
 * state/images.c: the images an admin allowed developer keys to build from
 * and deploy (images:allow), kept in meta as "allow-image:<name>" keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/state_int.h"

#define IMAGES_PREFIX "allow-image:"

static int
images_key(const char *name, char *key, size_t len)
{
	size_t n = strlen(name);

	if (n == 0 || n > STATE_MAXIMAGE)
		return err_set("invalid image name '%.64s'", name);
	snprintf(key, len, "%s%s", IMAGES_PREFIX, name);
	return (int)(strlen(IMAGES_PREFIX) + n);
}

int
state_image_allow(struct state *st, const char *name)
{
	char key[sizeof IMAGES_PREFIX + STATE_MAXIMAGE];
	int n;

	if ((n = images_key(name, key, sizeof key)) == -1)
		return -1;
	return state_put_one(
	    st, DB_META, key, (size_t)n, "", 0, MDB_NOOVERWRITE);
}

int
state_image_disallow(struct state *st, const char *name)
{
	char key[sizeof IMAGES_PREFIX + STATE_MAXIMAGE];
	int n;

	if ((n = images_key(name, key, sizeof key)) == -1)
		return -1;
	return state_del_one(st, DB_META, key, (size_t)n);
}

int
state_image_allowed(struct state *st, const char *name)
{
	char key[sizeof IMAGES_PREFIX + STATE_MAXIMAGE], *v;
	size_t vlen;
	int n, rc;

	if ((n = images_key(name, key, sizeof key)) == -1)
		return -1;
	rc = state_get_copy(st, DB_META, key, (size_t)n, &v, &vlen);
	if (rc == 0)
		free(v);
	return rc;
}

int
state_image_list(struct state *st, state_image **out, size_t *n)
{
	size_t plen = strlen(IMAGES_PREFIX), cnt = 0, cap = 0;
	state_image *list = NULL, *grown;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = {plen, IMAGES_PREFIX}, v;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_META], &cur)) != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= plen ||
		    memcmp(k.mv_data, IMAGES_PREFIX, plen) != 0)
			break; /* past the prefix: rc stays 0 */
		if (k.mv_size - plen > STATE_MAXIMAGE)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(list, cap * sizeof *list)) ==
			    NULL) {
				rc = err_set("out of memory");
				break;
			}
			list = grown;
		}
		memcpy(list[cnt], (char *)k.mv_data + plen, k.mv_size - plen);
		list[cnt][k.mv_size - plen] = '\0';
		cnt++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(list);
		return rc == -1 ? -1 : state_lmdb_error(rc, "cursor");
	}
	*out = list;
	*n = cnt;
	return 0;
}
