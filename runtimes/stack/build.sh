#!/bin/sh
# Makes the offline base ("stack") image from Debian packages: debootstrap a
# minimal bookworm root, add the runtimes' interpreters, `docker import` it.
# No registry is involved. Skipped when the image exists and was made from
# the same package list (its label minpaas.stack holds a hash of INCLUDE and
# of this script); rebuilt when the list changed.
#
#   MINPAAS_STACK_IMAGE   image name (default minpaas/stack:bookworm)
#   MINPAAS_DEBIAN_MIRROR mirror (default: the host's apt mirror)
set -eu

IMAGE=${MINPAAS_STACK_IMAGE:-minpaas/stack:bookworm}
SUITE=bookworm
MIRROR=${MINPAAS_DEBIAN_MIRROR:-}
# What the runtimes need at run time; keep it in step with runtimes/*/Dockerfile.
# INCLUDE goes in with debootstrap; PACKAGES are installed afterwards with
# apt-get in the new root (debootstrap's own resolver leaves npm's large
# dependency graph half-configured).
# python: python3, pip, venv; node: nodejs, npm; static: nginx-light.
INCLUDE="ca-certificates,python3,python3-pip,python3-venv,tini"
PACKAGES="nodejs npm nginx-light"
# The host's own CA certificates are trusted in the stack too, so that a host
# whose traffic to package registries goes through a TLS-inspecting proxy
# can build (npm ci, pip install) the same as its own tools do.
LOCAL_CAS=/usr/local/share/ca-certificates
STAMP=$( { echo "$INCLUDE $PACKAGES"; cat "$0"; cat "$LOCAL_CAS"/*.crt 2>/dev/null; } |
	sha256sum | cut -c1-16)

have=$(docker image inspect -f '{{index .Config.Labels "minpaas.stack"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$STAMP" ]; then
	echo "-----> Stack image $IMAGE is present"
	exit 0
fi
if [ -n "$have" ] || docker image inspect "$IMAGE" >/dev/null 2>&1; then
	echo "-----> Stack image $IMAGE was made from another package list; rebuilding"
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
	awk '/^I: Retrieving/ { r++; if (r % 50 == 0) { print "       retrieved " r " packages"; fflush() } next }
	     /^I: (Extracting|Unpacking|Configuring)/ { n++; if (n % 100 == 0) { print "       " $2 " " n; fflush() } next }
	     /^I: Base system installed/ { print "       base system installed"; fflush(); next }
	     /^[EW]:/ { print "       " $0; fflush() }'
[ -x "$root/usr/bin/python3" ] || { echo " !     debootstrap failed" >&2; exit 1; }

if ls "$LOCAL_CAS"/*.crt >/dev/null 2>&1; then
	echo "       trusting the host's CA certificates ($LOCAL_CAS)"
	cp "$LOCAL_CAS"/*.crt "$root/usr/local/share/ca-certificates/"
	chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

echo "       apt-get install $PACKAGES"
# No service starts inside the root being built.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q \
	--no-install-recommends $PACKAGES 2>&1 |
	awk '/^(Get|Unpacking|Setting up)/ { n[$1]++; if (n[$1] % 100 == 0) { print "       " $1 " " n[$1]; fflush() } next }
	     /^(E|W):/ && !/unsandboxed/ { print "       " $0; fflush() }'
rm -f "$root/usr/sbin/policy-rc.d"
chroot "$root" npm --version >/dev/null 2>&1 ||
	{ echo " !     npm does not run in the stack" >&2; exit 1; }
for bin in python3 node npm nginx tini; do
	[ -x "$root/usr/bin/$bin" ] || [ -x "$root/usr/sbin/$bin" ] ||
		{ echo " !     debootstrap failed: no $bin in the stack" >&2; exit 1; }
done

echo "       trimming apt lists, docs and caches"
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/usr/share/doc/"* "$root/usr/share/man/"* \
	"$root/usr/share/locale/"* "$root/var/cache/debconf/"*-old
# Runs apps as this user where the runtime allows (uid 10001, no login).
chroot "$root" useradd --uid 10001 --create-home --shell /usr/sbin/nologin app
# nginx runs as app, not root: the static runtime writes its config at start.
rm -f "$root/etc/nginx/sites-enabled/default"

echo "       docker import"
tar -C "$root" -c . | docker import \
	-c 'ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
	-c 'CMD ["/bin/bash"]' -c "LABEL minpaas.stack=$STAMP" - "$IMAGE" >/dev/null
echo "-----> Stack image $IMAGE is ready ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
