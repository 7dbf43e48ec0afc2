#!/bin/sh
# `make run`: starts minpaas in the foreground from this checkout with its
# state in .minpaas/ (git-ignored). On first run it makes sure the current
# user has an SSH key (creating one if there is none), registers it as an
# admin key, adds a `Host minpaas` entry to ~/.ssh/config so that
# `ssh minpaas apps` and `git remote add minpaas minpaas:<app>` work, trusts
# minpaas's host key for localhost in ~/.ssh/known_hosts, and
# installs a `minpaas` command in /usr/local/bin when run as root.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export MINPAAS_HOME="${MINPAAS_HOME:-$top/.minpaas}"
SSH_PORT=${SSH_PORT:-2222}
HTTP_PORT=${HTTP_PORT:-8080}
DOMAIN=${DOMAIN:-localhost}
bin="$top/build"

if [ "$(id -u)" -eq 0 ] && [ -d /usr/local/bin ]; then
	cat >/usr/local/bin/minpaas.tmp <<SH
#!/bin/sh
# minpaas admin command of the checkout at $top
MINPAAS_HOME="\${MINPAAS_HOME:-$MINPAAS_HOME}" exec "$bin/minpaas" "\$@"
SH
	chmod 755 /usr/local/bin/minpaas.tmp
	mv /usr/local/bin/minpaas.tmp /usr/local/bin/minpaas
fi

key=""
for k in "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ecdsa" "$HOME/.ssh/id_rsa"; do
	[ -f "$k.pub" ] && { key=$k; break; }
done
if [ -z "$key" ]; then
	echo "-----> Creating an SSH key for $(id -un): $HOME/.ssh/id_ed25519"
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
	key="$HOME/.ssh/id_ed25519"
fi
fp=$(ssh-keygen -lf "$key.pub" | awk '{ print $2 }')
if ! "$bin/minpaas" keys 2>/dev/null | grep -q " $fp\$"; then
	"$bin/minpaas" keys:add "$(id -un)" --role admin <"$key.pub"
fi
if ! grep -qs '^Host minpaas$' "$HOME/.ssh/config"; then
	echo "-----> Adding 'Host minpaas' to $HOME/.ssh/config"
	mkdir -p "$HOME/.ssh"
	printf '\nHost minpaas\n\tHostName localhost\n\tPort %s\n\tUser git\n\tIdentityFile %s\n\tStrictHostKeyChecking accept-new\n' \
		"$SSH_PORT" "$key" >>"$HOME/.ssh/config"
fi
# The host key sshd uses (it would make the same on first start), made here
# so that it can be trusted for localhost before the first push.
hostkey="$MINPAAS_HOME/ssh_host_ed25519_key"
if [ ! -f "$hostkey" ]; then
	mkdir -p "$MINPAAS_HOME"
	(umask 077 && ssh-keygen -q -t ed25519 -N '' -C minpaas -f "$hostkey")
fi
known="$HOME/.ssh/known_hosts"
pub=$(ssh-keygen -y -f "$hostkey" | cut -d' ' -f1,2)
entry="[localhost]:$SSH_PORT $pub"
[ "$SSH_PORT" = 22 ] && entry="localhost $pub"
if ! grep -qsxF "$entry" "$known"; then
	echo "-----> Trusting minpaas's host key for localhost:$SSH_PORT in $known"
	printf '%s\n' "$entry" >>"$known"
fi
exec "$bin/minpaas" up --ssh-port "$SSH_PORT" --http-port "$HTTP_PORT" --domain "$DOMAIN"
