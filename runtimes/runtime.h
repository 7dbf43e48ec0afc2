/*
 * runtimes/runtime.h: detect what a pushed tree is and produce the platform
 * Dockerfile that builds it. Independent of git: the caller answers "does
 * this path exist" and "what does this file hold" for the tree.
 */
#ifndef MINPAAS_RUNTIME_H
#define MINPAAS_RUNTIME_H

#include <stddef.h>

#define RUNTIME_MAXPROCFILE 65536
#define RUNTIME_MAXCOMMAND  1024
#define RUNTIME_MAXPROCS    16        /* process types in a Procfile */
#define RUNTIME_MAXPROCNAME 32        /* bytes in a process type's name */
#define RUNTIME_MAXPKGJSON  (1 << 20) /* bytes of package.json read */

/* How detection looks at the tree. */
struct runtime_tree {
	/* 1 when a regular file exists at path (relative to the root). */
	int (*exists)(void *arg, const char *path);
	/* Reads the file at path into a malloc'd NUL-terminated buffer;
	 * returns 0, 1 when absent, -1 on error. */
	int (*read)(void *arg, const char *path, char **out, size_t *len);
	void *arg;
};

/* One Procfile line: "<name>: <command>". */
struct runtime_proc {
	char name[RUNTIME_MAXPROCNAME];
	char command[RUNTIME_MAXCOMMAND];
};

struct runtime_result {
	char name[16];    /* "python", "node", "static", "dockerfile" */
	char *dockerfile; /* platform Dockerfile (malloc'd); NULL when the
	                     tree has its own */
	char command[RUNTIME_MAXCOMMAND]; /* Procfile web: command, or "" */
	struct runtime_proc procs[RUNTIME_MAXPROCS]; /* every Procfile line */
	size_t nprocs;
};

/*
 * Detects the runtime; first match wins: Dockerfile, python
 * (requirements.txt, pyproject.toml, app.py), node (package.json with a
 * scripts.start or a Procfile web: line), static (index.html or
 * public/index.html). Returns 0, or -1 with err_set() naming the files
 * minpaas looks for when nothing is recognised.
 */
int runtime_detect(const struct runtime_tree *tree, struct runtime_result *out);
void runtime_result_release(struct runtime_result *r);

/* The "web:" command of a Procfile's text, into out; 1 when there is none,
 * -1 with err_set() when it does not fit or the text holds a NUL byte. */
int runtime_procfile_web(
    const char *text, size_t len, char *out, size_t outlen);

/*
 * Every "<name>: <command>" line of a Procfile (Heroku's grammar), first
 * line of each name (lower-cased) wins, into procs (at most max). Returns 0
 * with *n set, or -1 with err_set() on a command too long, too many types or
 * a NUL byte in the text.
 */
int runtime_procfile_parse(const char *text, size_t len,
    struct runtime_proc *procs, size_t max, size_t *n);

/* Image the platform Dockerfiles build FROM: $MINPAAS_STACK_IMAGE or
 * "minpaas/stack:bookworm". */
const char *runtime_stack_image(void);

/* Image the runtime `name` builds FROM: $MINPAAS_IMAGE_<NAME> (upper case),
 * else runtime_stack_image(). */
const char *runtime_image(const char *name);

#endif
