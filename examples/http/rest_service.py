#!/usr/bin/env python3
"""A small REST service of named registers, to try `photofinish run http` on a plain REST API.

    python3 examples/http/rest_service.py --port 8080            # compare-and-set under a lock
    python3 examples/http/rest_service.py --port 8080 --racy     # cas as read, pause, write

    PUT    /registers/NAME        {"value": V}           -> 200 {"value": V}
    GET    /registers/NAME                               -> 200 {"value": V}, null if never written
    POST   /registers/NAME/cas    {"from": A, "to": B}   -> 200 {"value": B}, or 409 if the value is not A
    DELETE /registers/NAME                               -> 204

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
LOCK = threading.Lock()
RACY = False


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

    def name_and_action(self):
        parts = self.path.split("/")
        if len(parts) < 3 or parts[1] != "registers" or not parts[2]:
            return None, None
        return unquote(parts[2]), "/".join(parts[3:])

    def body(self):
        length = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def do_GET(self):
        name, action = self.name_and_action()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            value = REGISTERS.get(name)
        self.answer(200, {"value": value})

    def do_PUT(self):
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
        name, action = self.name_and_action()
        if name is None or action:
            return self.answer(404, {"error": "no such resource"})
        with LOCK:
            REGISTERS.pop(name, None)
        self.answer(204)


def main():
    global RACY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--racy", action="store_true", help="cas as read, pause, write")
    args = parser.parse_args()
    RACY = args.racy
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
