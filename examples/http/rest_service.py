#!/usr/bin/env python3
"""A small REST service of named registers, to try `photofinish run http` on a plain REST API.

    python3 examples/http/rest_service.py --port 8080            # compare-and-set under a lock
    python3 examples/http/rest_service.py --port 8080 --racy     # cas as read, pause, write

    PUT    /registers/NAME        {"value": V}           -> 200 {"value": V}
    GET    /registers/NAME                               -> 200 {"value": V}, null if never written
    POST   /registers/NAME/cas    {"from": A, "to": B}   -> 200 {"value": B}, or 409 if the value is not A
    DELETE /registers/NAME                               -> 204

    GET    /lists/NAME                                   -> 200 {"value": [...]}, null if never written
    POST   /lists/NAME/append  {"value": V}              -> 200 {"value": V}
    PUT    /lists/NAME         {"value": [...]}          -> 200 {"value": [...]}
    DELETE /lists/NAME                                   -> 204

    POST   /txn/SPACE  {"ops": [["read", R, null], ["write", R, V], ...]}
                                                         -> 200 {"value": the ops, reads filled in}
    DELETE /txn/SPACE                                    -> 204 (forgets SPACE's registers)

    POST   /txn-append/SPACE  {"ops": [["append", K, V], ["r", K, null], ...]}
                                                         -> 200 {"value": the ops, reads filled in}
    DELETE /txn-append/SPACE                             -> 204 (forgets SPACE's lists)

A transaction runs all its operations under one lock, so no other request sees it half done;
with --racy each of its operations takes the lock on its own, with a pause between them, so
transactions interleave (and a lone append reads the list, pauses and writes it back): the
non-atomic updates photofinish catches.

Standard library only. It listens on loopback and prints its URL on the first line of output
(with --port 0, on a free port).
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

REGISTERS = {}
LISTS = {}
SPACES = {}
LIST_SPACES = {}
LOCK = threading.Lock()
RACY = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffer each answer and send it in one write (the server flushes after every request):
    # headers and body written apart meet the client's delayed ACK, 40 ms per request.
    wbufsize = 1 << 16

    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def name_and_action(self, resource="registers"):
        parts = self.path.split("/")
        if len(parts) < 3 or parts[1] != resource or not parts[2]:
            return None, None
        return unquote(parts[2]), "/".join(parts[3:])

    def resource(self):
        parts = self.path.split("/")
        return parts[1] if len(parts) > 1 else ""

    def body(self):
        length = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def do_GET(self):
        if self.resource() == "lists":
            return self.get_list()
        name, action = self.name_and_action()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            value = REGISTERS.get(name)
        self.answer(200, {"value": value})

    def do_PUT(self):
        if self.resource() == "lists":
            return self.put_list()
        name, action = self.name_and_action()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        try:
            value = self.body()["value"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'expected {"value": V}'})
        with LOCK:
            REGISTERS[name] = value
        self.answer(200, {"value": value})

    def do_POST(self):
        if self.resource() == "lists":
            return self.append_to_list()
        if self.resource() == "txn":
            return self.transaction()
        if self.resource() == "txn-append":
            return self.append_transaction()
        name, action = self.name_and_action()
        if name is None or action != "cas":
            return self.answer(404, {"error": "no such resource"})
        try:
            body = self.body()
            expected, new = body["from"], body["to"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'expected {"from": A, "to": B}'})
        if RACY:
            # Read, think, write: another request can change the value in between.
            current = REGISTERS.get(name)
            time.sleep(0.002)
            if current != expected:
                return self.answer(409, {"error": "value differs", "value": current})
            REGISTERS[name] = new
            return self.answer(200, {"value": new})
        with LOCK:
            current = REGISTERS.get(name)
            if current != expected:
                return self.answer(409, {"error": "value differs", "value": current})
            REGISTERS[name] = new
        self.answer(200, {"value": new})

    def do_DELETE(self):
        resource = self.resource()
        store = {"lists": LISTS, "txn": SPACES, "txn-append": LIST_SPACES}.get(resource, REGISTERS)
        name, action = self.name_and_action(resource)
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            store.pop(name, None)
        self.answer(204)

    def get_list(self):
        name, action = self.name_and_action("lists")
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            value = LISTS.get(name)
            value = None if value is None else list(value)
        self.answer(200, {"value": value})

    def put_list(self):
        name, action = self.name_and_action("lists")
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        try:
            value = self.body()["value"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'expected {"value": [...]}'})
        if not isinstance(value, list):
            return self.answer(400, {"error": 'expected {"value": [...]}'})
        with LOCK:
            LISTS[name] = list(value)
        self.answer(200, {"value": value})

    def append_to_list(self):
        name, action = self.name_and_action("lists")
        if name is None or action != "append":
            return self.answer(404, {"error": "no such resource"})
        try:
            value = self.body()["value"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'expected {"value": V}'})
        if RACY:
            # Read, think, write back: an append made in between is lost.
            current = list(LISTS.get(name, []))
            time.sleep(0.002)
            LISTS[name] = current + [value]
            return self.answer(200, {"value": value})
        with LOCK:
            LISTS.setdefault(name, []).append(value)
        self.answer(200, {"value": value})

    def transaction(self):
        self.run_transaction("txn", SPACES, ("read", "r", "write", "w"), "read or write",
                             "register", apply_step)

    def append_transaction(self):
        self.run_transaction("txn-append", LIST_SPACES, ("append", "r"), "append or r",
                             "key", append_step)

    def run_transaction(self, resource, spaces, fs, fs_text, thing, step):
        """One transaction on /RESOURCE/SPACE: `{"ops": [[f, THING, value], ...]}`, each op one
        of `fs` applied by `step` to the space's objects in `spaces`; all under the lock, or
        (RACY) one op at a time."""
        space, action = self.name_and_action(resource)
        if space is None or action:
            return self.answer(404, {"error": "no such resource"})
        try:
            ops = self.body()["ops"]
            steps = [(op[0], op[1], op[2]) for op in ops]
        except (ValueError, KeyError, TypeError, IndexError):
            return self.answer(400, {"error": 'expected {"ops": [[f, %s, value], ...]}' % thing})
        if any(f not in fs for f, _, _ in steps):
            return self.answer(400, {"error": "an op is " + fs_text})
        done = []
        if RACY:
            # Each operation on its own: another transaction can interleave between them.
            for f, name, value in steps:
                with LOCK:
                    done.append(step(spaces.setdefault(space, {}), f, name, value))
                time.sleep(0.001)
        else:
            with LOCK:
                objects = spaces.setdefault(space, {})
                done = [step(objects, f, n, v) for f, n, v in steps]
        self.answer(200, {"value": done})

def append_step(lists, f, key, value):
    """One append or read of a list-append transaction over `lists`, as it completed: a read
    returns a copy of the whole list, null before the first append."""
    # JSON object keys are strings; keep the key as sent (a number) in the answer.
    name = json.dumps(key)
    if f == "append":
        lists.setdefault(name, []).append(value)
        return [f, key, value]
    current = lists.get(name)
    return [f, key, None if current is None else list(current)]


def apply_step(registers, f, register, value):
    """One read or write of a transaction over `registers`, as it completed."""
    if f in ("write", "w"):
        registers[register] = value
        return [f, register, value]
    return [f, register, registers.get(register)]


def main():
    global RACY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--racy", action="store_true", help="cas as read, pause, write")
    args = parser.parse_args()
    RACY = args.racy
    # Room for every client's connection at once: with the default backlog of 5, a burst of
    # connects overflows it and the kernel retries the dropped ones a second later.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
