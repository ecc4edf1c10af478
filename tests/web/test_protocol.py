"""The limits of serve's HTTP protocol (web/protocol.py), from raw sockets against the
real `newsletter serve`: a request's head is at most 64 kB, a request arrives within
its time, and clients that break either leave the others served."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from newsletter.core.version import version
from newsletter.web.protocol import HEAD_LIMIT
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer, free_port
from tests.web.conftest import Web, start_serve, stop_serve
from tests.web.raw import connect, exchange, get, read_all, read_answer

STREAMED = 64 * 1024 * 1024  # what each hostile client tries to send as one header

HEALTHY = f"ok newsletter {version()}\n".encode()


def port_of(web: Web) -> int:
    port = urlsplit(web.base).port
    assert port is not None
    return port


def test_a_head_over_the_limit_is_431_with_the_security_headers(web: Web) -> None:
    big = "X-Big: " + "a" * (HEAD_LIMIT + 1000)
    answer = exchange(port_of(web), get("/healthz", big))
    assert answer.status == 431
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["connection"] == "close"


def test_a_long_url_counts_against_the_same_limit(web: Web) -> None:
    answer = exchange(port_of(web), get("/" + "a" * (HEAD_LIMIT + 1000)))
    assert answer.status == 431


def test_a_big_head_under_the_limit_is_served(web: Web) -> None:
    """A cookie jar of 60 kB, in one header and in many."""
    one = "Cookie: " + "c" * 60_000
    many = [f"X-Part-{i}: " + "p" * 500 for i in range(110)]
    for headers in ([one], many):
        answer = exchange(port_of(web), get("/healthz", *headers))
        assert (answer.status, answer.body) == (200, HEALTHY)


def test_keep_alive_requests_each_have_their_own_limit(web: Web) -> None:
    """Ten requests of 40 kB each on one connection: 400 kB, none over the limit."""
    header = "X-Pad: " + "p" * 40_000
    with connect(port_of(web)) as sock:
        for _ in range(10):
            sock.sendall(get("/healthz", header).replace(b"Connection: close\r\n", b""))
            assert read_answer(sock).status == 200


def stream_a_huge_header(port: int, refused: list[int]) -> None:
    """Send a request whose one header would be STREAMED bytes; note how much went
    before the server closed the connection (STREAMED if it never did)."""
    sent = 0
    chunk = b"a" * 65536
    try:
        with connect(port, timeout=30) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
            while sent < STREAMED:
                sock.sendall(chunk)
                sent += len(chunk)
    except OSError:  # reset or broken pipe: the server closed the connection
        pass
    refused.append(sent)


def test_clients_streaming_huge_headers_leave_healthz_answering(web: Web) -> None:
    """Four connections each streaming a header of 64 MB: /healthz answers within 1 s
    all along (httptools alone would concatenate the value, a copy per read)."""
    refused: list[int] = []
    streams = [
        threading.Thread(target=stream_a_huge_header, args=(port_of(web), refused))
        for _ in range(4)
    ]
    for stream in streams:
        stream.start()
    answers = 0
    with httpx.Client(base_url=web.base, timeout=1) as client:
        while any(stream.is_alive() for stream in streams) or answers < 5:
            assert client.get("/healthz").status_code == 200
            answers += 1
    for stream in streams:
        stream.join()
    assert len(refused) == 4 and all(sent < STREAMED for sent in refused), refused


def test_a_client_too_slow_with_its_request_is_cut_off(workspace: Path, server: SmtpServer) -> None:
    """One connection says nothing; one sends its head a byte every tenth of a second;
    one sends a head and too little of its body. Each is closed about
    `web.request_seconds` (2 here) after it opened, and the server answers others
    meanwhile."""
    port = free_port()
    site = make_site(workspace, server.port, THREE, base_url=f"http://127.0.0.1:{port}")
    with (site / "newsletter.toml").open("a") as config:
        config.write("[web]\nrequest_seconds = 2\n")
    process = start_serve(site, port, "--workers", "1")
    silent, trickling, bodiless = connect(port, 30), connect(port, 30), connect(port, 30)
    opened = time.monotonic()
    bodiless.sendall(
        b"POST /unsubscribe/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\nab"
    )
    closed: dict[str, float] = {}

    def wait_closed(name: str, sock: socket.socket) -> None:
        read_all(sock)
        closed[name] = time.monotonic() - opened

    watchers = [
        threading.Thread(target=wait_closed, args=item)
        for item in (("silent", silent), ("bodiless", bodiless))
    ]
    for watcher in watchers:
        watcher.start()
    try:
        for byte in get("/healthz", "X-Slow: " + "s" * 100):
            trickling.sendall(bytes([byte]))
            time.sleep(0.1)  # the slow client itself
    except OSError:
        closed["trickling"] = time.monotonic() - opened
    for watcher in watchers:
        watcher.join()
    for sock in (silent, trickling, bodiless):
        sock.close()
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    stop_serve(process, site)
    assert set(closed) == {"silent", "trickling", "bodiless"}, closed
    for name, after in closed.items():
        assert 1.5 < after < 5, (name, after)


def test_a_malformed_request_is_uvicorns_400_with_the_security_headers(web: Web) -> None:
    answer = exchange(port_of(web), b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
    assert answer.status == 400
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_websocket_upgrade_is_answered_as_plain_http(web: Web) -> None:
    """No WebSocket route: the request is an ordinary GET, not a bare 403."""
    upgrade = (
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    )
    request = get("/healthz", *upgrade).replace(b"Connection: close\r\n", b"")
    with connect(port_of(web)) as sock:
        sock.sendall(request)
        answer = read_answer(sock)
    assert (answer.status, answer.body) == (200, HEALTHY)
    assert answer.headers["referrer-policy"] == "no-referrer"
