#!/bin/sh
# minpaas on a server: `make install` into a scratch root puts the binaries,
# the config file and the systemd unit where a Debian admin looks for them,
# and a second install keeps an edited config; systemd-analyze accepts the
# unit; `minpaas up` takes its ports, home and variables from the config
# file, a flag and a variable win over it, and a bad file stops it with
# "FILE:LINE: why" and exit status 2 before it starts anything;
# scripts/install-server.sh parses, and its daemon.json step keeps what an
# admin wrote. Needs no dockerd; nothing leaves 127.0.0.1.
. "$(dirname "$0")/lib.sh"
test_plan 9

ROOT="$TEST_ROOT/root"
UNIT="$ROOT/usr/local/lib/systemd/system/minpaas.service"
CONF="$ROOT/etc/minpaas/minpaas.conf"
MP="$MINPAAS_BUILD/minpaas"
Q="'"

# install: `make install` of this build into the scratch root, its output
# in install.out
install_root() {
	make -C "$TEST_TOP" -s install B="$MINPAAS_BUILD" DESTDIR="$ROOT" \
		PREFIX=/usr/local >install.out 2>&1
}

# ssh_banner PORT: the first line the server on 127.0.0.1:PORT sends
ssh_banner() {
	python3 -c 'import socket,sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.settimeout(2)
print(s.recv(256).decode().splitlines()[0])' "$1"
}

# http_status PORT: the status code of GET / on 127.0.0.1:PORT
http_status() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/"
}

# start_up LOG [VAR=VALUE...] ARGS...: starts `minpaas up ARGS` in the
# background with those variables (VAR= unsets VAR), its output in LOG, its
# pid in $UP_PID; the test body that calls it stops it
start_up() {
	up_log=$1 && shift &&
	up_env="" &&
	while [ $# -gt 0 ]; do
		case $1 in
		*=) up_env="$up_env -u ${1%=}" ;;
		[A-Z]*=*) up_env="$up_env $1" ;;
		*) break ;;
		esac
		shift
	done &&
	# shellcheck disable=SC2086
	{ env $up_env "$MP" up "$@" >"$up_log" 2>&1 & } &&
	UP_PID=$!
}

# up_ready PORT...: waits until `minpaas up` listens on each PORT
up_ready() {
	for p in "$@"; do
		wait_for 20 nc_ok "$p" || { cat "$up_log"; return 1; }
	done
}

# child_env NAME VAR: VAR in the environment of `minpaas up`'s child NAME
child_env() {
	tr '\0' '\n' <"/proc/$(pgrep -P "$UP_PID" -x "$1")/environ" |
		sed -n "s/^$2=//p"
}

test_expect_success 'make install puts the binaries, the config and the unit in DESTDIR' '
	install_root &&
	for b in minpaas minpaas-sshd minpaas-hook minpaas-router minpaas-client; do
		test -x "$ROOT/usr/local/bin/$b" || exit 1
	done &&
	cmp "$TEST_TOP/system/minpaas.conf" "$CONF" &&
	test "$(stat -c %a "$CONF")" = 644 &&
	test "$(stat -c %a "$UNIT")" = 644 &&
	grep -x "ExecStart=/usr/local/bin/minpaas up --config /etc/minpaas/minpaas.conf" "$UNIT" &&
	grep -x "Restart=always" "$UNIT" &&
	grep -x "KillMode=mixed" "$UNIT" &&
	! grep "@BINDIR@" "$UNIT"
'

test_expect_success 'a second make install keeps an edited config, replaces the rest' '
	sed -i "s/^http_port = .*/http_port = 8123/" "$CONF" &&
	echo "health_timeout = 30" >>"$CONF" &&
	cp "$CONF" edited.conf &&
	echo "# changed by hand" >>"$UNIT" &&
	install_root &&
	cmp edited.conf "$CONF" &&
	grep "kept $CONF" install.out &&
	! grep "changed by hand" "$UNIT"
'

