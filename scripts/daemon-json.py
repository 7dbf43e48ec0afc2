#!/usr/bin/env python3
# scripts/daemon-json.py FILE: makes Docker's daemon.json FILE say
# "userland-proxy": false (see DESIGN.md: published loopback ports then go
# through the kernel's NAT), keeping every other setting in it. Prints one
# word: "created" (there was no FILE), "changed" (FILE said otherwise or
# nothing; the old one is kept as FILE.orig unless that exists) or
# "unchanged" (FILE said so already and is left as it is), so the caller
# restarts dockerd only when it must. A FILE that is not a JSON object is
# refused (exit 1) and left untouched.
import json
import os
import sys


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: daemon-json.py FILE\n")
        return 2
    path = sys.argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = None
    except OSError as e:
        sys.stderr.write("cannot read %s: %s\n" % (path, e.strerror))
        return 1
    conf = {}
    if text is not None and text.strip() != "":
        try:
            conf = json.loads(text)
        except ValueError as e:
            sys.stderr.write("%s is not valid JSON (%s); fix it or move it "
                             "away, then run this again\n" % (path, e))
            return 1
        if not isinstance(conf, dict):
            sys.stderr.write("%s is not a JSON object; fix it or move it "
                             "away, then run this again\n" % path)
            return 1
    if conf.get("userland-proxy") is False:
        print("unchanged")
        return 0
    conf["userland-proxy"] = False
    mode = 0o644
    if text is not None:
        mode = os.stat(path).st_mode & 0o7777
        if not os.path.exists(path + ".orig"):
            with open(path + ".orig", "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(path + ".orig", mode)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(conf, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.rename(tmp, path)
    print("created" if text is None else "changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
