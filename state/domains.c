/*
 * state/domains.c: an app's custom hostnames. Each is one record
 * host -> app (so a name can belong to one app only) beside its route in
 * the routes db, which is what the router reads.
 *
 * Guarantees: a hostname is never held by two apps, nor equal to the
 * generated name "<app>.<domain>" of an existing app (state_domain_add
 * checks the apps, state_app_create the domains, each inside its write);
 * the default domain (STATE_DOMAIN) is applied in one place; adding a
 * domain makes it answer at once with the app's current upstreams (or its
 * stopped state); every swap (state_release_activate) rewrites the app's
 * custom-domain routes in the same write as its generated one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/state_int.h"

/* Copies the n bytes of data NUL-terminated into out, truncating. */
static void
copy_out(char *out, size_t outlen, const void *data, size_t n)
{
	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, data, n);
	out[n] = '\0';
}

/* The platform domain inside txn into out: meta "domain", or STATE_DOMAIN
 * when it is unset or empty. The one place that default is applied. */
static int
domain_txn(MDB_txn *txn, struct state *st, char *out, size_t outlen)
{
	MDB_val k = {6, "domain"}, v;
	int rc;

	rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size == 0))
		copy_out(out, outlen, STATE_DOMAIN, strlen(STATE_DOMAIN));
	else if (rc != 0)
		return state_lmdb_error(rc, "get");
	else
		copy_out(out, outlen, v.mv_data, v.mv_size);
	return 0;
}

int
state_app_host_txn(
    MDB_txn *txn, struct state *st, const char *app, char *host, size_t len)
{
	char domain[STATE_MAXHOST + 1];

	if (domain_txn(txn, st, domain, sizeof domain) == -1)
		return -1;
	if ((size_t)snprintf(host, len, "%s.%s", app, domain) >= len)
		return err_set("host name %s.%s is too long", app, domain);
	return 0;
}

int
state_app_host(struct state *st, const char *app, char *host, size_t len)
{
	MDB_txn *txn;
	int rc;

	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	rc = state_app_host_txn(txn, st, app, host, len);
	mdb_txn_abort(txn);
	return rc;
}

int
state_host_free_txn(MDB_txn *txn, struct state *st, const char *host)
{
	static const int dbs[] = {DB_DOMAINS, DB_ROUTES};
	MDB_val k = {strlen(host), (void *)host}, v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
		rc = mdb_get(txn, st->dbi[dbs[i]], &k, &v);
		if (rc == 0)
			return STATE_TAKEN;
		if (rc != MDB_NOTFOUND)
			return state_lmdb_error(rc, "get");
	}
	return 0;
}

/* STATE_RESERVED (with the reason) when host is the platform domain or a
 * name under it, else 0. */
static int
reserved_host(MDB_txn *txn, struct state *st, const char *host)
{
	char domain[STATE_MAXHOST + 1];
	size_t hl = strlen(host), dl;

	if (domain_txn(txn, st, domain, sizeof domain) == -1)
		return -1;
	dl = strlen(domain);
	if (strcmp(host, domain) == 0) {
		err_set("%s is the platform's own domain", host);
		return STATE_RESERVED;
	}
	if (hl > dl + 1 && host[hl - dl - 1] == '.' &&
	    strcmp(host + hl - dl, domain) == 0) {
		err_set("%s is under the platform domain %s, whose names are "
		        "the apps' own (<app>.%s) and the platform's",
		    host, domain, domain);
		return STATE_RESERVED;
	}
	return 0;
}

int
state_domain_add(struct state *st, const char *app, const char *host,
    char *owner, size_t ownerlen)
{
	struct state_route route;
	MDB_txn *txn;
	MDB_val k = {strlen(host), (void *)host}, v;
	char gen[STATE_MAXHOST + 1];
	state_hostname *list = NULL;
	size_t n = 0;
	int rc;

	if (owner && ownerlen)
		owner[0] = '\0';
	if (k.mv_size == 0 || k.mv_size > STATE_MAXHOST)
		return err_set("invalid hostname '%.64s'", host);
	if (state_domain_list(st, app, &list, &n) == -1)
		return -1;
	free(list);
	if (n >= STATE_MAXDOMAINS)
		return err_set("%s has %d custom domains already, the most "
		               "an app may have",
		    app, STATE_MAXDOMAINS);
	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	if ((rc = reserved_host(txn, st, host)) != 0)
		goto out;
	rc = mdb_get(txn, st->dbi[DB_DOMAINS], &k, &v);
	if (rc == 0) {
		copy_out(owner, ownerlen, v.mv_data, v.mv_size);
		rc = STATE_EXISTS;
		goto out;
	}
	if (rc != MDB_NOTFOUND) {
		rc = state_lmdb_error(rc, "get");
		goto out;
	}
	rc = mdb_get(txn, st->dbi[DB_ROUTES], &k, &v);
	if (rc == 0) {
		if (state_route_decode(v.mv_data, v.mv_size, &route) == 0)
			copy_out(owner, ownerlen, route.app, strlen(route.app));
		rc = STATE_EXISTS;
		goto out;
	}
	if (rc != MDB_NOTFOUND) {
		rc = state_lmdb_error(rc, "get");
		goto out;
	}
	rc = state_put_raw(txn, st, DB_DOMAINS, host, strlen(host), app,
	    strlen(app), MDB_NOOVERWRITE);
	if (rc != 0)
		goto out;

	/* live at once with what serves "<app>.<domain>" now */
	if (state_app_host_txn(txn, st, app, gen, sizeof gen) == -1) {
		rc = 0; /* a name that long has no route to copy */
		goto out;
	}
	k.mv_data = gen;
	k.mv_size = strlen(gen);
	rc = mdb_get(txn, st->dbi[DB_ROUTES], &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = 0; /* never deployed: the first swap writes it */
		goto out;
	}
	if (rc != 0) {
		rc = state_lmdb_error(rc, "get");
		goto out;
	}
	if ((rc = state_route_decode(v.mv_data, v.mv_size, &route)) == 0)
		rc = state_route_write(txn, st, host, &route);
out:
	return state_txn_end(txn, rc);
}

