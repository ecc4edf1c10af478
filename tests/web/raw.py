"""HTTP as a hostile client writes it: bytes on a socket, no client library to tidy
the request line, the headers or the pace."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased; the last of a repeated name
    body: bytes


def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def read_answer(sock: socket.socket) -> Answer:
    """One answer with a Content-Length, on a connection that stays open."""
    raw = b""
    while True:
        _, found, body = raw.partition(b"\r\n\r\n")
        if found and len(body) >= int(parse(raw).headers.get("content-length", 0)):
            return parse(raw)
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {raw!r}"
        raw += chunk


def exchange(port: int, request: bytes) -> Answer:
    """Send `request` (which should ask for `Connection: close`), read the answer."""
    with connect(port) as sock:
        sock.sendall(request)
        return parse(read_all(sock))


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def get(path: str, *headers: str) -> bytes:
    """A GET request for `path` as given (no quoting), with `headers`, closing after."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
