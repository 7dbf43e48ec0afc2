/*
 * builder/gittar.c: the tar build context of a pushed commit, produced on
 * demand from the object database (see gittar.h).
 *
 * gittar_new walks the tree once for metadata (paths, modes, sizes from the
 * object headers), applies .dockerignore and checks the size limit before a
 * single byte is streamed. gittar_read is then a small state machine:
 * HEADER -> DATA (the one blob loaded now) -> PAD -> next entry, and the
 * two zero blocks of the trailer at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "builder/gittar.h"
#include "builder/ignore.h"

#define TAR_BLOCK   512
#define TAR_NAMELEN 100

enum gittar_phase { PH_HEADER, PH_DATA, PH_PAD, PH_NEXT, PH_TRAILER, PH_END };

struct gittar_entry {
	char *path;
	git_oid oid;
	git_filemode_t mode;
	unsigned long long size; /* bytes of data in the tar (files only) */
	char *link;              /* symlink target */
	char *content;           /* extra files: their bytes */
};

struct gittar {
	git_repository *repo;
	struct gittar_entry *ents;
	size_t n, cap;
	long long mtime;
	unsigned long long total;

	size_t idx;
	enum gittar_phase phase;
	struct buf hdr;
	git_blob *blob;
	const char *cur;
	size_t left;
	int failed;
	char errmsg[ERR_MAXLEN];
};

struct gittar_walk {
	struct gittar *t;
	git_odb *odb;
	struct ignore *ig;
	const struct gittar_file *extra;
	size_t nextra;
	int failed;
};

static const char zeros[2 * TAR_BLOCK];

