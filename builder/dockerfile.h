/*
 * builder/dockerfile.h: the images a user's Dockerfile reads from, so that
 * a developer key builds only from images it may use: the base of every
 * FROM that is not an earlier stage, and every COPY/ADD --from= that is
 * neither a stage name nor a stage index. It reads Docker's grammar as the
 * builder does: instructions case-insensitive, `#` comment lines, a
 * trailing escape character (`\`, or `` ` `` after an `# escape=` parser
 * directive) continuing a line, flags before the image.
 */
#ifndef MINPAAS_DOCKERFILE_H
#define MINPAAS_DOCKERFILE_H

#include <stddef.h>

#define DOCKERFILE_MAXLINE   (64 * 1024) /* one instruction, continued */
#define DOCKERFILE_MAXIMAGE  256         /* an image reference */
#define DOCKERFILE_MAXSTAGES 64          /* named build stages */

/* Called with each image read from; a non-zero return stops the walk and
 * is returned by dockerfile_images. */
typedef int (*dockerfile_image_fn)(void *arg, const char *image);

/*
 * Calls fn for each image text[0..len) reads from (see above), in order.
 * Returns 0, what fn returned when non-zero, or -1 with err_set() when the
 * text cannot be read that way: an image given by a variable ($BASE), a
 * FROM without an image, an instruction or image past the limits, a NUL.
 */
int dockerfile_images(
    const char *text, size_t len, dockerfile_image_fn fn, void *arg);

#endif
