/*
 * state/buildlog.c: a release's build log and process list (buildlog.h).
 * Guarantees: one short write transaction per put; values are copied out;
 * a stored log is never longer than STATE_MAXBUILDLOG.
 */
#include <string.h>

#include "common/err.h"
#include "state/buildlog.h"
#include "state/state_int.h"

/* "app\0" + big-endian number, as the releases db keys its records. */
static int
relkey(const char *app, uint32_t number, char *key, size_t *keylen)
{
	size_t n = strlen(app);

	if (n == 0 || n >= 32)
		return err_set("invalid app name '%s'", app);
	memcpy(key, app, n + 1);
	key[n + 1] = (char)(number >> 24);
	key[n + 2] = (char)(number >> 16);
	key[n + 3] = (char)(number >> 8);
	key[n + 4] = (char)number;
	*keylen = n + 5;
	return 0;
}

static int
put(struct state *st, int db, const char *app, uint32_t number,
    const char *text, size_t len)
{
	MDB_txn *txn;
	char key[40];
	size_t keylen;

	if (relkey(app, number, key, &keylen) == -1 ||
	    state_txn_begin(st, 1, &txn) == -1)
		return -1;
	if (state_put_raw(txn, st, db, key, keylen, text, len, 0) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return state_txn_commit(txn);
}

static int
get(struct state *st, int db, const char *app, uint32_t number, char **out,
    size_t *len)
{
	char key[40];
	size_t keylen;

	*out = NULL;
	if (relkey(app, number, key, &keylen) == -1)
		return -1;
	return state_get_copy(st, db, key, keylen, out, len);
}

int
state_buildlog_put(struct state *st, const char *app, uint32_t number,
    const char *text, size_t len)
{
	if (len > STATE_MAXBUILDLOG) {
		text += len - STATE_MAXBUILDLOG;
		len = STATE_MAXBUILDLOG;
	}
	return put(st, DB_BUILDLOG, app, number, text, len);
}

int
state_buildlog_get(
    struct state *st, const char *app, uint32_t number, char **out, size_t *len)
{
	return get(st, DB_BUILDLOG, app, number, out, len);
}

int
state_procs_put(struct state *st, const char *app, uint32_t number,
    const char *text, size_t len)
{
	if (len > STATE_MAXPROCS)
		return err_set(
		    "process list longer than %d bytes", STATE_MAXPROCS);
	return put(st, DB_PROCS, app, number, text, len);
}

int
state_procs_get(
    struct state *st, const char *app, uint32_t number, char **out, size_t *len)
{
	return get(st, DB_PROCS, app, number, out, len);
}
