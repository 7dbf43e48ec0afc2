/*
 * cli/config.c: reads and checks minpaas.conf (see config.h). Guarantees:
 * a file is taken whole or not at all, the first line it refuses named in
 * the message; a value is checked by the same function whether it came
 * from the file or from a flag; no global state, nothing printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cli/config.h"
#include "common/err.h"

/* What a value must look like. */
enum config_kind {
	KIND_PATH,    /* an absolute path of at most max bytes */
	KIND_PORT,    /* 1 to 65535 */
	KIND_ADDR,    /* an IPv4 or IPv6 address */
	KIND_DOMAIN,  /* a DNS name */
	KIND_NETS,    /* ADDR or ADDR/BITS, comma-separated */
	KIND_SECONDS, /* 1 to max */
	KIND_SIZE,    /* bytes, optionally k, m or g: git's maxInputSize */
	KIND_IMAGE,   /* a Docker image reference */
};

static const struct config_def {
	const char *name;
	const char *env; /* the variable the key stands for, or NULL */
	const char *def; /* built-in default, or NULL */
	enum config_kind kind;
	long max;
} config_defs[CONFIG_NKEYS] = {
    [CONFIG_HOME] = {"home", "MINPAAS_HOME", NULL, KIND_PATH, CONFIG_MAXLINE},
    [CONFIG_SSH_PORT] = {"ssh_port", NULL, "2222", KIND_PORT, 0},
    [CONFIG_HTTP_PORT] = {"http_port", NULL, "8080", KIND_PORT, 0},
    [CONFIG_BIND] = {"bind", NULL, "0.0.0.0", KIND_ADDR, 0},
    [CONFIG_DOMAIN] = {"domain", NULL, "localhost", KIND_DOMAIN, 0},
    [CONFIG_TRUSTED_PROXIES] = {"trusted_proxies", NULL, NULL, KIND_NETS, 0},
    /* a day: a longer build is a typo */
    [CONFIG_BUILD_TIMEOUT] = {"build_timeout", "MINPAAS_BUILD_TIMEOUT", NULL,
        KIND_SECONDS, 86400},
    /* builder/release.c ignores a value above an hour */
    [CONFIG_HEALTH_TIMEOUT] = {"health_timeout", "MINPAAS_HEALTH_TIMEOUT", NULL,
        KIND_SECONDS, 3600},
    [CONFIG_MAX_PUSH] = {"max_push", "MINPAAS_MAX_PUSH", NULL, KIND_SIZE, 0},
    [CONFIG_STACK_IMAGE] = {"stack_image", "MINPAAS_STACK_IMAGE", NULL,
        KIND_IMAGE, 255},
    [CONFIG_IMAGE_PYTHON] = {"image_python", "MINPAAS_IMAGE_PYTHON", NULL,
        KIND_IMAGE, 255},
    [CONFIG_IMAGE_NODE] = {"image_node", "MINPAAS_IMAGE_NODE", NULL, KIND_IMAGE,
        255},
    [CONFIG_IMAGE_STATIC] = {"image_static", "MINPAAS_IMAGE_STATIC", NULL,
        KIND_IMAGE, 255},
    [CONFIG_DOCKER_SOCKET] = {"docker_socket", "DOCKER_SOCKET", NULL, KIND_PATH,
        sizeof(((struct sockaddr_un *)0)->sun_path) - 1},
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The value of the 1 to 9 digits at s (*end after them), or -1. */
static long
number(const char *s, const char **end)
{
	long n = 0;
	int i;

	*end = s;
	for (i = 0; is_digit(s[i]); i++) {
		if (i == 9)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*end = s + i;
	return i > 0 ? n : -1;
}

/* One ADDR or ADDR/BITS of len bytes; 0 or -1. */
static int
check_net(const char *s, size_t len)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	const char *end;
	long bits, max;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		max = 128;
	else
		return -1;
	if (slash == NULL)
		return 0;
	bits = number(slash, &end);
	return bits >= 0 && bits <= max && *end == '\0' ? 0 : -1;
}

/* Labels of letters, digits and '-', not at a label's ends; 0 or -1. */
static int
check_domain(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || is_digit(c) ||
		           (c == '-' && label > 0)) {
			label++;
		} else {
			return -1;
		}
	}
	return 0;
}

static int
check_image(const char *s, long max)
{
	size_t n = strlen(s);

	if (n == 0 || (long)n > max ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	        is_digit(s[0])))
		return -1;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") == n
	           ? 0
	           : -1;
}

