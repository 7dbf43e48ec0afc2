/*
 * state/buildlog.c: a release's build log and process list (buildlog.h).
 * Guarantees: one short write transaction per put; values are copied out;
 * a stored log is never longer than STATE_MAXBUILDLOG.
 */
#include <string.h>

#include "common/err.h"
#include "state/buildlog.h"
#include "state/state_int.h"

/*
 * Writes the key of app/number ("app\0" + big-endian number, as the
 * releases db keys its records) into key: its length, or 0 for a bad name.
 */
static size_t
relkey(const char *app, uint32_t number, char *key)
{
	size_t n = strlen(app);

	if (n == 0 || n >= sizeof(((struct state_app *)0)->name)) {
		err_set("invalid app name '%s'", app);
		return 0;
	}
	return state_relkey(key, app, number);
}

static int
put(struct state *st, int db, const char *app, uint32_t number,
    const char *text, size_t len)
{
	char key[STATE_RELKEY_MAX];
	size_t keylen;

	if ((keylen = relkey(app, number, key)) == 0)
		return -1;
	return state_put_one(st, db, key, keylen, text, len, 0);
}

static int
get(struct state *st, int db, const char *app, uint32_t number, char **out,
    size_t *len)
{
	char key[STATE_RELKEY_MAX];
	size_t keylen;

	*out = NULL;
	if ((keylen = relkey(app, number, key)) == 0)
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
