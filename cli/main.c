/*
 * cli/main.c: the `minpaas` admin command. `minpaas up` starts the SSH
 * server, the router and the reconciler in the foreground under a
 * supervisor (cli/supervise.c) that restarts any of them when it dies and
 * stops them all on SIGINT/SIGTERM; any
 * other word runs that command locally with an admin's rights
 * (`minpaas keys:add alice < key.pub`, `minpaas apps`). Both take their
 * settings from the config file (cli/config.h), `up` its flags over it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/supervise.h"
#include "common/err.h"
#include "common/home.h"
#include "common/log.h"
#include "common/progress.h"
#include "state/state.h"

/* Writes the path of the sibling binary `name` of this executable. */
static int
sibling(char *out, size_t outlen, const char *name)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return err_set("cannot find this program: %s", strerror(errno));
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s/%s", self, name) >= outlen)
		return err_set("path too long");
	if (access(out, X_OK) == -1)
		return err_set("cannot run '%s': %s", out, strerror(errno));
	return 0;
}

/*
 * 1 when the local dockerd runs with its userland proxy on (the default),
 * which halves what a published loopback port carries; 0 when it is off or
 * no local dockerd is found.
 */
static int
docker_proxy_on(void)
{
	char path[64], cmd[4096];
	struct dirent *de;
	json_t *conf, *v;
	ssize_t n;
	DIR *dir;
	int fd, found = 0, off = 0;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while (!found && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%.20s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, cmd, sizeof cmd - 1);
		close(fd);
		if (n <= 0)
			continue;
		cmd[n] = '\0';
		if (strcmp(cmd, "dockerd") != 0 &&
		    (strlen(cmd) < 8 ||
		        strcmp(cmd + strlen(cmd) - 8, "/dockerd") != 0))
			continue;
		found = 1;
		for (char *a = cmd; a < cmd + n; a += strlen(a) + 1)
			if (strcmp(a, "--userland-proxy=false") == 0)
				off = 1;
	}
	closedir(dir);
	if (!found || off)
		return 0;
	if ((conf = json_load_file("/etc/docker/daemon.json", 0, NULL))) {
		v = json_object_get(conf, "userland-proxy");
		off = json_is_false(v);
		json_decref(conf);
	}
	return !off;
}

/*
 * Reads the config file into cf (--config FILE when path is not NULL, else
 * $MINPAAS_CONFIG, else CONFIG_DEFAULT when it exists), lets the keys set
 * in over (the flags) win, and sets the environment variables that keys
 * stand for, where they are not set already, for this process and its
 * children. 0, or -1 with err_set().
 */
static int
settings(struct config *cf, const char *path, const struct config *over)
{
	const char *name, *v, *was;
	int required, key;

	config_init(cf);
	path = config_path(path, getenv("MINPAAS_CONFIG"), &required);
	if (config_read(cf, path, required) == -1)
		return -1;
	if (over != NULL)
		config_merge(cf, over);
	for (key = 0; key < CONFIG_NKEYS; key++) {
		if ((name = config_env(key)) == NULL ||
		    (v = config_get(cf, key)) == NULL)
			continue;
		/* empty is unset, as every reader of these takes it */
		if ((was = getenv(name)) != NULL && *was != '\0')
			continue;
		if (setenv(name, v, 1) == -1)
			return err_set(
			    "cannot set %s: %s", name, strerror(errno));
	}
	return 0;
}

static void
usage_up(void)
{
	fprintf(stderr, "usage: minpaas up [--ssh-port N] [--http-port N] "
	                "[--domain D] [--bind ADDR]\n"
	                "                  [--trusted-proxies CIDR,...] "
	                "[--config FILE]\n");
}

