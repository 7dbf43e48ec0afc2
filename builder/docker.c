/*
 * builder/docker.c: the Docker Engine API over the daemon's unix socket. The
 * only code that calls libcurl. One easy handle per process keeps its
 * connection alive across calls; every path carries the negotiated API
 * version. Names that go into a URL are validated or escaped first, and every
 * daemon error is passed up with the daemon's own message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "builder/docker_int.h"

struct docker {
	CURL *curl;
	char socket[108]; /* sun_path */
	char version[16]; /* "1.41" */
	char errbuf[CURL_ERROR_SIZE];
};

/* What a request sends and where its response goes. */
struct docker_req {
	const char *method;      /* "GET", "POST", "DELETE" */
	const char *path;        /* "/containers/json?all=1", unversioned */
	int unversioned;         /* /_ping and the first /version */
	const char *body;        /* JSON body or NULL */
	long timeout;            /* seconds; 0: none (streams) */
	curl_read_callback read; /* streamed request body (build) */
	void *read_arg;
	curl_write_callback write; /* streamed response; NULL: into resp */
	void *write_arg;
	curl_write_callback header;
	void *header_arg;
	const volatile sig_atomic_t *cancel; /* non-zero: abort the transfer */
	struct buf resp;
	long status;
	int aborted; /* DOCKER_CANCELLED or DOCKER_TIMEDOUT when it ended so */
};

/* --- transport ----------------------------------------------------------- */

/* Called by libcurl at least once a second: ends a cancelled transfer. */
static int
docker_xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const volatile sig_atomic_t *cancel = arg;

	return *cancel != 0;
}

static size_t
docker_collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + n > DOCKER_MAXRESPONSE || buf_append(b, data, n) == -1)
		return 0;
	return n;
}

/* The daemon's {"message": ...}, or the HTTP status when there is none. */
static int
docker_error(const struct docker_req *r)
{
	json_t *o, *m;
	int rc;

	o = r->resp.len ? json_loadb(r->resp.data, r->resp.len, 0, NULL) : NULL;
	m = json_object_get(o, "message");
	if (json_is_string(m))
		rc = err_set("%s", json_string_value(m));
	else
		rc = err_set(
		    "docker: %s %s: HTTP %ld", r->method, r->path, r->status);
	json_decref(o);
	return rc;
}

/*
 * Runs one request on the shared handle. Returns 0 with r->status set for
 * any HTTP answer, or -1 with err_set() when no answer came (or when a
 * callback ended the transfer: the caller then checks its own state).
 */
