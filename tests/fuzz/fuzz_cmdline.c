/*
 * tests/fuzz/fuzz_cmdline.c: libFuzzer target for the splitter of
 * `ssh minpaas <command>` lines (cmd_split, cli/words.c). The input is one
 * command line. Beyond "no crash": at most CMD_MAXARGS words, argv ends with
 * NULL, every byte of every word occurs in the line, and quoting each word
 * again ('...' with each ' written '\'') and splitting that line gives the
 * same words back.
 *
 * fuzz-sources: cli/words.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The words joined as single-quoted shell words; malloc'd. */
static char *
requote(int argc, char **argv)
{
	size_t n = 1;
	char *line, *w;
	const char *c;
	int k;

	for (k = 0; k < argc; k++)
		for (n += 3, c = argv[k]; *c; c++)
			n += *c == '\'' ? 4 : 1;
	if ((line = malloc(n)) == NULL)
		return NULL;
	w = line;
	for (k = 0; k < argc; k++) {
		if (k > 0)
			*w++ = ' ';
		*w++ = '\'';
		for (c = argv[k]; *c; c++) {
			if (*c == '\'') {
				memcpy(w, "'\\''", 4);
				w += 4;
			} else
				*w++ = *c;
		}
		*w++ = '\'';
	}
	*w = '\0';
	return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *again = NULL, **argv = NULL, **argv2 = NULL;
	unsigned char seen[256] = {0};
	size_t i;
	int argc, argc2, k;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		seen[(unsigned char)line[i]] = 1;

	if (cmd_split(line, &argc, &argv) == -1) {
		if (argv != NULL || argc != 0)
			abort();
		goto out;
	}
	if (argc < 0 || argc > CMD_MAXARGS || argv == NULL ||
	    argv[argc] != NULL)
		abort();
	for (k = 0; k < argc; k++) {
		if (strlen(argv[k]) > i)
			abort();
		for (const char *c = argv[k]; *c; c++)
			if (!seen[(unsigned char)*c])
				abort();
	}

	if ((again = requote(argc, argv)) == NULL)
		goto out;
	if (strlen(again) > CMD_MAXLINE)
		goto out; /* quoting made it too long to be taken */
	if (cmd_split(again, &argc2, &argv2) == -1 || argc2 != argc)
		abort();
	for (k = 0; k < argc; k++)
		if (strcmp(argv[k], argv2[k]) != 0)
			abort();
out:
	cmd_words_free(argv);
	cmd_words_free(argv2);
	free(again);
	free(line);
	return 0;
}
