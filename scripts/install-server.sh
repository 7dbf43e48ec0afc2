#!/bin/sh
# scripts/install-server.sh: turns a fresh Debian 12 host into a running
# minpaas server, in one command, as root, from a checkout:
#
#     sh scripts/install-server.sh [--domain D] [--key-name NAME] [KEY]
#
# KEY is the first admin's SSH public key: a file (alice.pub) or the key's
# text ("ssh-ed25519 AAAA... alice@laptop"); without KEY it is read from
# stdin when stdin is not a terminal. It installs the Debian packages
# (scripts/deps.sh), turns Docker's userland proxy off, builds and runs
# `make install` (binaries in /usr/local/bin, the unit minpaas.service,
# /etc/minpaas/minpaas.conf), makes the stack image, prepares MINPAAS_HOME,
# adds the key as an admin, and enables and (re)starts the unit.
#
# Safe to run again, and how to upgrade (after a `git pull`): an existing
# config is kept, a key that is there already is no error, Docker restarts
# only when its config changed, minpaas restarts on the new binaries.
#
# minpaas runs as root: it drives Docker, and Docker's socket is root on
# this host in all but name, so a separate user would add no real wall
# (see system/minpaas.service.in).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/usr/local
CONF=/etc/minpaas/minpaas.conf
DAEMON_JSON=/etc/docker/daemon.json
LOG=/var/log/minpaas/install.log
SOCK=/var/run/docker.sock

step() { printf -- '-----> %s\n' "$*"; }
info() { printf '       %s\n' "$*"; }
# fail LINE...: the first line after " !     ", the others (what to do
# next) indented below it; exits 1
fail() {
	printf ' !     %s\n' "$1" >&2
	shift
	for l in "$@"; do
		printf '       %s\n' "$l" >&2
	done
	exit 1
}

usage() {
	cat >&2 <<EOF
usage: sh scripts/install-server.sh [--domain D] [--key-name NAME] [KEY]
       KEY: the first admin's public key, a file or its text; else stdin
EOF
	exit 2
}

# run WHAT NEXT CMD...: runs CMD with its output in $LOG; when it fails,
# shows the end of that output and stops, saying what to do NEXT.
run() {
	run_what=$1
	run_next=$2
	shift 2
	printf '\n# %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 || {
		run_rc=$?
		tail -n 15 "$LOG" | sed 's/^/       | /' >&2
		fail "$run_what failed (status $run_rc); all of it is in $LOG" \
			"$run_next"
	}
}

# conf_get KEY DEFAULT: KEY's value in $CONF, or DEFAULT
conf_get() {
	v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\(.*[^[:space:]]\\)[[:space:]]*\$/\\1/p" \
		"$CONF" 2>/dev/null | head -n 1)
	printf '%s\n' "${v:-$2}"
}

docker_ping() {
	curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

# wait_until SECONDS CMD...: polls CMD every 0.2 s
wait_until() {
	wait_n=$(($1 * 5))
	shift
	while ! "$@"; do
		wait_n=$((wait_n - 1))
		[ "$wait_n" -gt 0 ] || return 1
		sleep 0.2
	done
}

domain=""
key_name="admin"
key_arg=""
while [ $# -gt 0 ]; do
	case $1 in
	--domain)
		[ $# -ge 2 ] || usage
		domain=$2
		shift 2
		;;
	--key-name)
		[ $# -ge 2 ] || usage
		key_name=$2
		shift 2
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		[ -z "$key_arg" ] || usage
		key_arg=$1
		shift
		;;
	esac
done

# --- what can be checked before anything changes --------------------------

[ "$(id -u)" -eq 0 ] ||
	fail "This installs a server and must run as root." \
		"Run it again with sudo: sudo sh scripts/install-server.sh ..."
if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091
	. /etc/os-release
	if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
		info "note: this is ${PRETTY_NAME:-an unknown system}; minpaas is made for Debian 12"
	fi
fi
if [ -n "$domain" ]; then
	case $domain in
	*[!a-z0-9.-]* | .* | *. | *..*)
		fail "--domain '$domain' is no domain name." \
			"Give one in lower case, e.g. --domain apps.example.org"
		;;
	esac
fi
case $key_name in
"" | *[!A-Za-z0-9_.@-]*)
	fail "--key-name '$key_name' is no key name." \
		"Use letters, digits and _.@- (at most 63), e.g. --key-name alice"
	;;
esac
[ "${#key_name}" -le 63 ] ||
	fail "--key-name is longer than 63 characters." "Use a shorter name."

key=""
if [ -n "$key_arg" ]; then
	if [ -f "$key_arg" ]; then
		key=$(head -n 1 "$key_arg")
		[ -n "$key" ] || fail "$key_arg is empty." \
			"Give the .pub file of the first admin's SSH key."
	else
		key=$key_arg
	fi
elif [ ! -t 0 ]; then
	key=$(head -n 1 || :)