static int
docker_perform(struct docker *d, struct docker_req *r)
{
	struct curl_slist *hdrs = NULL, *h;
	char url[DOCKER_MAXPATH + 64];
	CURLcode cc;
	int n, rc = -1;

	if (r->unversioned)
		n = snprintf(url, sizeof url, "http://localhost%s", r->path);
	else
		n = snprintf(url, sizeof url, "http://localhost/v%s%s",
		    d->version, r->path);
	if (n < 0 || (size_t)n >= sizeof url)
		return err_set("docker: request path too long");
	buf_reset(&r->resp);
	r->status = 0;
	d->errbuf[0] = '\0';

	curl_easy_reset(d->curl);
	curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(d->curl, CURLOPT_URL, url);
	curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    d->curl, CURLOPT_CONNECTTIMEOUT, (long)DOCKER_CONNECT_TIMEOUT);
	if (r->timeout > 0)
		curl_easy_setopt(d->curl, CURLOPT_TIMEOUT, r->timeout);
	if (r->write) {
		curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, r->write);
		curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, r->write_arg);
	} else {
		curl_easy_setopt(
		    d->curl, CURLOPT_WRITEFUNCTION, docker_collect);
		curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &r->resp);
	}
	if (r->cancel) {
		curl_easy_setopt(d->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(
		    d->curl, CURLOPT_XFERINFOFUNCTION, docker_xferinfo);
		curl_easy_setopt(
		    d->curl, CURLOPT_XFERINFODATA, (void *)r->cancel);
	}
	if (r->header) {
		curl_easy_setopt(d->curl, CURLOPT_HEADERFUNCTION, r->header);
		curl_easy_setopt(d->curl, CURLOPT_HEADERDATA, r->header_arg);
	}
	if (r->read) {
		curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(d->curl, CURLOPT_READFUNCTION, r->read);
		curl_easy_setopt(d->curl, CURLOPT_READDATA, r->read_arg);
		if ((h = curl_slist_append(
		         hdrs, "Content-Type: application/x-tar")) == NULL)
			goto oom;
		hdrs = h;
		if ((h = curl_slist_append(
		         hdrs, "Transfer-Encoding: chunked")) == NULL)
			goto oom;
		hdrs = h;
		if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
			goto oom;
		hdrs = h;
	} else if (r->body) {
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(
		    d->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
		if ((h = curl_slist_append(
		         hdrs, "Content-Type: application/json")) == NULL)
			goto oom;
		hdrs = h;
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(r->method, "DELETE") == 0)
		curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, "DELETE");
	if (hdrs)
		curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(d->curl);
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc != CURLE_OK) {
		if (cc == CURLE_ABORTED_BY_CALLBACK && r->cancel &&
		    *r->cancel) {
			err_set("cancelled");
			r->aborted = DOCKER_CANCELLED;
		} else if (cc == CURLE_OPERATION_TIMEDOUT && r->timeout > 0) {
			err_set("no answer within %ld seconds", r->timeout);
			r->aborted = DOCKER_TIMEDOUT;
		} else if (cc == CURLE_WRITE_ERROR && !r->write &&
		           r->resp.len + 1 > DOCKER_MAXRESPONSE)
			err_set("docker: %s %s: response larger than %lu bytes",
			    r->method, r->path, DOCKER_MAXRESPONSE);
		else
			err_set("docker at %s: %s", d->socket,
			    d->errbuf[0] ? d->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	err_set("out of memory");
out:
	/* The handle must not keep pointers into this request. */
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/* A request with a small JSON (or empty) answer; response in r->resp. */
static int
docker_call(struct docker *d, struct docker_req *r, const char *method,
    const char *path, const char *body)
{
	r->method = method;
	r->path = path;
	r->body = body;
	r->timeout = DOCKER_TIMEOUT;
	return docker_perform(d, r);
}

static void
docker_req_release(struct docker_req *r)
{
	buf_release(&r->resp);
}

/* What a 404 answer means to docker_expect. */
enum docker_on404 {
	DOCKER_404_ERROR,  /* an error like any other: -1 */
	DOCKER_404_QUIET,  /* DOCKER_NOTFOUND, no message recorded */
	DOCKER_404_RECORD, /* DOCKER_NOTFOUND, the daemon's message recorded */
};

/*
 * Maps the status of r's answer: 0 when it is ok or ok2, DOCKER_NOTFOUND for
 * a 404 as on404 says, otherwise -1 with the daemon's message.
 */
static int
docker_expect(
    const struct docker_req *r, long ok, long ok2, enum docker_on404 on404)
{
	if (r->status == ok || r->status == ok2)
		return 0;
	if (r->status == 404 && on404 != DOCKER_404_ERROR) {
		if (on404 == DOCKER_404_RECORD)
			docker_error(r);
		return DOCKER_NOTFOUND;
	}
	return docker_error(r);
}

/* A small request whose answer is only its status, read by docker_expect. */
static int
docker_call_status(struct docker *d, const char *method, const char *path,
    long ok, long ok2, enum docker_on404 on404)
{
	struct docker_req r = {0};
	int rc;

	if ((rc = docker_call(d, &r, method, path, NULL)) == 0)
		rc = docker_expect(&r, ok, ok2, on404);
	docker_req_release(&r);
	return rc;
}

/*
 * POSTs body (stolen; NULL means memory ran out) to path and, when field is
 * set, returns that string field of the JSON answer (200 or 201) in out.
 * DOCKER_NOTFOUND on 404, with the daemon's message recorded.
 */
static int
docker_post_json(struct docker *d, const char *path, json_t *body,
    const char *field, char *out, size_t outlen)
{
	struct docker_req r = {0};
	json_t *o = NULL;
	char *text;
	const char *v;
	int rc;

	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL)
		return err_set("out of memory");
	if ((rc = docker_call(d, &r, "POST", path, text)) != 0)
		goto out;
	if ((rc = docker_expect(&r, 200, 201, DOCKER_404_RECORD)) != 0 ||
	    field == NULL)
		goto out;
	o = json_loadb(r.resp.data, r.resp.len, 0, NULL);
	v = json_string_value(json_object_get(o, field));
	if (v == NULL || !docker_name_valid(v)) {
		rc = err_set("docker: no %s in the answer to %s", field, path);
		goto out;
	}
	snprintf(out, outlen, "%s", v);
out:
	json_decref(o);
	free(text);
	docker_req_release(&r);
	return rc;
}

/* --- version negotiation ------------------------------------------------- */

/* "1.41" -> 1041; -1 when it is not a version. */
static int
docker_version_num(const char *v)
{
	int major, minor, n = 0;

	if (sscanf(v, "%d.%d%n", &major, &minor, &n) != 2 || v[n] != '\0' ||
	    major < 1 || minor < 0 || minor > 999)
		return -1;
	return major * 1000 + minor;
}

/* Keeps the value of the Api-Version header (any case) in arg. */
static size_t
docker_ping_header(char *data, size_t size, size_t n, void *arg)
{
	const char *name = "api-version:";
	size_t len = strlen(name), total = size * n;
	char *out = arg;

	if (total <= len || strncasecmp(data, name, len) != 0)
		return total;
	data += len;
	n = total - len;
	while (n > 0 && (*data == ' ' || *data == '\t')) {
		data++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)data[n - 1]))
		n--;
	if (n < 16) {
		memcpy(out, data, n);
		out[n] = '\0';
	}
	return total;
}

