/*
 * runtimes/files.h: the platform's Dockerfiles and scripts, compiled into the
 * binaries from runtimes/<name>/ by runtimes/embed.sh.
 */
#ifndef MINPAAS_RUNTIMES_FILES_H
#define MINPAAS_RUNTIMES_FILES_H

struct runtime_file {
	const char *path; /* e.g. "runtimes/python/Dockerfile" */
	const char *text;
};

/* Ends with an entry whose path is NULL. */
extern const struct runtime_file runtime_files[];

#endif
