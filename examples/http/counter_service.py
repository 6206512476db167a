#!/usr/bin/env python3
"""A small REST service of named counters with two versions of its add handler, to compare a
fix against the code it replaces with `photofinish compare`:

    python3 examples/http/counter_service.py --port 8090

    POST   /v1/counters/NAME/add  {"amount": N}  -> 200 {"value": V}   read, pause, write back (racy)
    POST   /v2/counters/NAME/add  {"amount": N}  -> 200 {"value": V}   the same under a lock (the fix)
    GET    /v1/counters/NAME, /v2/counters/NAME  -> 200 {"value": V}, 0 if never added to
    DELETE /v1/counters/NAME, /v2/counters/NAME  -> 204

Both versions share the counters. Standard library only. It listens on loopback and prints its
URL on the first line of output (with --port 0, on a free port).
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

COUNTERS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        """(version, counter name, action) of /vN/counters/NAME[/action], else Nones."""
        parts = self.path.split("/")
        if len(parts) < 4 or parts[1] not in ("v1", "v2") or parts[2] != "counters" or not parts[3]:
            return None, None, None
        return parts[1], unquote(parts[3]), "/".join(parts[4:])

    def do_GET(self):
        version, name, action = self.route()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            value = COUNTERS.get(name, 0)
        self.answer(200, {"value": value})

    def do_POST(self):
        version, name, action = self.route()
        if name is None or action != "add":
            return self.answer(404, {"error": "no such resource"})
        try:
            length = int(self.headers.get("content-length") or 0)
            amount = json.loads(self.rfile.read(length) or b"null")["amount"]
            if not isinstance(amount, int):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": 'expected {"amount": N}'})
        if version == "v1":
            # Read, think, write back: an add between the read and the write is lost.
            current = COUNTERS.get(name, 0)
            time.sleep(0.001)
            COUNTERS[name] = current + amount
            return self.answer(200, {"value": current + amount})
        with LOCK:
            value = COUNTERS.get(name, 0) + amount
            time.sleep(0.001)
            COUNTERS[name] = value
        self.answer(200, {"value": value})

    def do_DELETE(self):
        version, name, action = self.route()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            COUNTERS.pop(name, None)
        self.answer(204)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Room for every client's connection at once: the default of 5 makes the rest wait for
    # the kernel to retry their connect, a second each.
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
