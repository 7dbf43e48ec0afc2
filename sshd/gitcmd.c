/*
 * sshd/gitcmd.c: the exec line git's SSH transport sends, parsed without a
 * shell.
 *
 * git builds it as `<prog> ` + sq_quote(path) (connect.c, quote.c): the path
 * is wrapped in '...' and each ' or ! inside becomes '\'' or '\!'. This file
 * accepts exactly that shape and nothing looser, so a name that reaches the
 * rest of minpaas is always a valid app name (common/home.h).
 */
#include <string.h>

#include "common/err.h"
#include "common/home.h"
#include "sshd/sshd.h"

static const struct {
	const char *prefix;
	enum gitcmd_kind kind;
} gitcmd_progs[] = {
    {"git-receive-pack ", GITCMD_RECEIVE_PACK},
    {"git receive-pack ", GITCMD_RECEIVE_PACK},
    {"git-upload-pack ", GITCMD_UPLOAD_PACK},
    {"git upload-pack ", GITCMD_UPLOAD_PACK},
};

const char *
gitcmd_shown(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < outlen; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0' && outlen > 4) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* Undoes sq_quote: 'a'\''b' -> a'b. 0, or -1 with err_set(). */
static int
gitcmd_dequote(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	if (*s != '\'')
		return err_set("malformed git command: the path must be "
		               "single-quoted");
	s++;
	for (;;) {
		while (*s != '\0' && *s != '\'') {
			if (n + 1 >= outlen)
				return err_set("repository path too long");
			out[n++] = *s++;
		}
		if (*s == '\0')
			return err_set("malformed git command: unterminated "
			               "quote");
		s++; /* closing quote */
		if (*s == '\0')
			break;
		/* Only git's own escapes may follow: \' or \! then '. */
		if (s[0] != '\\' || (s[1] != '\'' && s[1] != '!') ||
		    s[2] != '\'')
			return err_set("malformed git command: unexpected "
			               "text after the path");
		if (n + 1 >= outlen)
			return err_set("repository path too long");
		out[n++] = s[1];
		s += 3;
	}
	out[n] = '\0';
	return 0;
}

int
gitcmd_parse(const char *line, struct gitcmd *out)
{
	char path[GITCMD_MAXPATH + 1], shown[48];
	const char *arg = NULL;
	char *name;
	size_t i, len;

	memset(out, 0, sizeof *out);
	for (i = 0; i < sizeof gitcmd_progs / sizeof gitcmd_progs[0]; i++) {
		len = strlen(gitcmd_progs[i].prefix);
		if (strncmp(line, gitcmd_progs[i].prefix, len) == 0) {
			out->kind = gitcmd_progs[i].kind;
			arg = line + len;
			break;
		}
	}
	if (arg == NULL) {
		/* The bare program name, or another git-* service. */
		if (strncmp(line, "git-", 4) == 0 ||
		    strncmp(line, "git ", 4) == 0 || strcmp(line, "git") == 0)
			return err_set("unsupported git command '%s'",
			    gitcmd_shown(line, shown, sizeof shown));
		return 0;
	}
	if (gitcmd_dequote(arg, path, sizeof path) == -1)
		return -1;

	name = path;
	if (*name == '/')
		name++;
	if (strncmp(name, "~/", 2) == 0)
		name += 2;
	len = strlen(name);
	if (len > 4 && strcmp(name + len - 4, ".git") == 0)
		name[len - 4] = '\0';
	if (!app_name_valid(name))
		return err_set("invalid app name '%s': use lower-case letters, "
		               "digits and dashes, starting with a letter (at "
		               "most %d)",
		    gitcmd_shown(name, shown, sizeof shown), APP_MAXNAME);
	memcpy(out->app, name, strlen(name) + 1);
	return 1;
}