test_expect_success 'systemd-analyze verify accepts the installed unit' '
	# the units it depends on (sysinit.target, docker.service, ...) are
	# looked up in the root too: the ones of this host, copied in
	mkdir -p "$ROOT/lib/systemd" &&
	cp -a /lib/systemd/system "$ROOT/lib/systemd/" &&
	systemd-analyze verify --root="$ROOT" minpaas.service >verify.out 2>&1 &&
	cat verify.out &&
	test ! -s verify.out &&
	systemd-analyze security --offline=yes --root="$ROOT" minpaas.service \
		>security.out 2>&1 &&
	tail -n 1 security.out >>"$TEST_ROOT/figures"
'

test_expect_success 'the installed config is one minpaas reads' '
	MINPAAS_CONFIG="$CONF" "$MP" help >/dev/null 2>err &&
	test ! -s err
'

SSH1=$(free_port)
HTTP1=$(free_port)
HTTP2=$(free_port)
cat >up.conf <<EOF
# the scratch server
ssh_port = $SSH1
http_port = $HTTP1

bind = 127.0.0.1
domain = apps.example.test
build_timeout = 77
home = $TEST_ROOT/filehome
EOF

test_expect_success 'minpaas up --config FILE takes its ports and variables from it' '
	start_up up1.log --config up.conf &&
	test_when_finished "kill $UP_PID && wait $UP_PID" &&
	up_ready "$SSH1" "$HTTP1" &&
	ssh_banner "$SSH1" >banner &&
	grep "^SSH-2.0-" banner &&
	test "$(http_status "$HTTP1")" = 404 &&
	grep "SSH  on 127.0.0.1:$SSH1" up1.log &&
	grep "apps at http://<app>.apps.example.test:$HTTP1/" up1.log &&
	test "$(child_env minpaas-sshd MINPAAS_BUILD_TIMEOUT)" = 77 &&
	test "$(child_env minpaas-router MINPAAS_BUILD_TIMEOUT)" = 77 &&
	# MINPAAS_HOME is set (lib.sh): it wins over the file
	test "$(child_env minpaas-sshd MINPAAS_HOME)" = "$MINPAAS_HOME" &&
	test ! -e "$TEST_ROOT/filehome"
'

test_expect_success 'with $MINPAAS_CONFIG naming the file, a flag overrides it' '
	start_up up2.log MINPAAS_CONFIG=up.conf --http-port "$HTTP2" &&
	test_when_finished "kill $UP_PID && wait $UP_PID" &&
	up_ready "$SSH1" "$HTTP2" &&
	ssh_banner "$SSH1" | grep "^SSH-2.0-" &&
	test "$(http_status "$HTTP2")" = 404 &&
	! nc_ok "$HTTP1" &&
	grep "HTTP on 127.0.0.1:$HTTP2" up2.log
'

test_expect_success 'the config names the home; a variable that is set wins over it' '
	SSH3=$(free_port) && HTTP3=$(free_port) &&
	printf "home = %s\nssh_port = %s\nhttp_port = %s\nbind = 127.0.0.1\nbuild_timeout = 77\n" \
		"$TEST_ROOT/confhome" "$SSH3" "$HTTP3" >home.conf &&
	start_up up3.log MINPAAS_HOME= MINPAAS_BUILD_TIMEOUT=55 --config home.conf &&
	test_when_finished "kill $UP_PID && wait $UP_PID" &&
	up_ready "$SSH3" "$HTTP3" &&
	test -d "$TEST_ROOT/confhome/state" &&
	test "$(child_env minpaas-sshd MINPAAS_HOME)" = "$TEST_ROOT/confhome" &&
	test "$(child_env minpaas-sshd MINPAAS_BUILD_TIMEOUT)" = 55 &&
	ssh-keygen -q -t ed25519 -N "" -f key &&
	env -u MINPAAS_HOME MINPAAS_CONFIG=home.conf "$MP" keys:add first --role admin <key.pub &&
	env MINPAAS_HOME="$TEST_ROOT/confhome" "$MP" keys >keys &&
	grep "^first " keys &&
	"$MP" keys >ours &&
	! grep "^first " ours
