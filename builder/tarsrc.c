/*
 * builder/tarsrc.c: a client's tarball as a build source (see tarsrc.h), read
 * and written with libarchive. Guarantees: at most TARSRC_MAXINPUT bytes are
 * read from the client and entries unpacking to at most GITTAR_MAXCONTEXT
 * bytes are accepted; no path with a ".." component and no absolute path
 * reaches the context; .git never does; Dockerfile and .dockerignore are
 * kept even when .dockerignore names them, as the Docker client does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/home.h"
#include "builder/ignore.h"
#include "builder/tarsrc.h"

struct tarsrc_entry {
	char *path;
	int file;      /* a regular file */
	char *content; /* kept for detection: small files at the root */
	size_t len;
};

struct tarsrc {
	int fd; /* the spooled input */
	unsigned long long size;
	struct tarsrc_entry *e;
	size_t n, cap;
	struct ignore *ig;

	/* the stream */
	struct archive *r, *w;
	struct gittar_file *extra;
	size_t nextra, next;
	int in_data, done;
	struct buf out;
	char error[ERR_MAXLEN];
};

static const char *const kept[] = {
    "Procfile", "package.json", ".dockerignore", NULL};

/* Cleans a member path in place: "./a//b/" -> "a/b". Returns it, "" for the
 * root, or NULL when it is absolute-escaping or has a ".." component. */
static char *
clean_path(char *p)
{
	char *s, *d, *seg;

	while (*p == '/')
		p++;
	for (s = d = p; *s != '\0';) {
		seg = s;
		while (*s != '\0' && *s != '/')
			s++;
		if (s - seg == 2 && seg[0] == '.' && seg[1] == '.')
			return NULL;
		if (!(s - seg == 1 && seg[0] == '.') && s > seg) {
			if (d != p)
				*d++ = '/';
			memmove(d, seg, s - seg);
			d += s - seg;
		}
		while (*s == '/')
			s++;
	}
	*d = '\0';
	return p;
}

static int
is_git(const char *p)
{
	return strcmp(p, ".git") == 0 || strncmp(p, ".git/", 5) == 0;
}

