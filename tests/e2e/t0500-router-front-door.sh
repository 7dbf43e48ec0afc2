#!/bin/sh
# The router in front of a real app, as an attacker would try it: forged
# forwarding fields from a client are replaced by what the router saw, a
# trusted proxy's chain is kept and extended, a request whose Connection
# names Content-Length is refused and nothing of it reaches the app, a body
# that holds a request stays a body on the pooled upstream connection, and a
# chunked body reaches the app re-chunked and whole.
. "$(dirname "$0")/lib.sh"
test_plan 7

APP=$(app_name door)

# An app that records every request it serves (GET /seen lists them) and
# answers GET /h with the forwarding fields it got, POST /len with the
# length and checksum of the body (chunked bodies decoded by hand: Python's
# http.server does not).
write_app() {
	cat >app.py <<'PY'
import hashlib, http.server, os
seen = []
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, body):
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))
    def do_GET(self):
        if self.path == "/seen":
            return self.answer(" ".join(seen) + "\n")
        seen.append("GET" + self.path)
        h = self.headers
        self.answer("".join("%s=%s\n" % (k, h.get(k, "-")) for k in
            ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port",
             "X-Forwarded-Host", "Forwarded")))
    def do_POST(self):
        seen.append("POST" + self.path)
        data = self.body()
        self.answer("%d %s\n" % (len(data), hashlib.sha256(data).hexdigest()))
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), H).serve_forever()
PY
}

URL="http://$APP.localhost"
fields() {
	curl -sS --max-time 5 "$@" "$URL:$HTTP_PORT/h"
}

# raw REQUEST_FILE: sends the bytes of the file (LF becomes CRLF) on one
# connection to the router and prints what comes back until it closes (the
# last request says Connection: close; the client does not half-close,
# which the router takes as the client going away).
raw() {
	python3 - "$HTTP_PORT" "$1" <<'PY'
import socket, sys
data = open(sys.argv[2], "rb").read().replace(b"\n", b"\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(data)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode("latin-1").replace("\r\n", "\n"))
PY
}

minpaas_start --trusted-proxies 127.0.0.2/32

test_expect_success 'push the app' '
	git init -q -b main app && cd app &&
	write_app && git add app.py && git commit -qm door &&
	git push -q "ssh://git@127.0.0.1:$SSH_PORT/$APP" main &&
	curl -sS --max-time 5 "$URL:$HTTP_PORT/seen"
'

test_expect_success 'a client'\''s forwarding fields are replaced by what the router saw' '
	fields -H "X-Forwarded-For: 6.6.6.6" -H "X-Forwarded-Proto: https" \
		-H "X-Forwarded-Port: 443" -H "X-Forwarded-Host: evil.test" \
		-H "Forwarded: for=6.6.6.6" >got &&
	cat >want <<-EOF &&
	X-Forwarded-For=127.0.0.1
	X-Forwarded-Proto=http
	X-Forwarded-Port=$HTTP_PORT
	X-Forwarded-Host=$APP.localhost:$HTTP_PORT
	Forwarded=for=127.0.0.1;host="$APP.localhost:$HTTP_PORT";proto=http
	EOF
	test_cmp want got
'

test_expect_success 'a trusted proxy'\''s chain is kept and extended' '
	fields --interface 127.0.0.2 -H "X-Forwarded-For: 203.0.113.9" \
		-H "X-Forwarded-Proto: https" -H "X-Forwarded-Port: 443" \
		-H "Forwarded: for=203.0.113.9;proto=https" >got &&
	cat >want <<-EOF &&
	X-Forwarded-For=203.0.113.9, 127.0.0.2
	X-Forwarded-Proto=https
	X-Forwarded-Port=443
	X-Forwarded-Host=$APP.localhost:$HTTP_PORT
	Forwarded=for=203.0.113.9;proto=https, for=127.0.0.2;host="$APP.localhost:$HTTP_PORT";proto=http
	EOF
	test_cmp want got
'

test_expect_success 'Connection: content-length is refused and nothing reaches the app' '
	printf "GET /smuggled HTTP/1.1\nHost: $APP.localhost\nX-Forwarded-For: 6.6.6.6\n\n" >inner &&
	len=$(sed "s/\$/\r/" inner | wc -c) &&
	{
		printf "POST /capture HTTP/1.1\nHost: $APP.localhost\n" &&
		printf "Content-Length: %d\nConnection: content-length\n\n" "$len" &&
		cat inner
	} >req &&
	raw req >out &&
	head -n 1 out >status &&
	echo "HTTP/1.1 400 Bad Request" >want && test_cmp want status &&
	grep "Connection names a framing field" out &&
	curl -sS --max-time 5 "$URL:$HTTP_PORT/seen" >seen &&
	! grep -e smuggled -e capture seen
'

test_expect_success 'a body that holds a request stays a body' '
	len=$(sed "s/\$/\r/" inner | wc -c) &&
	{
		printf "POST /capture HTTP/1.1\nHost: $APP.localhost\n" &&
		printf "Content-Length: %d\n\n" "$len" && cat inner &&
		printf "GET /after HTTP/1.1\nHost: $APP.localhost\nConnection: close\n\n"
	} >req2 &&
	raw req2 >out2 &&
	test "$(grep -c "^HTTP/1.1 200 OK" out2)" = 2 &&
	grep "^$len " out2 &&
	curl -sS --max-time 5 "$URL:$HTTP_PORT/seen" >seen &&
	grep "POST/capture GET/after" seen &&
	! grep smuggled seen
'

test_expect_success 'a chunked body reaches the app re-chunked and whole' '
	head -c 300000 /dev/urandom >blob &&
	want=$(sha256sum <blob | cut -d" " -f1) &&
	curl -sS --max-time 10 -H "Transfer-Encoding: chunked" \
		--data-binary @blob "$URL:$HTTP_PORT/len" >got &&
	echo "300000 $want" >want && test_cmp want got
'

test_expect_success 'a malformed chunked body is refused with a reason' '
	{
		printf "POST /len HTTP/1.1\nHost: $APP.localhost\n" &&
		printf "Transfer-Encoding: chunked\n\n" &&
		printf "3;bad\001ext\nabc\n0\n\n"
	} >req3 &&
	raw req3 >out3 &&
	head -n 1 out3 >status &&
	echo "HTTP/1.1 400 Bad Request" >want && test_cmp want status &&
	grep "malformed chunked body" out3
'

test_done
