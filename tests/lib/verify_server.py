#!/usr/bin/env python3
"""Loopback HTTP server for the verifier tests.

  verify_server.py PORT DIR     serves the files of DIR (GET), quietly
  verify_server.py PORT --hang  accepts connections and never answers
"""
import functools
import http.server
import socket
import sys
import time


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def hang(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    held = []
    while True:
        conn, _ = s.accept()
        held.append(conn)  # keep it open, say nothing
        time.sleep(0.01)


def main():
    port = int(sys.argv[1])
    if sys.argv[2] == "--hang":
        hang(port)
    handler = functools.partial(Quiet, directory=sys.argv[2])
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
