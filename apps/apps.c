/*
 * apps/apps.c: the app rules (see apps.h). Each decision about an app that
 * more than one entry point makes is made here: creation (name, hostname,
 * owner, deploy branch, time), "may this key use this app", and the app's
 * hostnames and URLs.
 *
 * Guarantees: an app is created only through apps_create, whose checks and
 * write are one state transaction (state_app_create), so two creations of a
 * name, or a creation and a domains:add of its hostname, never both win;
 * a name held by an app the caller may not use is only "not available",
 * so nothing more about another key's app shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/apps.h"
#include "common/err.h"
#include "common/home.h"
#include "runtimes/runtime.h"

/* A name that an app destroyed between our two reads frees is tried again,
 * this many times. */
#define APPS_CREATE_TRIES 3

int
apps_access(struct state *st, const struct state_app *app,
    const struct apps_caller *who, enum apps_right right)
{
	int rc;

	if (who->admin)
		return 0;
	if (who->fp == NULL || who->fp[0] == '\0')
		goto denied;
	if (strcmp(app->owner, who->fp) == 0)
		return 0;
	if (right != APPS_USE)
		goto denied;
	rc = state_access_check(st, app, who->fp);
	if (rc == 0 || rc == -1)
		return rc;
denied:
	err_set("key may not %s app '%s'", right == APPS_USE ? "use" : "manage",
	    app->name);
	return APPS_DENIED;
}

int
apps_create(struct state *st, const char *name, const struct apps_caller *who,
    struct state_app *out)
{
	char host[STATE_MAXHOST + 1];
	struct state_app app, have;
	int rc, i;

	if (!app_name_valid(name)) {
		err_set("invalid app name '%.64s': a lower-case letter, then "
		        "lower-case letters, digits and -, at most %d",
		    name, APP_MAXNAME);
		return APPS_INVALID;
	}
	if (strcmp(name, APPS_PLATFORM) == 0) {
		err_set("app name '%s' is the platform's own (%s.<domain>)",
		    name, name);
		return APPS_INVALID;
	}
	memset(&app, 0, sizeof app);
	snprintf(app.name, sizeof app.name, "%s", name);
	snprintf(app.owner, sizeof app.owner, "%s", who->fp ? who->fp : "");
	snprintf(app.branch, sizeof app.branch, "%s", APPS_BRANCH);
	app.created = (int64_t)time(NULL);
	for (i = 0; i < APPS_CREATE_TRIES; i++) {
		rc = state_app_create(st, &app);
		if (rc == 0) {
			if (out)
				*out = app;
			return 0;
		}
		if (rc == STATE_TAKEN) {
			if (state_app_host(st, name, host, sizeof host) == -1)
				return -1;
			err_set("app name '%s' is not available (%s is in use)",
			    name, host);
			return APPS_HOST_TAKEN;
		}
		if (rc != STATE_EXISTS)
			return -1;
		rc = state_app_get(st, name, &have);
		if (rc == STATE_NOTFOUND)
			continue; /* destroyed since: the name is free again */
		if (rc != 0)
			return -1;
		rc = apps_access(st, &have, who, APPS_USE);
		if (rc == -1)
			return -1;
		if (rc != 0) {
			err_set("app name '%s' is not available", name);
			return APPS_TAKEN;
		}
		if (out)
			*out = have;
		err_set("app '%s' exists already", name);
		return APPS_EXISTS;
	}
	return err_set("app '%s' keeps being created and destroyed", name);
}

void
apps_hosts_release(struct apps_hosts *hosts)
{
	free(hosts->host);
	hosts->host = NULL;
	hosts->n = 0;
}

int
apps_hosts_get(struct state *st, const char *app, struct apps_hosts *out)
{
	state_hostname *domains = NULL;
	char port[16];
	size_t i, n = 0;
	int rc;

	out->n = 0;
	out->host = NULL;
	if (state_domain_list(st, app, &domains, &n) == -1)
		return -1;
	if ((out->host = calloc(n + 1, sizeof *out->host)) == NULL) {
		free(domains);
		return err_set("out of memory");
	}
	out->n = n + 1;
	for (i = 0; i < n; i++)
		memcpy(out->host[i + 1].name, domains[i], sizeof domains[i]);
	free(domains);
	if (state_app_host(
	        st, app, out->host[0].name, sizeof out->host[0].name) == -1)
		return -1;
	rc = state_meta_get(st, "http_port", port, sizeof port);
	if (rc == -1)
		return -1;
	if (rc != 0 || strcmp(port, "80") == 0)
		port[0] = '\0';
	for (i = 0; i < out->n; i++)
		snprintf(out->host[i].url, sizeof out->host[i].url,
		    "http://%s%s%s/", out->host[i].name, port[0] ? ":" : "",
		    port);
	return 0;
}

/* "name" is "name:latest" to Docker: tag-less references compare so. */
static void
apps_image_ref(const char *image, char *out, size_t len)
{
	const char *slash = strrchr(image, '/');
	const char *last = slash ? slash + 1 : image;

	if (strchr(last, ':') != NULL || strchr(image, '@') != NULL)
		snprintf(out, len, "%s", image);
	else
		snprintf(out, len, "%s:latest", image);
}

/* 1 when ref is "minpaas-<instance>/<app>:v<n>" of an app who may use. */
static int
apps_image_of_app(struct state *st, const struct apps_caller *who,
    const char *instance, const char *ref)
{
	char prefix[64], name[APP_MAXNAME + 1];
	struct state_app app;
	const char *p, *colon;
	size_t n;

	snprintf(prefix, sizeof prefix, "minpaas-%s/", instance);
	if (strncmp(ref, prefix, strlen(prefix)) != 0)
		return 0;
	p = ref + strlen(prefix);
	if ((colon = strchr(p, ':')) == NULL || colon[1] != 'v' ||
	    colon[2] == '\0' ||
	    strspn(colon + 2, "0123456789") != strlen(colon + 2))
		return 0;
	n = (size_t)(colon - p);
	if (n == 0 || n > APP_MAXNAME)
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	return app_name_valid(name) && state_app_get(st, name, &app) == 0 &&
	       apps_access(st, &app, who, APPS_USE) == 0;
}

int
apps_image_allowed(struct state *st, const struct apps_caller *who,
    const char *instance, const char *image)
{
	static const char *const runtimes[] = {"python", "node", "static"};
	char ref[STATE_MAXIMAGE + 16], plat[STATE_MAXIMAGE + 16];
	size_t i;
	int rc;

	if (who->admin)
		return 0;
	if (strlen(image) > STATE_MAXIMAGE) {
		err_set("image name '%.64s...' is too long", image);
		return APPS_DENIED;
	}
	apps_image_ref(image, ref, sizeof ref);
	apps_image_ref(runtime_stack_image(), plat, sizeof plat);
	if (strcmp(ref, plat) == 0)
		return 0;
	for (i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++) {
		apps_image_ref(runtime_image(runtimes[i]), plat, sizeof plat);
		if (strcmp(ref, plat) == 0)
			return 0;
	}
	if (apps_image_of_app(st, who, instance, ref))
		return 0;
	rc = state_image_allowed(st, ref);
	if (rc == 0 ||
	    (rc == STATE_NOTFOUND && state_image_allowed(st, image) == 0))
		return 0;
	if (rc == -1)
		return -1;
	err_set("image '%.200s' is not one a developer key may use: the "
	        "platform's (%s), an app's you may use "
	        "(minpaas-%s/<app>:v<n>), or one an admin allowed "
	        "(images:allow)",
	    image, runtime_stack_image(), instance);
	return APPS_DENIED;
}
