/*
 * state/env.c: an app's config. One LMDB record per variable (app NUL KEY ->
 * value bytes) so values may hold any byte but NUL, and a change to several
 * variables is one write transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/state_int.h"

int
state_env_key_valid(const char *key)
{
	size_t i, n = strlen(key);

	if (n == 0 || n > STATE_MAXENVKEY)
		return 0;
	for (i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

void
state_env_release(struct state_env *env)
{
	size_t i;

	if (env->vars) {
		for (i = 0; i < env->n; i++)
			free(env->vars[i]);
		free(env->vars);
	}
	env->vars = NULL;
	env->n = 0;
}

static size_t
env_key(char *out, const char *app, const char *key, size_t keylen)
{
	size_t n = strlen(app);

	memcpy(out, app, n);
	out[n] = '\0';
	memcpy(out + n + 1, key, keylen);
	return n + 1 + keylen;
}

int
state_env_read(
    MDB_txn *txn, struct state *st, const char *app, struct state_env *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t plen = strlen(app) + 1, cap = 0, kl;
	char **p, *s;
	int rc;

	out->n = 0;
	out->vars = NULL;
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_ENV], &cur)) != 0)
		return state_lmdb_error(rc, "cursor");
	k.mv_size = plen;
	k.mv_data = (void *)app;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= plen || memcmp(k.mv_data, app, plen) != 0)
			break;
		if (out->n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = realloc(out->vars, cap * sizeof *p)) == NULL)
				goto nomem;
			out->vars = p;
		}
		kl = k.mv_size - plen;
		if ((s = malloc(kl + 1 + v.mv_size + 1)) == NULL)
			goto nomem;
		memcpy(s, (char *)k.mv_data + plen, kl);
		s[kl] = '=';
		memcpy(s + kl + 1, v.mv_data, v.mv_size);
		s[kl + 1 + v.mv_size] = '\0';
		out->vars[out->n++] = s;
		out->vars[out->n] = NULL;
	}
	mdb_cursor_close(cur);
	if (out->vars == NULL &&
	    (out->vars = calloc(1, sizeof(char *))) == NULL)
		return err_set("out of memory");
	return 0;
nomem:
	mdb_cursor_close(cur);
	state_env_release(out);
	return err_set("out of memory");
}

int
state_env_get(struct state *st, const char *app, struct state_env *out)
{
	MDB_txn *txn;
	int rc;

	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	rc = state_env_read(txn, st, app, out);
	mdb_txn_abort(txn);
	return rc;
}

int
state_env_update(struct state *st, const char *app, const char *const *set,
    const char *const *unset, struct state_env *after)
{
	char key[sizeof(((struct state_app *)0)->name) + STATE_MAXENVKEY + 1];
	const char *const *p;
	const char *eq;
	MDB_txn *txn;
	int rc = 0;

	if (strlen(app) >= sizeof(((struct state_app *)0)->name))
		return err_set("invalid app name");
	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	for (p = unset; p && *p && rc == 0; p++) {
		if (!state_env_key_valid(*p)) {
			rc = err_set("invalid key '%.64s'", *p);
			break;
		}
		rc = state_del_raw(
		    txn, st, DB_ENV, key, env_key(key, app, *p, strlen(*p)));
		if (rc == STATE_NOTFOUND)
			rc = 0;
	}
	for (p = set; p && *p && rc == 0; p++) {
		if ((eq = strchr(*p, '=')) == NULL || eq == *p ||
		    (size_t)(eq - *p) > STATE_MAXENVKEY) {
			rc = err_set("expected KEY=VALUE, got '%.64s'", *p);
			break;
		}
		memcpy(key, *p, eq - *p);
		key[eq - *p] = '\0';
		if (!state_env_key_valid(key)) {
			rc = err_set("invalid key '%s'", key);
			break;
		}
		if (strlen(eq + 1) > STATE_MAXENVVALUE) {
			rc = err_set("value of '%s' is longer than %d bytes",
			    key, STATE_MAXENVVALUE);
			break;
		}
		rc = state_put_raw(txn, st, DB_ENV, key,
		    env_key(key, app, *p, eq - *p), eq + 1, strlen(eq + 1), 0);
	}
	if (rc == 0 && after)
		rc = state_env_read(txn, st, app, after);
	if (rc == 0 && after && after->n > STATE_MAXENVVARS) {
		state_env_release(after);
		rc = err_set("more than %d config vars", STATE_MAXENVVARS);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	if (state_txn_commit(txn) == -1) {
		if (after)
			state_env_release(after);
		return -1;
	}
	return 0;
}