static int
cmd_up(int argc, char **argv)
{
	/* a flag's val is the config key it sets */
	static const struct option opts[] = {
	    {"ssh-port", required_argument, NULL, CONFIG_SSH_PORT},
	    {"http-port", required_argument, NULL, CONFIG_HTTP_PORT},
	    {"domain", required_argument, NULL, CONFIG_DOMAIN},
	    {"bind", required_argument, NULL, CONFIG_BIND},
	    {"trusted-proxies", required_argument, NULL,
	        CONFIG_TRUSTED_PROXIES},
	    {"config", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *ssh_port, *http_port, *trusted, *domain, *bind;
	const char *conf = NULL;
	char sshd[PATH_MAX], router[PATH_MAX], reconciler[PATH_MAX];
	char instance[STATE_INSTANCE_LEN + 1];
	struct config cf, flags;
	struct state *st;
	int c, i;

	config_init(&flags);
	while ((c = getopt_long(argc, argv, "", opts, &i)) != -1) {
		if (c == 'c') {
			conf = optarg;
		} else if (c < 0 || c >= CONFIG_NKEYS) {
			usage_up();
			return 2;
		} else if (config_set(&flags, c, optarg) == -1) {
			log_error("--%s: %s", opts[i].name, err_msg());
			return 2;
		}
	}
	if (optind != argc) {
		usage_up();
		return 2;
	}
	if (settings(&cf, conf, &flags) == -1) {
		log_error("%s", err_msg());
		return 2;
	}
	ssh_port = config_get(&cf, CONFIG_SSH_PORT);
	http_port = config_get(&cf, CONFIG_HTTP_PORT);
	trusted = config_get(&cf, CONFIG_TRUSTED_PROXIES);
	domain = config_get(&cf, CONFIG_DOMAIN);
	bind = config_get(&cf, CONFIG_BIND);
	if (home_prepare() == -1 || sup_lock() == -1 ||
	    sibling(sshd, sizeof sshd, "minpaas-sshd") == -1 ||
	    sibling(router, sizeof router, "minpaas-router") == -1 ||
	    sibling(reconciler, sizeof reconciler, "minpaas-reconciler") ==
	        -1) {
		log_error("%s", err_msg());
		return 1;
	}
	/* the hook and the commands read these to print app URLs */
	if (state_open(&st, home_dir()) == -1 ||
	    state_meta_set(st, "domain", domain) == -1 ||
	    state_meta_set(st, "http_port", http_port) == -1 ||
	    state_meta_set(st, "ssh_port", ssh_port) == -1 ||
	    state_instance(st, instance, sizeof instance) == -1) {
		log_error("%s", err_msg());
		state_close(st);
		return 1;
	}
	state_close(st);
	if (docker_proxy_on())
		log_warn(
		    "dockerd runs with its userland proxy on: apps get "
		    "about half the throughput; set \"userland-proxy\": "
		    "false in /etc/docker/daemon.json and restart dockerd");

	/* the router checks the list itself and refuses a bad one */
	char *sshd_argv[] = {
	    sshd, "--port", (char *)ssh_port, "--bind", (char *)bind, NULL};
	char *router_argv[] = {router, "--port", (char *)http_port, "--bind",
	    (char *)bind, trusted ? "--trusted-proxies" : NULL, (char *)trusted,
	    NULL};
	char *reconciler_argv[] = {reconciler, NULL};
	struct sup_child kids[] = {
	    {.name = "minpaas-sshd", .argv = sshd_argv},
	    {.name = "minpaas-router", .argv = router_argv},
	    {.name = "minpaas-reconciler", .argv = reconciler_argv},
	};
	fprintf(stderr,
	    "-----> minpaas is up (MINPAAS_HOME=%s, instance %s)\n"
	    "       SSH  on %s:%s   (git push, commands)\n"
	    "       HTTP on %s:%s   (apps at http://<app>.%s:%s/)\n"
	    "       Deploy:  git remote add minpaas "
	    "ssh://git@localhost:%s/<app>\n"
	    "                git push minpaas main\n"
	    "       Add a key: minpaas keys:add NAME < ~/.ssh/id_ed25519.pub\n",
	    home_dir(), instance, bind, ssh_port, bind, http_port, domain,
	    http_port, ssh_port);
	if (sup_run(kids, sizeof kids / sizeof kids[0]) == -1) {
		log_error("%s", err_msg());
		return 1;
	}
	log_info("stopped");
	return 0;
}

static int
run_local(int argc, char **argv)
{
	struct cmd_ctx ctx = {NULL, "", "admin", 1};
	struct config cf;
	int status;

	/* the server's home and settings, as `minpaas up` takes them */
	if (settings(&cf, NULL, NULL) == -1) {
		FAIL(stderr, "%s", err_msg());
		return 2;
	}
	if (home_prepare() == -1 || state_open(&ctx.st, home_dir()) == -1) {
		FAIL(stderr, "%s", err_msg());
		return 1;
	}
	status = cmd_run(&ctx, argc, argv);
	state_close(ctx.st);
	return status;
}

int
main(int argc, char **argv)
{
	log_init("minpaas", LOG_INFO);
	if (argc >= 2 && strcmp(argv[1], "up") == 0)
		return cmd_up(argc - 1, argv + 1);
	return run_local(argc - 1, argv + 1);
}
