#!/usr/bin/env python3
"""A counter behind two locks, driven by photofinish's exec target: a deadlock waiting to happen.

    photofinish run exec --workload counter -- python3 lock_order_counter.py STATE [--fixed-order]

Every operation takes two locks: the counter's and its audit log's, each a lock directory that
whoever creates it holds (as a lock row or a Redis key without expiry would be: a holder that
dies leaves it held). An add takes the counter's first, then the log's. So does a read, until the
counter passes 500: from then on a read also compacts the log, and the compaction path takes the
log's lock first, then the counter's. Once an add holds the counter's lock while a read holds
the log's, each waits for the other forever, every other client queues behind them, and the
operations hang for good. With --fixed-order every operation takes the counter's lock first, and nothing
hangs.

It speaks the exec protocol (see `photofinish run exec --help`).
"""

import json
import os
import sys
import time


def read_total(path):
    with open(path) as f:
        return json.load(f)


def write_total(path, total):
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(total, f)
    os.replace(tmp, path)


# From this total on, reads compact the log, and take the locks in the other order.
COMPACT_AT = 500


def acquire(lock):
    while True:
        try:
            os.mkdir(lock)
            return
        except FileExistsError:
            time.sleep(0.0005)


def main():
    path = sys.argv[1]
    fixed = "--fixed-order" in sys.argv[2:]
    counter_lock = f"{path}.counter.lock"
    log_lock = f"{path}.log.lock"
    for line in sys.stdin:
        op = json.loads(line)
        if op["f"] == "setup":
            write_total(path, 0)
            for lock in (counter_lock, log_lock):
                if os.path.isdir(lock):
                    os.rmdir(lock)
            print(json.dumps({"type": "ok"}), flush=True)
            continue
        first, second = counter_lock, log_lock
        if op["f"] == "read" and not fixed and read_total(path) >= COMPACT_AT:
            first, second = log_lock, counter_lock
        acquire(first)
        acquire(second)
        try:
            if op["f"] == "read":
                answer = {"type": "ok", "value": read_total(path)}
            elif op["f"] == "add":
                write_total(path, read_total(path) + op["value"])
                answer = {"type": "ok"}
            else:
                answer = {"type": "fail", "error": f"unknown operation {op['f']}"}
        finally:
            os.rmdir(second)
            os.rmdir(first)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
