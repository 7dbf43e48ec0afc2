/*
 * cli/config.h: the settings file of `minpaas up`, /etc/minpaas/minpaas.conf
 * on a server. One `key = value` per line; a line whose first non-blank is
 * `#` is a comment; blank lines are ignored. Every value is checked when it
 * is read: an unknown key, a bad value, a key given twice, a line over
 * CONFIG_MAXLINE bytes or a control character is refused with one message
 * "FILE:LINE: why", so a server never starts on half a reading of its file.
 *
 * Who wins: a flag of `minpaas up` over the file; for the keys that stand
 * for an environment variable (home is MINPAAS_HOME, ...), a variable
 * already set over the file; the file over the built-in defaults.
 *
 * Nothing here prints or touches the environment: the caller decides.
 */
#ifndef MINPAAS_CONFIG_H
#define MINPAAS_CONFIG_H

#define CONFIG_DEFAULT "/etc/minpaas/minpaas.conf"
#define CONFIG_MAXLINE 1024 /* bytes in a line, its newline not counted */

/* The keys; each one's name in the file is config_name(key). */
enum config_key {
	CONFIG_HOME,            /* MINPAAS_HOME */
	CONFIG_SSH_PORT,        /* --ssh-port */
	CONFIG_HTTP_PORT,       /* --http-port */
	CONFIG_BIND,            /* --bind */
	CONFIG_DOMAIN,          /* --domain */
	CONFIG_TRUSTED_PROXIES, /* --trusted-proxies */
	CONFIG_BUILD_TIMEOUT,   /* MINPAAS_BUILD_TIMEOUT */
	CONFIG_HEALTH_TIMEOUT,  /* MINPAAS_HEALTH_TIMEOUT */
	CONFIG_MAX_PUSH,        /* MINPAAS_MAX_PUSH */
	CONFIG_STACK_IMAGE,     /* MINPAAS_STACK_IMAGE */
	CONFIG_IMAGE_PYTHON,    /* MINPAAS_IMAGE_PYTHON */
	CONFIG_IMAGE_NODE,      /* MINPAAS_IMAGE_NODE */
	CONFIG_IMAGE_STATIC,    /* MINPAAS_IMAGE_STATIC */
	CONFIG_DOCKER_SOCKET,   /* DOCKER_SOCKET */
	CONFIG_NKEYS
};

struct config {
	char value[CONFIG_NKEYS][CONFIG_MAXLINE + 1]; /* "" when not set */
	unsigned line[CONFIG_NKEYS]; /* where the file set it, 0 if not */
};

/* Empties cf: no key set. */
void config_init(struct config *cf);

/* The key's name in the file ("ssh_port"), or NULL for a bad key. */
const char *config_name(int key);

/* The key of that name, or -1 when there is none. */
int config_key(const char *name);

/* The environment variable the key stands for ("MINPAAS_HOME"), or NULL. */
const char *config_env(int key);

/*
 * Checks value for key and sets it, replacing what was set. 0, or -1 with
 * err_set() saying what is wrong with the value ("bad port '70000' ...").
 */
int config_set(struct config *cf, int key, const char *value);

/* The value set for key, else its built-in default, else NULL. */
const char *config_get(const struct config *cf, int key);

/* Every key set in over replaces the one in cf (flags over the file). */
void config_merge(struct config *cf, const struct config *over);

/*
 * The file to read: flag_path (--config) when given, else env_path
 * ($MINPAAS_CONFIG) when neither NULL nor empty, else CONFIG_DEFAULT.
 * *required is 1 when the file was named (its absence is an error), 0
 * for the default (no file is no config).
 */
const char *config_path(
    const char *flag_path, const char *env_path, int *required);

/*
 * Reads the file at path into cf (made by config_init). A missing file is
 * no error when required is 0: cf is left as it was. 0, or -1 with
 * err_set(): "PATH:LINE: why" for a line it refuses, or "cannot read
 * 'PATH': why".
 */
int config_read(struct config *cf, const char *path, int required);

#endif