static unsigned long long
roundup_block(unsigned long long n)
{
	return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

static int
is_file(git_filemode_t mode)
{
	return mode == GIT_FILEMODE_BLOB ||
	       mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static size_t
ndigits(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* Length of the PAX record "<len> <key>=<value>\n"; len counts itself. */
static unsigned long long
pax_record_len(const char *key, size_t vlen)
{
	size_t n = strlen(key) + vlen + 3, total = n + ndigits(n);

	if (ndigits(total) > ndigits(n))
		total = n + ndigits(total);
	return total;
}

/* Bytes of PAX records the entry needs (0 when ustar alone will do). */
static unsigned long long
pax_len(const struct gittar_entry *e)
{
	size_t nl = strlen(e->path) + (e->mode == GIT_FILEMODE_TREE);
	unsigned long long len = 0;

	if (nl > TAR_NAMELEN)
		len += pax_record_len("path", nl);
	if (e->link != NULL && strlen(e->link) > TAR_NAMELEN)
		len += pax_record_len("linkpath", strlen(e->link));
	return len;
}

static unsigned long long
entry_bytes(const struct gittar_entry *e)
{
	unsigned long long pax = pax_len(e), n = TAR_BLOCK;

	if (pax > 0)
		n += TAR_BLOCK + roundup_block(pax);
	return n + roundup_block(e->size);
}

static int
entry_add(struct gittar *t, const char *path, git_filemode_t mode,
    struct gittar_entry **out)
{
	struct gittar_entry *e;

	if (t->n == GITTAR_MAXENTRIES)
		return err_set("the build context has more than %d entries",
		    GITTAR_MAXENTRIES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct gittar_entry *ents;

		if ((ents = realloc(t->ents, cap * sizeof *ents)) == NULL)
			return err_set("out of memory");
		t->ents = ents;
		t->cap = cap;
	}
	e = &t->ents[t->n];
	memset(e, 0, sizeof *e);
	if ((e->path = strdup(path)) == NULL)
		return err_set("out of memory");
	e->mode = mode;
	t->n++;
	*out = e;
	return 0;
}

/* Adds e's bytes to the total, failing past the limit. */
static int
account(struct gittar *t, const struct gittar_entry *e)
{
	t->total += entry_bytes(e);
	if (t->total + sizeof zeros > GITTAR_MAXCONTEXT)
		return err_set("the build context is larger than %llu MiB",
		    GITTAR_MAXCONTEXT >> 20);
	return 0;
}

static int
read_link(git_repository *repo, const git_oid *oid, char **out)
{
	git_blob *blob;
	size_t len;
	int rc = -1;

	if (git_blob_lookup(&blob, repo, oid) < 0)
		return err_set(
		    "cannot read symlink: %s", git_error_last()->message);
	len = (size_t)git_blob_rawsize(blob);
	if (len == 0 || len > GITTAR_MAXPATH ||
	    memchr(git_blob_rawcontent(blob), '\0', len) != NULL) {
		err_set("invalid symlink target");
		goto out;
	}
	if ((*out = strndup(git_blob_rawcontent(blob), len)) == NULL) {
		err_set("out of memory");
		goto out;
	}
	rc = 0;
out:
	git_blob_free(blob);
	return rc;
}

/* The Docker client always sends these two, whatever .dockerignore says. */
static int
always_kept(const char *path)
{
	return strcmp(path, "Dockerfile") == 0 ||
	       strcmp(path, ".dockerignore") == 0;
}

static int
walk_entry(struct gittar_walk *w, const char *root, const git_tree_entry *te)
{
	struct gittar *t = w->t;
	const char *name = git_tree_entry_name(te);
	git_filemode_t mode = git_tree_entry_filemode(te);
	struct gittar_entry *e;
	char path[GITTAR_MAXPATH + 1];
	size_t i;
	int n;

	/* git itself never writes these, but a crafted object can; a tar
	 * entry "a/../x" or "a//b" would name another path than the tree */
	if (name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strchr(name, '/') != NULL)
		return err_set("the tree has an entry named '%.64s' under "
		               "'%.200s', which no checkout could make",
		    name, root[0] ? root : "/");
	if (strcmp(name, ".git") == 0 || mode == GIT_FILEMODE_COMMIT)
		return 1;
	n = snprintf(path, sizeof path, "%s%s", root, name);
	if (n < 0 || (size_t)n >= sizeof path)
		return err_set(
		    "path longer than %d bytes in the tree: %.64s...",
		    GITTAR_MAXPATH, root);
	if (*root == '\0')
		for (i = 0; i < w->nextra; i++)
			if (strcmp(path, w->extra[i].path) == 0)
				return 1;
	if (w->ig != NULL && !always_kept(path) && ignore_match(w->ig, path)) {
		if (mode == GIT_FILEMODE_TREE && !ignore_skip_dir(w->ig, path))
			return 0; /* an exception may keep something below */
		return 1;
	}
	if (mode != GIT_FILEMODE_TREE && !is_file(mode) &&
	    mode != GIT_FILEMODE_LINK)
		return 1;
	if (entry_add(t, path, mode, &e) == -1)
		return -1;
	git_oid_cpy(&e->oid, git_tree_entry_id(te));
	if (is_file(mode)) {
		size_t size;
		git_object_t type;

		if (git_odb_read_header(&size, &type, w->odb, &e->oid) < 0)
			return err_set("cannot read '%s': %s", path,
			    git_error_last()->message);
		e->size = size;
	} else if (mode == GIT_FILEMODE_LINK) {
		if (read_link(t->repo, &e->oid, &e->link) == -1)
			return -1;
	}
	return account(t, e) == -1 ? -1 : 0;
}

static int
walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
	struct gittar_walk *w = payload;
	int rc = walk_entry(w, root, te);

	if (rc < 0) {
		w->failed = 1;
		return -1;
	}
	return rc;
}

static int
load_ignore(git_repository *repo, const git_tree *tree, struct ignore **out)
{
	const git_tree_entry *te;
	git_blob *blob;
	int rc;

	*out = NULL;
	te = git_tree_entry_byname(tree, ".dockerignore");
	if (te == NULL || !is_file(git_tree_entry_filemode(te)))
		return 0;
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0)
		return err_set(
		    "cannot read .dockerignore: %s", git_error_last()->message);
	rc = ignore_new(
	    out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return rc;
}

static int
add_extra(struct gittar *t, const struct gittar_file *f)
{
	struct gittar_entry *e;

	if (strchr(f->path, '/') != NULL || *f->path == '\0')
		return err_set("extra file '%s' is not at the root", f->path);
	if (entry_add(t, f->path, GIT_FILEMODE_BLOB, &e) == -1)
		return -1;
	if ((e->content = malloc(f->len + 1)) == NULL)
		return err_set("out of memory");
	memcpy(e->content, f->content, f->len);
	e->size = f->len;
	return account(t, e);
}

int
gittar_new(struct gittar **out, git_repository *repo, const git_commit *commit,
    const struct gittar_file *extra, size_t nextra)
{
	struct gittar *t;
	struct gittar_walk w;
	git_tree *tree = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	memset(&w, 0, sizeof w);
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set("out of memory");
	t->repo = repo;
	t->mtime = git_commit_time(commit);
	if (t->mtime < 0)
		t->mtime = 0;
	t->phase = PH_HEADER;
	for (i = 0; i < nextra; i++)
		if (add_extra(t, &extra[i]) == -1)
			goto out;
	if (git_commit_tree(&tree, commit) < 0) {
		err_set("cannot read the commit's tree: %s",
		    git_error_last()->message);
		goto out;
	}
	if (git_repository_odb(&w.odb, repo) < 0) {
		err_set("cannot open the object database: %s",
		    git_error_last()->message);
		goto out;
	}
	if (load_ignore(repo, tree, &w.ig) == -1)
		goto out;
	w.t = t;
	w.extra = extra;
	w.nextra = nextra;
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w) != 0) {
		if (!w.failed)
			err_set("cannot walk the tree: %s",
			    git_error_last()->message);
		goto out;
	}
	t->total += sizeof zeros;
	*out = t;
	t = NULL;
	rc = 0;
out:
	ignore_free(w.ig);
	git_odb_free(w.odb);
	git_tree_free(tree);
	gittar_free(t);
	return rc;
}

