#!/usr/bin/env python3
"""A counter kept in a JSON file, driven by photofinish's exec target.

    photofinish run exec --workload counter -- python3 examples/exec/file_counter.py STATE [--lock]

Without --lock an increment reads the file, works for a moment, and writes the new total back:
two clients that read the same total both write total + 1, and one increment is lost. With
--lock the read and the write happen under an exclusive flock, and nothing is lost.

It speaks the exec protocol: one JSON operation per line on stdin, one JSON answer per line on
stdout (see `photofinish run exec --help`).
"""

import fcntl
import json
import os
import sys
import time


def read_total(path):
    with open(path) as f:
        return json.load(f)


def write_total(path, total):
    # Write a new file and rename it over the old one, so a reader never sees half a number.
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(total, f)
    os.replace(tmp, path)


def main():
    path = sys.argv[1]
    locked = "--lock" in sys.argv[2:]
    lock_file = open(f"{path}.lock", "a")
    for line in sys.stdin:
        op = json.loads(line)
        if locked:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            if op["f"] == "setup":
                write_total(path, 0)
                answer = {"type": "ok"}
            elif op["f"] == "read":
                answer = {"type": "ok", "value": read_total(path)}
            elif op["f"] == "add":
                total = read_total(path)
                time.sleep(0.0005)  # the work between the read and the write
                write_total(path, total + op["value"])
                answer = {"type": "ok"}
            else:
                answer = {"type": "fail", "error": f"unknown operation {op['f']}"}
        finally:
            if locked:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