static int
spool(struct tarsrc *t, int in)
{
	char path[HOME_MAXPATH], buf[TARSRC_CHUNK];
	ssize_t n;

	if (home_path(path, sizeof path, "run") == -1)
		return -1;
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return err_set("cannot create '%s': %s", path, strerror(errno));
	if (home_path(path, sizeof path, "run/tar.XXXXXX") == -1)
		return -1;
	if ((t->fd = mkstemp(path)) == -1)
		return err_set("cannot create '%s': %s", path, strerror(errno));
	unlink(path);
	for (;;) {
		n = read(in, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			return err_set("interrupted");
		if (n == -1)
			return err_set(
			    "cannot read the tarball: %s", strerror(errno));
		if (n == 0)
			break;
		if (t->size + (unsigned long long)n > TARSRC_MAXINPUT)
			return err_set("the tarball is larger than %llu MiB",
			    TARSRC_MAXINPUT >> 20);
		if (write(t->fd, buf, (size_t)n) != n)
			return err_set(
			    "cannot spool the tarball: %s", strerror(errno));
		t->size += (unsigned long long)n;
	}
	if (t->size == 0)
		return err_set("no tarball on stdin: run `tar c . | ssh "
		               "<minpaas> deploy:tar <app>`");
	return 0;
}

static int
open_reader(struct tarsrc *t, struct archive **out)
{
	struct archive *a;

	if (lseek(t->fd, 0, SEEK_SET) == -1)
		return err_set(
		    "cannot rewind the tarball: %s", strerror(errno));
	if ((a = archive_read_new()) == NULL)
		return err_set("out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	if (archive_read_open_fd(a, t->fd, TARSRC_CHUNK) != ARCHIVE_OK) {
		err_set("not a tarball: %s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

static int
add_entry(struct tarsrc *t, struct archive *a, struct archive_entry *ae,
    const char *path)
{
	struct tarsrc_entry *e;
	size_t i;
	la_int64_t size = archive_entry_size(ae);

	if (t->n == TARSRC_MAXENTRIES)
		return err_set(
		    "the tarball has more than %d entries", TARSRC_MAXENTRIES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *p = realloc(t->e, cap * sizeof *t->e);

		if (p == NULL)
			return err_set("out of memory");
		t->e = p;
		t->cap = cap;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	if ((e->path = strdup(path)) == NULL)
		return err_set("out of memory");
	t->n++;
	e->file = archive_entry_filetype(ae) == AE_IFREG;
	if (!e->file || size < 0 || size > TARSRC_MAXFILE)
		return 0;
	for (i = 0; kept[i] != NULL && strcmp(kept[i], path) != 0; i++)
		;
	if (kept[i] == NULL)
		return 0;
	if ((e->content = malloc((size_t)size + 1)) == NULL)
		return err_set("out of memory");
	if (archive_read_data(a, e->content, (size_t)size) != size)
		return err_set("cannot read %s from the tarball: %s", path,
		    archive_error_string(a));
	e->content[size] = '\0';
	e->len = (size_t)size;
	return 0;
}

static const struct tarsrc_entry *
find(const struct tarsrc *t, const char *path)
{
	size_t i;

	/* the last member of a name wins, as when extracting */
	for (i = t->n; i > 0; i--)
		if (strcmp(t->e[i - 1].path, path) == 0)
			return &t->e[i - 1];
	return NULL;
}

int
tarsrc_new(struct tarsrc **out, int fd)
{
	struct tarsrc *t;
	struct archive *a = NULL;
	struct archive_entry *ae;
	const struct tarsrc_entry *di;
	unsigned long long unpacked = 0;
	char *path;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set("out of memory");
	t->fd = -1;
	if (spool(t, fd) == -1 || open_reader(t, &a) == -1)
		goto fail;
	while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK ||
	       rc == ARCHIVE_WARN) {
		char tmp[GITTAR_MAXPATH];

		if (archive_entry_pathname(ae) == NULL ||
		    strlen(archive_entry_pathname(ae)) >= sizeof tmp) {
			err_set("a path in the tarball is too long");
			goto fail;
		}
		snprintf(tmp, sizeof tmp, "%s", archive_entry_pathname(ae));
		if ((path = clean_path(tmp)) == NULL) {
			err_set("unsafe path in the tarball: %s",
			    archive_entry_pathname(ae));
			goto fail;
		}
		/* what the entries unpack to, as their headers say (libarchive
		 * reads exactly that much): a small compressed bomb is refused
		 * before it is unpacked */
		if (archive_entry_size(ae) > 0)
			unpacked += (unsigned long long)archive_entry_size(ae);
		if (unpacked > GITTAR_MAXCONTEXT) {
			err_set("the tarball unpacks to more than %llu MiB",
			    (unsigned long long)GITTAR_MAXCONTEXT >> 20);
			goto fail;
		}
		if (*path == '\0' || is_git(path))
			continue;
		if (add_entry(t, a, ae, path) == -1)
			goto fail;
	}
	if (rc != ARCHIVE_EOF) {
		err_set("cannot read the tarball: %s", archive_error_string(a));
		goto fail;
	}
	archive_read_free(a);
	a = NULL;
	if ((di = find(t, ".dockerignore")) != NULL && di->content != NULL &&
	    ignore_new(&t->ig, di->content, di->len) == -1)
		goto fail;
	*out = t;
	return 0;
fail:
	if (a != NULL)
		archive_read_free(a);
	tarsrc_free(t);
	return -1;
}

void
tarsrc_free(struct tarsrc *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->e[i].path);
		free(t->e[i].content);
	}
	free(t->e);
	for (i = 0; i < t->nextra; i++)
		free((char *)t->extra[i].content);
	free(t->extra);
	if (t->r != NULL)
		archive_read_free(t->r);
	if (t->w != NULL)
		archive_write_free(t->w);
	ignore_free(t->ig);
	buf_release(&t->out);
	if (t->fd != -1)
		close(t->fd);
	free(t);
}

unsigned long long
tarsrc_size(const struct tarsrc *t)
{
	return t->size;
}

static int
tree_exists(void *arg, const char *path)
{
	const struct tarsrc_entry *e = find(arg, path);

	return e != NULL && e->file;
}

static int
tree_read(void *arg, const char *path, char **out, size_t *len)
{
	const struct tarsrc_entry *e = find(arg, path);

	*out = NULL;
	*len = 0;
	if (e == NULL || !e->file)
		return 1;
	if (e->content == NULL)
		return err_set(
		    "%s is larger than %d bytes", path, TARSRC_MAXFILE);
	if ((*out = malloc(e->len + 1)) == NULL)
		return err_set("out of memory");
	memcpy(*out, e->content, e->len + 1);
	*len = e->len;
	return 0;
}

void
tarsrc_tree(struct tarsrc *t, struct runtime_tree *tree)
{
	tree->exists = tree_exists;
	tree->read = tree_read;
	tree->arg = t;
}

/* --- the build context ---------------------------------------------------- */

static la_ssize_t
collect(struct archive *a, void *arg, const void *data, size_t n)
{
	struct tarsrc *t = arg;

	if (buf_append(&t->out, data, n) == -1) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)n;
}

int
tarsrc_stream(struct tarsrc *t, const struct gittar_file *extra, size_t nextra)
{
	size_t i;

	if ((t->extra = calloc(nextra ? nextra : 1, sizeof *extra)) == NULL)
		return err_set("out of memory");
	for (i = 0; i < nextra; i++) {
		char *c = malloc(extra[i].len + 1);

		if (c == NULL)
			return err_set("out of memory");
		memcpy(c, extra[i].content, extra[i].len);
		t->extra[i] = extra[i];
		t->extra[i].content = c;
		t->nextra++;
	}
	if (open_reader(t, &t->r) == -1)
		return -1;
	if ((t->w = archive_write_new()) == NULL)
		return err_set("out of memory");
	archive_write_set_format_pax_restricted(t->w);
	archive_write_set_bytes_per_block(t->w, 0);
	if (archive_write_open(t->w, t, NULL, collect, NULL) != ARCHIVE_OK)
		return err_set("cannot start the build context: %s",
		    archive_error_string(t->w));
	return 0;
}

static int
is_extra(const struct tarsrc *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->nextra; i++)
		if (strcmp(t->extra[i].path, path) == 0)
			return 1;
	return 0;
}

