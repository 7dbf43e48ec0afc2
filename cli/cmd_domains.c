/*
 * cli/cmd_domains.c: an app's custom hostnames, `domains`, `domains:add`,
 * `domains:remove`.
 *
 * Guarantees: a hostname is checked (RFC 1123 labels, lower-cased, no port,
 * at most STATE_MAXHOST bytes) before it is stored; it belongs to one app
 * only, and never shadows an app's generated "<app>.<domain>"; it answers in
 * the router at once (state_domain_add writes its route in the same write);
 * a name held by an app the caller cannot see is only "in use".
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_int.h"
#include "common/err.h"
#include "common/progress.h"

int
cmd_host_valid(char *host, const char **why)
{
	size_t i, n = strlen(host), label = 0, start = 0;
	int dots = 0, alldigits = 1;

	*why = NULL;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (n > 0 && host[n - 1] == '.')
		host[--n] = '\0'; /* the root's dot: same name */
	if (n == 0 || n > STATE_MAXHOST) {
		*why = "a hostname has 1 to 253 characters";
		return 0;
	}
	if (strchr(host, ':') || strchr(host, '/')) {
		*why = "give the hostname alone, without a port, scheme or "
		       "path";
		return 0;
	}
	for (i = 0; i <= n; i++) {
		char c = host[i];

		if (c == '.' || c == '\0') {
			label = i - start;
			if (label == 0 || label > 63) {
				*why = "each dot-separated label has 1 to 63 "
				       "characters";
				return 0;
			}
			if (host[start] == '-' || host[i - 1] == '-') {
				*why = "a label may not start or end with -";
				return 0;
			}
			if (c == '.') {
				dots++;
				alldigits = 1;
			}
			start = i + 1;
			continue;
		}
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '-') {
			*why = "use letters, digits, - and dots only";
			return 0;
		}
		if (!(c >= '0' && c <= '9'))
			alldigits = 0;
	}
	if (dots == 0) {
		*why = "give a full hostname such as www.example.com";
		return 0;
	}
	if (alldigits) {
		*why = "an IP address is not a hostname";
		return 0;
	}
	return 1;
}

int
cmd_domains(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct apps_hosts hosts = {0, NULL};
	struct state_app app;
	json_t *arr, *o;
	size_t i;
	int json = cmd_take_json(&argc, argv), rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cmd_fail(2, "usage: domains [APP] [--json]");
	if ((rc = cmd_app_arg(ctx, argc == 2 ? argv[1] : NULL, &app)) != 0)
		return rc;
	if (apps_hosts_get(ctx->st, app.name, &hosts) == -1) {
		apps_hosts_release(&hosts);
		return cmd_fail(1, "%s", err_msg());
	}
	if (json) {
		if ((arr = json_array()) == NULL)
			goto nomem;
		for (i = 1; i < hosts.n; i++)
			json_array_append_new(
			    arr, json_string(hosts.host[i].name));
		o = json_pack("{s:s, s:s, s:o}", "app", app.name, "default",
		    hosts.host[0].name, "domains", arr);
		apps_hosts_release(&hosts);
		return cmd_json_print(o);
	}
	printf("=== %s domains\n", app.name);
	printf("%s (default)\n", hosts.host[0].name);
	for (i = 1; i < hosts.n; i++)
		printf("%s\n", hosts.host[i].name);
	apps_hosts_release(&hosts);
	return 0;
nomem:
	apps_hosts_release(&hosts);
	return cmd_fail(1, "out of memory");
}

/* Parses "[APP] HOST": the app into app and the checked host into host. */
static int
domains_args(struct cmd_ctx *ctx, int argc, char **argv, struct state_app *app,
    char *host, size_t hostlen)
{
	const char *why;
	int rc;

	if (argc < 2 || argc > 3 || argv[1][0] == '-' ||
	    (argc == 3 && argv[2][0] == '-'))
		return cmd_fail(2, "usage: %s [APP] HOST", argv[0]);
	if ((rc = cmd_app_arg(ctx, argc == 3 ? argv[1] : NULL, app)) != 0)
		return rc;
	if (strlen(argv[argc - 1]) >= hostlen)
		return cmd_fail(2,
		    "invalid hostname '%.64s...': a hostname "
		    "has at most 253 characters",
		    argv[argc - 1]);
	snprintf(host, hostlen, "%s", argv[argc - 1]);
	if (!cmd_host_valid(host, &why))
		return cmd_fail(
		    2, "invalid hostname '%.253s': %s", argv[argc - 1], why);
	return 0;
}

int
cmd_domains_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	char host[STATE_MAXHOST + 1], owner[64];
	struct apps_hosts hosts = {0, NULL};
	struct state_app app, holder;
	const char *url = NULL;
	size_t i;
	int rc;

	if ((rc = domains_args(ctx, argc, argv, &app, host, sizeof host)) != 0)
		return rc;
	rc = state_domain_add(ctx->st, app.name, host, owner, sizeof owner);
	if (rc == -1 || rc == STATE_RESERVED)
		return cmd_fail(1, "%s", err_msg());
	if (rc == STATE_EXISTS) {
		if (strcmp(owner, app.name) == 0)
			return cmd_fail(
			    1, "%s is already a domain of %s", host, app.name);
		/* name the holder only to a caller who may see it */
		if (owner[0] != '\0' &&
		    state_app_get(ctx->st, owner, &holder) == 0 &&
		    cmd_app_visible(ctx, &holder))
			return cmd_fail(1,
			    "%s is already in use by app '%s'; remove it "
			    "there first",
			    host, owner);
		return cmd_fail(1, "%s is already in use by another app", host);
	}
	if (apps_hosts_get(ctx->st, app.name, &hosts) == 0)
		for (i = 1; i < hosts.n && url == NULL; i++)
			if (strcmp(hosts.host[i].name, host) == 0)
				url = hosts.host[i].url;
	if (url != NULL)
		STEP(stdout, "Added %s to %s: %s", host, app.name, url);
	else
		STEP(stdout, "Added %s to %s", host, app.name);
	apps_hosts_release(&hosts);
	DETAIL(stdout, "point its DNS at this host");
	return 0;
}

int
cmd_domains_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
	char host[STATE_MAXHOST + 1];
	struct state_app app;
	int rc;

	if ((rc = domains_args(ctx, argc, argv, &app, host, sizeof host)) != 0)
		return rc;
	rc = state_domain_remove(ctx->st, app.name, host);
	if (rc == -1)
		return cmd_fail(1, "%s", err_msg());
	if (rc == STATE_NOTFOUND)
		return cmd_fail(1,
		    "%s is not a domain of %s ('domains %s' "
		    "lists them)",
		    host, app.name, app.name);
	STEP(stdout, "Removed %s from %s", host, app.name);
	return 0;
}
