#!/usr/bin/env python3
"""Keeps a steady stream of HTTP requests on one URL through the router.

Usage: steady.py HOST_HEADER PORT SECONDS OUTFILE
Runs 4 client threads, each with a keep-alive connection to 127.0.0.1:PORT
(reconnecting when the server closes), for at most SECONDS or until OUTFILE
exists with "stop" in it. Writes "requests N failed M" to OUTFILE.failures,
and each failure (time, reason) to stderr. Loopback only; bounded in time.
"""
import http.client
import os
import sys
import threading
import time

host, port, seconds, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
deadline = time.time() + seconds
lock = threading.Lock()
count = {"ok": 0, "failed": 0}


def stopped():
    if time.time() > deadline:
        return True
    try:
        with open(out) as f:
            return "stop" in f.read()
    except OSError:
        return False


def worker():
    conn = None
    n = 0
    while True:
        n += 1
        if n % 50 == 0 and stopped():
            break
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/", headers={"Host": host})
            r = conn.getresponse()
            r.read()
            good = r.status == 200
            reason = "status %d" % r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # a refused or reset request is a failure
            good = False
            reason = repr(e)
            if conn is not None:
                conn.close()
            conn = None
        with lock:
            if good:
                count["ok"] += 1
            else:
                count["failed"] += 1
                print("%.3f failed: %s" % (time.time(), reason), file=sys.stderr)


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out + ".failures", "w") as f:
    f.write("requests %d failed %d\n" % (count["ok"] + count["failed"], count["failed"]))
