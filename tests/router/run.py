#!/usr/bin/env python3
"""tests/router/run.py: runs the router's protocol cases (tests/router/cases)
against a real minpaas-router and a scripted upstream, both on loopback.

A case NNN-name is up to four files:
  .req   the client's bytes        .resp  the upstream's canned answers
  .up    what the upstream must see (optional: absent means "nothing")
  .out   what the client must receive
Every LF in them is sent/compared as CRLF. "%%" starts a directive, not
data, that runs to the end of its line (and owns its newline); a literal
backslash-n stands for a bare LF (a body's last byte):
  .req:  %%wait              pause 0.4 s before sending what follows
         %%route HOST A|B    point HOST at upstream A or B, then go on
         %%from ADDR         (first) connect from ADDR: 127.0.0.2 is in
                             the router's --trusted-proxies
         %%slow              (first) a slow reader: a 4 KiB receive buffer,
                             small reads with pauses
  .resp: %%next              the answer to the next request starts here
         %%continue          send "100 Continue" on the head, then read
         %%sleep S           wait S seconds before answering
         %%close             close the connection after this answer
         %%noreply           close without answering
         %%echo              after this answer, echo every byte back
         %%bulk N            N bytes of numbered lines, sent in pieces
  .out:  %%bulk N            the same N bytes
The upstream's record marks each accepted connection with "%%accept" (and
"%%on B" before requests that reached upstream B); a generated X-Request-Id
reads "<id>", and X-Forwarded-Port with the router's port "<port>".

Usage: run.py ROUTER ROUTE_SET [CASE...]; prints "passed N" and "failed N"
on stdout, details on stderr.
"""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRUSTED = "127.0.0.2/32,10.9.0.0/16"
CASES = os.path.join(HERE, "cases")


def crlf(b):
    b = b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return b.replace(b"\\n", b"\n")


def segments(data):
    """Splits a case file into [(directive or None, bytes)]."""
    out, pos = [], 0
    for m in re.finditer(rb"%%([^\n]*)\n?", data):
        if m.start() > pos:
            out.append((None, crlf(data[pos:m.start()])))
        out.append((m.group(1).strip().decode(), b""))
        pos = m.end()
    if pos < len(data):
        out.append((None, crlf(data[pos:])))
    return out


