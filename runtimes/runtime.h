/*
 * runtimes/runtime.h: detect what a pushed tree is and produce the platform
 * Dockerfile that builds it. Independent of git: the caller answers "does
 * this path exist" and "what does this file hold" for the tree.
 */
#ifndef MINPAAS_RUNTIME_H
#define MINPAAS_RUNTIME_H

#include <stddef.h>

#define RUNTIME_MAXPROCFILE 65536
#define RUNTIME_MAXCOMMAND 1024

/* How detection looks at the tree. */
struct runtime_tree {
	/* 1 when a regular file exists at path (relative to the root). */
	int (*exists)(void *arg, const char *path);
	/* Reads the file at path into a malloc'd NUL-terminated buffer;
	 * returns 0, 1 when absent, -1 on error. */
	int (*read)(void *arg, const char *path, char **out, size_t *len);
	void *arg;
};

struct runtime_result {
	char name[16];	       /* "python", "dockerfile", ... */
	char *dockerfile;      /* platform Dockerfile (malloc'd); NULL when the
				  tree has its own */
	char command[RUNTIME_MAXCOMMAND]; /* Procfile web: command, or "" */
};

/*
 * Detects the runtime; first match wins (Dockerfile, python, ...). Returns 0,
 * or -1 with err_set() naming the files minpaas looks for when nothing is
 * recognised.
 */
int runtime_detect(const struct runtime_tree *tree, struct runtime_result *out);
void runtime_result_release(struct runtime_result *r);

/* The "web:" command of a Procfile's text, into out; 1 when there is none. */
int runtime_procfile_web(const char *text, size_t len, char *out,
    size_t outlen);

/* Image the platform Dockerfiles build FROM: $MINPAAS_STACK_IMAGE or
 * "minpaas/stack:bookworm". */
const char *runtime_stack_image(void);

#endif
