/*
 * cli/commands.h: the command table shared by `ssh minpaas <command>` (run by
 * minpaas-sshd in a child process whose stdin/stdout/stderr are the SSH
 * channel) and the local `minpaas <command>` admin binary. A command is
 * written once, here.
 *
 * Commands print to stdout (results) and stderr (errors, " !     " prefixed)
 * and return the exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef MINPAAS_COMMANDS_H
#define MINPAAS_COMMANDS_H

#include <stddef.h>

#include "state/state.h"

#define CMD_MAXLINE     8192 /* longest command line accepted over SSH */
#define CMD_MAXARGS     256
#define MINPAAS_VERSION "0.1.0"

struct cmd_ctx {
	struct state *st;
	const char *key_fp;   /* fingerprint of the caller's key; "" locally */
	const char *key_name; /* "admin" locally */
	int admin;            /* 1 for admin keys and the local command */
};

/* Runs argv[0] with its arguments; returns the exit status. */
int cmd_run(struct cmd_ctx *ctx, int argc, char **argv);

struct ssh_key_struct;
/* Writes the "SHA256:..." fingerprint of the libssh key (an ssh_key) into
 * fp, as keys:add records it and sshd matches it; 0, or -1 with err_set(). */
int cmd_key_fingerprint(struct ssh_key_struct *key, char *fp, size_t fplen);

/* --- cli/words.c: the command-line word splitter (links on its own) --- */

/*
 * Splits a command line into words as a POSIX shell would for quoting only:
 * '...', "..." (with \" \\ \$ \` escapes) and backslash outside quotes. No
 * expansion of any kind. On success *argv is a NULL-terminated malloc'd array
 * (free with cmd_words_free). Returns -1 with err_set() on an unterminated
 * quote, a line over CMD_MAXLINE or more than CMD_MAXARGS words.
 */
int cmd_split(const char *line, int *argc, char ***argv);
void cmd_words_free(char **argv);

#endif
