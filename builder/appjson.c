/*
 * builder/appjson.c: the health check of an app's app.json, read as Dokku
 * reads it, and the checks a stored health check must pass before a release
 * uses it (see release.h). Kept apart from release.c, which drives Docker,
 * so that it can be linked, tested and fuzzed on its own.
 *
 * Guarantees: what release_healthcheck_parse accepts passes
 * release_healthcheck_valid; at most RELEASE_MAXAPPJSON bytes are parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builder/release.h"
#include "common/err.h"

/*
 * The argv of a command health check ("exec:" + a JSON array of strings)
 * into a NULL-terminated array whose strings point into *owner (free it
 * with json_decref); NULL with err_set() when it is not one.
 */
const char **
release_exec_argv(const char *check, json_t **owner)
{
	const char **argv;
	json_t *a, *v;
	size_t i;

	*owner = NULL;
	if (strncmp(check, RELEASE_EXEC_PREFIX, strlen(RELEASE_EXEC_PREFIX)))
		return NULL;
	a = json_loads(check + strlen(RELEASE_EXEC_PREFIX), 0, NULL);
	if (!json_is_array(a) || json_array_size(a) == 0) {
		json_decref(a);
		err_set("invalid health-check command");
		return NULL;
	}
	if ((argv = calloc(json_array_size(a) + 1, sizeof *argv)) == NULL) {
		json_decref(a);
		err_set("out of memory");
		return NULL;
	}
	json_array_foreach(a, i, v)
	{
		if ((argv[i] = json_string_value(v)) == NULL) {
			free(argv);
			json_decref(a);
			err_set("invalid health-check command");
			return NULL;
		}
	}
	*owner = a;
	return argv;
}

int
release_healthcheck_valid(const char *path)
{
	size_t i, n = strlen(path);
	const char **argv;
	json_t *owner;

	if (n >= RELEASE_MAXHEALTHPATH)
		return 0;
	if (strncmp(path, RELEASE_EXEC_PREFIX, strlen(RELEASE_EXEC_PREFIX)) ==
	    0) {
		if ((argv = release_exec_argv(path, &owner)) == NULL)
			return 0;
		free(argv);
		json_decref(owner);
		return 1;
	}
	if (n == 0 || path[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)path[i] <= 0x20 ||
		    (unsigned char)path[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * A Dokku "command" check (an array of strings, or one string run by
 * /bin/sh -c) into out as "exec:" + a JSON array. 0, or -1 with err_set().
 */
static int
release_healthcheck_command(json_t *command, size_t i, char *out, size_t outlen)
{
	json_t *argv, *v;
	char *text = NULL;
	size_t j;
	int rc = -1;

	if (json_is_string(command))
		argv = json_pack("[s, s, O]", "/bin/sh", "-c", command);
	else
		argv = json_deep_copy(command);
	if (!json_is_array(argv) || json_array_size(argv) == 0) {
		err_set("app.json: healthchecks.web[%zu].command must be a "
		        "string or an array of strings",
		    i);
		goto out;
	}
	json_array_foreach(argv, j, v)
	{
		if (!json_is_string(v)) {
			err_set("app.json: healthchecks.web[%zu].command must "
			        "be a string or an array of strings",
			    i);
			goto out;
		}
	}
	if ((text = json_dumps(argv, JSON_COMPACT)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	if ((size_t)snprintf(out, outlen, "%s%s", RELEASE_EXEC_PREFIX, text) >=
	        outlen ||
	    strlen(out) >= RELEASE_MAXHEALTHPATH) {
		err_set("app.json: health-check command too long (at most %d "
		        "bytes as JSON)",
		    RELEASE_MAXHEALTHPATH - 8);
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(argv);
	return rc;
}

int
release_healthcheck_parse(
    const char *json, size_t len, char *out, size_t outlen)
{
	json_t *root, *web, *check, *type, *path, *command;
	json_error_t e;
	size_t i;
	int rc = -1;

	if (outlen > 0)
		out[0] = '\0';
	if (len > RELEASE_MAXAPPJSON)
		return err_set(
		    "app.json is larger than %d bytes", RELEASE_MAXAPPJSON);
	if ((root = json_loadb(json, len, 0, &e)) == NULL)
		return err_set("app.json: line %d: %s", e.line, e.text);
	web = json_object_get(json_object_get(root, "healthchecks"), "web");
	json_array_foreach(web, i, check)
	{
		type = json_object_get(check, "type");
		path = json_object_get(check, "path");
		command = json_object_get(check, "command");
		if (type != NULL &&
		    (!json_is_string(type) ||
		        strcmp(json_string_value(type), "startup") != 0))
			continue;
		if (path == NULL && command != NULL) {
			rc = release_healthcheck_command(
			    command, i, out, outlen);
			goto out;
		}
		if (path == NULL)
			continue;
		/* a path is a path: "exec:..." is for "command" alone */
		if (!json_is_string(path) ||
		    json_string_value(path)[0] != '/' ||
		    !release_healthcheck_valid(json_string_value(path))) {
			err_set("app.json: healthchecks.web[%zu].path must be "
			        "a path such as \"/health\"",
			    i);
			goto out;
		}
		if ((size_t)snprintf(
		        out, outlen, "%s", json_string_value(path)) >= outlen) {
			err_set("app.json: health-check path too long");
			goto out;
		}
		break;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