fi
case $key in
"") ;;
ssh-* | ecdsa-* | sk-*) ;;
-----BEGIN*)
	fail "That is a private key." \
		"Give the public one: the file that ends in .pub"
	;;
*)
	fail "'$(printf '%.40s' "${key_arg:-$key}")' is neither a public key file nor a public key." \
		"Give a file (~/.ssh/id_ed25519.pub) or the text of one (ssh-ed25519 AAAA...)"
	;;
esac
if [ -z "$key" ]; then
	admins=""
	[ ! -x "$PREFIX/bin/minpaas" ] ||
		admins=$(env -u MINPAAS_HOME -u MINPAAS_CONFIG "$PREFIX/bin/minpaas" keys 2>/dev/null |
			awk '$2 == "admin"' || :)
	[ -n "$admins" ] ||
		fail "No admin key given, and this server has none yet." \
			"Give the public key of the first admin:" \
			"    sudo sh scripts/install-server.sh ~/.ssh/id_ed25519.pub" \
			"or on stdin: ssh root@host 'sh minpaas/scripts/install-server.sh' < ~/.ssh/id_ed25519.pub"
fi

mkdir -p "$(dirname "$LOG")"
step "Installing minpaas from $top (log: $LOG)"

# --- packages ---------------------------------------------------------------

step "Debian packages"
run "Installing packages" \
	"Check the network and the apt sources (apt-get update), then run this again." \
	sh "$top/scripts/deps.sh"
info "build tools, libraries, git, OpenSSH client, docker.io, debootstrap"

# --- Docker -----------------------------------------------------------------

systemd=""
[ -d /run/systemd/system ] && systemd=1

step "Docker, userland proxy off"
if [ -n "$systemd" ]; then
	if systemctl show -p ExecStart docker.service 2>/dev/null | grep -q userland-proxy ||
		grep -qs '^[^#]*--userland-proxy' /etc/default/docker; then
		# dockerd refuses a setting given both as a flag and in daemon.json
		info "docker.service sets --userland-proxy itself; $DAEMON_JSON left as it is"
		changed=unchanged
	else
		changed=$(python3 "$top/scripts/daemon-json.py" "$DAEMON_JSON") ||
			fail "Cannot set \"userland-proxy\": false in $DAEMON_JSON." \
				"Fix the file (it must be one JSON object), then run this again."
	fi
	run "Enabling docker.service" \
		"See: journalctl -u docker -n 50" \
		systemctl enable docker.service
	case $changed in
	created | changed)
		info "$DAEMON_JSON: \"userland-proxy\": false ($changed; the old file is $DAEMON_JSON.orig)"
		info "restarting Docker: its running containers stop, those with a restart policy come back"
		run "Restarting Docker" \
			"See: journalctl -u docker -n 50; to undo the change, put $DAEMON_JSON.orig back and systemctl restart docker" \
			systemctl restart docker.service
		;;
	*)
		info "$DAEMON_JSON says so already"
		run "Starting Docker" "See: journalctl -u docker -n 50" \
			systemctl start docker.service
		;;
	esac
	wait_until 60 docker_ping ||
		fail "Docker does not answer on $SOCK." \
			"See: systemctl status docker; journalctl -u docker -n 50"
else
	# no systemd: scripts/dockerd.sh starts dockerd with
	# --userland-proxy=false (a daemon.json saying it too would make that
	# dockerd refuse to start)
	info "systemd is not running here: dockerd is started by scripts/dockerd.sh"
	run "Starting dockerd" \
		"See /var/log/minpaas/dockerd.log, then run this again." \
		sh "$top/scripts/dockerd.sh"
fi
info "Docker answers on $SOCK"

# --- build and install ------------------------------------------------------

step "Building and installing minpaas into $PREFIX"
conf_was_there=""
[ -e "$CONF" ] && conf_was_there=1
run "Building" \
	"See $LOG; 'make' in $top shows the same error." \
	make -C "$top" -s -j"$(nproc 2>/dev/null || echo 2)" all
run "make install" \
	"See $LOG; 'make install' in $top shows the same error." \
	make -C "$top" -s install PREFIX="$PREFIX"
info "$PREFIX/bin: minpaas minpaas-sshd minpaas-hook minpaas-router minpaas-client"
info "$PREFIX/lib/systemd/system/minpaas.service"
if [ -n "$conf_was_there" ]; then
	info "$CONF: kept as it was"
	if [ -n "$domain" ] && [ "$(conf_get domain localhost)" != "$domain" ]; then
		info "note: it says domain = $(conf_get domain localhost), not $domain; edit it there to change"
	fi
else
	if [ -n "$domain" ]; then
		sed -i "s/^domain = .*/domain = $domain/" "$CONF"
	fi
	info "$CONF: new (domain = $(conf_get domain localhost))"