def bulk(n):
    """N bytes of numbered lines: a byte out of place shows."""
    lines = b"".join(b"%07d\n" % i for i in range(n // 8 + 1))
    return lines[:n]


def expand(data):
    """The bytes of an .out file: CRLF lines, %%bulk expanded."""
    out = b""
    for d, seg in segments(data):
        if d is None:
            out += seg
        elif d.startswith("bulk"):
            out += bulk(int(d.split()[1]))
    return out


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


class Upstream:
    """A scripted HTTP upstream: answers requests from a shared script."""

    def __init__(self, name, record):
        self.name = name
        self.record = record
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.record.add(self.name, b"%%accept\n")
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def close_all(self):
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.conns = []

    def serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                i = buf.index(b"\r\n\r\n") + 4
                head, buf = buf[:i], buf[i:]
                ans = self.record.script.pop(0) if self.record.script else []
                if any(d == "continue" for d, _ in ans):
                    c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body, buf = self.read_body(c, head, buf)
                self.record.add(self.name, head + body)
                for d, data in ans:
                    if d is None:
                        c.sendall(data)
                    elif d.startswith("sleep"):
                        time.sleep(float(d.split()[1]))
                    elif d in ("close", "noreply"):
                        c.close()
                        return
                    elif d.startswith("bulk"):
                        data = bulk(int(d.split()[1]))
                        for i in range(0, len(data), 7000):
                            c.sendall(data[i:i + 7000])
                            time.sleep(0.0005)
                    elif d == "echo":
                        if buf:
                            c.sendall(buf)
                        while True:
                            d2 = c.recv(65536)
                            if not d2:
                                c.close()
                                return
                            c.sendall(d2)
        except OSError:
            return

    @staticmethod
    def read_body(c, head, buf):
        h = head.lower()
        m = re.search(rb"\r\ncontent-length: *(\d+)", h)
        if m:
            n = int(m.group(1))
            while len(buf) < n:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            return buf[:n], buf[n:]
        if re.search(rb"\r\ntransfer-encoding: *chunked", h):
            while not re.search(rb"(^|\r\n)0\r\n(.*?\r\n)?\r\n", buf, re.S):
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            m = re.search(rb"(^|\r\n)0\r\n(.*?\r\n)?\r\n", buf, re.S)
            if m:
                return buf[: m.end()], buf[m.end():]
        return b"", buf


class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.data = b""
        self.script = []

    def add(self, name, b):
        with self.lock:
            if name == "B" and not b.startswith(b"%%accept"):
                self.data += b"%%on B\n"
            self.data += b


def normalise(b, port):
    b = re.sub(rb"(X-Request-Id: )[0-9a-f]{32}\r\n", rb"\1<id>\r\n", b)
    return b.replace(b"X-Forwarded-Port: %d\r\n" % port,
                     b"X-Forwarded-Port: <port>\r\n")


def show(b):
    return b.decode("latin-1").replace("\r\n", "\\r\\n\n")


def client(port, req_segs, route_fn, wait_end):
    src, slow = None, False
    if req_segs and (req_segs[0][0] or "").startswith("from "):
        src = (req_segs.pop(0)[0].split()[1], 0)
    if req_segs and req_segs[0][0] == "slow":
        req_segs.pop(0)
        slow = True
    s = socket.socket()
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if src:
        s.bind(src)
    s.connect(("127.0.0.1", port))
    got = b""
    for d, data in req_segs:
        if d is None:
            s.sendall(data)
        elif d == "wait":
            time.sleep(0.4)
            got += drain(s, 0)
        elif d.startswith("route"):
            route_fn(*d.split()[1:])
    end = time.time() + wait_end
    quiet = None
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            if got and quiet and time.time() - quiet > 0.8:
                break
            continue
        try:
            d = s.recv(4096 if slow else 65536)
        except ConnectionResetError:
            break
        if not d:
            break
        got += d
        quiet = time.time()
        if slow:
            time.sleep(0.0005)
    s.close()
    return got


def drain(s, timeout):
    got = b""
    while True:
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            return got
        d = s.recv(65536)
        if not d:
            return got
        got += d


def main():
    router, route_set = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or sorted(
        f[:-4] for f in os.listdir(CASES) if f.endswith(".req"))
    home = tempfile.mkdtemp(prefix="minpaas-router-cases.")
    env = dict(os.environ, MINPAAS_HOME=home)
    rec = Record()
    ups = {"A": Upstream("A", rec), "B": Upstream("B", rec)}

    def route(host, which):
        target = {"A": ups["A"].port, "B": ups["B"].port}.get(which)
        addr = ["127.0.0.1:%d" % target] if target else [which] if which else []
        subprocess.run([route_set, host, "app"] + addr, env=env, check=True)

    route("app.test", "A")
    route("b.test", "B")
    route("dead.test", "127.0.0.1:1")
    route("stopped.test", "")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(home, "router.log"), "wb")
    proc = subprocess.Popen(
        [router, "--bind", "127.0.0.1", "--port", str(port),
         "--timeout-head", "1000", "--timeout-response", "1000",
         "--max-body", "1000", "--trusted-proxies", TRUSTED],
        env=env, stderr=log)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.1)
    passed = failed = 0
    try:
        for name in names:
            base = os.path.join(CASES, name)
            req = read_file(base + ".req")
            resp = read_file(base + ".resp") or b""
            want_up = read_file(base + ".up")
            want_out = read_file(base + ".out") or b""
            script, cur = [], []
            for d, data in segments(resp):
                if d == "next":
                    script.append(cur)
                    cur = []
                else:
                    cur.append((d, data))
            script.append(cur)
            rec.data, rec.script = b"", script
            got = client(port, segments(req), route, 4.0)
            time.sleep(0.1)
            got_up = normalise(rec.data, port)
            exp_up = crlf(want_up or b"").replace(b"%%accept\r\n",
                                               b"%%accept\n")
            exp_up = exp_up.replace(b"%%on B\r\n", b"%%on B\n")
            want_out = expand(want_out)
            ok = got == want_out
            ok_up = got_up == exp_up
            if ok and ok_up:
                passed += 1
                print("%s: ok" % name, file=sys.stderr)
            else:
                failed += 1
                print("%s: FAILED" % name, file=sys.stderr)
                if not ok:
                    print("--- client got:\n%s--- expected:\n%s" % (
                        show(got[:4000]), show(want_out[:4000])),
                        file=sys.stderr)
                if not ok_up:
                    print("--- upstream saw:\n%s--- expected:\n%s" % (
                        show(got_up), show(exp_up)), file=sys.stderr)
            route("app.test", "A")
            for u in ups.values():
                u.close_all()
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        if rc != 0:
            print("router exited %s" % rc, file=sys.stderr)
            failed += 1
        log.close()
        if failed:
            with open(os.path.join(home, "router.log"), "rb") as f:
                sys.stderr.write(f.read().decode("latin-1")[-4000:])
        shutil.rmtree(home, ignore_errors=True)
    print("passed %d" % passed)
    print("failed %d" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
