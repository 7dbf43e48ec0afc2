/*
 * cli/words.c: the command line of `ssh minpaas <command>` split into words
 * the way a POSIX shell quotes, with no expansion of any kind (see
 * cli/commands.h). Kept apart from the command table so that it can be
 * linked, tested and fuzzed on its own.
 *
 * Guarantees: every byte of every word comes from the line; no word is
 * longer than the line; at most CMD_MAXARGS words and CMD_MAXLINE bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/err.h"

int
cmd_split(const char *line, int *argcp, char ***argvp)
{
	char **argv = NULL, *word = NULL;
	size_t len = strlen(line), wl = 0;
	int argc = 0, inword = 0;
	char q = 0;
	const char *p;

	*argcp = 0;
	*argvp = NULL;
	if (len > CMD_MAXLINE)
		return err_set(
		    "command line longer than %d bytes", CMD_MAXLINE);
	/* no word is longer than the line, and there are at most
	 * CMD_MAXARGS + 1 slots */
	if ((argv = calloc(CMD_MAXARGS + 1, sizeof *argv)) == NULL ||
	    (word = malloc(len + 1)) == NULL)
		goto nomem;
	for (p = line;; p++) {
		char c = *p;

		if (c == '\0' && q)
			goto unterminated;
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				word[wl++] = c;
			continue;
		}
		if (q == '"') {
			if (c == '"')
				q = 0;
			else if (c == '\\' && p[1] && strchr("\"\\$`", p[1]))
				word[wl++] = *++p;
			else if (c == '\\' && p[1] == '\n')
				p++;
			else
				word[wl++] = c;
			continue;
		}
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (inword) {
				if (argc == CMD_MAXARGS) {
					err_set(
					    "more than %d words", CMD_MAXARGS);
					goto fail;
				}
				word[wl] = '\0';
				if ((argv[argc] = strdup(word)) == NULL)
					goto nomem;
				argc++;
				wl = 0;
				inword = 0;
			}
			if (c == '\0')
				break;
			continue;
		}
		if (c == '\\' && p[1] == '\n') {
			/* a line continuation: neither starts nor ends a word
			 */
			p++;
			continue;
		}
		inword = 1;
		if (c == '\'' || c == '"') {
			q = c;
		} else if (c == '\\') {
			if (p[1] == '\0')
				goto unterminated;
			word[wl++] = *++p;
		} else {
			word[wl++] = c;
		}
	}
	free(word);
	*argcp = argc;
	*argvp = argv;
	return 0;
unterminated:
	err_set("unterminated quote or trailing backslash");
	goto fail;
nomem:
	err_set("out of memory");
fail:
	free(word);
	cmd_words_free(argv);
	return -1;
}

void
cmd_words_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}
