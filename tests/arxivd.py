"""A real HTTP server for tests that answers as the arXiv API does, on 127.0.0.1.

`GET /api/query?id_list=…&max_results=…` gets the Atom files of `tests/data/arxiv/`
(written from the API's manual, with its quirks): the replies a test scripts, in
order, then `default`. Faults live here, in the server, never in a patched client:
a status (503, 429, 400), an answer held until the client gives up on it (a slow
server, without sleeping), a connection closed with no answer, an answer too
large, or no server at all (`stop`, then `start` again on the same port). Every
request is recorded as it arrives, with its time on the monotonic clock.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "arxiv"


@dataclass
class Reply:
    """One answer: a data file (or `body`) with a status and headers, or a fault."""

    file: str | None = "feed.xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    hold: bool = False  # answer nothing until the client hangs up (its timeout)
    drop: bool = False  # close the connection without a word
    length: bool = True  # send Content-Length (else the body runs to the close)

    def content(self) -> bytes:
        if self.body is not None:
            return self.body
        return (DATA / self.file).read_bytes() if self.file else b""


@dataclass
class Seen:
    """A request as it arrived."""

    at: float  # time.monotonic()
    path: str
    query: dict[str, list[str]]
    user_agent: str

    @property
    def ids(self) -> list[str]:
        return self.query["id_list"][0].split(",") if "id_list" in self.query else []


class ArxivServer:
    """`with ArxivServer() as api:` and point `arxiv.api_url` at `api.url`."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.default = Reply()
        self.seen: list[Seen] = []
        self.on_request: Any = None  # called with each Seen, before it is answered
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/query"

    def __enter__(self) -> ArxivServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> ArxivServer:
        """Listen (again, on the same port once it has one) and serve."""
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.stopping.clear()
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: from now on a connection is refused."""
        self.stopping.set()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread:
            self.thread.join()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Seen]:
        """Wait until `count` requests have arrived; all of them."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.seen) >= count, timeout), self.seen
            return list(self.seen)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests, as they arrived."""
        return [later.at - earlier.at for earlier, later in itertools.pairwise(self.seen)]

    def _next(self, seen: Seen) -> Reply:
        with self.changed:
            self.seen.append(seen)
            self.changed.notify_all()
            return self.replies.pop(0) if self.replies else self.default


def _handler(server: ArxivServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            seen = Seen(
                time.monotonic(),
                parts.path,
                parse_qs(parts.query),
                self.headers.get("User-Agent", ""),
            )
            if server.on_request:
                server.on_request(seen)
            reply = server._next(seen)
            if reply.hold:
                _wait_for_hang_up(self.connection, server.stopping)
            if reply.hold or reply.drop:
                self.close_connection = True
                return
            self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            body = reply.content()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/atom+xml; charset=UTF-8")
            if reply.length:
                self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client may stop reading (an answer too large), as it should.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reads `seen`

    return Handler


def _wait_for_hang_up(connection: socket.socket, stopping: threading.Event) -> None:
    """Block until the client closes its end (it timed out) or the server stops."""
    while not stopping.is_set():
        readable, _, _ = select.select([connection], [], [], 0.05)
        if readable and not connection.recv(1, socket.MSG_PEEK):
            return


def arxiv_workspace(workspace: Path, server: ArxivServer) -> Path:
    """`workspace` with the arXiv tests' digest and its config pointing at `server`."""
    (workspace / "digests").mkdir()
    (workspace / "digests" / "arxiv.md").write_bytes((DATA / "digest.md").read_bytes())
    (workspace / "newsletter.toml").write_text(arxiv_toml(server), encoding="utf-8")
    return workspace


def arxiv_toml(server: ArxivServer, **settings: object) -> str:
    """An `[arxiv]` table pointing at `server`, fast enough for tests."""
    values = {
        "api_url": server.url,
        "interval": 0.05,
        "timeout": 5,
        "retries": 2,
        "retry_delay": 0.01,
        **settings,
    }
    lines = [f"{key} = {_toml(value)}" for key, value in values.items()]
    return "[arxiv]\n" + "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)
