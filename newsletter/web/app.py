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

What a worker holds for its whole life starts and stops in `lifespan`: its database
thread and connection (`db.StoreThread`) and the archive's rendered copy. Every
handler reaches the configuration and these through the request (`state.py`). The
outbox, one for the whole of `serve`, runs in the supervisor (`server.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from newsletter.config import Config
from newsletter.web.access_log import AccessLog
from newsletter.web.db import StoreThread
from newsletter.web.pages import render_page, url
from newsletter.web.state import config_of, store_of

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
        routes += module.routes()
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _error_page},  # type: ignore[dict-item]
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # Starlette's redirect names the request's Host
    app.state.config = config
    app.add_middleware(_Limits)
    if config.web.access_log:
        app.add_middleware(AccessLog)
    return app


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """A worker's life: its database thread and the archive's copy, made before the
    first request and closed (connections, then the thread) after the last."""
    from newsletter.web.archive import Archive

    config: Config = app.state.config
    app.state.store = StoreThread(config.database_path)
    app.state.archive = Archive(config)
    try:
        yield
    finally:
        app.state.archive.close()
        app.state.store.close()


HEALTHZ_NAME = "newsletter"
"""What /healthz says it is (`ok newsletter 0.1.0`), so that `doctor` can tell this
project's server from anything else answering at `base_url`."""


async def healthz(request: Request) -> Response:
    """For a load balancer (the app answers and its database does) and for `doctor`:
    `ok`, what answers and its version."""
    from newsletter.core.version import version

    await store_of(request).run(lambda store: store.db.execute("SELECT 1").fetchall())
    return PlainTextResponse(f"ok {HEALTHZ_NAME} {version()}\n")


async def _error_page(request: Request, error: HTTPException) -> Response:
    config = config_of(request)
    if error.status_code == 404 and (location := _other_slash(config, request)):
        return RedirectResponse(location, status_code=307)
    if error.status_code == 404:  # the same neutral page for every unknown path or token
        return HTMLResponse(render_page(config, "not_found.html.j2"), status_code=404)
    page = render_page(config, "error.html.j2", status=error.status_code)
    return HTMLResponse(page, status_code=error.status_code, headers=error.headers)


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
