/*
 * builder/procs.c: containers for the Procfile's non-web process types (see
 * procs.h). Guarantees: a process container has the release's image and
 * env, the instance's names and labels (builder/sched.h), no published
 * port; procs_start either starts all of a release's processes or none.
 *
 * Recorded list format (state_procs_put): one "type\tcontainer\tcommand\n"
 * line per process.
 */
#include <stdlib.h>
#include <string.h>

#include "builder/procs.h"
#include "builder/release.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/progress.h"
#include "state/buildlog.h"

struct proc_run {
	char name[RUNTIME_MAXPROCNAME];
	char container[72];
};

/* The recorded list of app/number parsed into procs (command included). */
static int
procs_load(struct state *st, const char *app, uint32_t number,
    struct runtime_proc *procs, struct proc_run *runs, size_t *n)
{
	char *text = NULL, *line, *save = NULL, *t1, *t2;
	size_t len;
	int rc;

	*n = 0;
	rc = state_procs_get(st, app, number, &text, &len);
	if (rc != 0)
		return rc;
	for (line = strtok_r(text, "\n", &save);
	     line != NULL && *n < RUNTIME_MAXPROCS;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((t1 = strchr(line, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL)
			continue;
		*t1 = *t2 = '\0';
		snprintf(procs[*n].name, sizeof procs[*n].name, "%s", line);
		snprintf(
		    procs[*n].command, sizeof procs[*n].command, "%s", t2 + 1);
		if (runs != NULL) {
			snprintf(
			    runs[*n].name, sizeof runs[*n].name, "%s", line);
			snprintf(runs[*n].container, sizeof runs[*n].container,
			    "%s", t1 + 1);
		}
		(*n)++;
	}
	free(text);
	return 0;
}

static void
procs_remove(struct sched *s, struct proc_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (runs[i].container[0] != '\0')
			sched_remove(s, runs[i].container);
}

int
procs_start(struct state *st, struct sched *s, const struct state_release *rel,
    const struct runtime_proc *procs, size_t n, FILE *out)
{
	struct proc_run runs[RUNTIME_MAXPROCS];
	struct state_env env = {0, NULL};
	struct buf list = BUF_INIT;
	size_t i, nruns = 0;
	int rc = -1;

	memset(runs, 0, sizeof runs);
	if (state_release_env(st, rel->app, rel->number, &env) == -1)
		return -1;
	for (i = 0; i < n && i < RUNTIME_MAXPROCS; i++) {
		struct sched_spec spec;

		if (strcmp(procs[i].name, "web") == 0)
			continue;
		memset(&spec, 0, sizeof spec);
		spec.image = rel->image;
		spec.env = (const char *const *)env.vars;
		spec.command = procs[i].command;
		spec.app = rel->app;
		spec.release = rel->number;
		spec.process = procs[i].name;
		spec.memory = RELEASE_MEMORY;
		spec.nano_cpus = RELEASE_NANO_CPUS;
		spec.pids = RELEASE_PIDS;
		snprintf(runs[nruns].name, sizeof runs[nruns].name, "%s",
		    procs[i].name);
		if (sched_start(s, &spec, runs[nruns].container,
		        sizeof runs[nruns].container) != 0) {
			err_set("cannot start the %s process: %s",
			    procs[i].name, err_msg());
			goto out;
		}
		nruns++;
		DETAIL(out, "%s: %s", procs[i].name, procs[i].command);
		if (buf_printf(&list, "%s\t%.12s\t%s\n", procs[i].name,
		        runs[nruns - 1].container, procs[i].command) == -1)
			goto out;
	}
	if (nruns > 0 && state_procs_put(st, rel->app, rel->number, list.data,
	                     list.len) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		procs_remove(s, runs, nruns);
	if (out != NULL)
		fflush(out);
	buf_release(&list);
	state_env_release(&env);
	return rc;
}

int
procs_restart(struct state *st, struct sched *s,
    const struct state_release *rel, uint32_t from, FILE *out)
{
	struct runtime_proc procs[RUNTIME_MAXPROCS];
	size_t n;
	int rc;

	rc = procs_load(st, rel->app, from, procs, NULL, &n);
	if (rc == STATE_NOTFOUND || (rc == 0 && n == 0))
		return 0;
	if (rc != 0)
		return -1;
	return procs_start(st, s, rel, procs, n, out);
}

int
procs_stop_release(
    struct state *st, struct sched *s, const char *app, uint32_t number)
{
	struct runtime_proc procs[RUNTIME_MAXPROCS];
	struct proc_run runs[RUNTIME_MAXPROCS];
	size_t i, n;
	int rc, failed = 0;

	rc = procs_load(st, app, number, procs, runs, &n);
	if (rc == STATE_NOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	for (i = 0; i < n; i++) {
		rc = sched_stop(s, runs[i].container, PROCS_STOP_GRACE);
		if (rc == SCHED_NOTFOUND)
			continue;
		if (rc == -1 || sched_remove(s, runs[i].container) == -1)
			failed = 1;
	}
	return failed ? -1 : 0;
}
