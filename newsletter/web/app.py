"""The web app `newsletter serve` runs: routes, security headers, limits, errors.

Every response carries a Content-Security-Policy that allows no script and nothing
from elsewhere, `nosniff`, `Referrer-Policy: no-referrer` (tokens are in URLs) and
`frame-ancestors 'none'`. A request body over `MAX_BODY` bytes is refused (413)
before it is read. An unknown path or token is the same neutral 404 page; a wrong
method is 405; HEAD works wherever GET does. State changes only on POST.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.config import Config
from newsletter.web.access_log import AccessLog
from newsletter.web.db import in_store
from newsletter.web.pages import render_page

MAX_BODY = 16 * 1024
"""Bytes a form may send: an address, a name, a language and a token fit many times."""

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]  # fmt: skip

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_app(config: Config) -> Starlette:
    """The app for `config`: every route of the web side."""
    from newsletter.web import archive, signup, unsubscribe

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    for module in (unsubscribe, signup, archive):
        routes += module.routes(config)
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _error_page(config)},  # type: ignore[dict-item]
    )
    app.state.config = config
    app.add_middleware(_Limits)
    if config.web.access_log:
        app.add_middleware(AccessLog)
    return app


async def healthz(request: Request) -> Response:
    """For a load balancer: the app answers and its database does."""
    await in_store(request.app.state.config, lambda db: db.execute("SELECT 1").fetchall())
    return PlainTextResponse("ok\n")


def _error_page(config: Config) -> Callable[[Request, HTTPException], Awaitable[Response]]:
    async def handle(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:  # the same neutral page for every unknown path or token
            return HTMLResponse(render_page(config, "not_found.html.j2"), status_code=404)
        page = render_page(config, "error.html.j2", status=error.status_code)
        return HTMLResponse(page, status_code=error.status_code, headers=error.headers)

    return handle


class _Limits:
    """Security headers on every response; bodies over MAX_BODY refused with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if scope["method"] in ("GET", "HEAD"):  # no body to limit: the common, fast path
            await self.app(scope, receive, with_headers)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _too_large(scope, receive, send)
            return
        await self.app(scope, _capped(receive), with_headers)


def _capped(receive: Receive) -> Receive:
    """A body that grows past MAX_BODY without a Content-Length is cut off there."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY:
            raise HTTPException(413)
        return message

    return capped


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    response = PlainTextResponse("Request body too large / 请求内容过大\n", 413, headers)
    await response(scope, receive, send)
