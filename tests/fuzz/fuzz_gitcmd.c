/*
 * tests/fuzz/fuzz_gitcmd.c: libFuzzer target for the exec line of git's SSH
 * transport as minpaas-sshd reads it (gitcmd_parse, sshd/gitcmd.c). The
 * input is the line a client sends. Beyond "no crash": an accepted line
 * names a receive-pack or upload-pack, its app name passes app_name_valid
 * (common/home.c), and the line git itself would send for that name parses
 * to the same name; a line that is no git command leaves the result empty;
 * gitcmd_shown gives a short printable string.
 *
 * fuzz-sources: sshd/gitcmd.c common/home.c common/err.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/home.h"
#include "sshd/sshd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gitcmd g, g2;
	char *line, *shown, again[64];
	size_t i, n;
	int rv;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';

	rv = gitcmd_parse(line, &g);
	if (rv == 1) {
		if (g.kind != GITCMD_RECEIVE_PACK &&
		    g.kind != GITCMD_UPLOAD_PACK)
			abort();
		if (memchr(g.app, '\0', sizeof g.app) == NULL ||
		    !app_name_valid(g.app))
			abort();
		snprintf(again, sizeof again, "%s '%s'",
		    g.kind == GITCMD_RECEIVE_PACK ? "git-receive-pack"
		                                  : "git-upload-pack",
		    g.app);
		if (gitcmd_parse(again, &g2) != 1 || g2.kind != g.kind ||
		    strcmp(g2.app, g.app) != 0)
			abort();
	} else if (rv == 0) {
		if (g.kind != 0 || g.app[0] != '\0' ||
		    strncmp(line, "git-", 4) == 0 ||
		    strncmp(line, "git ", 4) == 0 || strcmp(line, "git") == 0)
			abort();
	} else if (rv != -1)
		abort();

	/* what a log line or a message shows of the client's string, into
	 * buffers of exactly outlen bytes so ASan sees a write past one */
	for (n = 1; n <= 48; n += n < 8 ? 1 : 8) {
		if ((shown = malloc(n)) == NULL)
			break;
		gitcmd_shown(line, shown, n);
		if (memchr(shown, '\0', n) == NULL)
			abort();
		for (i = 0; shown[i] != '\0'; i++)
			if (shown[i] < 0x20 || shown[i] >= 0x7f)
				abort();
		free(shown);
	}

	free(line);
	return 0;
}
