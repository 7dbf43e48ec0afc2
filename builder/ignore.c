/*
 * builder/ignore.c: .dockerignore matching with the Docker client's semantics
 * (moby 20.10 builder/dockerignore.ReadAll + pkg/fileutils.PatternMatcher),
 * so a repository that builds with `docker build` excludes the same files
 * when pushed to minpaas.
 *
 * Guarantees: matching never allocates nor recurses, and takes time
 * proportional to the pattern's length times the path's; every pattern was
 * syntax-checked when parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "builder/ignore.h"

struct ignore_pattern {
	char *pat;     /* cleaned, without the leading '!' */
	int exclusion; /* "!pattern": re-includes what it matches */
	int ndirs;     /* path elements in pat */
};

struct ignore {
	struct ignore_pattern *pats;
	size_t n;
	int exclusions;
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* Go's strings.TrimSpace, in place over [*s, *s + *len). */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*s)[*len - 1]))
		(*len)--;
}

/*
 * Go's filepath.Clean, in place (the output never outruns the input): single
 * slashes, no "." elements, ".." resolved lexically, no trailing slash, "."
 * for an empty result.
 */
static void
path_clean(char *p)
{
	size_t n = strlen(p), r = 0, w = 0, dotdot = 0;
	int rooted = p[0] == '/';

	if (rooted) {
		w = r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' &&
		           (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && p[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					p[w++] = '/';
				p[w++] = '.';
				p[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				p[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				p[w++] = p[r];
		}
	}
	if (w == 0)
		p[w++] = '.';
	p[w] = '\0';
}

/*
 * Matches one bracket expression at *pp against c (c is not '/' nor NUL);
 * advances *pp past the ']'. Returns 1 on a match, 0 otherwise, -1 on a
 * malformed class.
 */
static int
match_class(const char **pp, char c)
{
	const char *p = *pp + 1;
	int neg = 0, hit = 0, first = 1;

	if (*p == '^') {
		neg = 1;
		p++;
	}
	for (;;) {
		unsigned char lo, hi;

		if (*p == '\0')
			return -1;
		if (*p == ']' && !first)
			break;
		first = 0;
		if (*p == '\\') {
			p++;
			if (*p == '\0')
				return -1;
		}
		lo = hi = (unsigned char)*p++;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\') {
				p++;
				if (*p == '\0')
					return -1;
			}
			hi = (unsigned char)*p++;
			if (hi < lo)
				return -1;
		}
		if ((unsigned char)c >= lo && (unsigned char)c <= hi)
			hit = 1;
	}
	*pp = p + 1;
	return hit != neg;
}

/*
 * The pattern language, as the Docker client compiles it to a regexp:
 * "*" = [^/]*, "?" = [^/], "**" followed by "/" or not = (.*\/)? in the
 * middle and .* at the end, [class], "\x" = x, anything else literal.
 *
 * Matching runs the pattern as an automaton whose states are offsets in the
 * pattern (a set of them, one bit each), so its time is the pattern's
 * length times the path's, whatever the wildcards: a backtracking matcher
 * takes exponential time on "*a*a*a*a*b"-like patterns.
 */
enum glob_token {
	GLOB_END,     /* the end of the pattern: a match */
	GLOB_LIT,     /* one byte, escaped or not */
	GLOB_ONE,     /* "?" */
	GLOB_CLASS,   /* "[...]" */
	GLOB_STAR,    /* "*" */
	GLOB_ANYDIRS, /* "**" or "**\/" inside: (.*\/)?, offset + 1 is inside */
	GLOB_REST     /* "**" or "**\/" at the end: .* */
};

#define GLOB_WORDS (IGNORE_MAXPATTERN / 64 + 1)

/* A set of states: at a token (tok), or inside the (.*\/) of the
 * GLOB_ANYDIRS token at that offset (in). */
struct glob_set {
	uint64_t tok[GLOB_WORDS];
	uint64_t in[GLOB_WORDS];
};

static void
set_add(uint64_t *w, size_t i)
{
	w[i / 64] |= (uint64_t)1 << (i % 64);
}

/* The token at p + i (a syntax-checked pattern) and the offset after it. */
static enum glob_token
glob_token(const char *p, size_t i, size_t *next)
{
	const char *q;
	size_t j;

	switch (p[i]) {
	case '\0':
		*next = i;
		return GLOB_END;
	case '*':
		if (p[i + 1] != '*') {
			*next = i + 1;
			return GLOB_STAR;
		}
		j = i + 2;
		if (p[j] == '/')
			j++;
		*next = j;
		return p[j] == '\0' ? GLOB_REST : GLOB_ANYDIRS;
	case '?':
		*next = i + 1;
		return GLOB_ONE;
	case '[':
		q = p + i;
		match_class(&q, 'a');
		*next = (size_t)(q - p);
		return GLOB_CLASS;
	case '\\':
		*next = i + 2;
		return GLOB_LIT;
	default:
		*next = i + 1;
		return GLOB_LIT;
	}
}

/*
 * Adds the states reachable without reading a byte. Those lie ahead of the
 * state they come from, so one pass in offset order sees every one.
 */
static void
glob_closure(const char *p, struct glob_set *set, size_t nw)
{
	enum glob_token t;
	uint64_t done, bits;
	size_t w, i, next;

	for (w = 0; w < nw; w++) {
		for (done = 0; (bits = set->tok[w] & ~done) != 0;) {
			i = w * 64 + (size_t)__builtin_ctzll(bits);
			done |= (uint64_t)1 << (i % 64);
			t = glob_token(p, i, &next);
			if (t == GLOB_STAR || t == GLOB_REST)
				set_add(set->tok, next);
			else if (t == GLOB_ANYDIRS) {
				set_add(set->in, i);
				set_add(set->tok, next);
			}
		}
	}
}

/* The states after reading byte c from those of cur. */
static void
glob_step(const char *p, const struct glob_set *cur, struct glob_set *nxt,
    size_t nw, char c)
{
	uint64_t bits;
	size_t w, i, next;
	const char *q;

	for (w = 0; w < nw; w++) {
		for (bits = cur->in[w]; bits != 0; bits &= bits - 1) {
			i = w * 64 + (size_t)__builtin_ctzll(bits);
			set_add(nxt->in, i);
			if (c == '/') {
				glob_token(p, i, &next);
				set_add(nxt->tok, next);
			}
		}
		for (bits = cur->tok[w]; bits != 0; bits &= bits - 1) {
			i = w * 64 + (size_t)__builtin_ctzll(bits);
			switch (glob_token(p, i, &next)) {
			case GLOB_LIT:
				if (c == p[next - 1])
					set_add(nxt->tok, next);
				break;
			case GLOB_ONE:
				if (c != '/')
					set_add(nxt->tok, next);
				break;
			case GLOB_CLASS:
				q = p + i;
				if (c != '/' && match_class(&q, c) == 1)
					set_add(nxt->tok, next);
				break;
			case GLOB_STAR:
				if (c != '/')
					set_add(nxt->tok, i);
				break;
			case GLOB_REST:
				set_add(nxt->tok, i);
				break;
			default:
				break;
			}
		}
	}
}

/* Matches the whole of [s, se). */
static int
glob(const char *p, const char *s, const char *se)
{
	struct glob_set a, b, *cur = &a, *nxt = &b, *tmp;
	size_t len = strlen(p), nw = len / 64 + 1, w;
	uint64_t live;

	if (len >= IGNORE_MAXPATTERN)
		return 0;
	memset(cur, 0, sizeof *cur);
	set_add(cur->tok, 0);
	glob_closure(p, cur, nw);
	for (; s < se; s++) {
		memset(nxt->tok, 0, nw * sizeof nxt->tok[0]);
		memset(nxt->in, 0, nw * sizeof nxt->in[0]);
		glob_step(p, cur, nxt, nw, *s);
		glob_closure(p, nxt, nw);
		for (live = 0, w = 0; w < nw; w++)
			live |= nxt->tok[w] | nxt->in[w];
		if (!live)
			return 0;
		tmp = cur;
		cur = nxt;
		nxt = tmp;
	}
	return (cur->tok[len / 64] >> (len % 64)) & 1;
}

/* The syntax check Docker does with filepath.Match(p, "."). */
static int
pattern_valid(const char *p)
{
	while (*p != '\0') {
		if (*p == '\\') {
			if (p[1] == '\0')
				return 0;
			p += 2;
		} else if (*p == '[') {
			if (match_class(&p, 'a') == -1)
				return 0;
		} else {
			p++;
		}
	}
	return 1;
}

static int
add_pattern(struct ignore *ig, const char *s, size_t len, int exclusion)
{
	struct ignore_pattern *ip;
	char *pat;
	const char *c;

	if (ig->n >= IGNORE_MAXPATTERNS)
		return err_set(".dockerignore has more than %d patterns",
		    IGNORE_MAXPATTERNS);
	if (len >= IGNORE_MAXPATTERN)
		return err_set(".dockerignore pattern longer than %d bytes",
		    IGNORE_MAXPATTERN);
	if ((pat = malloc(len + 2)) == NULL)
		return err_set("out of memory");
	memcpy(pat, s, len);
	pat[len] = '\0';
	path_clean(pat);
	if (pat[0] == '/' && pat[1] != '\0')
		memmove(pat, pat + 1, strlen(pat));
	if (!pattern_valid(pat)) {
		err_set(".dockerignore: syntax error in pattern \"%s\"", pat);
		free(pat);
		return -1;
	}
	ip = &ig->pats[ig->n++];
	ip->pat = pat;
	ip->exclusion = exclusion;
	ip->ndirs = 1;
	for (c = pat; *c != '\0'; c++)
		if (*c == '/')
			ip->ndirs++;
	if (exclusion)
		ig->exclusions = 1;
	return 0;
}

int
ignore_new(struct ignore **out, const char *text, size_t len)
{
	struct ignore *ig;
	size_t nlines = 1, i;
	const char *p = text, *end = text + len;

	*out = NULL;
	if (len > IGNORE_MAXFILE)
		return err_set(
		    ".dockerignore is larger than %d bytes", IGNORE_MAXFILE);
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			nlines++;
	if ((ig = calloc(1, sizeof *ig)) == NULL ||
	    (ig->pats = calloc(nlines, sizeof *ig->pats)) == NULL) {
		free(ig);
		return err_set("out of memory");
	}
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *s = p;
		size_t n = (nl ? nl : end) - p;
		int exclusion = 0;

		p = nl ? nl + 1 : end;
		if (n > 0 && s[0] == '#')
			continue;
		trim(&s, &n);
		if (n == 0)
			continue;
		if (s[0] == '!') {
			exclusion = 1;
			s++;
			n--;
			trim(&s, &n);
			if (n == 0) {
				ignore_free(ig);
				return err_set(
				    ".dockerignore: illegal exclusion "
				    "pattern: \"!\"");
			}
		}
		if (add_pattern(ig, s, n, exclusion) == -1) {
			ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

void
ignore_free(struct ignore *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	for (i = 0; i < ig->n; i++)
		free(ig->pats[i].pat);
	free(ig->pats);
	free(ig);
}

size_t
ignore_count(const struct ignore *ig)
{
	return ig ? ig->n : 0;
}

int
ignore_match(const struct ignore *ig, const char *path)
{
	const char *c, *end = path + strlen(path);
	int nparents = 0, matched = 0;
	size_t i;

	if (ig == NULL)
		return 0;
	for (c = path; *c != '\0'; c++)
		if (*c == '/')
			nparents++;
	for (i = 0; i < ig->n; i++) {
		const struct ignore_pattern *ip = &ig->pats[i];
		int m = glob(ip->pat, path, end);

		/* A pattern that matches a parent directory matches too:
		 * try the first ndirs elements of the path's parent. */
		if (!m && ip->ndirs <= nparents) {
			int k = ip->ndirs;

			for (c = path; (c = strchr(c, '/')) != NULL; c++)
				if (--k == 0)
					break;
			m = glob(ip->pat, path, c);
		}
		if (m)
			matched = !ip->exclusion;
	}
	return matched;
}

int
ignore_skip_dir(const struct ignore *ig, const char *dir)
{
	size_t i, dlen = strlen(dir);

	if (ig == NULL || !ig->exclusions)
		return 1;
	for (i = 0; i < ig->n; i++) {
		const struct ignore_pattern *ip = &ig->pats[i];

		if (!ip->exclusion)
			continue;
		/* Docker: HasPrefix(pattern + "/", dir + "/") */
		if (strncmp(ip->pat, dir, dlen) == 0 &&
		    (ip->pat[dlen] == '/' || ip->pat[dlen] == '\0'))
			return 0;
	}
	return 1;
}
