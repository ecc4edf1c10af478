"""The web app `newsletter serve` runs: routes, security headers, limits, errors.

Every response carries a Content-Security-Policy that allows no script and nothing
from elsewhere, `nosniff`, `Referrer-Policy: no-referrer` (tokens are in URLs) and
`frame-ancestors 'none'`: `serve` hands `SECURITY_HEADERS` to uvicorn, which writes
them into every response, so that Starlette's 500 (made outside every middleware of
ours) and uvicorn's own answers carry them too. A request body over `MAX_BODY`
bytes is refused (413) before it is read. An unknown path or token is the same
neutral 404 page; a wrong method is 405; HEAD works wherever GET does. State
changes only on POST. A path that is served with its trailing slash taken off
or put on is redirected there, under `base_url`, never the request's `Host`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from newsletter.config import Config
from newsletter.web.access_log import AccessLog
from newsletter.web.db import in_store
from newsletter.web.pages import render_page, url

MAX_BODY = 16 * 1024
"""Bytes a form may send: an address, a name, a language and a token fit many times."""

SECURITY_HEADERS = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
]

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
    app.router.redirect_slashes = False  # Starlette's redirect names the request's Host
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
        if error.status_code == 404 and (location := _other_slash(config, request)):
            return RedirectResponse(location, status_code=307)
        if error.status_code == 404:  # the same neutral page for every unknown path or token
            return HTMLResponse(render_page(config, "not_found.html.j2"), status_code=404)
        page = render_page(config, "error.html.j2", status=error.status_code)
        return HTMLResponse(page, status_code=error.status_code, headers=error.headers)

    return handle


def _other_slash(config: Config, request: Request) -> str | None:
    """Where `/subscribe/` goes (`/subscribe`), or `/issues/2024` (`/issues/2024/`):
    the same path with its trailing slash taken off or put on, under base_url, if a
    route serves that (Starlette's own redirect would name the request's Host)."""
    path = request.scope["path"]
    if request.method not in ("GET", "HEAD") or path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": other or "/"}
    if not any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
        return None
    raw = request.scope.get("raw_path") or path.encode()  # still %-encoded: no CR LF
    raw = raw.rstrip(b"/") if path.endswith("/") else raw + b"/"
    query = request.scope["query_string"]
    return url(config, raw.decode("ascii") or "/") + ("?" + query.decode("ascii") if query else "")


class _Limits:
    """Bodies over MAX_BODY refused with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        if scope["method"] in ("GET", "HEAD"):  # no body to limit: the common, fast path
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _too_large(scope, receive, send)
            return
        await self.app(scope, _capped(receive), send)


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
    response = PlainTextResponse("Request body too large / 请求内容过大\n", 413)
    await response(scope, receive, send)
