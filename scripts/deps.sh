#!/bin/sh
# Installs the Debian packages minpaas needs to build, run and test, once.
# Idempotent: does nothing when every package is already installed.
set -eu

PKGS="build-essential pkg-config git openssh-client curl ca-certificates
libssh-dev libgit2-dev libcurl4-openssl-dev libjansson-dev liblmdb-dev
lmdb-utils libcmocka-dev clang libclang-rt-14-dev docker.io debootstrap
iproute2 procps python3 libarchive-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "minpaas: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "-----> Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