static int
write_extra(struct tarsrc *t, const struct gittar_file *f)
{
	struct archive_entry *ae;
	int rc = 0;

	if ((ae = archive_entry_new()) == NULL)
		return err_set("out of memory");
	archive_entry_set_pathname(ae, f->path);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)f->len);
	if (archive_write_header(t->w, ae) != ARCHIVE_OK ||
	    archive_write_data(t->w, f->content, f->len) != (la_ssize_t)f->len)
		rc = err_set("cannot write the build context: %s",
		    archive_error_string(t->w));
	archive_entry_free(ae);
	return rc;
}

/* Produces the next piece of the context into t->out. */
static int
advance(struct tarsrc *t)
{
	struct archive_entry *ae;
	char tmp[GITTAR_MAXPATH], data[TARSRC_CHUNK], *path;
	la_ssize_t n;
	int rc, type;

	if (t->next < t->nextra)
		return write_extra(t, &t->extra[t->next++]);
	if (t->in_data) {
		n = archive_read_data(t->r, data, sizeof data);
		if (n < 0)
			return err_set("cannot read the tarball: %s",
			    archive_error_string(t->r));
		if (n == 0) {
			t->in_data = 0;
			return 0;
		}
		if (archive_write_data(t->w, data, (size_t)n) != n)
			return err_set("cannot write the build context: %s",
			    archive_error_string(t->w));
		return 0;
	}
	rc = archive_read_next_header(t->r, &ae);
	if (rc == ARCHIVE_EOF) {
		if (archive_write_close(t->w) != ARCHIVE_OK)
			return err_set("cannot end the build context: %s",
			    archive_error_string(t->w));
		t->done = 1;
		return 0;
	}
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return err_set(
		    "cannot read the tarball: %s", archive_error_string(t->r));
	snprintf(tmp, sizeof tmp, "%s",
	    archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
	if ((path = clean_path(tmp)) == NULL)
		return err_set("unsafe path in the tarball");
	type = archive_entry_filetype(ae);
	if (*path == '\0' || is_git(path) || is_extra(t, path) ||
	    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK))
		return 0;
	if (t->ig != NULL && strcmp(path, "Dockerfile") != 0 &&
	    strcmp(path, ".dockerignore") != 0 && ignore_match(t->ig, path))
		return 0;
	if (archive_entry_hardlink(ae) != NULL)
		return 0; /* a hard link: its target's path may be ignored */
	archive_entry_set_pathname(ae, path);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_uname(ae, NULL);
	archive_entry_set_gname(ae, NULL);
	if (archive_write_header(t->w, ae) != ARCHIVE_OK)
		return err_set("cannot write the build context: %s",
		    archive_error_string(t->w));
	t->in_data = type == AE_IFREG && archive_entry_size(ae) > 0;
	return 0;
}

ssize_t
tarsrc_read(void *arg, char *buf, size_t len)
{
	struct tarsrc *t = arg;
	size_t n;

	while (t->out.len == 0 && !t->done)
		if (advance(t) == -1) {
			snprintf(t->error, sizeof t->error, "%s", err_msg());
			return -1;
		}
	n = t->out.len < len ? t->out.len : len;
	if (n > 0) {
		memcpy(buf, t->out.data, n);
		buf_consume(&t->out, n);
	}
	return (ssize_t)n;
}

const char *
tarsrc_error(const struct tarsrc *t)
{
	return t->error[0] ? t->error : NULL;
}
