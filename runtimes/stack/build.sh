#!/bin/sh
# Makes the offline base ("stack") image from Debian packages: debootstrap a
# minimal bookworm root, add the runtimes' interpreters, `docker import` it.
# No registry is involved. Skipped when the image already exists.
#
#   MINPAAS_STACK_IMAGE   image name (default minpaas/stack:bookworm)
#   MINPAAS_DEBIAN_MIRROR mirror (default: the host's apt mirror)
set -eu

IMAGE=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}
SUITE=bookworm
MIRROR=${MINPAAS_DEBIAN_MIRROR:-}
# What the runtimes need at run time; keep it in step with runtimes/*/Dockerfile.
INCLUDE="ca-certificates,python3,python3-pip,python3-venv,tini"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
	echo "-----> Stack image $IMAGE is present"
	exit 0
fi

if [ -z "$MIRROR" ]; then
	MIRROR=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi

root=$(mktemp -d /tmp/minpaas-stack.XXXXXX)
trap 'rm -rf "$root"' EXIT INT TERM

echo "-----> Building stack image $IMAGE from Debian $SUITE ($MIRROR)"
echo "       debootstrap (minbase + $INCLUDE)"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" 2>&1 |
	awk '/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring)/ { n++; if (n % 40 == 0) print "       " $0; next } /^[EW]:/ { print "       " $0 }'
[ -x "$root/usr/bin/python3" ] || { echo " !     debootstrap failed" >&2; exit 1; }

echo "       trimming apt lists, docs and caches"
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/usr/share/doc/"* "$root/usr/share/man/"* \
	"$root/usr/share/locale/"* "$root/var/cache/debconf/"*-old
# Runs apps as this user where the runtime allows (uid 10001, no login).
chroot "$root" useradd --uid 10001 --create-home --shell /usr/sbin/nologin app

echo "       docker import"
tar -C "$root" -c . | docker import \
	-c 'ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1' \
	-c 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "-----> Stack image $IMAGE is ready ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