static int
docker_negotiate(struct docker *d)
{
	struct docker_req r = {0};
	char server[16] = "";
	json_t *o = NULL;
	const char *min;
	int rc = -1;

	r.header = docker_ping_header;
	r.header_arg = server;
	r.unversioned = 1;
	if (docker_call(d, &r, "GET", "/_ping", NULL) == -1)
		goto out;
	if (r.status != 200) {
		docker_error(&r);
		goto out;
	}
	/* The Go client's rule: ours, lowered to the server's; none = 1.24. */
	if (server[0] == '\0')
		snprintf(server, sizeof server, "1.24");
	if (docker_version_num(server) != -1 &&
	    docker_version_num(server) < docker_version_num(d->version))
		snprintf(d->version, sizeof d->version, "%s", server);

	r.header = NULL;
	r.unversioned = 0;
	if (docker_call(d, &r, "GET", "/version", NULL) == -1)
		goto out;
	if (r.status == 200) {
		rc = 0;
		goto out;
	}
	if (r.status != 400 ||
	    strstr(r.resp.data ? r.resp.data : "", "too old") == NULL) {
		docker_error(&r);
		goto out;
	}
	/* A daemon whose minimum is above ours: speak its minimum. */
	r.unversioned = 1;
	if (docker_call(d, &r, "GET", "/version", NULL) == -1)
		goto out;
	if (r.status != 200) {
		docker_error(&r);
		goto out;
	}
	o = json_loadb(r.resp.data, r.resp.len, 0, NULL);
	min = json_string_value(json_object_get(o, "MinAPIVersion"));
	if (min == NULL || docker_version_num(min) == -1) {
		err_set("docker: /version has no usable MinAPIVersion");
		goto out;
	}
	snprintf(d->version, sizeof d->version, "%s", min);
	rc = 0;
out:
	json_decref(o);
	docker_req_release(&r);
	return rc;
}

int
docker_open(struct docker **out, const char *socket)
{
	struct docker *d;
	const char *env;

	*out = NULL;
	if (socket == NULL || *socket == '\0') {
		env = getenv("DOCKER_SOCKET");
		socket = env && *env ? env : DOCKER_SOCKET;
	}
	if (strlen(socket) >= sizeof d->socket)
		return err_set("docker socket path too long: %s", socket);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set("cannot initialise libcurl");
	if ((d = calloc(1, sizeof *d)) == NULL) {
		curl_global_cleanup();
		return err_set("out of memory");
	}
	snprintf(d->socket, sizeof d->socket, "%s", socket);
	snprintf(d->version, sizeof d->version, "%s", DOCKER_API_VERSION);
	if ((d->curl = curl_easy_init()) == NULL) {
		err_set("cannot create a libcurl handle");
		goto fail;
	}
	if (docker_negotiate(d) == -1)
		goto fail;
	*out = d;
	return 0;
fail:
	docker_close(d);
	return -1;
}

void
docker_close(struct docker *d)
{
	if (d == NULL)
		return;
	if (d->curl)
		curl_easy_cleanup(d->curl);
	free(d);
	curl_global_cleanup();
}

/* --- names --------------------------------------------------------------- */

int
docker_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || !isalnum((unsigned char)name[0]))
		return 0;
	for (i = 1; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '.' && name[i] != '-')
			return 0;
	return i <= 128;
}

/* Image references go into the path unescaped ("/images/a/b:tag/json"). */
static int
docker_image_valid(const char *name)
{
	size_t i;

	if (name == NULL || !isalnum((unsigned char)name[0]))
		return 0;
	for (i = 1; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("_.-/:@", name[i]) == NULL)
			return 0;
	return i <= 255 && strstr(name, "..") == NULL;
}

static int
docker_check_id(const char *id)
{
	if (!docker_name_valid(id))
		return err_set(
		    "invalid container name or id '%s'", id ? id : "");
	return 0;
}

/* --- build --------------------------------------------------------------- */

struct docker_buildctx {
	struct docker *d;
	docker_read_fn read;
	void *read_arg;
	int read_failed;
	char read_error[ERR_MAXLEN];
	struct docker_progress progress;
	int oom;
	struct buf errbody; /* the body of a non-200 answer */
};

