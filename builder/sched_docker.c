/*
 * builder/sched_docker.c: the scheduler on the Docker Engine (sched.h), and
 * the only code that calls the Docker client. Names:
 *
 *   container  minpaas-<instance>.<app>.v<n>.<process>
 *   image      minpaas-<instance>/<app>:v<n>
 *   labels     minpaas.instance, minpaas.app, minpaas.release,
 *              minpaas.process
 *
 * Guarantees: nothing this file lists, prunes or follows lacks the
 * instance's label; a failed sched_start leaves no container behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/docker.h"
#include "builder/sched.h"
#include "common/err.h"

#define SCHED_LABEL_MAX 96

struct sched {
	struct docker *d;
	char instance[STATE_INSTANCE_LEN + 1];
	char label[SCHED_LABEL_MAX]; /* "minpaas.instance=<id>" */
};

int
sched_open(struct sched **out, struct state *st)
{
	struct sched *s;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return err_set("out of memory");
	if (state_instance(st, s->instance, sizeof s->instance) == -1 ||
	    docker_open(&s->d, NULL) == -1) {
		free(s);
		return -1;
	}
	snprintf(s->label, sizeof s->label, "minpaas.instance=%s", s->instance);
	*out = s;
	return 0;
}

void
sched_close(struct sched *s)
{
	if (s == NULL)
		return;
	docker_close(s->d);
	free(s);
}

const char *
sched_instance(const struct sched *s)
{
	return s->instance;
}

/* Docker's "not found" is the scheduler's. */
static int
sched_rc(int rc)
{
	return rc == DOCKER_NOTFOUND ? SCHED_NOTFOUND : rc;
}

/* --- processes ----------------------------------------------------------- */

/* 1 when the daemon refused the host port because it is taken: the one
 * place its wording is read, to turn it into SCHED_PORT_TAKEN. */
static int
sched_port_taken(const char *msg)
{
	return strstr(msg, "already allocated") != NULL ||
	       strstr(msg, "address already in use") != NULL;
}

int
sched_start(
    struct sched *s, const struct sched_spec *spec, char *id, size_t idlen)
{
	struct docker_spec ds;
	char name[SCHED_MAXNAME], reason[ERR_MAXLEN];
	int taken;

	if (snprintf(name, sizeof name, "minpaas-%s.%s.v%u.%s", s->instance,
	        spec->app, (unsigned)spec->release,
	        spec->process) >= (int)sizeof name)
		return err_set("process name too long");
	memset(&ds, 0, sizeof ds);
	ds.name = name;
	ds.image = spec->image;
	ds.env = spec->env;
	ds.command = spec->command;
	ds.instance = s->instance;
	ds.app = spec->app;
	ds.release = spec->release;
	ds.process = spec->process;
	ds.port = spec->port;
	ds.host_port = spec->host_port;
	ds.memory = spec->memory;
	ds.nano_cpus = spec->nano_cpus;
	ds.pids = spec->pids;
	ds.restart = spec->restart;
	/* one left by a deploy that died half-way */
	if (docker_container_remove(s->d, name) == -1)
		return -1;
	if (docker_container_create(s->d, &ds, id, idlen) == -1)
		return -1;
	if (docker_container_start(s->d, id) == 0)
		return 0;
	snprintf(reason, sizeof reason, "%s", err_msg());
	taken = sched_port_taken(reason);
	docker_container_remove(s->d, id);
	id[0] = '\0';
	err_set("%s", reason);
	return taken ? SCHED_PORT_TAKEN : -1;
}

int
sched_endpoint(
    struct sched *s, const char *id, uint16_t host_port, char *out, size_t len)
{
	/* published on the host's loopback only (docker.c PortBindings) */
	if ((size_t)snprintf(out, len, "127.0.0.1:%u", (unsigned)host_port) >=
	    len)
		return err_set("the endpoint of %.12s does not fit", id);
	return 0;
}

int
sched_resume(struct sched *s, const char *id)
{
	return sched_rc(docker_container_start(s->d, id));
}

int
sched_set_restart(struct sched *s, const char *id, const char *policy)
{
	return sched_rc(docker_container_set_restart(s->d, id, policy));
}

int
sched_stop(struct sched *s, const char *id, int grace)
{
	return sched_rc(docker_container_stop(s->d, id, grace));
}

int
sched_remove(struct sched *s, const char *id)
{
	return sched_rc(docker_container_remove(s->d, id));
}

