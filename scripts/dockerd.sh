#!/bin/sh
# Starts dockerd when it is not running, with the userland proxy off so
# published loopback ports go through the kernel's NAT (see DESIGN.md).
# Waits until the Engine API answers on its unix socket.
set -eu

SOCK=${DOCKER_SOCKET:-/var/run/docker.sock}

ping() {
	curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

ping && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "minpaas: dockerd is not running and only root can start it" >&2
	exit 1
fi
echo "-----> Starting dockerd (userland proxy off)"
mkdir -p /var/log/minpaas
nohup dockerd --userland-proxy=false >/var/log/minpaas/dockerd.log 2>&1 </dev/null &
i=0
while ! ping; do
	i=$((i + 1))
	if [ "$i" -gt 300 ]; then
		echo "minpaas: dockerd did not answer within 30 s; see /var/log/minpaas/dockerd.log" >&2
		tail -n 20 /var/log/minpaas/dockerd.log >&2
		exit 1
	fi
	sleep 0.1
done
echo "       dockerd is up"
