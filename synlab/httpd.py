"""A small HTTP server for the proxy tests: deterministic downloads and hashed uploads.

    GET  /blob/<size>   -> <size> bytes of a fixed pseudo-random stream (blob_bytes)
    POST /sink          -> the SHA-256 (hex) of the body
    GET  /hello         -> "hello\\n"

    python3 -m synlab.httpd ADDRESS PORT
"""
from __future__ import annotations

import hashlib
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16


def blob_chunk() -> bytes:
    """64 KiB of SHA-256 output in counter mode: the pattern every blob repeats."""
    return b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(CHUNK // 32))


def blob_bytes(size: int) -> bytes:
    chunk = blob_chunk()
    return (chunk * (size // CHUNK + 1))[:size]


def blob_sha256(size: int) -> str:
    h = hashlib.sha256()
    chunk = blob_chunk()
    left = size
    while left > 0:
        n = min(left, CHUNK)
        h.update(chunk[:n])
        left -= n
    return h.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if self.path == "/hello":
            body = b"hello\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/blob/"):
            size = int(self.path[len("/blob/"):])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = blob_chunk()
            left = size
            while left > 0:
                n = min(left, CHUNK)
                self.wfile.write(chunk[:n])
                left -= n
            return
        self.send_error(404)

    def do_POST(self):
        if self.path != "/sink":
            self.send_error(404)
            return
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while left > 0:
            data = self.rfile.read(min(left, CHUNK))
            if not data:
                break
            h.update(data)
            left -= len(data)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, addr: str, port: int):
        if ":" in addr:
            self.address_family = socket.AF_INET6
        super().__init__((addr, port), Handler)


if __name__ == "__main__":
    Server(sys.argv[1], int(sys.argv[2])).serve_forever()
