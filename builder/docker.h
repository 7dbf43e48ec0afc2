/*
 * builder/docker.h: the Docker Engine API client, libcurl over the daemon's
 * unix socket with jansson for JSON. The only code that calls libcurl.
 *
 * One handle per process (it keeps its connection alive); not thread-safe.
 * Functions return 0, DOCKER_NOTFOUND where a missing object is an expected
 * outcome, or -1 with err_set() carrying the daemon's own message.
 */
#ifndef MINPAAS_DOCKER_H
#define MINPAAS_DOCKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DOCKER_SOCKET      "/var/run/docker.sock"
#define DOCKER_API_VERSION "1.41"
#define DOCKER_NOTFOUND    1
#define DOCKER_TIMEDOUT    4     /* a build ran past its time limit */
#define DOCKER_CANCELLED   5     /* a build was cancelled (opts->cancel) */
#define DOCKER_MAXLINE     65536 /* longest build-output or log line kept */

struct docker;

/* Connects to $DOCKER_SOCKET or `socket` (NULL for the default) and
 * negotiates the API version (GET /_ping). */
int docker_open(struct docker **out, const char *socket);
void docker_close(struct docker *d);

/* --- build --------------------------------------------------------------- */
/* Produces the next bytes of the tar build context: returns the count, 0 at
 * the end, -1 on error (the build is then cancelled). */
typedef ssize_t (*docker_read_fn)(void *arg, char *buf, size_t len);
/* Receives one line of build output as it arrives, without its newline. */
typedef void (*docker_line_fn)(void *arg, const char *line);

/*
 * POST /build with the tar streamed from `read` (chunked, never whole in
 * memory), tagged `tag`. Each output line goes to `line` as Docker sends it.
 * On success writes the image id ("sha256:...") to image_id. A failed build
 * returns -1 with the daemon's error message.
 */
int docker_build(struct docker *d, const char *tag, docker_read_fn read,
    void *read_arg, docker_line_fn line, void *line_arg, char *image_id,
    size_t idlen);

/* What docker_build_ex adds to a build; every field may be zero. */
struct docker_build_opts {
	const char *const *buildargs; /* "KEY=VALUE", NULL-terminated */
	const char *const *labels;    /* "key=value" on the image */
	long timeout;                 /* seconds for the whole build; 0: none */
	const volatile sig_atomic_t *cancel; /* set non-zero (e.g. from a
	                          signal handler) to abort within a second */
};

/* docker_build with options: an abort (timeout, *cancel) closes the
 * connection, which makes the daemon cancel the build, and returns
 * DOCKER_TIMEDOUT or DOCKER_CANCELLED (the error says "no answer within N
 * seconds" or "cancelled"). */
int docker_build_ex(struct docker *d, const char *tag,
    const struct docker_build_opts *opts, docker_read_fn read, void *read_arg,
    docker_line_fn line, void *line_arg, char *image_id, size_t idlen);

/* 0 when the image exists, DOCKER_NOTFOUND when it does not. */
int docker_image_exists(struct docker *d, const char *name);
/* DELETE /images/<name> (untags; removes the image when nothing else uses
 * it). DOCKER_NOTFOUND when absent; -1 (daemon's message) when in use. */
int docker_image_remove(struct docker *d, const char *name);
/* Removes dangling images that carry every one of labels ("key" or
 * "key=value", NULL-terminated). */
int docker_image_prune(struct docker *d, const char *const *labels);