fi
# the installed minpaas reads $CONF as the unit's does, and no variable
# of this shell may send it to another home
unset MINPAAS_HOME MINPAAS_CONFIG
MINPAAS="$PREFIX/bin/minpaas"
home=$(conf_get home /var/lib/minpaas)
ssh_port=$(conf_get ssh_port 2222)
http_port=$(conf_get http_port 8080)
bind=$(conf_get bind 0.0.0.0)
domain=$(conf_get domain localhost)
"$MINPAAS" help >/dev/null ||
	fail "minpaas refuses $CONF (see above)." \
		"Fix the line it names, then run this again."

# --- the stack image --------------------------------------------------------

# its own steps and progress, in the same shape
sh "$top/runtimes/stack/build.sh" ||
	fail "The stack image could not be made (see above)." \
		"A different Debian mirror: MINPAAS_DEBIAN_MIRROR=http://... sh scripts/install-server.sh"

# --- MINPAAS_HOME and the admin key ----------------------------------------

step "MINPAAS_HOME $home"
install -d -m 0750 "$home"
# made here, as sshd would make it, so that its fingerprint can be shown
hostkey="$home/ssh_host_ed25519_key"
[ -f "$hostkey" ] || (umask 077 && ssh-keygen -q -t ed25519 -N '' -C minpaas -f "$hostkey")
info "SSH host key $(ssh-keygen -lf "$hostkey" | awk '{ print $2 }')"

if [ -n "$key" ]; then
	step "Admin key '$key_name'"
	keyfile=$(mktemp /tmp/minpaas-key.XXXXXX)
	trap 'rm -f "$keyfile"' EXIT
	printf '%s\n' "$key" >"$keyfile"
	fp=$(ssh-keygen -lf "$keyfile" 2>/dev/null | awk '{ print $2 }')
	[ -n "$fp" ] || fail "That public key does not read as one (ssh-keygen -l refuses it)." \
		"Copy the whole line of the .pub file, or give the file itself."
	keys=$("$MINPAAS" keys) ||
		fail "Cannot list the keys of $home." "See the message above."
	if printf '%s\n' "$keys" | awk -v fp="$fp" '$3 == fp { f = 1 } END { exit !f }'; then
		info "$fp is a key already: $(printf '%s\n' "$keys" | awk -v fp="$fp" '$3 == fp { print $1 " (" $2 ")" }')"
	elif printf '%s\n' "$keys" | awk -v n="$key_name" '$1 == n { f = 1 } END { exit !f }'; then
		fail "A key named '$key_name' exists already, with another fingerprint." \
			"Name this one: sh scripts/install-server.sh --key-name alice KEY"
	else
		added=$("$MINPAAS" keys:add "$key_name" --role admin <"$keyfile") ||
			fail "The key could not be added (see above)." \
				"Add it by hand: $MINPAAS keys:add $key_name --role admin < key.pub"
		info "${added#-----> }"
	fi
fi

# --- the unit ---------------------------------------------------------------

# deploy_help: how to use the server, the last lines either way
deploy_help() {
	info "Settings: $CONF (ports $ssh_port and $http_port must be open to your users)"
	info "Upgrade:  git -C $top pull && sh $top/scripts/install-server.sh"
	info "Deploy from your machine:"
	info "    git remote add minpaas ssh://git@<this host>:$ssh_port/<app>"
	info "    git push minpaas main        # then http://<app>.$domain/"
}

step "minpaas.service"
if [ -z "$systemd" ]; then
	# a notice, not a failure: on stdout, in order with the rest
	printf ' !     %s\n' \
		"systemd is not running on this host: minpaas.service is installed but cannot be enabled here."
	info "Start minpaas yourself, as root, and keep it running:"
	info "    $MINPAAS up --config $CONF"
	info "or in the background, its log in /var/log/minpaas/minpaas.log:"
	info "    nohup $MINPAAS up --config $CONF >>/var/log/minpaas/minpaas.log 2>&1 &"
	info "On a host that boots with systemd: systemctl enable --now minpaas"
	step "minpaas is installed, not started"
	deploy_help
	exit 0
fi
run "systemctl daemon-reload" "See: journalctl -n 50" systemctl daemon-reload
run "Enabling minpaas.service" "See: systemctl status minpaas" \
	systemctl enable minpaas.service
run "Starting minpaas.service" \
	"See: journalctl -u minpaas -n 50" \
	systemctl restart minpaas.service
case $bind in
0.0.0.0 | ::) probe=127.0.0.1 ;;
*:*) probe="[$bind]" ;;
*) probe=$bind ;;
esac
router_answers() {
	curl -s -o /dev/null --max-time 1 "http://$probe:$http_port/"
}
if ! wait_until 20 router_answers; then
	journalctl -u minpaas -n 15 --no-pager 2>/dev/null | sed 's/^/       | /' >&2
	fail "minpaas.service started, but its router does not answer on $probe:$http_port." \
		"See: systemctl status minpaas; journalctl -u minpaas -n 50"
fi
info "enabled and running: SSH on $bind:$ssh_port, HTTP on $bind:$http_port"

step "minpaas is installed and running"
info "Logs:     journalctl -u minpaas -f"
info "Restart:  systemctl restart minpaas (after a change of the settings)"
deploy_help
