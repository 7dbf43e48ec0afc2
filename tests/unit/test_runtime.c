/*
 * tests/unit/test_runtime.c: runtime detection over an in-memory tree, the
 * platform Dockerfile's stack substitution, and Procfile parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "runtimes/runtime.h"

struct mem_file {
	const char *path;
	const char *content; /* NULL: reading it fails */
};

struct mem_tree {
	const struct mem_file *files;
	size_t n;
	int reads;
};

static const struct mem_file *
find(struct mem_tree *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

static int
mem_exists(void *arg, const char *path)
{
	return find(arg, path) != NULL;
}

static int
mem_read(void *arg, const char *path, char **out, size_t *len)
{
	struct mem_tree *t = arg;
	const struct mem_file *f = find(t, path);

	t->reads++;
	if (f == NULL)
		return 1;
	if (f->content == NULL)
		return err_set("cannot read '%s'", path);
	*out = strdup(f->content);
	*len = strlen(f->content);
	return *out ? 0 : -1;
}

static int
detect(const struct mem_file *files, size_t n, struct runtime_result *r)
{
	struct mem_tree t = {files, n, 0};
	struct runtime_tree tree = {mem_exists, mem_read, &t};

	return runtime_detect(&tree, r);
}

static void
test_dockerfile_first(void **state)
{
	static const struct mem_file files[] = {
	    {"app.py", ""},
	    {"Dockerfile", "FROM x\n"},
	    {"requirements.txt", ""},
	};
	struct runtime_result r;

	assert_int_equal(detect(files, 3, &r), 0);
	assert_string_equal(r.name, "dockerfile");
	assert_null(r.dockerfile);
	assert_string_equal(r.command, "");
	runtime_result_release(&r);
}

static void
test_python(void **state)
{
	static const char *const markers[] = {
	    "requirements.txt", "pyproject.toml", "app.py"};
	struct runtime_result r;
	size_t i;

	unsetenv("MINPAAS_STACK_IMAGE");
	for (i = 0; i < 3; i++) {
		struct mem_file f = {markers[i], ""};

		assert_int_equal(detect(&f, 1, &r), 0);
		assert_string_equal(r.name, "python");
		assert_non_null(r.dockerfile);
		assert_non_null(
		    strstr(r.dockerfile, "\nFROM minpaas/stack:bookworm\n"));
		assert_null(strstr(r.dockerfile, "{{"));
		assert_non_null(strstr(r.dockerfile, "USER app"));
		assert_non_null(strstr(r.dockerfile, "PORT=5000"));
		runtime_result_release(&r);
		assert_null(r.dockerfile);
	}

	setenv("MINPAAS_STACK_IMAGE", "example/stack:1", 1);
	{
		struct mem_file f = {"app.py", ""};

		assert_int_equal(detect(&f, 1, &r), 0);
		assert_non_null(
		    strstr(r.dockerfile, "\nFROM example/stack:1\n"));
		runtime_result_release(&r);
	}
	assert_string_equal(runtime_stack_image(), "example/stack:1");
	setenv("MINPAAS_STACK_IMAGE", "", 1);
	assert_string_equal(runtime_stack_image(), "minpaas/stack:bookworm");
	unsetenv("MINPAAS_STACK_IMAGE");
}

static void
test_nothing(void **state)
{
	static const struct mem_file files[] = {
	    {"README.md", "hi"},
	    {"Procfile", "web: ./run\n"},
	};
	struct runtime_result r;

	assert_int_equal(detect(files, 2, &r), -1);
	assert_string_equal(err_msg(),
	    "no runtime detected: minpaas looks for a Dockerfile; "
	    "requirements.txt, pyproject.toml or app.py (python); "
	    "package.json (node); index.html or public/index.html (static)");
	assert_null(r.dockerfile);
}

static void
test_node(void **state)
{
	static const struct mem_file start[] = {
	    {"package.json", "{\"scripts\": {\"start\": \"node s.js\"}}"},
	    {"index.html", "<p>"},
	};
	static const struct mem_file procfile[] = {
	    {"package.json", "{}"},
	    {"Procfile", "web: node s.js\n"},
	};
	static const struct mem_file nothing[] = {{"package.json", "{}"}};
	static const struct mem_file broken[] = {{"package.json", "{"}};
	struct runtime_result r;

	assert_int_equal(detect(start, 2, &r), 0);
	assert_string_equal(r.name, "node");
	assert_non_null(strstr(r.dockerfile, "npm ci"));
	assert_non_null(strstr(r.dockerfile, "package-lock.jso[n]"));
	runtime_result_release(&r);

	assert_int_equal(detect(procfile, 2, &r), 0);
	assert_string_equal(r.command, "node s.js");
	runtime_result_release(&r);

	assert_int_equal(detect(nothing, 1, &r), -1);
	assert_non_null(strstr(err_msg(), "scripts"));
	assert_null(r.dockerfile);
	assert_int_equal(detect(broken, 1, &r), -1);
	assert_non_null(strstr(err_msg(), "not valid JSON"));
}

static void
test_static_and_images(void **state)
{
	static const struct mem_file root[] = {{"index.html", "<p>"}};
	static const struct mem_file pub[] = {{"public/index.html", "<p>"}};
	static const struct mem_file py[] = {{"app.py", ""}};
	struct runtime_result r;

	assert_int_equal(detect(root, 1, &r), 0);
	assert_string_equal(r.name, "static");
	assert_non_null(strstr(r.dockerfile, "nginx"));
	runtime_result_release(&r);
	assert_int_equal(detect(pub, 1, &r), 0);
	assert_string_equal(r.name, "static");
	runtime_result_release(&r);

	setenv("MINPAAS_IMAGE_PYTHON", "python:3.12-slim", 1);
	assert_string_equal(runtime_image("python"), "python:3.12-slim");
	assert_string_equal(runtime_image("node"), "minpaas/stack:bookworm");
	assert_int_equal(detect(py, 1, &r), 0);
	assert_non_null(strstr(r.dockerfile, "\nFROM python:3.12-slim\n"));
	runtime_result_release(&r);
	unsetenv("MINPAAS_IMAGE_PYTHON");
}

static void
test_procfile_types(void **state)
{
	static const char text[] = "web: a\nworker:  b --x \n#clock: c\n"
	                           "web: again\nClock:c\n";
	struct runtime_proc p[RUNTIME_MAXPROCS];
	size_t n;

	assert_int_equal(
	    runtime_procfile_parse(text, strlen(text), p, RUNTIME_MAXPROCS, &n),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].name, "web");
	assert_string_equal(p[0].command, "a");
	assert_string_equal(p[1].name, "worker");
	assert_string_equal(p[1].command, "b --x");
	assert_string_equal(p[2].name, "clock");
	assert_int_equal(
	    runtime_procfile_parse(text, strlen(text), p, 2, &n), -1);
}

