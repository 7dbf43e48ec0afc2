/*
 * builder/recover.h: what a deploy that died half-way (its hook killed, the
 * host gone) leaves in state, put right: its releases still building or
 * deploying are marked failed and the deploy branch is put back to the
 * commit that serves, so pushing the same commit again retries. Its
 * containers and ports are the reconciler's (builder/reconcile.h).
 *
 * The caller holds the app's deploy lock (home_lock_app or
 * home_trylock_app): holding it is what proves that no deploy of the app is
 * running.
 */
#ifndef MINPAAS_RECOVER_H
#define MINPAAS_RECOVER_H

#include <stdint.h>

#include "state/state.h"

struct recover_result {
	uint32_t failed;  /* newest release marked failed, 0 when none */
	int nfailed;      /* how many were */
	uint32_t live;    /* the release that serves, 0 when none */
	int branch_reset; /* 1 when the deploy branch was put back */
	char branch[32];  /* that branch */
};

/* Recovers app (see above) into *out. 0, STATE_NOTFOUND when the app is
 * gone, or -1 with err_set(). */
int recover_app(struct state *st, const char *app, struct recover_result *out);

#endif
