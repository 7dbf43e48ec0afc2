#!/usr/bin/env python3
"""bench/router-idle.py: what an idle client connection costs the router.

Starts minpaas-router (one worker) on loopback, opens N idle connections
(default 10000) that send nothing, checks that
the router still answers, and prints its RSS before and after and the bytes
per idle connection.

Usage: router-idle.py ROUTER [N]
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    router = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    home = tempfile.mkdtemp(prefix="minpaas-idle.")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [router, "--bind", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--timeout-head", "600000"],
        env=dict(os.environ, MINPAAS_HOME=home), stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    before = rss_kb(proc.pid)
    conns = []
    for i in range(n):
        conns.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(1.0)
    after = rss_kb(proc.pid)
    probe = socket.create_connection(("127.0.0.1", port))
    probe.sendall(b"GET / HTTP/1.1\r\nHost: none.test\r\n\r\n")
    probe.settimeout(5)
    answer = probe.recv(100).split(b"\r\n")[0].decode()
    alive = proc.poll() is None
    print("router RSS %d kB before, %d kB with %d idle connections; "
          "%.0f bytes per idle connection; still answering: %s (%s)" % (
              before, after, n, (after - before) * 1024.0 / n, alive,
              answer))
    for c in conns:
        c.close()
    proc.terminate()
    proc.wait()
    return 0 if alive and answer.startswith("HTTP/1.1 404") else 1


if __name__ == "__main__":
    sys.exit(main())
