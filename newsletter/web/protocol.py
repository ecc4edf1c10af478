"""uvicorn's httptools protocol with the two limits it lacks: the size of a request's
head and the time a client may take to send a request.

httptools has no limit on the request line and headers, and it gathers a header
value that arrives in pieces by concatenating them: a client that streams a header
of 100 MB makes the worker copy gigabytes, and every other connection of that worker
waits (two such clients kept `/healthz` from answering for over a minute). Here the
bytes of a request's head are counted before they reach the parser: past
`HEAD_LIMIT`, the answer is 431 and the connection is closed. uvicorn also keeps a
connection that sends nothing, or a byte now and then, open forever: a request must
arrive whole (head and body) within `web.request_seconds` (10 s) of its first byte,
or of the connection's opening, or the connection is closed.

uvicorn writes its default headers (the security headers `serve` gives it) into
this 431 as into its own 400 for a request it cannot parse.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

HEAD_LIMIT = 64 * 1024
"""Bytes of a request line and headers: a browser's are a few hundred, a big cookie
jar's a few kB. (nginx allows 1 kB plus four buffers of 8 kB.)"""


TOO_LARGE = b"Request header fields too large\n"


def limit_requests(seconds: float) -> None:
    """Give every connection of this worker `seconds` for a whole request (a form is
    at most 16 kB: a client that takes longer is not a browser)."""
    BoundedHttpToolsProtocol.request_seconds = seconds


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """One connection; see the module's docstring."""

    request_seconds = 10.0  # web.request_seconds, set by the worker (`limit_requests`)
    head_bytes = 0  # of the request being read, while its head is incomplete
    in_head = True
    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # The head is fed no further than the limit, so a head and a body in one read
        # are told apart by the parser, not guessed.
        while data and self.in_head:
            allowed = HEAD_LIMIT - self.head_bytes
            if allowed <= 0:
                self._refuse_head()
                return
            part, data = data[:allowed], data[allowed:]
            self.head_bytes += len(part)
            super().data_received(part)
            if self.transport.is_closing():
                return
        if data:
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.deadline is None:  # a request on a connection kept alive: its own time
            self._arm()

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self.in_head, self.head_bytes = True, 0
        super().on_message_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """An `Upgrade` header is answered as plain HTTP, without two warnings a time in
        the log (serve has no WebSocket route)."""

    def _arm(self) -> None:
        self.deadline = self.loop.call_later(self.request_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _too_slow(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(TOO_LARGE),
            b"connection: close\r\n\r\n",
            TOO_LARGE,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
