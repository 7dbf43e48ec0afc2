/*
 * cli/commands.c: the command table behind `ssh minpaas <command>` and the
 * local `minpaas <command>`. Each command checks its arguments, prints its
 * result on stdout and a one-line reason on stderr, and returns 0, 1 or 2.
 */
#include <ctype.h>
#include <stdarg.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd_int.h"
#include "cli/cmd_deploy.h"
#include "cli/commands.h"
#include "common/err.h"
#include "common/home.h"

#define CMD_MAXKEY 16384 /* longest public key line read by keys:add */

struct cmd {
	const char *name;
	int (*run)(struct cmd_ctx *, int, char **);
	int admin; /* only admins may run it */
	const char *usage;
	const char *help;
};

static int cmd_help(struct cmd_ctx *, int, char **);

int
cmd_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs(" !     ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int
cmd_version(struct cmd_ctx *ctx, int argc, char **argv)
{
	printf("minpaas %s\n", MINPAAS_VERSION);
	return 0;
}

static int
cmd_apps(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_app *apps;
	size_t i, n;

	if (argc > 1)
		return cmd_fail(2, "usage: apps");
	if (state_app_list(ctx->st, &apps, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	for (i = 0; i < n; i++) {
		if (!ctx->admin && strcmp(apps[i].owner, ctx->key_fp) != 0)
			continue;
		printf("%s\n", apps[i].name);
	}
	free(apps);
	return 0;
}

static int
key_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.@-", s[i]))
			return 0;
	return 1;
}

/*
 * Parses "type base64 [comment]" into key (fp, pubkey). Returns 0, or -1
 * with err_set() naming what is wrong.
 */
static int
parse_pubkey(char *line, struct state_key *key)
{
	char *type, *b64, *save = NULL, *fp = NULL;
	unsigned char *hash = NULL;
	size_t hlen;
	ssh_key k = NULL;
	enum ssh_keytypes_e kt;
	int rc = -1;

	type = strtok_r(line, " \t\r\n", &save);
	b64 = strtok_r(NULL, " \t\r\n", &save);
	if (type == NULL || b64 == NULL)
		return err_set("expected a public key line: "
		               "'ssh-ed25519 AAAA... [comment]'");
	if ((kt = ssh_key_type_from_name(type)) == SSH_KEYTYPE_UNKNOWN)
		return err_set("unknown key type '%.40s'", type);
	if (ssh_pki_import_pubkey_base64(b64, kt, &k) != SSH_OK)
		return err_set("the %s key does not decode", type);
	if (ssh_get_publickey_hash(
	        k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(
	         SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL) {
		err_set("cannot fingerprint the key");
		goto done;
	}
	if ((size_t)snprintf(key->pubkey, sizeof key->pubkey, "%s %s", type,
	        b64) >= sizeof key->pubkey) {
		err_set("key too long");
		goto done;
	}
	snprintf(key->fp, sizeof key->fp, "%s", fp);
	rc = 0;
done:
	if (fp)
		ssh_string_free_char(fp);
	if (hash)
		ssh_clean_pubkey_hash(&hash);
	ssh_key_free(k);
	return rc;
}

static int
cmd_keys_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_key key;
	char *line;
	const char *role = "developer";
	int rc, i, status = 1;

	memset(&key, 0, sizeof key);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (key.name[0] == '\0' && argv[i][0] != '-') {
			if (!key_name_valid(argv[i]))
				return cmd_fail(2,
				    "invalid key name '%.64s': use "
				    "letters, digits and _.@- (at "
				    "most 63)",
				    argv[i]);
			snprintf(key.name, sizeof key.name, "%s", argv[i]);
		} else
			return cmd_fail(2, "usage: keys:add NAME [--role "
			                   "admin|developer] < key.pub");
	}
	if (key.name[0] == '\0')
		return cmd_fail(2,
		    "usage: keys:add NAME [--role admin|developer] "
		    "< key.pub");

	if (strcmp(role, "admin") != 0 && strcmp(role, "developer") != 0)
		return cmd_fail(
		    2, "unknown role '%s': admin or developer", role);
	if ((line = malloc(CMD_MAXKEY)) == NULL)
		return cmd_fail(1, "out of memory");
	if (fgets(line, CMD_MAXKEY, stdin) == NULL) {
		cmd_fail(2, "keys:add reads a public key on stdin");
		goto done;
	}
	if (strchr(line, '\n') == NULL && !feof(stdin)) {
		cmd_fail(1, "key line longer than %d bytes", CMD_MAXKEY);
		goto done;
	}
	if (parse_pubkey(line, &key) == -1) {
		cmd_fail(1, "%s", err_msg());
		goto done;
	}
	snprintf(key.role, sizeof key.role, "%s", role);
	key.created = time(NULL);
	rc = state_key_add(ctx->st, &key);
	if (rc == STATE_EXISTS) {
		cmd_fail(1,
		    "a key named '%s' or with fingerprint %s exists already",
		    key.name, key.fp);
		goto done;
	}
	if (rc != 0) {
		cmd_fail(1, "%s", err_msg());
		goto done;
	}
	printf("-----> Added key '%s' (%s, %s)\n", key.name, key.role, key.fp);
	status = 0;
done:
	free(line);
	return status;
}

static int
cmd_keys(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_key *keys;
	size_t i, n;

	if (argc > 1)
		return cmd_fail(2, "usage: keys");
	if (state_key_list(ctx->st, &keys, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	for (i = 0; i < n; i++)
		printf(
		    "%-20s %-10s %s\n", keys[i].name, keys[i].role, keys[i].fp);
	free(keys);
	return 0;
}

static int
cmd_keys_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc != 2)
		return cmd_fail(2, "usage: keys:remove NAME");
	rc = state_key_remove(ctx->st, argv[1]);
	if (rc == STATE_NOTFOUND)
		return cmd_fail(1, "no key named '%s'", argv[1]);
	if (rc != 0)
		return cmd_fail(1, "%s", err_msg());
	printf("-----> Removed key '%s'\n", argv[1]);
	return 0;
}

static const struct cmd cmd_table[] = {
    {"apps", cmd_apps, 0, "apps", "list the apps"},
    {"keys", cmd_keys, 1, "keys", "list the SSH keys"},
    {"keys:add", cmd_keys_add, 1,
        "keys:add NAME [--role admin|developer] < key.pub",
        "add an SSH public key (read on stdin)"},
    {"keys:remove", cmd_keys_remove, 1, "keys:remove NAME",
        "remove an SSH key"},
    {"env", cmd_env, 0, "env [APP]", "show the config vars"},
    {"env:get", cmd_env_get, 0, "env:get [APP] KEY",
        "print one config var's value"},
    {"env:set", cmd_env_set, 0, "env:set [APP] KEY=VALUE... [--no-restart]",
        "set config vars and restart"},
    {"env:unset", cmd_env_unset, 0, "env:unset [APP] KEY... [--no-restart]",
        "remove config vars and restart"},
    {"config", cmd_env, 0, "config [APP]", "alias of env"},
    {"config:get", cmd_env_get, 0, "config:get [APP] KEY", "alias of env:get"},
    {"config:set", cmd_env_set, 0,
        "config:set [APP] KEY=VALUE... [--no-restart]", "alias of env:set"},
    {"config:unset", cmd_env_unset, 0,
        "config:unset [APP] KEY... [--no-restart]", "alias of env:unset"},
    {"releases", cmd_releases, 0, "releases [APP]",
        "list the releases, newest first"},
    {"rollback", cmd_rollback, 0, "rollback [APP] [vN]",
        "go back to an earlier release (default: the one before)"},
    {"logs", cmd_logs, 0, "logs [APP] [-n N] [-f]",
        "show the app's output; -f follows it"},
    {"deploy", cmd_deploy, 0, "deploy APP",
        "build and deploy the deploy branch again"},
    {"deploy:tar", cmd_deploy_tar, 0, "deploy:tar APP < tarball",
        "build and deploy a tarball (tar c . | ssh ... deploy:tar APP)"},
    {"deploy:image", cmd_deploy_image, 0, "deploy:image APP IMAGE",
        "deploy an image that is on the host"},
    {"releases:info", cmd_releases_info, 0, "releases:info APP vN",
        "show a release and its build log"},
    {"help", cmd_help, 0, "help [COMMAND]", "list the commands"},
    {"version", cmd_version, 0, "version", "print the version"},
};

#define CMD_COUNT (sizeof cmd_table / sizeof cmd_table[0])

static const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

static int
cmd_help(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;
	size_t i;

	if (argc > 2)
		return cmd_fail(2, "usage: help [COMMAND]");
	if (argc == 2) {
		if ((c = cmd_find(argv[1])) == NULL)
			return cmd_fail(2, "unknown command '%s'", argv[1]);
		printf("usage: %s\n  %s\n", c->usage, c->help);
		return 0;
	}
	printf("Usage: ssh minpaas COMMAND [ARGS...]\n\n");
	printf("  git push minpaas main   deploy (remote "
	       "ssh://git@HOST:PORT/APP)\n");
	for (i = 0; i < CMD_COUNT; i++)
		printf("  %-22s  %s\n", cmd_table[i].name, cmd_table[i].help);
	return 0;
}

int
cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;
	int status;

	if (argc < 1)
		return cmd_help(ctx, 1, argv);
	if ((c = cmd_find(argv[0])) == NULL) {
		cmd_fail(
		    2, "unknown command '%.64s'; 'help' lists them", argv[0]);
		return 2;
	}
	if (c->admin && !ctx->admin)
		return cmd_fail(1, "'%s' needs an admin key", c->name);
	status = c->run(ctx, argc, argv);
	fflush(stdout);
	fflush(stderr);
	return status;
}

/* --- the command-line word splitter --------------------------------------- */

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
		inword = 1;
		if (c == '\'' || c == '"') {
			q = c;
		} else if (c == '\\') {
			if (p[1] == '\0')
				goto unterminated;
			if (p[1] == '\n') {
				p++;
				inword = wl > 0;
				continue;
			}
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
