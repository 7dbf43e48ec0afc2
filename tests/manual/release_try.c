/*
 * tests/manual/release_try.c: drives the builder against the real dockerd
 * by hand: builds a tiny image from an in-memory tar and deploys it with
 * release_deploy into $MINPAAS_HOME. Not part of `make test`.
 *
 *   release_try <app> ok|crash|silent|buildfail|nodockerfile|readfail
 *
 * ok: an HTTP server on $PORT; crash: exits with status 3; silent: never
 * listens. Images are tagged minpaas-manual/<app>:<kind> and labelled
 * minpaas.manual=1 so they can be found and removed afterwards:
 *
 *   cc -D_GNU_SOURCE -I. -o release_try tests/manual/release_try.c \
 *       build/libminpaas.a $(pkg-config --libs libcurl jansson lmdb \
 *       libgit2 libssh) -lpthread
 *   MINPAAS_HOME=$(mktemp -d) MINPAAS_HEALTH_TIMEOUT=5 ./release_try demo ok
 *   docker rm -f $(docker ps -aq --filter label=minpaas.app=demo)
 *   docker rmi $(docker images -q --filter label=minpaas.manual=1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/docker.h"
#include "builder/release.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/home.h"
#include "state/state.h"

static const char dockerfile[] = "FROM minpaas/stack:bookworm\n"
                                 "LABEL minpaas.manual=1\n"
                                 "COPY app.py /app/app.py\n"
                                 "USER app\n"
                                 "CMD [\"python3\", \"-u\", \"/app/app.py\"]\n";

static const char app_ok[] =
    "import http.server, os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        b = b'hello from ' + os.environ.get('KIND', '?').encode() + "
    "b'\\n'\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b)\n"
    "print('listening on', os.environ['PORT'])\n"
    "http.server.HTTPServer(('', int(os.environ['PORT'])), "
    "H).serve_forever()\n";

static const char app_crash[] =
    "import sys\n"
    "print('starting up')\n"
    "print('cannot find the database', file=sys.stderr)\n"
    "sys.exit(3)\n";

static const char app_silent[] = "import time\n"
                                 "print('thinking about it')\n"
                                 "time.sleep(100000)\n";

static void
tar_file(struct buf *b, const char *name, const char *data, size_t len)
{
	char h[512];
	unsigned sum = 0;
	size_t i, pad;

	memset(h, 0, sizeof h);
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", len);
	snprintf(h + 136, 12, "%011lo", (unsigned long)time(NULL));
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	buf_append(b, h, 512);
	buf_append(b, data, len);
	pad = (512 - len % 512) % 512;
	memset(h, 0, sizeof h);
	buf_append(b, h, pad);
}

struct reader {
	struct buf *b;
	size_t off;
};

static int fail_read; /* "readfail": the context breaks half-way */

static ssize_t
read_tar(void *arg, char *out, size_t len)
{
	struct reader *r = arg;
	size_t n = r->b->len - r->off;

	if (fail_read && r->off > 0)
		return err_set("cannot read blob 1234: object not found");

	if (n > len)
		n = len;
	memcpy(out, r->b->data + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

static void
line(void *arg, const char *l)
{
	(void)arg;
	printf("       %s\n", l);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct buf tar = BUF_INIT;
	struct reader rd = {&tar, 0};
	struct state_release rel;
	struct state_app app;
	struct docker *d = NULL;
	struct state *st = NULL;
	char tag[128], image[80], df[512], zero[1024];
	const char *src;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: release_try <app> ok|crash|silent|"
		                "buildfail|nodockerfile|readfail\n");
		return 2;
	}
	src = strcmp(argv[2], "ok") == 0      ? app_ok
	      : strcmp(argv[2], "crash") == 0 ? app_crash
	                                      : app_silent;
	snprintf(df, sizeof df, "%sENV KIND=%s\n%s", dockerfile, argv[2],
	    strcmp(argv[2], "buildfail") == 0 ? "RUN echo failing; exit 3\n"
	                                      : "");
	fail_read = strcmp(argv[2], "readfail") == 0;
	if (strcmp(argv[2], "nodockerfile") != 0)
		tar_file(&tar, "Dockerfile", df, strlen(df));
	tar_file(&tar, "app.py", src, strlen(src));
	memset(zero, 0, sizeof zero);
	buf_append(&tar, zero, sizeof zero);

	if (home_prepare() == -1 || state_open(&st, home_dir()) == -1 ||
	    docker_open(&d, NULL) == -1) {
		fprintf(stderr, "release_try: %s\n", err_msg());
		goto out;
	}
	memset(&app, 0, sizeof app);
	snprintf(app.name, sizeof app.name, "%s", argv[1]);
	snprintf(app.branch, sizeof app.branch, "main");
	app.created = time(NULL);
	if (state_app_create(st, &app) == -1) {
		fprintf(stderr, "release_try: %s\n", err_msg());
		goto out;
	}
	printf("-----> Building %s (%s)\n", argv[1], argv[2]);
	snprintf(tag, sizeof tag, "minpaas-manual/%s:%s", argv[1], argv[2]);
	if (docker_build(
	        d, tag, read_tar, &rd, line, NULL, image, sizeof image) == -1) {
		printf(" !     %s\n", err_msg());
		goto out;
	}
	printf("       image %s\n", image);
	memset(&rel, 0, sizeof rel);
	snprintf(rel.app, sizeof rel.app, "%s", argv[1]);
	snprintf(rel.image, sizeof rel.image, "%s", image);
	snprintf(rel.status, sizeof rel.status, "building");
	snprintf(rel.cause, sizeof rel.cause, "push");
	rel.created = time(NULL);
	if (state_release_new(st, &rel) == -1) {
		fprintf(stderr, "release_try: %s\n", err_msg());
		goto out;
	}
	if (release_deploy(st, d, &rel, stdout) == -1)
		goto out;
	printf("PORT=%u\n", (unsigned)rel.port);
	rc = 0;
out:
	docker_close(d);
	state_close(st);
	buf_release(&tar);
	return rc;
}
