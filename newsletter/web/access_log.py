"""One line per request, as uvicorn writes it, with the token cut from the path.

Written straight to standard output (line-buffered) rather than through `logging`:
uvicorn's own access log costs about 37 µs a request, near half of what serving
the archive index costs; this one a few. A path under `/unsubscribe/`,
`/preferences/` or `/confirm/` is logged without its token, which would
unsubscribe whoever reads the log.

Every field is written through `escaped`: a request for `/%0d%0aINFO: …` or with an
escape sequence in its path (or, from a trusted proxy, in X-Forwarded-For) would
otherwise forge a line of its own or drive the terminal that shows the log. Control
characters (C0, DEL, C1), the line and paragraph separators U+2028 and U+2029, the
quote that ends the field and the backslash that starts an escape are written as
`\\xHH` or `\\uHHHH`, as nginx writes its own.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

from newsletter.core import links

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECRET_PATHS = links.TOKEN_PREFIXES


_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, ord('"'), ord("\\")]
}


def escaped(text: str) -> str:
    """`text` with nothing in it that could end a line, a field or a terminal's sanity."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text  # the common case, at the cost of two scans
    return text.translate(_ESCAPES)


def loggable(path: str) -> str:
    """`path` with the token cut (`/unsubscribe/…`), escaped."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return escaped(path)


class AccessLog:
    """`INFO:     127.0.0.1:50312 - "GET / HTTP/1.1" 200` for each request."""

    def __init__(self, app: ASGIApp, out: TextIO | None = None) -> None:
        self.app = app
        self.out = out or sys.stdout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            host, port = scope.get("client") or ("-", 0)
            method, version = escaped(scope["method"]), escaped(scope["http_version"])
            self.out.write(
                f'INFO:     {escaped(str(host))}:{port} - "{method} '
                f'{loggable(scope["path"])} HTTP/{version}" {status}\n'
            )