static size_t
docker_build_read(char *buf, size_t size, size_t n, void *arg)
{
	struct docker_buildctx *b = arg;
	ssize_t got;

	got = b->read(b->read_arg, buf, size * n);
	if (got < 0) {
		b->read_failed = 1;
		snprintf(b->read_error, sizeof b->read_error, "%s",
		    err_msg()[0] ? err_msg() : "cannot read the build context");
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

static size_t
docker_build_write(char *data, size_t size, size_t n, void *arg)
{
	struct docker_buildctx *b = arg;
	long status = 0;

	curl_easy_getinfo(b->d->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return docker_collect(data, size, n, &b->errbody);
	if (docker_progress_feed(&b->progress, data, n) == -1) {
		b->oom = 1;
		return 0;
	}
	return n;
}

int
docker_build(struct docker *d, const char *tag, docker_read_fn read,
    void *read_arg, docker_line_fn line, void *line_arg, char *image_id,
    size_t idlen)
{
	return docker_build_ex(
	    d, tag, NULL, read, read_arg, line, line_arg, image_id, idlen);
}

/* "?buildargs=...&labels=..." for o, appended to path; -1 with err_set(). */
static int
docker_build_query(
    struct docker *d, const struct docker_build_opts *o, struct buf *q)
{
	const char *const *lists[2] = {o->buildargs, o->labels};
	const char *names[2] = {"buildargs", "labels"};
	const char *eq;
	json_t *obj;
	char *text, *esc;
	size_t i, j;
	int rc;

	for (i = 0; i < 2; i++) {
		if (lists[i] == NULL || lists[i][0] == NULL)
			continue;
		if ((obj = json_object()) == NULL)
			return err_set("out of memory");
		for (j = 0; lists[i][j] != NULL; j++) {
			char key[256];

			if ((eq = strchr(lists[i][j], '=')) == NULL ||
			    (size_t)(eq - lists[i][j]) >= sizeof key)
				continue;
			memcpy(key, lists[i][j], eq - lists[i][j]);
			key[eq - lists[i][j]] = '\0';
			json_object_set_new(obj, key, json_string(eq + 1));
		}
		text = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
		esc = text ? curl_easy_escape(d->curl, text, 0) : NULL;
		free(text);
		if (esc == NULL)
			return err_set("out of memory");
		rc = buf_printf(q, "&%s=%s", names[i], esc);
		curl_free(esc);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
docker_build_ex(struct docker *d, const char *tag,
    const struct docker_build_opts *opts, docker_read_fn read, void *read_arg,
    docker_line_fn line, void *line_arg, char *image_id, size_t idlen)
{
	static const struct docker_build_opts none;
	struct docker_buildctx b = {0};
	struct docker_req r = {0};
	struct buf q = BUF_INIT;
	char path[DOCKER_MAXPATH];
	char *etag = NULL;
	int n, rc = -1;

	if (opts == NULL)
		opts = &none;

	if (idlen > 0)
		image_id[0] = '\0';
	b.d = d;
	b.read = read;
	b.read_arg = read_arg;
	docker_progress_init(&b.progress, line, line_arg);
	if (tag == NULL || !docker_image_valid(tag)) {
		err_set("invalid image tag '%s'", tag ? tag : "");
		goto out;
	}
	if ((etag = curl_easy_escape(d->curl, tag, 0)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	if (docker_build_query(d, opts, &q) == -1)
		goto out;
	n = snprintf(path, sizeof path, "/build?t=%s&rm=1&forcerm=1%s", etag,
	    q.data ? q.data : "");
	if (n < 0 || (size_t)n >= sizeof path) {
		err_set("image tag, build args or labels too long");
		goto out;
	}
	r.method = "POST";
	r.path = path;
	r.timeout = opts->timeout;
	r.cancel = opts->cancel;
	r.read = docker_build_read;
	r.read_arg = &b;
	r.write = docker_build_write;
	r.write_arg = &b;
	err_clear();
	if (docker_perform(d, &r) == -1) {
		if (b.read_failed)
			err_set("%s", b.read_error);
		else if (b.oom)
			err_set("out of memory");
		else if (r.aborted)
			rc = r.aborted;
		goto out;
	}
	if (r.status != 200) {
		r.resp = b.errbody;
		docker_error(&r);
		r.resp = (struct buf)BUF_INIT;
		goto out;
	}
	if (docker_progress_finish(&b.progress) == -1)
		goto out;
	if (b.progress.failed) {
		err_set("%s", b.progress.error);
		goto out;
	}
	if (b.progress.image_id[0] == '\0') {
		err_set("docker: the build ended without an image id");
		goto out;
	}
	if (strlen(b.progress.image_id) >= idlen) {
		err_set("image id too long");
		goto out;
	}
	snprintf(image_id, idlen, "%s", b.progress.image_id);
	rc = 0;
out:
	curl_free(etag);
	buf_release(&q);
	buf_release(&b.errbody);
	docker_progress_release(&b.progress);
	docker_req_release(&r);
	return rc;
}

/* METHOD /images/<name><suffix>: 0 on 200, DOCKER_NOTFOUND on 404. */
static int
docker_image_call(
    struct docker *d, const char *method, const char *name, const char *suffix)
{
	char path[DOCKER_MAXPATH];

	if (!docker_image_valid(name))
		return err_set("invalid image name '%s'", name ? name : "");
	snprintf(path, sizeof path, "/images/%s%s", name, suffix);
	return docker_call_status(d, method, path, 200, 200, DOCKER_404_QUIET);
}

int
docker_image_exists(struct docker *d, const char *name)
{
	return docker_image_call(d, "GET", name, "/json");
}

int
docker_image_remove(struct docker *d, const char *name)
{
	return docker_image_call(d, "DELETE", name, "");
}

int
docker_image_prune(struct docker *d, const char *const *labels)
{
	char path[DOCKER_MAXPATH];
	json_t *f, *arr;
	char *text = NULL, *esc = NULL;
	size_t i;
	int rc = -1;

	f = json_pack("{s:[s], s:[]}", "dangling", "true", "label");
	arr = json_object_get(f, "label");
	for (i = 0; arr && labels[i]; i++)
		if (json_array_append_new(arr, json_string(labels[i])) == -1)
			arr = NULL;
	if (arr == NULL || (text = json_dumps(f, JSON_COMPACT)) == NULL ||
	    (esc = curl_easy_escape(d->curl, text, 0)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	snprintf(path, sizeof path, "/images/prune?filters=%s", esc);
	rc = docker_call_status(d, "POST", path, 200, 200, DOCKER_404_ERROR);
out:
	curl_free(esc);
	free(text);
	json_decref(f);
	return rc;
}

/* --- containers ---------------------------------------------------------- */

/* Sets key to v (a new reference, NULL on failure) on o; -1 on failure. */
static int
spec_set(json_t *o, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, key, v);
}

json_t *
docker_spec_json(const struct docker_spec *spec)
{
	json_t *o, *host, *v, *ports, *bind;
	char port[16], hostport[8], num[16];
	size_t i;

	if ((o = json_object()) == NULL || (host = json_object()) == NULL) {
		json_decref(o);
		err_set("out of memory");
		return NULL;
	}
	if (spec->image == NULL || spec->image[0] == '\0') {
		err_set("container spec has no image");
		goto fail;
	}
	if (spec_set(o, "Image", json_string(spec->image)) == -1)
		goto bad;

	if ((v = json_array()) == NULL || spec_set(o, "Env", v) == -1)
		goto bad;
	for (i = 0; spec->env && spec->env[i]; i++)
		if (json_array_append_new(v, json_string(spec->env[i])) == -1) {
			err_set("environment entry %zu is not valid UTF-8", i);
			goto fail;
		}

	if ((v = json_object()) == NULL || spec_set(o, "Labels", v) == -1)
		goto bad;
	snprintf(num, sizeof num, "%u", (unsigned)spec->release);
	if ((spec->instance && spec_set(v, "minpaas.instance",
	                           json_string(spec->instance)) == -1) ||
	    (spec->app &&
	        spec_set(v, "minpaas.app", json_string(spec->app)) == -1) ||
	    spec_set(v, "minpaas.release", json_string(num)) == -1 ||
	    (spec->process && spec_set(v, "minpaas.process",
	                          json_string(spec->process)) == -1))
		goto bad;

	if (spec->command && spec->command[0] &&
	    spec_set(o, "Cmd",
	        json_pack("[ss s]", "/bin/sh", "-c", spec->command)) == -1)
		goto bad;
	if (spec->user && spec->user[0] &&
	    spec_set(o, "User", json_string(spec->user)) == -1)
		goto bad;

	if (spec->port) {
		snprintf(port, sizeof port, "%u/tcp", (unsigned)spec->port);
		if ((v = json_object()) == NULL ||
		    spec_set(o, "ExposedPorts", v) == -1 ||
		    spec_set(v, port, json_object()) == -1)
			goto bad;
		if (spec->host_port) {
			snprintf(hostport, sizeof hostport, "%u",
			    (unsigned)spec->host_port);
			bind = json_pack("[{s:s, s:s}]", "HostIp", "127.0.0.1",
			    "HostPort", hostport);
			if ((ports = json_object()) == NULL ||
			    spec_set(host, "PortBindings", ports) == -1 ||
			    spec_set(ports, port, bind) == -1)
				goto bad;
		}
	}
	if (spec_set(host, "RestartPolicy",
	        json_pack("{s:s, s:i}", "Name",
	            spec->restart ? spec->restart : "unless-stopped",
	            "MaximumRetryCount", 0)) == -1 ||
	    spec_set(host, "Init", json_true()) == -1 ||
	    spec_set(host, "SecurityOpt",
	        json_pack("[s]", "no-new-privileges")) == -1 ||
	    spec_set(host, "LogConfig",
	        json_pack("{s:s, s:{s:s, s:s}}", "Type", "json-file", "Config",
	            "max-size", "10m", "max-file", "3")) == -1)
		goto bad;
	if (spec->memory > 0 &&
	    spec_set(host, "Memory", json_integer(spec->memory)) == -1)
		goto bad;
	if (spec->nano_cpus > 0 &&
	    spec_set(host, "NanoCpus", json_integer(spec->nano_cpus)) == -1)
		goto bad;
	if (spec->pids > 0 &&
	    spec_set(host, "PidsLimit", json_integer(spec->pids)) == -1)
		goto bad;
	if (json_object_set(o, "HostConfig", host) == -1)
		goto bad;
	json_decref(host);
	return o;
bad:
	err_set("cannot build the container spec (invalid UTF-8 or out of "
	        "memory)");
fail:
	json_decref(host);
	json_decref(o);
	return NULL;
}

int
docker_container_create(
    struct docker *d, const struct docker_spec *spec, char *id, size_t idlen)
{
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH];
	json_t *body, *resp = NULL;
	const char *newid;
	char *text = NULL;
	int rc = -1;

	if (idlen > 0)
		id[0] = '\0';
	if (spec->name && spec->name[0] && !docker_name_valid(spec->name))
		return err_set("invalid container name '%s'", spec->name);
	if ((body = docker_spec_json(spec)) == NULL)
		return -1;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	if (spec->name && spec->name[0])
		snprintf(path, sizeof path, "/containers/create?name=%s",
		    spec->name);
	else
		snprintf(path, sizeof path, "/containers/create");
	if (docker_call(d, &r, "POST", path, text) == -1 ||
	    docker_expect(&r, 201, 201, DOCKER_404_ERROR) == -1)
		goto out;
	resp = json_loadb(r.resp.data, r.resp.len, 0, NULL);
	newid = json_string_value(json_object_get(resp, "Id"));
	if (newid == NULL || strlen(newid) >= idlen) {
		err_set("docker: create returned no usable container id");
		goto out;
	}
	snprintf(id, idlen, "%s", newid);
	rc = 0;
out:
	free(text);
	json_decref(resp);
	json_decref(body);
	docker_req_release(&r);
	return rc;
}

/* POST /containers/<id>/<verb>; 204 and 304 ("already so") are success,
 * 404 is DOCKER_NOTFOUND (with the daemon's message recorded). */
static int
docker_container_post(
    struct docker *d, const char *id, const char *verb, long timeout)
{
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH];
	int rc;

	if (docker_check_id(id) == -1)
		return -1;
	snprintf(path, sizeof path, "/containers/%s/%s", id, verb);
	r.method = "POST";
	r.path = path;
	r.timeout = timeout;
	if ((rc = docker_perform(d, &r)) == 0)
		rc = docker_expect(&r, 204, 304, DOCKER_404_RECORD);
	docker_req_release(&r);
	return rc;
}

int
docker_container_start(struct docker *d, const char *id)
{
	/* A container that vanished cannot be started: that is an error. */
	return docker_container_post(d, id, "start", DOCKER_TIMEOUT) == 0 ? 0
	                                                                  : -1;
}

int
docker_container_set_restart(
    struct docker *d, const char *id, const char *policy)
{
	char path[DOCKER_MAXPATH];

	if (docker_check_id(id) == -1)
		return -1;
	snprintf(path, sizeof path, "/containers/%s/update", id);
	return docker_post_json(d, path,
	    json_pack("{s:{s:s, s:i}}", "RestartPolicy", "Name", policy,
	        "MaximumRetryCount", 0),
	    NULL, NULL, 0);
}

int
docker_container_stop(struct docker *d, const char *id, int timeout)
{
	char verb[32];

	if (timeout < 0)
		timeout = 0;
	snprintf(verb, sizeof verb, "stop?t=%d", timeout);
	return docker_container_post(
	    d, id, verb, (long)timeout + DOCKER_TIMEOUT);
}

int
docker_container_remove(struct docker *d, const char *id)
{
	char path[DOCKER_MAXPATH];

	if (docker_check_id(id) == -1)
		return -1;
	snprintf(path, sizeof path, "/containers/%s?force=1&v=1", id);
	return docker_call_status(
	    d, "DELETE", path, 204, 204, DOCKER_404_QUIET);
}

/* Unix seconds of an RFC 3339 time as Docker writes it; 0 for its zero
 * time ("0001-01-01T00:00:00Z") or anything unreadable. */
static int64_t
docker_time(const char *s)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    tm.tm_year < 70)
		return 0;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	return (int64_t)t;
}

int
docker_container_inspect(
    struct docker *d, const char *id, struct docker_state *out)
{
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH];
	json_t *o = NULL, *st;
	json_error_t jerr;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (docker_check_id(id) == -1)
		return -1;
	snprintf(path, sizeof path, "/containers/%s/json", id);
	if ((rc = docker_call(d, &r, "GET", path, NULL)) != 0 ||
	    (rc = docker_expect(&r, 200, 200, DOCKER_404_QUIET)) != 0)
		goto out;
	rc = -1;
	if ((o = json_loadb(r.resp.data, r.resp.len, 0, &jerr)) == NULL) {
		err_set("docker: inspect answer is not JSON: %s", jerr.text);
		goto out;
	}
	st = json_object_get(o, "State");
	out->running = json_is_true(json_object_get(st, "Running"));
	out->restarting = json_is_true(json_object_get(st, "Restarting"));
	out->exit_code =
	    (int)json_integer_value(json_object_get(st, "ExitCode"));
	out->restart_count =
	    (int)json_integer_value(json_object_get(o, "RestartCount"));
	out->started =
	    docker_time(json_string_value(json_object_get(st, "StartedAt")));
	out->finished =
	    docker_time(json_string_value(json_object_get(st, "FinishedAt")));
	snprintf(out->status, sizeof out->status, "%s",
	    json_string_value(json_object_get(st, "Status"))
	        ? json_string_value(json_object_get(st, "Status"))
	        : "");
	rc = 0;
out:
	json_decref(o);
	docker_req_release(&r);
	return rc;
}

/* --- exec ---------------------------------------------------------------- */

int
docker_container_exec(struct docker *d, const char *id, const char *const *argv,
    int timeout_ms, int *exit_code)
{
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH], eid[80];
	json_t *body, *cmd, *o = NULL;
	struct timespec ts, pause = {0, 20 * 1000000L};
	int64_t deadline;
	size_t i;
	int rc;

	if (docker_check_id(id) == -1)
		return -1;
	if ((cmd = json_array()) == NULL)
		return err_set("out of memory");
	for (i = 0; argv[i]; i++)
		if (json_array_append_new(cmd, json_string(argv[i])) == -1) {
			json_decref(cmd);
			return err_set("exec: arguments must be UTF-8");
		}
	body = json_pack("{s:o, s:b, s:b}", "Cmd", cmd, "AttachStdout", 0,
	    "AttachStderr", 0);
	snprintf(path, sizeof path, "/containers/%s/exec", id);
	if ((rc = docker_post_json(d, path, body, "Id", eid, sizeof eid)) != 0)
		return rc;
	snprintf(path, sizeof path, "/exec/%s/start", eid);
	rc = docker_post_json(d, path,
	    json_pack("{s:b, s:b}", "Detach", 1, "Tty", 0), NULL, NULL, 0);
	if (rc != 0)
		return rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline =
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	snprintf(path, sizeof path, "/exec/%s/json", eid);
	for (;;) {
		rc = -1;
		if (docker_call(d, &r, "GET", path, NULL) == -1 ||
		    docker_expect(&r, 200, 200, DOCKER_404_ERROR) == -1)
			break;
		o = json_loadb(r.resp.data, r.resp.len, 0, NULL);
		if (o == NULL) {
			err_set("docker: exec inspect answer is not JSON");
			break;
		}
		if (!json_is_true(json_object_get(o, "Running"))) {
			*exit_code = (int)json_integer_value(
			    json_object_get(o, "ExitCode"));
			rc = 0;
			break;
		}
		json_decref(o);
		o = NULL;
		docker_req_release(&r);
		memset(&r, 0, sizeof r);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >=
		    deadline) {
			/* still running: as good as failed, this time */
			*exit_code = -1;
			rc = 0;
			break;
		}
		nanosleep(&pause, NULL);
	}
	json_decref(o);
	docker_req_release(&r);
	return rc;
}

/* --- logs ---------------------------------------------------------------- */

struct docker_logctx {
	struct docker *d;
	struct docker_demux demux;
	struct buf errbody;
};

static size_t
docker_logs_write(char *data, size_t size, size_t n, void *arg)
{
	struct docker_logctx *l = arg;
	long status = 0;

	curl_easy_getinfo(l->d->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return docker_collect(data, size, n, &l->errbody);
	if (docker_demux_feed(&l->demux, data, n) != 0)
		return 0; /* ends the transfer */
	return n;
}

int
docker_container_logs(struct docker *d, const char *id, int tail, int follow,
    docker_log_fn log, void *arg)
{
	struct docker_logctx l = {0};
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH], tailv[16];
	int rc = -1;

	if (docker_check_id(id) == -1)
		return -1;
	if (tail < 0)
		snprintf(tailv, sizeof tailv, "all");
	else
		snprintf(tailv, sizeof tailv, "%d", tail);
	snprintf(path, sizeof path,
	    "/containers/%s/logs?stdout=1&stderr=1&tail=%s%s", id, tailv,
	    follow ? "&follow=1" : "");
	l.d = d;
	docker_demux_init(&l.demux, log, arg);
	r.method = "GET";
	r.path = path;
	r.timeout = follow ? 0 : DOCKER_TIMEOUT;
	r.write = docker_logs_write;
	r.write_arg = &l;
	if (docker_perform(d, &r) == -1) {
		if (l.demux.stopped)
			rc = 0; /* the callback asked to stop */
		goto out;
	}
	if (r.status == 404) {
		rc = DOCKER_NOTFOUND;
		goto out;
	}
	if (r.status != 200) {
		r.resp = l.errbody;
		docker_error(&r);
		r.resp = (struct buf)BUF_INIT;
		goto out;
	}
	rc = 0;
out:
	buf_release(&l.errbody);
	docker_req_release(&r);
	return rc;
}

/* --- listing and events -------------------------------------------------- */

/* `?filters=` for label (NULL-terminated "key=value" list) and, when type
 * is set, the object type, appended to path; -1 with err_set(). */
static int
docker_filters(struct docker *d, char *path, size_t len, const char *type,
    const char *const *labels)
{
	json_t *f, *arr;
	char *text = NULL, *esc = NULL;
	size_t i, used = strlen(path);
	int rc = -1;

	if ((f = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(f, "label", arr) == -1)
		goto out;
	for (i = 0; labels && labels[i]; i++)
		if (json_array_append_new(arr, json_string(labels[i])) == -1)
			goto out;
	if (type &&
	    json_object_set_new(f, "type", json_pack("[s]", type)) == -1)
		goto out;
	if ((text = json_dumps(f, JSON_COMPACT)) == NULL ||
	    (esc = curl_easy_escape(d->curl, text, 0)) == NULL)
		goto out;
	if ((size_t)snprintf(path + used, len - used, "%sfilters=%s",
	        strchr(path, '?') ? "&" : "?", esc) >= len - used) {
		err_set("docker: filter too long");
		goto done;
	}
	rc = 0;
	goto done;
out:
	err_set("out of memory");
done:
	curl_free(esc);
	free(text);
	json_decref(f);
	return rc;
}

static void
docker_entry_decode(json_t *c, struct docker_container *e)
{
	json_t *labels = json_object_get(c, "Labels"), *names, *ports, *p;
	const char *s;
	size_t i;

	memset(e, 0, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s",
	    (s = json_string_value(json_object_get(c, "Id"))) ? s : "");
	names = json_object_get(c, "Names");
	s = json_string_value(json_array_get(names, 0));
	snprintf(e->name, sizeof e->name, "%s", s ? s + (*s == '/') : "");
	s = json_string_value(json_object_get(labels, "minpaas.app"));
	snprintf(e->app, sizeof e->app, "%s", s ? s : "");
	s = json_string_value(json_object_get(labels, "minpaas.process"));
	snprintf(e->process, sizeof e->process, "%s", s ? s : "");
	s = json_string_value(json_object_get(labels, "minpaas.release"));
	e->release = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
	s = json_string_value(json_object_get(c, "State"));
	snprintf(e->state, sizeof e->state, "%s", s ? s : "");
	ports = json_object_get(c, "Ports");
	json_array_foreach(ports, i, p)
	{
		json_int_t pub =
		    json_integer_value(json_object_get(p, "PublicPort"));
		if (pub > 0 && pub < 65536) {
			e->host_port = (uint16_t)pub;
			break;
		}
	}
}

int
docker_container_list(struct docker *d, const char *const *labels,
    struct docker_container **out, size_t *n)
{
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH] = "/containers/json?all=1";
	json_t *arr = NULL, *c;
	json_error_t jerr;
	size_t i;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (docker_filters(d, path, sizeof path, NULL, labels) == -1)
		return -1;
	if (docker_call(d, &r, "GET", path, NULL) != 0 ||
	    docker_expect(&r, 200, 200, DOCKER_404_ERROR) != 0)
		goto out;
	if ((arr = json_loadb(r.resp.data, r.resp.len, 0, &jerr)) == NULL ||
	    !json_is_array(arr)) {
		err_set("docker: container list is not a JSON array");
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (*out = calloc(json_array_size(arr), sizeof **out)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	json_array_foreach(arr, i, c) docker_entry_decode(c, &(*out)[i]);
	*n = json_array_size(arr);
	rc = 0;
out:
	json_decref(arr);
	docker_req_release(&r);
	return rc;
}

struct docker_eventctx {
	struct docker *d;
	struct buf line;
	struct buf errbody;
	docker_event_fn fn;
	void *arg;
	int stopped;
};

/* One line of the event stream: {"Type":..., "Action":..., "Actor":...} */
static int
docker_event_line(struct docker_eventctx *e, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL), *attrs;
	const char *action, *id, *app;
	int stop = 0;

	if (o == NULL)
		return 0;
	action = json_string_value(json_object_get(o, "Action"));
	attrs = json_object_get(json_object_get(o, "Actor"), "Attributes");
	id = json_string_value(
	    json_object_get(json_object_get(o, "Actor"), "ID"));
	app = json_string_value(json_object_get(attrs, "minpaas.app"));
	if (action && id)
		stop = e->fn(e->arg, action, id, app ? app : "");
	json_decref(o);
	return stop;
}

static size_t
docker_events_write(char *data, size_t size, size_t n, void *arg)
{
	struct docker_eventctx *e = arg;
	long status = 0;
	char *nl;

	curl_easy_getinfo(e->d->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return docker_collect(data, size, n, &e->errbody);
	if (buf_append(&e->line, data, n) == -1)
		return 0;
	while ((nl = memchr(e->line.data, '\n', e->line.len)) != NULL) {
		size_t len = (size_t)(nl - e->line.data);

		if (docker_event_line(e, e->line.data, len)) {
			e->stopped = 1;
			return 0;
		}
		buf_consume(&e->line, len + 1);
	}
	if (e->line.len > DOCKER_MAXLINE) /* not an event: drop it */
		buf_reset(&e->line);
	return n;
}

int
docker_events(struct docker *d, const char *const *labels, int64_t until,
    docker_event_fn fn, void *arg)
{
	struct docker_eventctx e = {0};
	struct docker_req r = {0};
	char path[DOCKER_MAXPATH];
	int rc = -1;

	snprintf(path, sizeof path, "/events?until=%lld", (long long)until);
	if (docker_filters(d, path, sizeof path, "container", labels) == -1)
		return -1;
	e.d = d;
	e.fn = fn;
	e.arg = arg;
	r.method = "GET";
	r.path = path;
	r.timeout = 0;
	r.write = docker_events_write;
	r.write_arg = &e;
	if (docker_perform(d, &r) == -1) {
		if (e.stopped)
			rc = 0;
		goto out;
	}
	if (r.status != 200) {
		r.resp = e.errbody;
		e.errbody = (struct buf)BUF_INIT;
		docker_error(&r);
		goto out;
	}
	rc = 0;
out:
	buf_release(&e.line);
	buf_release(&e.errbody);
	docker_req_release(&r);
	return rc;
}
