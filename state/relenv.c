/*
 * state/relenv.c: the env snapshot of each release, so that a release runs
 * with the config it was made with (and a rollback brings that config back)
 * whatever the app's config is now. Stored raw under the release's key as
 * "KEY=VALUE\0KEY=VALUE\0": values hold any byte but NUL, which JSON strings
 * could not carry byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/state_int.h"

/* Grows *blob to hold need more bytes. */
static int
relenv_grow(char **blob, size_t *cap, size_t len, size_t need)
{
	char *p;
	size_t ncap = *cap ? *cap : 256;

	if (len + need <= *cap)
		return 0;
	while (ncap < len + need)
		ncap *= 2;
	if ((p = realloc(*blob, ncap)) == NULL)
		return err_set("out of memory");
	*blob = p;
	*cap = ncap;
	return 0;
}

/* Appends "KEY=VALUE\0" made of key and value. */
static int
relenv_add(char **blob, size_t *cap, size_t *len, const void *key,
    size_t keylen, const void *val, size_t vallen)
{
	if (relenv_grow(blob, cap, *len, keylen + vallen + 2) == -1)
		return -1;
	memcpy(*blob + *len, key, keylen);
	(*blob)[*len + keylen] = '=';
	memcpy(*blob + *len + keylen + 1, val, vallen);
	*len += keylen + vallen + 1;
	(*blob)[(*len)++] = '\0';
	return 0;
}

int
state_relenv_put(MDB_txn *txn, struct state *st, const char *app,
    uint32_t number, const struct state_env *env)
{
	struct state_env current = {0, NULL};
	char key[STATE_RELKEY_MAX];
	char *blob = NULL;
	const char *eq;
	size_t cap = 0, len = 0, i;
	int rc = -1;

	if (strlen(app) >= sizeof(((struct state_app *)0)->name))
		return err_set("invalid app name");
	if (env == NULL) {
		if (state_env_read(txn, st, app, &current) == -1)
			return -1;
		env = &current;
	}
	for (i = 0; i < env->n; i++) {
		if ((eq = strchr(env->vars[i], '=')) == NULL ||
		    eq == env->vars[i]) {
			err_set(
			    "env entry '%.64s' is not KEY=VALUE", env->vars[i]);
			goto out;
		}
		if (relenv_add(&blob, &cap, &len, env->vars[i],
		        (size_t)(eq - env->vars[i]), eq + 1,
		        strlen(eq + 1)) == -1)
			goto out;
	}
	rc = state_put_raw(txn, st, DB_RELENV, key,
	    state_relkey(key, app, number), blob ? blob : "", len, 0);
out:
	free(blob);
	state_env_release(&current);
	return rc;
}

int
state_release_env(
    struct state *st, const char *app, uint32_t number, struct state_env *out)
{
	char key[STATE_RELKEY_MAX], *blob, *p, *end;
	size_t len, n = 0, i;
	int rc;

	out->n = 0;
	out->vars = NULL;
	if (strlen(app) >= sizeof(((struct state_app *)0)->name))
		return STATE_NOTFOUND;
	rc = state_get_copy(
	    st, DB_RELENV, key, state_relkey(key, app, number), &blob, &len);
	if (rc != 0)
		return rc;
	end = blob + len;
	for (p = blob; p < end; p += strlen(p) + 1)
		n++;
	if ((out->vars = calloc(n + 1, sizeof *out->vars)) == NULL) {
		free(blob);
		return err_set("out of memory");
	}
	for (p = blob, i = 0; p < end && i < n; p += strlen(p) + 1, i++) {
		if ((out->vars[i] = strdup(p)) == NULL) {
			out->n = i;
			state_env_release(out);
			free(blob);
			return err_set("out of memory");
		}
	}
	out->n = i;
	free(blob);
	return 0;
}