static void
test_procfile_sets_command(void **state)
{
	static const struct mem_file py[] = {
	    {"app.py", ""},
	    {"Procfile", "# comment\r\nworker: x\r\nweb: gunicorn app\r\n"},
	};
	static const struct mem_file df[] = {
	    {"Dockerfile", ""},
	    {"Procfile", "web:./server --port $PORT"},
	};
	static const struct mem_file bad[] = {
	    {"app.py", ""},
	    {"Procfile", NULL},
	};
	struct runtime_result r;

	assert_int_equal(detect(py, 2, &r), 0);
	assert_string_equal(r.name, "python");
	assert_string_equal(r.command, "gunicorn app");
	runtime_result_release(&r);

	assert_int_equal(detect(df, 2, &r), 0);
	assert_string_equal(r.command, "./server --port $PORT");
	runtime_result_release(&r);

	assert_int_equal(detect(bad, 2, &r), -1);
	assert_null(r.dockerfile);
}

static int
web(const char *text, char *out, size_t outlen)
{
	return runtime_procfile_web(text, strlen(text), out, outlen);
}

static void
test_procfile(void **state)
{
	char out[RUNTIME_MAXCOMMAND];
	char tiny[8];

	assert_int_equal(web("web: python3 app.py\n", out, sizeof out), 0);
	assert_string_equal(out, "python3 app.py");
	assert_int_equal(web("web:python3 app.py", out, sizeof out), 0);
	assert_string_equal(out, "python3 app.py");
	assert_int_equal(web("web: \t a b  \r\n", out, sizeof out), 0);
	assert_string_equal(out, "a b");
	assert_int_equal(web("\n\n# web: no\nweb: yes\n", out, sizeof out), 0);
	assert_string_equal(out, "yes");
	assert_int_equal(web("web: first\nweb: second\n", out, sizeof out), 0);
	assert_string_equal(out, "first");
	assert_int_equal(web("webby: x\nweb-2: y\n", out, sizeof out), 1);
	assert_string_equal(out, "");
	/* Heroku's regex: no space before the colon, none before the name */
	assert_int_equal(web("web : x\n", out, sizeof out), 1);
	assert_int_equal(web("  web: x\n", out, sizeof out), 1);
	assert_int_equal(web("web:\nweb:   \n", out, sizeof out), 1);
	assert_int_equal(web("worker: w\nWEB: x\n", out, sizeof out), 1);
	assert_int_equal(web("", out, sizeof out), 1);
	assert_int_equal(web("web: 12345678\n", tiny, sizeof tiny), -1);
	assert_non_null(strstr(err_msg(), "longer than 7 bytes"));
	assert_int_equal(web("web: 1234567\n", tiny, sizeof tiny), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dockerfile_first),
	    cmocka_unit_test(test_python),
	    cmocka_unit_test(test_nothing),
	    cmocka_unit_test(test_node),
	    cmocka_unit_test(test_static_and_images),
	    cmocka_unit_test(test_procfile_types),
	    cmocka_unit_test(test_procfile_sets_command),
	    cmocka_unit_test(test_procfile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