/* 0 when value is good for d, or -1 with err_set() saying why not. */
static int
check(const struct config_def *d, const char *v)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *end, *p, *q;
	long n;

	switch (d->kind) {
	case KIND_PATH:
		if (v[0] != '/' || (long)strlen(v) > d->max)
			return err_set(
			    "bad path '%.80s' (want an absolute path "
			    "of at most %ld bytes)",
			    v, d->max);
		return 0;
	case KIND_PORT:
		n = number(v, &end);
		if (n < 1 || n > 65535 || *end != '\0' || v[0] == '0')
			return err_set("bad port '%.80s' (want 1 to 65535)", v);
		return 0;
	case KIND_ADDR:
		if (inet_pton(AF_INET, v, addr) != 1 &&
		    inet_pton(AF_INET6, v, addr) != 1)
			return err_set("bad address '%.80s' (want an IPv4 or "
			               "IPv6 address: 0.0.0.0, 127.0.0.1, ::)",
			    v);
		return 0;
	case KIND_DOMAIN:
		if (check_domain(v) == -1)
			return err_set("bad domain '%.80s' (want lower-case "
			               "letters, digits, '-' and '.')",
			    v);
		return 0;
	case KIND_NETS:
		/* empty items are skipped, as the router skips them */
		for (p = v; *p != '\0'; p = *q ? q + 1 : q) {
			q = p + strcspn(p, ",");
			if (q > p && check_net(p, (size_t)(q - p)) == -1)
				return err_set("bad trusted network '%.*s' "
				               "(want ADDR or ADDR/BITS, "
				               "comma-separated, no spaces)",
				    (int)(q - p > 80 ? 80 : q - p), p);
		}
		return 0;
	case KIND_SECONDS:
		n = number(v, &end);
		if (n < 1 || n > d->max || *end != '\0' || v[0] == '0')
			return err_set("bad number of seconds '%.80s' (want 1 "
			               "to %ld)",
			    v, d->max);
		return 0;
	case KIND_SIZE:
		n = number(v, &end);
		if (n < 1 || v[0] == '0' ||
		    !(*end == '\0' ||
		        (strchr("kKmMgG", *end) != NULL && end[1] == '\0')))
			return err_set("bad size '%.80s' (want bytes, or a "
			               "number with k, m or g: 512m, 1g)",
			    v);
		return 0;
	case KIND_IMAGE:
		if (check_image(v, d->max) == -1)
			return err_set("bad image name '%.80s'", v);
		return 0;
	}
	return err_set("key of no kind");
}

void
config_init(struct config *cf)
{
	memset(cf, 0, sizeof *cf);
}

const char *
config_name(int key)
{
	return key >= 0 && key < CONFIG_NKEYS ? config_defs[key].name : NULL;
}

int
config_key(const char *name)
{
	int key;

	for (key = 0; key < CONFIG_NKEYS; key++)
		if (strcmp(config_defs[key].name, name) == 0)
			return key;
	return -1;
}

const char *
config_env(int key)
{
	return key >= 0 && key < CONFIG_NKEYS ? config_defs[key].env : NULL;
}

int
config_set(struct config *cf, int key, const char *value)
{
	if (key < 0 || key >= CONFIG_NKEYS)
		return err_set("no such key");
	if (strlen(value) > CONFIG_MAXLINE)
		return err_set("value longer than %d bytes", CONFIG_MAXLINE);
	if (check(&config_defs[key], value) == -1)
		return -1;
	memcpy(cf->value[key], value, strlen(value) + 1);
	return 0;
}

const char *
config_get(const struct config *cf, int key)
{
	if (key < 0 || key >= CONFIG_NKEYS)
		return NULL;
	return cf->value[key][0] != '\0' ? cf->value[key]
	                                 : config_defs[key].def;
}

void
config_merge(struct config *cf, const struct config *over)
{
	int key;

	for (key = 0; key < CONFIG_NKEYS; key++)
		if (over->value[key][0] != '\0')
			memcpy(cf->value[key], over->value[key],
			    sizeof cf->value[key]);
}

const char *
config_path(const char *flag_path, const char *env_path, int *required)
{
	*required = 1;
	if (flag_path != NULL)
		return flag_path;
	if (env_path != NULL && *env_path != '\0')
		return env_path;
	*required = 0;
	return CONFIG_DEFAULT;
}

/* Line n of path, without its newline, in s (NUL-terminated, no NUL in it). */
static int
config_line(struct config *cf, char *s, const char *path, unsigned n)
{
	char *end, *eq, *v;
	int key;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	/* a trailing '\r' is a file written on Windows; it counts as blank */
	while (end > s && (is_blank(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	if (*s == '\0' || *s == '#')
		return 0;
	for (v = s; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return err_set(
			    "%s:%u: control character in the line", path, n);
	if ((eq = strchr(s, '=')) == NULL || eq == s)
		return err_set("%s:%u: expected 'key = value'", path, n);
	for (end = eq; end > s && is_blank(end[-1]);)
		end--;
	*end = '\0';
	for (v = eq + 1; is_blank(*v);)
		v++;
	if ((key = config_key(s)) == -1)
		return err_set("%s:%u: unknown key '%.64s'", path, n, s);
	if (cf->line[key] != 0)
		return err_set("%s:%u: '%s' is set twice (first on line %u)",
		    path, n, s, cf->line[key]);
	if (*v == '\0')
		return err_set("%s:%u: no value for '%s'", path, n, s);
	if (config_set(cf, key, v) == -1)
		return err_set("%s:%u: %s: %s", path, n, s, err_msg());
	cf->line[key] = n;
	return 0;
}

int
config_read(struct config *cf, const char *path, int required)
{
	char line[CONFIG_MAXLINE + 1];
	struct config next = *cf;
	unsigned n = 0;
	size_t len;
	FILE *f;
	int c;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		return err_set("cannot read '%s': %s", path, strerror(errno));
	}
	/* into a copy: cf changes only when the whole file is good */
	for (;;) {
		len = 0;
		while ((c = getc(f)) != EOF && c != '\n') {
			if (len == CONFIG_MAXLINE) {
				fclose(f);
				return err_set("%s:%u: line longer than %d "
				               "bytes",
				    path, n + 1, CONFIG_MAXLINE);
			}
			line[len++] = (char)c;
		}
		if (c == EOF && (len == 0 || ferror(f)))
			break;
		line[len] = '\0';
		n++;
		if (strlen(line) != len) {
			fclose(f);
			return err_set(
			    "%s:%u: control character in the line", path, n);
		}
		if (config_line(&next, line, path, n) == -1) {
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		return err_set("cannot read '%s': %s", path, strerror(e));
	}
	fclose(f);
	memcpy(cf, &next, sizeof *cf);
	return 0;
}
