/*
 * builder/ignore.h: .dockerignore patterns, matched the way the Docker client
 * matches them (moby 20.10 fileutils.PatternMatcher): Go filepath.Match
 * syntax plus `**`, `!` exceptions where the last matching pattern wins, a
 * pattern that matches a parent directory excludes everything under it.
 * The build context is made by minpaas, not by a Docker client, so this is
 * where .dockerignore takes effect.
 */
#ifndef MINPAAS_IGNORE_H
#define MINPAAS_IGNORE_H

#include <stddef.h>

#define IGNORE_MAXPATTERNS 4096
#define IGNORE_MAXPATTERN  1024      /* bytes in one pattern */
#define IGNORE_MAXFILE     (1 << 20) /* bytes of .dockerignore */

struct ignore;

/*
 * Parses .dockerignore text (comments, blank lines, CRLF, leading "/" and
 * "./" cleaned). Returns 0 with *out owned by the caller (free with
 * ignore_free), or -1 with err_set() on a malformed pattern or a limit.
 */
int ignore_new(struct ignore **out, const char *text, size_t len);
void ignore_free(struct ignore *ig);

/* 1 when path (relative, '/'-separated, no trailing '/') is excluded. */
int ignore_match(const struct ignore *ig, const char *path);

/*
 * 1 when the excluded directory dir can be skipped with everything under it,
 * 0 when an exception pattern ("!dir/keep") may re-include something in it.
 */
int ignore_skip_dir(const struct ignore *ig, const char *dir);

/* Number of patterns, for callers that want to know if there are any. */
size_t ignore_count(const struct ignore *ig);

#endif