int
sched_status(struct sched *s, const char *id, struct sched_status *out)
{
	struct docker_state ds;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = docker_container_inspect(s->d, id, &ds)) != 0)
		return sched_rc(rc);
	out->running = ds.running;
	out->restarting = ds.restarting;
	out->exit_code = ds.exit_code;
	out->restart_count = ds.restart_count;
	memcpy(out->status, ds.status, sizeof out->status);
	out->started = ds.started;
	out->finished = ds.finished;
	return 0;
}

int
sched_exec(struct sched *s, const char *id, const char *const *argv,
    int timeout_ms, int *exit_code)
{
	return sched_rc(
	    docker_container_exec(s->d, id, argv, timeout_ms, exit_code));
}

int
sched_logs(struct sched *s, const char *id, int tail, int follow,
    sched_log_fn fn, void *arg)
{
	return sched_rc(docker_container_logs(s->d, id, tail, follow, fn, arg));
}

int
sched_list(
    struct sched *s, const char *app, struct sched_entry **out, size_t *n)
{
	char lapp[SCHED_LABEL_MAX];
	const char *labels[3] = {s->label, NULL, NULL};
	struct docker_container *cs = NULL;
	size_t i, cnt = 0;

	*out = NULL;
	*n = 0;
	if (app != NULL) {
		snprintf(lapp, sizeof lapp, "minpaas.app=%s", app);
		labels[1] = lapp;
	}
	if (docker_container_list(s->d, labels, &cs, &cnt) == -1)
		return -1;
	if (cnt > 0 && (*out = calloc(cnt, sizeof **out)) == NULL) {
		free(cs);
		return err_set("out of memory");
	}
	for (i = 0; i < cnt; i++) {
		struct sched_entry *e = &(*out)[i];

		snprintf(e->id, sizeof e->id, "%s", cs[i].id);
		snprintf(e->name, sizeof e->name, "%s", cs[i].name);
		snprintf(e->app, sizeof e->app, "%s", cs[i].app);
		e->release = cs[i].release;
		snprintf(e->process, sizeof e->process, "%s", cs[i].process);
		snprintf(e->state, sizeof e->state, "%s", cs[i].state);
		e->host_port = cs[i].host_port;
	}
	*n = cnt;
	free(cs);
	return 0;
}

int
sched_events(struct sched *s, int64_t until, sched_event_fn fn, void *arg)
{
	const char *labels[2] = {s->label, NULL};

	return docker_events(s->d, labels, until, fn, arg);
}

/* --- images -------------------------------------------------------------- */

/* "minpaas-<instance>/<app>:v<n>" */
static void
sched_tag(const struct sched *s, const char *app, uint32_t number, char *out,
    size_t len)
{
	snprintf(
	    out, len, "minpaas-%s/%s:v%u", s->instance, app, (unsigned)number);
}

int
sched_build(struct sched *s, const char *app, uint32_t number,
    const struct sched_build_opts *opts, sched_read_fn read, void *read_arg,
    sched_line_fn line, void *line_arg, char *image_id, size_t idlen)
{
	char tag[SCHED_MAXNAME], lapp[SCHED_LABEL_MAX], lrel[SCHED_LABEL_MAX];
	const char *labels[4] = {s->label, lapp, lrel, NULL};
	struct docker_build_opts o;
	int rc;

	sched_tag(s, app, number, tag, sizeof tag);
	snprintf(lapp, sizeof lapp, "minpaas.app=%s", app);
	snprintf(lrel, sizeof lrel, "minpaas.release=%u", (unsigned)number);
	memset(&o, 0, sizeof o);
	o.buildargs = opts ? opts->buildargs : NULL;
	o.labels = labels;
	o.timeout = opts ? opts->timeout : 0;
	o.cancel = opts ? opts->cancel : NULL;
	rc = docker_build_ex(
	    s->d, tag, &o, read, read_arg, line, line_arg, image_id, idlen);
	return rc == DOCKER_TIMEDOUT    ? SCHED_TIMEOUT
	       : rc == DOCKER_CANCELLED ? SCHED_CANCELLED
	                                : rc;
}

int
sched_image_exists(struct sched *s, const char *name)
{
	return sched_rc(docker_image_exists(s->d, name));
}

int
sched_image_remove(struct sched *s, const char *app, uint32_t number)
{
	char tag[SCHED_MAXNAME];

	sched_tag(s, app, number, tag, sizeof tag);
	return sched_rc(docker_image_remove(s->d, tag));
}

int
sched_image_prune(struct sched *s, const char *app)
{
	char lapp[SCHED_LABEL_MAX];
	const char *labels[3] = {s->label, lapp, NULL};

	snprintf(lapp, sizeof lapp, "minpaas.app=%s", app);
	return docker_image_prune(s->d, labels);
}