int
state_domain_remove(struct state *st, const char *app, const char *host)
{
	MDB_txn *txn;
	MDB_val k = {strlen(host), (void *)host}, v;
	int rc;

	if (state_txn_begin(st, 1, &txn) == -1)
		return -1;
	rc = mdb_get(txn, st->dbi[DB_DOMAINS], &k, &v);
	if (rc == MDB_NOTFOUND ||
	    (rc == 0 && (v.mv_size != strlen(app) ||
	                    memcmp(v.mv_data, app, v.mv_size) != 0))) {
		mdb_txn_abort(txn);
		return STATE_NOTFOUND;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return state_lmdb_error(rc, "get");
	}
	rc = state_del_raw(txn, st, DB_DOMAINS, host, strlen(host));
	if (rc == 0) {
		rc = state_del_raw(txn, st, DB_ROUTES, host, strlen(host));
		if (rc == STATE_NOTFOUND)
			rc = 0;
	}
	return state_txn_end(txn, rc);
}

int
state_domain_get(struct state *st, const char *host, char *app, size_t applen)
{
	char *v;
	size_t n;
	int rc;

	if (strlen(host) == 0 || strlen(host) > STATE_MAXHOST)
		return STATE_NOTFOUND;
	rc = state_get_copy(st, DB_DOMAINS, host, strlen(host), &v, &n);
	if (rc != 0)
		return rc;
	copy_out(app, applen, v, n);
	free(v);
	return 0;
}

/* Calls fn for each custom domain of app inside txn; stops on non-zero. */
static int
each_domain(MDB_txn *txn, struct state *st, const char *app,
    int (*fn)(const MDB_val *, void *), void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = strlen(app);
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[DB_DOMAINS], &cur)) != 0)
		return state_lmdb_error(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size != n || memcmp(v.mv_data, app, n) != 0 ||
		    k.mv_size == 0 || k.mv_size > STATE_MAXHOST)
			continue;
		if ((rc = fn(&k, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc > 0)
		return state_lmdb_error(rc, "cursor");
	return rc;
}

struct domain_acc {
	state_hostname *hosts;
	size_t n, cap;
};

static int
collect(const MDB_val *k, void *arg)
{
	struct domain_acc *a = arg;
	state_hostname *p;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		if ((p = realloc(a->hosts, a->cap * sizeof *p)) == NULL)
			return err_set("out of memory");
		a->hosts = p;
	}
	memcpy(a->hosts[a->n], k->mv_data, k->mv_size);
	a->hosts[a->n++][k->mv_size] = '\0';
	return 0;
}

int
state_domain_list(
    struct state *st, const char *app, state_hostname **out, size_t *n)
{
	struct domain_acc a = {NULL, 0, 0};
	MDB_txn *txn;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_txn_begin(st, 0, &txn) == -1)
		return -1;
	rc = each_domain(txn, st, app, collect, &a);
	mdb_txn_abort(txn);
	if (rc != 0) {
		free(a.hosts);
		return -1;
	}
	*out = a.hosts; /* the db is sorted by hostname, and so is this */
	*n = a.n;
	return 0;
}

int
state_domain_routes_txn(MDB_txn *txn, struct state *st, const char *app,
    const struct state_route *route)
{
	struct domain_acc a = {NULL, 0, 0};
	size_t i;
	int rc;

	/* collected first: writing routes while walking domains is fine in
	 * LMDB, but the hostnames must outlive the cursor's pages */
	if ((rc = each_domain(txn, st, app, collect, &a)) != 0) {
		free(a.hosts);
		return rc;
	}
	for (i = 0; rc == 0 && i < a.n; i++)
		rc = state_route_write(txn, st, a.hosts[i], route);
	free(a.hosts);
	return rc;
}
