/*
 * tests/unit/test_cli_config.c: minpaas.conf as cli/config.c reads it. A
 * good file with comments, blank lines and loose spacing gives its values;
 * an unknown key, a bad value, a key given twice, an over-long line, a
 * control character or a line without '=' is refused with "FILE:LINE: why"
 * and leaves the settings as they were; a named file that is missing is an
 * error and an absent default is not; a flag overrides the file.
 */
#include "tests/unit/fixture.h"

#include "cli/config.h"
#include "common/err.h"

struct dir {
	char path[64];
	char file[128];
};

static int
dir_setup(void **ctx)
{
	struct dir *d = calloc(1, sizeof *d);

	assert_non_null(d);
	fixture_mkdtemp(d->path, sizeof d->path, "config");
	snprintf(d->file, sizeof d->file, "%s/minpaas.conf", d->path);
	*ctx = d;
	return 0;
}

static int
dir_teardown(void **ctx)
{
	struct dir *d = *ctx;

	fixture_rmdir(d->path);
	free(d);
	return 0;
}

/* Writes len bytes of text as the file d->file. */
static void
write_len(struct dir *d, const char *text, size_t len)
{
	FILE *f = fopen(d->file, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
write_file(struct dir *d, const char *text)
{
	write_len(d, text, strlen(text));
}

/* Reads d->file into cf; expects it refused with "<file>:<want>". */
static void
expect_refused(struct dir *d, struct config *cf, const char *want)
{
	char msg[ERR_MAXLEN];

	err_clear();
	assert_int_equal(config_read(cf, d->file, 1), -1);
	snprintf(msg, sizeof msg, "%s:%s", d->file, want);
	assert_string_equal(err_msg(), msg);
}

static void
test_good_file(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf;

	write_file(d, "# minpaas.conf\n"
	              "\n"
	              "home = /srv/minpaas\n"
	              "   # an indented comment\n"
	              "ssh_port=2022\n"
	              "http_port\t=\t80  \n"
	              "bind = ::\r\n"
	              "domain = apps.example.org\n"
	              "trusted_proxies = 10.0.0.0/8,192.168.1.7,::1,fd00::/8\n"
	              "build_timeout = 600\n"
	              "health_timeout = 3600\n"
	              "max_push = 512m\n"
	              "stack_image = registry.example.org:5000/stack:bookworm\n"
	              "image_python = python:3.12-slim\n"
	              "image_node = node@sha256:abc123\n"
	              "image_static = nginx\n"
	              "docker_socket = /run/docker.sock\n"
	              "\n"
	              "    \n");
	config_init(&cf);
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	assert_string_equal(config_get(&cf, CONFIG_HOME), "/srv/minpaas");
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2022");
	assert_string_equal(config_get(&cf, CONFIG_HTTP_PORT), "80");
	assert_string_equal(config_get(&cf, CONFIG_BIND), "::");
	assert_string_equal(config_get(&cf, CONFIG_DOMAIN), "apps.example.org");
	assert_string_equal(config_get(&cf, CONFIG_TRUSTED_PROXIES),
	    "10.0.0.0/8,192.168.1.7,::1,fd00::/8");
	assert_string_equal(config_get(&cf, CONFIG_BUILD_TIMEOUT), "600");
	assert_string_equal(config_get(&cf, CONFIG_HEALTH_TIMEOUT), "3600");
	assert_string_equal(config_get(&cf, CONFIG_MAX_PUSH), "512m");
	assert_string_equal(config_get(&cf, CONFIG_STACK_IMAGE),
	    "registry.example.org:5000/stack:bookworm");
	assert_string_equal(
	    config_get(&cf, CONFIG_IMAGE_PYTHON), "python:3.12-slim");
	assert_string_equal(
	    config_get(&cf, CONFIG_IMAGE_NODE), "node@sha256:abc123");
	assert_string_equal(config_get(&cf, CONFIG_IMAGE_STATIC), "nginx");
	assert_string_equal(
	    config_get(&cf, CONFIG_DOCKER_SOCKET), "/run/docker.sock");
	assert_int_equal(cf.line[CONFIG_HOME], 3);
	assert_int_equal(cf.line[CONFIG_DOCKER_SOCKET], 17);
}

static void
test_defaults(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf;
	int key;

	write_file(d, "# nothing set\n\n");
	config_init(&cf);
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2222");
	assert_string_equal(config_get(&cf, CONFIG_HTTP_PORT), "8080");
	assert_string_equal(config_get(&cf, CONFIG_BIND), "0.0.0.0");
	assert_string_equal(config_get(&cf, CONFIG_DOMAIN), "localhost");
	assert_null(config_get(&cf, CONFIG_TRUSTED_PROXIES));
	/* a variable's default is its reader's: nothing to export */
	for (key = 0; key < CONFIG_NKEYS; key++)
		if (config_env(key) != NULL)
			assert_null(config_get(&cf, key));
	/* an empty file and one without a last newline */
	write_file(d, "");
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	write_file(d, "ssh_port = 7");
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "7");
}

static void
test_names(void **ctx)
{
	int key;

	for (key = 0; key < CONFIG_NKEYS; key++) {
		assert_non_null(config_name(key));
		assert_int_equal(config_key(config_name(key)), key);
	}
	assert_null(config_name(CONFIG_NKEYS));
	assert_null(config_name(-1));
	assert_int_equal(config_key("htp_port"), -1);
	assert_int_equal(config_key(""), -1);
	assert_string_equal(config_env(CONFIG_HOME), "MINPAAS_HOME");
	assert_string_equal(
	    config_env(CONFIG_BUILD_TIMEOUT), "MINPAAS_BUILD_TIMEOUT");
	assert_string_equal(
	    config_env(CONFIG_HEALTH_TIMEOUT), "MINPAAS_HEALTH_TIMEOUT");
	assert_string_equal(config_env(CONFIG_MAX_PUSH), "MINPAAS_MAX_PUSH");
	assert_string_equal(config_env(CONFIG_DOCKER_SOCKET), "DOCKER_SOCKET");
	assert_null(config_env(CONFIG_SSH_PORT));
	assert_null(config_env(CONFIG_DOMAIN));
}

static void
test_unknown_key(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf;

	config_init(&cf);
	write_file(d, "# ports\n"
	              "\n"
	              "ssh_port = 2022\n"
	              "\n"
	              "\n"
	              "\n"
	              "htp_port = 80\n"
	              "http_port = 81\n");
	expect_refused(d, &cf, "7: unknown key 'htp_port'");
	/* a file is taken whole or not at all */
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2222");
	assert_int_equal(cf.line[CONFIG_SSH_PORT], 0);

	write_file(d, "SSH_PORT = 2022\n");
	expect_refused(d, &cf, "1: unknown key 'SSH_PORT'");
	write_file(d, "ssh port = 2022\n");
	expect_refused(d, &cf, "1: unknown key 'ssh port'");
}

static void
test_bad_lines(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf;

	config_init(&cf);
	write_file(d, "ssh_port 2022\n");
	expect_refused(d, &cf, "1: expected 'key = value'");
	write_file(d, "\n= 2022\n");
	expect_refused(d, &cf, "2: expected 'key = value'");
	write_file(d, "domain =\n");
	expect_refused(d, &cf, "1: no value for 'domain'");
	write_file(d, "domain =   \t\n");
	expect_refused(d, &cf, "1: no value for 'domain'");
	write_file(d, "domain = a\033[2Jb\n");
	expect_refused(d, &cf, "1: control character in the line");
	write_file(d, "domain = a\rb\n");
	expect_refused(d, &cf, "1: control character in the line");
	write_len(d, "# ok\ndomain = a\0b\n", 18);
	expect_refused(d, &cf, "2: control character in the line");
}

/* Expects "key = value" alone in a file refused with "1: key: why". */
static void
expect_bad_value(
    struct dir *d, const char *key, const char *value, const char *why)
{
	char text[256], want[512];
	struct config cf;

	snprintf(text, sizeof text, "%s = %s\n", key, value);
	snprintf(want, sizeof want, "1: %s: %s", key, why);
	write_file(d, text);
	config_init(&cf);
	expect_refused(d, &cf, want);
}

/* Expects "key = value" alone in a file read as value. */
static void
expect_good_value(struct dir *d, int key, const char *value)
{
	char text[CONFIG_MAXLINE + 64];
	struct config cf;

	snprintf(text, sizeof text, "%s = %s\n", config_name(key), value);
	write_file(d, text);
	config_init(&cf);
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	assert_string_equal(config_get(&cf, key), value);
}

static void
test_bad_values(void **ctx)
{
	struct dir *d = *ctx;
	char sock[112], why[256];

	expect_bad_value(d, "ssh_port", "0", "bad port '0' (want 1 to 65535)");
	expect_bad_value(
	    d, "http_port", "65536", "bad port '65536' (want 1 to 65535)");
	expect_bad_value(
	    d, "http_port", "80a", "bad port '80a' (want 1 to 65535)");
	expect_bad_value(
	    d, "http_port", "080", "bad port '080' (want 1 to 65535)");
	expect_bad_value(
	    d, "http_port", "-80", "bad port '-80' (want 1 to 65535)");
	expect_bad_value(d, "ssh_port", "2022 # the ssh port",
	    "bad port '2022 # the ssh port' (want 1 to 65535)");
	expect_bad_value(d, "ssh_port", "99999999999",
	    "bad port '99999999999' (want 1 to 65535)");
	expect_bad_value(d, "bind", "localhost",
	    "bad address 'localhost' (want an IPv4 or IPv6 address: "
	    "0.0.0.0, 127.0.0.1, ::)");
	expect_bad_value(d, "bind", "10.0.0.256",
	    "bad address '10.0.0.256' (want an IPv4 or IPv6 address: "
	    "0.0.0.0, 127.0.0.1, ::)");
	expect_bad_value(d, "domain", "Example.org",
	    "bad domain 'Example.org' (want lower-case letters, digits, '-' "
	    "and '.')");
	expect_bad_value(d, "domain", "a..b",
	    "bad domain 'a..b' (want lower-case letters, digits, '-' and "
	    "'.')");
	expect_bad_value(d, "domain", "-a.b",
	    "bad domain '-a.b' (want lower-case letters, digits, '-' and "
	    "'.')");
	expect_bad_value(d, "domain", "a-.b",
	    "bad domain 'a-.b' (want lower-case letters, digits, '-' and "
	    "'.')");
	expect_bad_value(d, "domain", "\"example.org\"",
	    "bad domain '\"example.org\"' (want lower-case letters, digits, "
	    "'-' and '.')");
	expect_bad_value(d, "trusted_proxies", "10.0.0.0/33",
	    "bad trusted network '10.0.0.0/33' (want ADDR or ADDR/BITS, "
	    "comma-separated, no spaces)");
	expect_bad_value(d, "trusted_proxies", "10.0.0.0/8, ::1",
	    "bad trusted network ' ::1' (want ADDR or ADDR/BITS, "
	    "comma-separated, no spaces)");
	expect_bad_value(d, "trusted_proxies", "::1/129",
	    "bad trusted network '::1/129' (want ADDR or ADDR/BITS, "
	    "comma-separated, no spaces)");
	expect_bad_value(d, "trusted_proxies", "10.0.0.0/",
	    "bad trusted network '10.0.0.0/' (want ADDR or ADDR/BITS, "
	    "comma-separated, no spaces)");
	expect_bad_value(d, "build_timeout", "0",
	    "bad number of seconds '0' (want 1 to 86400)");
	expect_bad_value(d, "build_timeout", "15m",
	    "bad number of seconds '15m' (want 1 to 86400)");
	expect_bad_value(d, "health_timeout", "3601",
	    "bad number of seconds '3601' (want 1 to 3600)");
	expect_bad_value(d, "max_push", "0",
	    "bad size '0' (want bytes, or a number with k, m or g: 512m, "
	    "1g)");
	expect_bad_value(d, "max_push", "1t",
	    "bad size '1t' (want bytes, or a number with k, m or g: 512m, "
	    "1g)");
	expect_bad_value(d, "max_push", "1gb",
	    "bad size '1gb' (want bytes, or a number with k, m or g: 512m, "
	    "1g)");
	expect_bad_value(
	    d, "stack_image", "my image", "bad image name 'my image'");
	expect_bad_value(d, "image_node", "-node", "bad image name '-node'");
	expect_bad_value(d, "home", "var/lib/minpaas",
	    "bad path 'var/lib/minpaas' (want an absolute path of at most "
	    "1024 bytes)");
	/* a unix socket's path fits in sun_path, 108 bytes with its NUL */
	memset(sock, 's', 108);
	sock[0] = '/';
	sock[108] = '\0';
	snprintf(why, sizeof why,
	    "bad path '%.80s' (want an absolute path of at most 107 bytes)",
	    sock);
	expect_bad_value(d, "docker_socket", sock, why);
	sock[107] = '\0';
	expect_good_value(d, CONFIG_DOCKER_SOCKET, sock);
}

static void
test_edge_values(void **ctx)
{
	struct dir *d = *ctx;

	expect_good_value(d, CONFIG_SSH_PORT, "1");
	expect_good_value(d, CONFIG_HTTP_PORT, "65535");
	expect_good_value(d, CONFIG_BIND, "127.0.0.1");
	expect_good_value(d, CONFIG_BIND, "fe80::1");
	expect_good_value(d, CONFIG_DOMAIN, "a");
	expect_good_value(d, CONFIG_DOMAIN, "xn--bcher-kva.example");
	expect_good_value(d, CONFIG_DOMAIN, "1-2.b-c.example");
	/* empty items are skipped, as the router skips them */
	expect_good_value(d, CONFIG_TRUSTED_PROXIES, ",0.0.0.0/0,,::/0,");
	expect_good_value(d, CONFIG_BUILD_TIMEOUT, "86400");
	expect_good_value(d, CONFIG_HEALTH_TIMEOUT, "1");
	expect_good_value(d, CONFIG_MAX_PUSH, "1");
	expect_good_value(d, CONFIG_MAX_PUSH, "1024K");
	expect_good_value(d, CONFIG_HOME, "/var/lib/minpaas with space");
}

static void
test_duplicate(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf;

	config_init(&cf);
	write_file(d, "ssh_port = 2022\n"
	              "http_port = 80\n"
	              "ssh_port = 2022\n");
	expect_refused(d, &cf, "3: 'ssh_port' is set twice (first on line 1)");
	/* twice with a bad second value: the repetition is the error */
	write_file(d, "domain = a.org\n"
	              "domain = A.org\n");
	expect_refused(d, &cf, "2: 'domain' is set twice (first on line 1)");
}

static void
test_long_line(void **ctx)
{
	struct dir *d = *ctx;
	char text[3 * CONFIG_MAXLINE], want[64];
	struct config cf;
	size_t n;

	/* CONFIG_MAXLINE bytes are a line; one more is not */
	memset(text, 0, sizeof text);
	text[0] = '#';
	memset(text + 1, 'x', CONFIG_MAXLINE - 1);
	strcat(text, "\nssh_port = 2022\n");
	write_file(d, text);
	config_init(&cf);
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2022");

	memset(text, 0, sizeof text);
	strcpy(text, "ssh_port = 2022\n#");
	n = strlen(text);
	memset(text + n, 'x', CONFIG_MAXLINE);
	strcat(text, "\nhttp_port = 80\n");
	write_file(d, text);
	config_init(&cf);
	snprintf(
	    want, sizeof want, "2: line longer than %d bytes", CONFIG_MAXLINE);
	expect_refused(d, &cf, want);
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2222");

	/* the same without a newline at the end of the file */
	memset(text, 0, sizeof text);
	strcpy(text, "home = /");
	n = strlen(text);
	memset(text + n, 'a', CONFIG_MAXLINE);
	write_file(d, text);
	snprintf(
	    want, sizeof want, "1: line longer than %d bytes", CONFIG_MAXLINE);
	expect_refused(d, &cf, want);
}

static void
test_missing_file(void **ctx)
{
	struct dir *d = *ctx;
	char msg[256];
	struct config cf;

	config_init(&cf);
	err_clear();
	assert_int_equal(config_read(&cf, d->file, 1), -1);
	snprintf(msg, sizeof msg, "cannot read '%s': No such file or directory",
	    d->file);
	assert_string_equal(err_msg(), msg);
	/* an absent default file is no config */
	assert_int_equal(config_read(&cf, d->file, 0), 0);
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2222");
	/* a file that is there but cannot be read is an error either way */
	assert_int_equal(config_read(&cf, d->path, 0), -1);
	snprintf(msg, sizeof msg, "cannot read '%s': Is a directory", d->path);
	assert_string_equal(err_msg(), msg);
}

static void
test_path(void **ctx)
{
	int required = -1;

	assert_string_equal(
	    config_path("/a.conf", "/b.conf", &required), "/a.conf");
	assert_int_equal(required, 1);
	assert_string_equal(config_path(NULL, "/b.conf", &required), "/b.conf");
	assert_int_equal(required, 1);
	assert_string_equal(config_path(NULL, "", &required), CONFIG_DEFAULT);
	assert_int_equal(required, 0);
	assert_string_equal(config_path(NULL, NULL, &required), CONFIG_DEFAULT);
	assert_int_equal(required, 0);
	assert_string_equal(CONFIG_DEFAULT, "/etc/minpaas/minpaas.conf");
}

static void
test_flags_override(void **ctx)
{
	struct dir *d = *ctx;
	struct config cf, flags;

	write_file(d, "ssh_port = 2022\n"
	              "http_port = 80\n"
	              "domain = file.example.org\n");
	config_init(&cf);
	assert_int_equal(config_read(&cf, d->file, 1), 0);
	config_init(&flags);
	assert_int_equal(config_set(&flags, CONFIG_HTTP_PORT, "8081"), 0);
	assert_int_equal(config_set(&flags, CONFIG_BIND, "127.0.0.1"), 0);
	/* a flag's value is checked as the file's are */
	assert_int_equal(config_set(&flags, CONFIG_SSH_PORT, "22x"), -1);
	assert_string_equal(err_msg(), "bad port '22x' (want 1 to 65535)");
	assert_int_equal(config_set(&flags, CONFIG_NKEYS, "1"), -1);
	config_merge(&cf, &flags);
	assert_string_equal(config_get(&cf, CONFIG_HTTP_PORT), "8081");
	assert_string_equal(config_get(&cf, CONFIG_BIND), "127.0.0.1");
	assert_string_equal(config_get(&cf, CONFIG_SSH_PORT), "2022");
	assert_string_equal(config_get(&cf, CONFIG_DOMAIN), "file.example.org");
	/* a later set replaces an earlier one */
	assert_int_equal(config_set(&cf, CONFIG_DOMAIN, "b.org"), 0);
	assert_string_equal(config_get(&cf, CONFIG_DOMAIN), "b.org");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_good_file, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_defaults, dir_setup, dir_teardown),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(
	        test_unknown_key, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bad_lines, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bad_values, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_edge_values, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_duplicate, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_long_line, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_missing_file, dir_setup, dir_teardown),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test_setup_teardown(
	        test_flags_override, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