/* --- containers ---------------------------------------------------------- */
struct docker_spec {
	const char *name;       /* container name */
	const char *image;      /* image id or name */
	const char *const *env; /* "KEY=VALUE" strings, NULL-terminated */
	const char *command;  /* run as /bin/sh -c <command>; NULL: image CMD */
	const char *instance; /* label minpaas.instance */
	const char *app;      /* label minpaas.app */
	uint32_t release;     /* label minpaas.release */
	const char *process;  /* label minpaas.process ("web") */
	uint16_t port;        /* container port ($PORT), published ... */
	uint16_t host_port;   /* ... on 127.0.0.1:host_port; 0: not at all */
	int64_t memory;       /* bytes; 0: no limit */
	int64_t nano_cpus;    /* 1e9 = one CPU; 0: no limit */
	int64_t pids;         /* 0: no limit */
	const char *user;     /* "" or NULL: the image's user */
	const char *restart;  /* restart policy; NULL: "unless-stopped" */
};

/* Creates a container (restart unless-stopped, init, no new privileges,
 * json-file logs with rotation); writes its id to id (65 bytes). */
int docker_container_create(
    struct docker *d, const struct docker_spec *spec, char *id, size_t idlen);
int docker_container_start(struct docker *d, const char *id);
/* Changes the restart policy of a created or running container ("no",
 * "unless-stopped", ...). */
int docker_container_set_restart(
    struct docker *d, const char *id, const char *policy);
/* SIGTERM, then SIGKILL after timeout seconds. Already stopped is success;
 * DOCKER_NOTFOUND when it does not exist. */
int docker_container_stop(struct docker *d, const char *id, int timeout);
/* Force-removes; DOCKER_NOTFOUND when it does not exist. */
int docker_container_remove(struct docker *d, const char *id);

struct docker_state {
	int running;
	int restarting;
	int exit_code;
	int restart_count;
	char status[16];  /* "created", "running", "exited", ... */
	int64_t started;  /* unix seconds of the last start, 0 when never */
	int64_t finished; /* unix seconds of the last exit, 0 when never */
};

/* The state of container id into out: 0, DOCKER_NOTFOUND when there is no
 * such container, or -1 with the daemon's message. */
int docker_container_inspect(
    struct docker *d, const char *id, struct docker_state *out);

/*
 * Runs argv in the running container (docker exec, detached) and waits up
 * to timeout_ms for it to end: 0 with *exit_code set (-1 when it was still
 * running at the deadline), DOCKER_NOTFOUND, or -1 with err_set().
 */
int docker_container_exec(struct docker *d, const char *id,
    const char *const *argv, int timeout_ms, int *exit_code);

/* Receives log bytes; stream is 1 for stdout, 2 for stderr. Return non-zero
 * to stop following. */
typedef int (*docker_log_fn)(
    void *arg, int stream, const char *data, size_t len);

/* GET /containers/{id}/logs (multiplexed frames decoded); `tail` lines
 * (-1: all), following until the container stops or `log` returns non-zero
 * when follow is set. */
int docker_container_logs(struct docker *d, const char *id, int tail,
    int follow, docker_log_fn log, void *arg);

/* --- listing and events -------------------------------------------------- */
/* A container as GET /containers/json lists it, with minpaas's labels. */
struct docker_container {
	char id[72];
	char name[128];
	char app[32];       /* label minpaas.app */
	uint32_t release;   /* label minpaas.release */
	char process[32];   /* label minpaas.process */
	char state[16];     /* "running", "exited", "restarting", "created" */
	uint16_t host_port; /* its first published port, 0 when none */
};

/* Every container (running or not) carrying all of labels ("key=value",
 * NULL-terminated) into *out (free it), *n of them. */
int docker_container_list(struct docker *d, const char *const *labels,
    struct docker_container **out, size_t *n);

/* One container event: action ("start", "die", "stop", "destroy", ...),
 * the container's id, its minpaas.app label ("" when none). Return non-zero
 * to stop following. */
typedef int (*docker_event_fn)(
    void *arg, const char *action, const char *id, const char *app);

/* GET /events for containers carrying all of labels, from now until unix
 * time `until` (the daemon then ends the stream) or until fn returns
 * non-zero: 0, or -1 with err_set(). */
int docker_events(struct docker *d, const char *const *labels, int64_t until,
    docker_event_fn fn, void *arg);

#endif
