/*
 * cli/commands.c: the command table behind `ssh minpaas <command>` and the
 * local `minpaas <command>`. Each command checks its arguments, prints its
 * result on stdout and a one-line reason on stderr, and returns 0, 1 or 2.
 */
#include <ctype.h>
#include <jansson.h>
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
#include "common/progress.h"

#define CMD_MAXKEY  16384 /* longest public key line read by keys:add */
#define CMD_MAXNAME 64    /* command name length compared for suggestions */

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

	fputs(PROGRESS_FAIL, stderr);
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

int
cmd_key_fingerprint(ssh_key key, char *fp, size_t fplen)
{
	unsigned char *hash = NULL;
	char *hex = NULL;
	size_t hlen = 0;
	int rc = -1;

	if (ssh_get_publickey_hash(
	        key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0) {
		err_set("cannot hash public key");
		goto out;
	}
	hex = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (hex == NULL) {
		err_set("cannot format key fingerprint");
		goto out;
	}
	if (strlen(hex) >= fplen) {
		err_set("key fingerprint too long");
		goto out;
	}
	memcpy(fp, hex, strlen(hex) + 1);
	rc = 0;
out:
	if (hex)
		ssh_string_free_char(hex);
	if (hash)
		ssh_clean_pubkey_hash(&hash);
	return rc;
}

/*
 * Parses "type base64 [comment]" into key (fp, pubkey). Returns 0, or -1
 * with err_set() naming what is wrong.
 */
static int
parse_pubkey(char *line, struct state_key *key)
{
	char *type, *b64, *save = NULL;
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
	if (cmd_key_fingerprint(k, key->fp, sizeof key->fp) == -1)
		goto done;
	if ((size_t)snprintf(key->pubkey, sizeof key->pubkey, "%s %s", type,
	        b64) >= sizeof key->pubkey) {
		err_set("key too long");
		goto done;
	}
	rc = 0;
done:
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
	STEP(stdout, "Added key '%s' (%s, %s)", key.name, key.role, key.fp);
	status = 0;
done:
	free(line);
	return status;
}

static int
cmd_keys(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_key *keys;
	json_t *arr = NULL, *o;
	size_t i, n;
	int json = cmd_take_json(&argc, argv);

	if (argc > 1)
		return cmd_fail(2, "usage: keys [--json]");
	if (state_key_list(ctx->st, &keys, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (json && (arr = json_array()) == NULL) {
		free(keys);
		return cmd_fail(1, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (!json) {
			printf("%-20s %-10s %s\n", keys[i].name, keys[i].role,
			    keys[i].fp);
			continue;
		}
		o = json_pack("{s:s, s:s, s:s, s:I}", "name", keys[i].name,
		    "role", keys[i].role, "fingerprint", keys[i].fp, "created",
		    (json_int_t)keys[i].created);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			free(keys);
			return cmd_fail(1, "out of memory");
		}
	}
	free(keys);
	return json ? cmd_json_print(arr) : 0;
}

static int
cmd_keys_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct state_key key;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_fail(2, "usage: keys:remove NAME");
	if ((rc = cmd_key_by_name(ctx, argv[1], &key)) != 0)
		return rc;
	rc = state_key_remove(ctx->st, argv[1]);
	if (rc == STATE_NOTFOUND)
		return cmd_fail(1, "no key named '%s'", argv[1]);
	if (rc != 0 || state_access_revoke_key(ctx->st, key.fp) == -1)
		return cmd_fail(1, "%s", err_msg());
	STEP(stdout, "Removed key '%s'", argv[1]);
	return 0;
}

/* images [--json]: the images an admin allowed developer keys to use. */
static int
cmd_images(struct cmd_ctx *ctx, int argc, char **argv)
{
	state_image *list = NULL;
	json_t *arr;
	size_t i, n;
	int json = cmd_take_json(&argc, argv);

	if (argc != 1)
		return cmd_fail(2, "usage: images [--json]");
	if (state_image_list(ctx->st, &list, &n) == -1)
		return cmd_fail(1, "%s", err_msg());
	if (json) {
		if ((arr = json_array()) == NULL) {
			free(list);
			return cmd_fail(1, "out of memory");
		}
		for (i = 0; i < n; i++)
			json_array_append_new(arr, json_string(list[i]));
		free(list);
		return cmd_json_print(arr);
	}
	printf("=== images developer keys may build from and deploy\n");
	printf("(besides the platform's and their apps' own)\n");
	for (i = 0; i < n; i++)
		printf("%s\n", list[i]);
	free(list);
	return 0;
}

/* images:allow IMAGE / images:disallow IMAGE */
static int
cmd_images_change(struct cmd_ctx *ctx, int argc, char **argv)
{
	int allow = strcmp(argv[0], "images:allow") == 0, rc;

	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0')
		return cmd_fail(2, "usage: %s IMAGE", argv[0]);
	rc = allow ? state_image_allow(ctx->st, argv[1])
	           : state_image_disallow(ctx->st, argv[1]);
	if (rc == STATE_EXISTS)
		return cmd_fail(1, "%s is allowed already", argv[1]);
	if (rc == STATE_NOTFOUND)
		return cmd_fail(1, "%s was not allowed", argv[1]);
	if (rc != 0)
		return cmd_fail(1, "%s", err_msg());
	STEP(stdout, "%s %s", allow ? "Allowed" : "No longer allowed", argv[1]);
	if (allow)
		DETAIL(
		    stdout, "developer keys may build FROM it and deploy it");
	return 0;
}

static const struct cmd cmd_table[] = {
    {"apps", cmd_apps, 0, "apps [--json]", "list the apps"},
    {"apps:create", cmd_apps_create, 0, "apps:create [APP]",
        "create an app (a random name when none is given)"},
    {"apps:info", cmd_apps_info, 0, "apps:info [APP] [--json]",
        "show an app's URLs, runtime, release and processes"},
    {"apps:destroy", cmd_apps_destroy, 0, "apps:destroy APP --confirm APP",
        "remove an app and everything of it"},
    {"ps", cmd_ps, 0, "ps [APP] [--json]",
        "list the app's processes: type, state, release, uptime"},
    {"ps:stop", cmd_ps_stop, 0, "ps:stop [APP]",
        "stop the app (its URLs answer 503)"},
    {"ps:start", cmd_ps_start, 0, "ps:start [APP]",
        "start a stopped app (a new release from the current one)"},
    {"ps:restart", cmd_ps_restart, 0, "ps:restart [APP]",
        "restart the app without dropping a request"},
    {"domains", cmd_domains, 0, "domains [APP] [--json]",
        "list the app's hostnames"},
    {"domains:add", cmd_domains_add, 0, "domains:add [APP] HOST",
        "serve the app on another hostname too"},
    {"domains:remove", cmd_domains_remove, 0, "domains:remove [APP] HOST",
        "stop serving the app on a hostname"},
    {"access", cmd_access, 0, "access [APP]",
        "list the keys that may use the app"},
    {"access:grant", cmd_access_grant, 0, "access:grant APP KEY",
        "let a developer key use the app"},
    {"access:revoke", cmd_access_revoke, 0, "access:revoke APP KEY",
        "take a developer key's access to the app away"},
    {"keys", cmd_keys, 1, "keys [--json]", "list the SSH keys"},
    {"keys:add", cmd_keys_add, 1,
        "keys:add NAME [--role admin|developer] < key.pub",
        "add an SSH public key (read on stdin)"},
    {"keys:remove", cmd_keys_remove, 1, "keys:remove NAME",
        "remove an SSH key"},
    {"images", cmd_images, 1, "images [--json]",
        "list the images developer keys may use besides their own"},
    {"images:allow", cmd_images_change, 1, "images:allow IMAGE",
        "let developer keys build FROM and deploy an image"},
    {"images:disallow", cmd_images_change, 1, "images:disallow IMAGE",
        "take an allowed image back"},
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
    {"releases", cmd_releases, 0, "releases [APP] [--json]",
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

/* Levenshtein distance between a and b (b at most CMD_MAXNAME bytes). */
static size_t
cmd_distance(const char *a, const char *b)
{
	size_t row[CMD_MAXNAME + 1], i, j, diag, up, la = strlen(a),
	                                             lb = strlen(b);

	if (lb > CMD_MAXNAME)
		lb = CMD_MAXNAME;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The known command closest to name (fewest edits; first in the table on a
 * tie). */
static const struct cmd *
cmd_closest(const char *name)
{
	const struct cmd *best = &cmd_table[0];
	size_t i, d, bestd = (size_t)-1;
	char word[CMD_MAXNAME + 1];

	snprintf(word, sizeof word, "%s", name);
	for (i = 0; i < CMD_COUNT; i++) {
		d = cmd_distance(word, cmd_table[i].name);
		if (d < bestd) {
			bestd = d;
			best = &cmd_table[i];
		}
	}
	return best;
}

/* The refusal for an unknown command: usage error, with the closest one. */
static int
cmd_unknown(const char *name)
{
	const struct cmd *c = cmd_closest(name);

	cmd_fail(
	    2, "unknown command '%.64s'; did you mean '%s'?", name, c->name);
	return cmd_fail(2, "usage: %s ('help' lists every command)", c->usage);
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
			return cmd_unknown(argv[1]);
		printf("usage: %s\n  %s%s\n", c->usage, c->help,
		    c->admin ? " (admin keys only)" : "");
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
	if ((c = cmd_find(argv[0])) == NULL)
		return cmd_unknown(argv[0]);
	if (c->admin && !ctx->admin)
		return cmd_fail(1, "'%s' refused: only admin keys manage %s",
		    c->name,
		    strncmp(c->name, "images", 6) == 0 ? "images" : "keys");
	status = c->run(ctx, argc, argv);
	fflush(stdout);
	fflush(stderr);
	return status;
}