'

# a port nobody may take while the bad starts run
SSH4=$(free_port)
HTTP4=$(free_port)
cat >bad.conf <<EOF
# a file with a typo on line 7
ssh_port = $SSH4
http_port = $HTTP4
bind = 127.0.0.1
home = $TEST_ROOT/badhome

htp_port = 80
EOF

test_expect_success 'a bad config: exit 2, FILE:LINE: why, nothing started' '
	# a home that anything started would make
	never="$TEST_ROOT/never" &&
	test_expect_code 2 env MINPAAS_HOME="$never" timeout 20 "$MP" up --config bad.conf 2>err &&
	cat err &&
	grep "error: bad.conf:7: unknown key ${Q}htp_port${Q}$" err &&
	test "$(wc -l <err)" = 1 &&
	test ! -e "$never" &&
	test_expect_code 2 env -u MINPAAS_HOME timeout 20 "$MP" up --config bad.conf 2>err &&
	grep "error: bad.conf:7: unknown key ${Q}htp_port${Q}$" err &&
	test ! -e "$TEST_ROOT/badhome" &&
	! nc_ok "$SSH4" && ! nc_ok "$HTTP4" &&
	sed "s/^htp_port = 80$/http_port = 80/" bad.conf >dup.conf &&
	test_expect_code 2 env MINPAAS_HOME="$never" timeout 20 "$MP" up --config dup.conf 2>err &&
	grep "dup.conf:7: ${Q}http_port${Q} is set twice (first on line 3)$" err &&
	printf "ssh_port = 0\n" >port.conf &&
	test_expect_code 2 timeout 20 "$MP" up --config port.conf 2>err &&
	grep "port.conf:1: ssh_port: bad port ${Q}0${Q} (want 1 to 65535)$" err &&
	test_expect_code 2 timeout 20 "$MP" up --config missing.conf 2>err &&
	grep "cannot read ${Q}missing.conf${Q}: No such file or directory$" err &&
	test_expect_code 2 env MINPAAS_CONFIG=missing.conf timeout 20 "$MP" up 2>err &&
	grep "cannot read ${Q}missing.conf${Q}" err &&
	test_expect_code 2 timeout 20 "$MP" up --config up.conf --ssh-port 99999 2>err &&
	grep -- "--ssh-port: bad port ${Q}99999${Q}" err &&
	test_expect_code 2 env MINPAAS_HOME="$never" MINPAAS_CONFIG=bad.conf "$MP" apps 2>err &&
	grep "bad.conf:7: unknown key" err &&
	test ! -e "$TEST_ROOT/badhome" && test ! -e "$never"
'

test_expect_success 'install-server.sh parses; its daemon.json step keeps the rest' '
	sh -n "$TEST_TOP/scripts/install-server.sh" &&
	{ ! command -v shellcheck >/dev/null ||
		shellcheck "$TEST_TOP/scripts/install-server.sh"; } &&
	dj="$TEST_TOP/scripts/daemon-json.py" &&
	test "$(python3 "$dj" new.json)" = created &&
	python3 -c "import json,sys; assert json.load(open(sys.argv[1])) == {\"userland-proxy\": False}" new.json &&
	test "$(python3 "$dj" new.json)" = unchanged &&
	printf "{\"log-driver\": \"journald\", \"userland-proxy\": true}\n" >old.json &&
	cp old.json was.json &&
	test "$(python3 "$dj" old.json)" = changed &&
	python3 -c "import json,sys; assert json.load(open(sys.argv[1])) == {\"log-driver\": \"journald\", \"userland-proxy\": False}" old.json &&
	cmp was.json old.json.orig &&
	printf "{\"log-driver\": " >broken.json &&
	cp broken.json broken.was &&
	test_expect_code 1 python3 "$dj" broken.json 2>err &&
	grep "broken.json is not valid JSON" err &&
	cmp broken.was broken.json
'

[ -f "$TEST_ROOT/figures" ] && sed 's/^/# /' "$TEST_ROOT/figures"
test_done
