/*
 * builder/release.h: the one path by which a release goes live. Start the new
 * container on a fresh port, health-check it (polling, no fixed sleeps),
 * switch the route in one LMDB write, retire the old container in the
 * background. On failure the old release keeps serving.
 *
 * Progress goes to `out` in Heroku's shape ("-----> Step", 7-space detail).
 */
#ifndef MINPAAS_RELEASE_H
#define MINPAAS_RELEASE_H

#include <stdio.h>

#include "builder/sched.h"
#include "state/state.h"

#define RELEASE_HEALTH_TIMEOUT     60 /* seconds; $MINPAAS_HEALTH_TIMEOUT */
#define RELEASE_HEALTH_INTERVAL_MS 50
#define RELEASE_STOP_GRACE         10   /* seconds between SIGTERM and kill */
#define RELEASE_LOG_LINES          20   /* last log lines shown on failure */
#define RELEASE_APP_PORT           5000 /* $PORT inside the container */
#define RELEASE_MEMORY             (512LL << 20) /* default memory limit */
#define RELEASE_NANO_CPUS          1000000000LL /* default CPU limit: one core */
#define RELEASE_PIDS               512          /* default pids limit */
#define RELEASE_PROBE_CONNECT_MS   200  /* per-try TCP connect timeout */
#define RELEASE_PROBE_REPLY_MS     2000 /* wait for a status line once in */
#define RELEASE_INSPECT_MS         200  /* how often the container is checked */
#define RELEASE_EXEC_INTERVAL_MS   250  /* between health-check commands */
#define RELEASE_EXEC_TIMEOUT_MS    5000 /* one health-check command at most */
#define RELEASE_EXEC_PREFIX        "exec:" /* a command check, JSON argv */
#define RELEASE_DRAIN_MS           2000 /* old release keeps serving after swap */
#define RELEASE_PORT_TRIES         32   /* host ports tried when one is taken */
#define RELEASE_MAXHEALTHPATH      256 /* fits state_release.healthcheck */
#define RELEASE_MAXAPPJSON         (256 * 1024) /* app.json read at most */

/*
 * Deploys rel (app, number, image, commit, command and cause filled in, its
 * record already stored by state_release_new). Allocates a port, creates and
 * starts the container, waits until it answers HTTP on 127.0.0.1:port,
 * then calls state_release_activate with the route of the app's generated
 * hostname (apps_hosts_get) and stops the previous release's container
 * without waiting for it. On failure marks rel "failed", prints the reason
 * and the container's last log lines to out, removes the new container and
 * returns -1; the previous release stays live.
 */
int release_deploy(
    struct state *st, struct sched *s, struct state_release *rel, FILE *out);

/*
 * Makes the web process of live release rel anew when its container is gone
 * (a `docker rm`): same image, env and command, on the port the route
 * names, restarted unless stopped; rel->container is updated and stored.
 * 0, or -1 with err_set().
 */
int release_recreate(
    struct state *st, struct sched *s, struct state_release *rel);

/*
 * The health check of an app.json, read as Dokku reads it: the first entry
 * of healthchecks.web whose type is "startup" (or has no type) and has a
 * "path" (written to out as is) or a "command" (an array of strings, or a
 * string for /bin/sh -c; written as RELEASE_EXEC_PREFIX + a JSON array, run
 * in the container until it exits 0). out is "" when the file sets none.
 * Returns 0, or -1 with err_set() when the JSON does not parse or the check
 * is not a valid one (see release_healthcheck_valid).
 */
int release_healthcheck_parse(
    const char *json, size_t len, char *out, size_t outlen);

/*
 * Connects a TCP socket to 127.0.0.1:port, waiting at most ms for the
 * connection. Returns the connected (non-blocking, close-on-exec)
 * descriptor, which the caller closes, or -1 when nothing accepted it.
 */
int release_connect_local(uint16_t port, int ms);

struct json_t;
/*
 * (builder/appjson.c) The argv of a command health check (RELEASE_EXEC_PREFIX
 * + a JSON array of strings) as a malloc'd NULL-terminated array whose
 * strings point into *owner (json_decref it after freeing the array); NULL,
 * with err_set() unless check lacks the prefix, when it is not one.
 */
const char **release_exec_argv(const char *check, struct json_t **owner);

/* 1 when check is a path that starts with '/' and holds only visible ASCII,
 * or a RELEASE_EXEC_PREFIX command, and fits RELEASE_MAXHEALTHPATH; else 0. */
int release_healthcheck_valid(const char *path);

#endif
