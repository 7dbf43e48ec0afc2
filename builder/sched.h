/*
 * builder/sched.h: the scheduler interface, how the processes of a release
 * run: start, status, stop, remove, logs, exec, the list of what runs, and
 * the events that change it, where the router reaches a process; plus the
 * images a release runs from. Whether a process is ready is the release
 * path's check (builder/release.c) through this interface: its status, a
 * command run in it, or an HTTP answer at its endpoint. The Docker Engine
 * (builder/sched_docker.c) is the first implementation and the only caller
 * of the Docker client; a second scheduler is another file behind this
 * header.
 *
 * A handle belongs to one instance (state_instance): every name, tag and
 * label it makes carries the instance id, and its lists, events and prunes
 * see only that instance's things, so two instances on one daemon never
 * touch each other's containers or images.
 *
 * Functions return 0, a named SCHED_ code for an expected outcome, or -1
 * with err_set() carrying the scheduler's own message.
 */
#ifndef MINPAAS_SCHED_H
#define MINPAAS_SCHED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "state/state.h"

#define SCHED_NOTFOUND   1 /* no such process or image */
#define SCHED_PORT_TAKEN 3 /* the host port is held by something else */
#define SCHED_TIMEOUT    4 /* a build ran past its time limit */
#define SCHED_CANCELLED  5 /* a build was cancelled */
#define SCHED_MAXID      72
#define SCHED_MAXNAME    128

struct sched;

/* A handle for st's instance (its id made at first use). */
int sched_open(struct sched **out, struct state *st);
void sched_close(struct sched *s);
/* The instance id every name and label of s carries. */
const char *sched_instance(const struct sched *s);

/* --- processes ----------------------------------------------------------- */
/* One process of a release. */
struct sched_spec {
	const char *app;
	uint32_t release;
	const char *process;    /* "web", "worker", ... */
	const char *image;      /* image id or name */
	const char *const *env; /* "KEY=VALUE", NULL-terminated */
	const char *command;    /* /bin/sh -c <command>; NULL: the image's */
	uint16_t port;          /* $PORT inside, published ... */
	uint16_t host_port;     /* ... on 127.0.0.1:host_port; 0: not at all */
	int64_t memory;         /* bytes; 0: no limit */
	int64_t nano_cpus;      /* 1e9 = one CPU; 0: no limit */
	int64_t pids;           /* 0: no limit */
	const char *restart;    /* "no", "unless-stopped" (NULL) */
};

/*
 * Starts the process (a leftover of the same app, release and process from
 * a deploy that died half-way is replaced) and writes its id (SCHED_MAXID
 * bytes). SCHED_PORT_TAKEN when host_port is held by something else; then,
 * as on any failure, nothing of it is left.
 */
int sched_start(
    struct sched *s, const struct sched_spec *spec, char *id, size_t idlen);
/* Where the router reaches a started process published on host_port
 * ("127.0.0.1:20001") into out; -1 with err_set() when it does not fit. */
int sched_endpoint(
    struct sched *s, const char *id, uint16_t host_port, char *out, size_t len);
/* Starts a stopped process again (after a reboot, a `docker stop`). */
int sched_resume(struct sched *s, const char *id);
/* The restart policy of a process ("no", "unless-stopped"). */
int sched_set_restart(struct sched *s, const char *id, const char *policy);
/* SIGTERM, then SIGKILL after grace seconds; stopped already is success;
 * SCHED_NOTFOUND when there is no such process. */
int sched_stop(struct sched *s, const char *id, int grace);
/* Removes it, running or not; SCHED_NOTFOUND when there is none. */
int sched_remove(struct sched *s, const char *id);

struct sched_status {
	int running;
	int restarting;
	int exit_code;
	int restart_count;
	char status[16];  /* "created", "running", "exited", ... */
	int64_t started;  /* unix seconds of the last start, 0 when never */
	int64_t finished; /* unix seconds of the last exit, 0 when never */
};
/* 0, SCHED_NOTFOUND, or -1. */
int sched_status(struct sched *s, const char *id, struct sched_status *out);
/* Runs argv in the process and waits up to timeout_ms: 0 with *exit_code
 * (-1 when still running at the deadline), SCHED_NOTFOUND, or -1. */
int sched_exec(struct sched *s, const char *id, const char *const *argv,
    int timeout_ms, int *exit_code);
/* Output bytes; stream 1 stdout, 2 stderr; non-zero stops following. */
typedef int (*sched_log_fn)(
    void *arg, int stream, const char *data, size_t len);
/* The last `tail` lines (-1: all), then new ones while follow is set. */
int sched_logs(struct sched *s, const char *id, int tail, int follow,
    sched_log_fn fn, void *arg);

/* A process of this instance as the scheduler has it. */
struct sched_entry {
	char id[SCHED_MAXID];
	char name[SCHED_MAXNAME];
	char app[32];
	uint32_t release;
	char process[32];
	char state[16];     /* "running", "exited", "restarting", "created" */
	uint16_t host_port; /* 0 when none is published */
};
/* This instance's processes (of app only, when app is not NULL), running
 * or not, into *out (free it). */
int sched_list(
    struct sched *s, const char *app, struct sched_entry **out, size_t *n);
/* Calls fn for each change of a process of this instance (action "start",
 * "die", "stop", "destroy", ...) until unix time `until` or until fn
 * returns non-zero. */
typedef int (*sched_event_fn)(
    void *arg, const char *action, const char *id, const char *app);
int sched_events(struct sched *s, int64_t until, sched_event_fn fn, void *arg);

/* --- images -------------------------------------------------------------- */
/* Produces the next bytes of a build context (tar): count, 0 at the end,
 * -1 on error. */
typedef ssize_t (*sched_read_fn)(void *arg, char *buf, size_t len);
/* One line of build output, without its newline. */
typedef void (*sched_line_fn)(void *arg, const char *line);

struct sched_build_opts {
	const char *const *buildargs;        /* "KEY=VALUE", NULL-terminated */
	long timeout;                        /* seconds; 0: none */
	const volatile sig_atomic_t *cancel; /* non-zero: abort */
};
/*
 * Builds release `number` of app from the tar that `read` streams, tagged
 * and labelled for this instance; writes the image id. SCHED_TIMEOUT past
 * opts->timeout, SCHED_CANCELLED once *opts->cancel is set; -1 with the
 * build's own error otherwise.
 */
int sched_build(struct sched *s, const char *app, uint32_t number,
    const struct sched_build_opts *opts, sched_read_fn read, void *read_arg,
    sched_line_fn line, void *line_arg, char *image_id, size_t idlen);
/* 0 when the image (an id or any name) exists, SCHED_NOTFOUND when not. */
int sched_image_exists(struct sched *s, const char *name);
/* Untags release `number`'s image of app (removed when nothing else uses
 * it); SCHED_NOTFOUND when there is none. */
int sched_image_remove(struct sched *s, const char *app, uint32_t number);
/* Removes app's dangling build images of this instance, none other. */
int sched_image_prune(struct sched *s, const char *app);

#endif