/* Writes v in octal as width-1 digits and a NUL. */
static void
octal(unsigned char *dst, size_t width, unsigned long long v)
{
	size_t i;

	dst[width - 1] = '\0';
	for (i = width - 1; i > 0; i--) {
		dst[i - 1] = '0' + (v & 7);
		v >>= 3;
	}
}

static int
ustar(struct buf *b, const char *name, char type, unsigned mode,
    unsigned long long size, long long mtime, const char *link)
{
	unsigned char h[TAR_BLOCK];
	unsigned sum = 0;
	size_t i, n;

	memset(h, 0, sizeof h);
	n = strlen(name);
	memcpy(h, name, n > TAR_NAMELEN ? TAR_NAMELEN : n);
	octal(h + 100, 8, mode);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = type;
	if (link != NULL) {
		n = strlen(link);
		memcpy(h + 157, link, n > TAR_NAMELEN ? TAR_NAMELEN : n);
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	octal(h + 329, 8, 0);
	octal(h + 337, 8, 0);
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	octal(h + 148, 7, sum);
	h[155] = ' ';
	return buf_append(b, h, sizeof h);
}

static int
pax_record(struct buf *b, const char *key, const char *value)
{
	return buf_printf(
	    b, "%llu %s=%s\n", pax_record_len(key, strlen(value)), key, value);
}

static int
build_header(struct gittar *t, const struct gittar_entry *e)
{
	struct buf pax = BUF_INIT;
	char name[GITTAR_MAXPATH + 2];
	char type = '0';
	unsigned mode = 0644;
	int rc = -1;

	snprintf(name, sizeof name, "%s%s", e->path,
	    e->mode == GIT_FILEMODE_TREE ? "/" : "");
	if (e->mode == GIT_FILEMODE_TREE) {
		type = '5';
		mode = 0755;
	} else if (e->mode == GIT_FILEMODE_LINK) {
		type = '2';
		mode = 0777;
	} else if (e->mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
		mode = 0755;
	}
	buf_reset(&t->hdr);
	if (strlen(name) > TAR_NAMELEN && pax_record(&pax, "path", name) == -1)
		goto out;
	if (e->link != NULL && strlen(e->link) > TAR_NAMELEN &&
	    pax_record(&pax, "linkpath", e->link) == -1)
		goto out;
	if (pax.len > 0) {
		if (ustar(&t->hdr, "PaxHeader", 'x', 0644, pax.len, t->mtime,
		        NULL) == -1 ||
		    buf_append(&t->hdr, pax.data, pax.len) == -1 ||
		    buf_append(
		        &t->hdr, zeros, roundup_block(pax.len) - pax.len) == -1)
			goto out;
	}
	if (ustar(&t->hdr, name, type, mode, e->size, t->mtime, e->link) == -1)
		goto out;
	rc = 0;
out:
	buf_release(&pax);
	return rc;
}

static int
load_data(struct gittar *t, const struct gittar_entry *e)
{
	if (e->content != NULL) {
		t->cur = e->content;
		t->left = e->size;
		return 0;
	}
	if (git_blob_lookup(&t->blob, t->repo, &e->oid) < 0)
		return err_set(
		    "cannot read '%s': %s", e->path, git_error_last()->message);
	if ((unsigned long long)git_blob_rawsize(t->blob) != e->size)
		return err_set("'%s' changed size while streamed", e->path);
	t->cur = git_blob_rawcontent(t->blob);
	t->left = e->size;
	return 0;
}

/* Points cur/left at the next non-empty chunk; left stays 0 at the end. */
static int
next_chunk(struct gittar *t)
{
	const struct gittar_entry *e;

	while (t->left == 0 && t->phase != PH_END) {
		e = t->idx < t->n ? &t->ents[t->idx] : NULL;
		switch (t->phase) {
		case PH_HEADER:
			if (e == NULL) {
				t->phase = PH_TRAILER;
				break;
			}
			if (build_header(t, e) == -1)
				return -1;
			t->cur = t->hdr.data;
			t->left = t->hdr.len;
			t->phase = PH_DATA;
			break;
		case PH_DATA:
			if (is_file(e->mode) && e->size > 0 &&
			    load_data(t, e) == -1)
				return -1;
			t->phase = PH_PAD;
			break;
		case PH_PAD:
			t->cur = zeros;
			t->left = roundup_block(e->size) - e->size;
			t->phase = PH_NEXT;
			break;
		case PH_NEXT:
			git_blob_free(t->blob);
			t->blob = NULL;
			t->idx++;
			t->phase = PH_HEADER;
			break;
		case PH_TRAILER:
			t->cur = zeros;
			t->left = sizeof zeros;
			t->phase = PH_END;
			break;
		case PH_END:
			break;
		}
	}
	return 0;
}

ssize_t
gittar_read(void *arg, char *buf, size_t len)
{
	struct gittar *t = arg;
	size_t done = 0, n;

	if (t->failed)
		return err_set("%s", t->errmsg);
	while (done < len) {
		if (t->left == 0 && next_chunk(t) == -1) {
			t->failed = 1;
			snprintf(t->errmsg, sizeof t->errmsg, "%s", err_msg());
			return -1;
		}
		if (t->left == 0)
			break;
		n = len - done < t->left ? len - done : t->left;
		memcpy(buf + done, t->cur, n);
		t->cur += n;
		t->left -= n;
		done += n;
	}
	return (ssize_t)done;
}

unsigned long long
gittar_size(const struct gittar *t)
{
	return t->total;
}

const char *
gittar_error(const struct gittar *t)
{
	return t->failed ? t->errmsg : NULL;
}

void
gittar_free(struct gittar *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->ents[i].path);
		free(t->ents[i].link);
		free(t->ents[i].content);
	}
	free(t->ents);
	git_blob_free(t->blob);
	buf_release(&t->hdr);
	free(t);
}
