"""Unsubscribe and preferences, by the token every message carries.

`POST /unsubscribe/{token}` unsubscribes at once: the RFC 8058 one-click POST that
Gmail and Yahoo send (`List-Unsubscribe=One-Click`), or the page's own button. It
is idempotent and needs no cookie or CSRF token: the token is the capability.
The one-click POST is taken from anywhere (mail providers send it from their own
servers, with no Origin or with theirs); every other POST here only from our own
pages (`web.origin`: 403 otherwise, nothing changed). `GET` never changes anything
(mail scanners and link previews fetch every link): it shows the button.
`/preferences/{token}` changes the name and the edition (effective for the next
issue, the time recorded), unsubscribes or resubscribes; after a bounce or a
complaint, resubscribing mails a confirmation link instead (`signup.request`):
the token alone is no consent. An unknown or malformed token is the same neutral
404 as any unknown page.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.audience import signup
from newsletter.audience.subscribers import (
    TOKEN_SHAPE,
    SubscriberError,
    normalise_lang,
    normalise_name,
)
from newsletter.config import Config
from newsletter.core import links
from newsletter.core.model import EDITIONS, Subscriber
from newsletter.store import Store
from newsletter.store import subscribers as rows
from newsletter.web.origin import refuse_cross_site
from newsletter.web.pages import render_page
from newsletter.web.state import config_of, store_of

_TOKEN = re.compile(TOKEN_SHAPE)


def routes() -> list[BaseRoute]:
    async def unsubscribe(request: Request) -> Response:
        return await Unsubscribe(config_of(request)).handle(request)

    async def preferences(request: Request) -> Response:
        return await Preferences(config_of(request)).handle(request)

    return [
        Route(links.UNSUBSCRIBE, unsubscribe, methods=["GET", "POST"]),
        Route(links.PREFERENCES, preferences, methods=["GET", "POST"]),
    ]


@dataclass
class _Page:
    config: Config

    def holder(self, db: sqlite3.Connection, token: str) -> Subscriber:
        """The subscriber `token` belongs to, or the neutral 404."""
        found = rows.find_by_token(db, token) if _TOKEN.fullmatch(token) else None
        if found is None:
            raise HTTPException(404)
        return found

    def page(self, name: str, subscriber: Subscriber, **context: object) -> Response:
        token, base_url = subscriber.token, self.config.newsletter.base_url
        own = {
            "unsubscribe_url": links.unsubscribe(base_url, token),
            "preferences_url": links.preferences(base_url, token),
        }
        html = render_page(
            self.config, name, subscriber=subscriber, editions=EDITIONS, **own, **context
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})


class Unsubscribe(_Page):
    async def handle(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method in ("GET", "HEAD"):  # HEAD is a GET too: it never changes anything
            subscriber = await store_of(request).run(lambda store: self.holder(store.db, token))
            return self.page("unsubscribe.html.j2", subscriber, done=subscriber.status != "active")
        form = await request.form()  # read (and size-check) the body
        one_click = form.get("List-Unsubscribe") == "One-Click"  # RFC 8058: a provider asks
        if not one_click:
            refuse_cross_site(self.config, request.headers)
        await store_of(request).run(lambda store: self.unsubscribe(store.db, token))
        if one_click:
            return PlainTextResponse("Unsubscribed. · 已退订。\n", headers=NO_STORE)
        subscriber = await store_of(request).run(lambda store: self.holder(store.db, token))
        return self.page("unsubscribe.html.j2", subscriber, done=True)

    def unsubscribe(self, db: sqlite3.Connection, token: str) -> None:
        """One statement (the write lock held for it alone); 404 if nobody holds `token`."""
        if not _TOKEN.fullmatch(token) or not rows.unsubscribe_token(db, token):
            raise HTTPException(404)


class Preferences(_Page):
    async def handle(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method in ("GET", "HEAD"):  # HEAD is a GET too: it never changes anything
            subscriber = await store_of(request).run(lambda store: self.holder(store.db, token))
            return self.page("preferences.html.j2", subscriber, saved=None, problem=None)
        refuse_cross_site(self.config, request.headers)
        form = await request.form()
        fields = {key: str(form.get(key, "")) for key in ("action", "name", "lang")}
        return await store_of(request).run(lambda store: self.change(store, token, fields))

    def change(self, store: Store, token: str, fields: dict[str, str]) -> Response:
        """Save, unsubscribe or resubscribe; a bad value is shown on the page (400), and
        too many sign-ups this hour too (429)."""
        subscriber = self.holder(store.db, token)
        try:
            saved = self.apply(store, subscriber, fields)
        except SubscriberError as error:
            return self.problem(subscriber, str(error), 400)
        except signup.Limited as limited:
            page = self.problem(subscriber, _busy(limited.retry_after), 429)
            page.headers["Retry-After"] = str(limited.retry_after)
            return page
        return self.page(
            "preferences.html.j2",
            self.holder(store.db, token),
            saved=saved,
            problem=None,
            days=self.config.web.confirm_days,
        )

    def problem(self, subscriber: Subscriber, problem: str, status: int) -> Response:
        page = self.page("preferences.html.j2", subscriber, saved=None, problem=problem)
        page.status_code = status
        return page

    def apply(self, store: Store, subscriber: Subscriber, fields: dict[str, str]) -> str:
        """What was done: `saved`, `unsubscribed`, `resubscribed`, or `confirm` (a
        confirmation link mailed: back only once it is opened)."""
        action = fields["action"] if fields["action"] in ("unsubscribe", "resubscribe") else "save"
        with store.transaction() as db:
            if action == "unsubscribe":
                rows.set_unsubscribed(db, subscriber.id)
                return "unsubscribed"
            if action == "resubscribe" and subscriber.status == "active":
                return "resubscribed"  # a second press: nothing to do
            if action == "resubscribe" and signup.needs_confirmation(store, subscriber):
                signup.request(
                    store, self.config, subscriber.email, subscriber.name, subscriber.lang
                )
                return "confirm"
            if action == "resubscribe":
                rows.set_active(db, subscriber.id, subscriber.name, subscriber.lang)
                return "resubscribed"
            name, lang = normalise_name(fields["name"]), normalise_lang(fields["lang"])
            rows.set_preferences(db, subscriber.id, name, lang)
        return "saved"


def _busy(retry_after: int) -> str:
    minutes = max(1, -(-retry_after // 60))
    return (
        f"Too many sign-ups right now: please try again in {minutes} minutes. · "
        f"目前订阅人数过多，请在 {minutes} 分钟后再试。"
    )


NO_STORE = {"Cache-Control": "no-store"}
