/*
 * tests/router/route.c: minpaas-route-set, a test and benchmark helper that
 * writes (or deletes) one route in $MINPAAS_HOME's state, the way a
 * release does, so the router can be driven without Docker.
 *
 *   minpaas-route-set HOST APP UPSTREAM...    e.g. a.localhost a 127.0.0.1:9000
 *   minpaas-route-set HOST APP                (no upstream: a stopped app)
 *   minpaas-route-set -d HOST
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/home.h"
#include "state/state.h"

int
main(int argc, char **argv)
{
	struct state *st = NULL;
	struct state_route r;
	int i, rc = 1;

	if (argc < 3) {
		fprintf(stderr,
		    "usage: minpaas-route-set HOST APP [UPSTREAM...]\n"
		    "       minpaas-route-set -d HOST\n");
		return 2;
	}
	if (state_open(&st, home_dir()) == -1)
		goto out;
	if (strcmp(argv[1], "-d") == 0) {
		if (state_route_delete(st, argv[2]) == -1)
			goto out;
		rc = 0;
		goto out;
	}
	memset(&r, 0, sizeof r);
	snprintf(r.app, sizeof r.app, "%s", argv[2]);
	for (i = 3; i < argc && r.nupstreams < STATE_MAXUPSTREAMS; i++)
		snprintf(r.upstream[r.nupstreams++], sizeof r.upstream[0], "%s",
		    argv[i]);
	if (state_route_put(st, argv[1], &r) == -1)
		goto out;
	rc = 0;
out:
	if (rc == 1)
		fprintf(stderr, "minpaas-route-set: %s\n", err_msg());
	if (st)
		state_close(st);
	return rc;
}
