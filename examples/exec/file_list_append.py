#!/usr/bin/env python3
"""Lists kept in a JSON file, driven by photofinish's exec target with the list-append workload.

    photofinish run exec --workload list-append -- python3 examples/exec/file_list_append.py STATE [--lock]

A transaction is a list of micro-operations ["append", k, v] and ["r", k, null]. Without --lock
each micro-operation reads the file and writes it back on its own, so a transaction's reads see
other transactions' appends half way through and concurrent appends overwrite each other. With
--lock the whole transaction runs under an exclusive flock: one at a time, strict serializable.

It speaks the exec protocol: one JSON operation per line on stdin, one JSON answer per line on
stdout (see `photofinish run exec --help`).
"""

import fcntl
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def store(path, lists):
    # Write a new file and rename it over the old one, so a reader never sees half of it.
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(lists, f)
    os.replace(tmp, path)


def micro(path, f, k, v):
    lists = load(path)
    key = str(k)
    if f == "append":
        lists[key] = lists.get(key, []) + [v]
        store(path, lists)
        return [f, k, v]
    return [f, k, lists.get(key, [])]


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
                store(path, {})
                answer = {"type": "ok"}
            elif op["f"] == "txn":
                done = [micro(path, f, k, v) for f, k, v in op["value"]]
                answer = {"type": "ok", "value": done}
            else:
                answer = {"type": "fail", "error": f"unknown operation {op['f']}"}
        finally:
            if locked:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
