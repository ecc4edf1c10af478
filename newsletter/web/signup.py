"""Subscribe with double opt-in: `/subscribe` and `/confirm/{token}`.

`GET /subscribe` is the form (address, optional name, edition), with a signed form
token and a honeypot field. `POST /subscribe` is checked in this order, each
refusal a page that says what to do: where it comes from (`web.origin`: 403, the
neutral error page, for a page of another site), the client's hourly limit (429),
the form token (400: fill in the form again), the honeypot (a bot gets the answer
everyone gets, and nothing is sent), the fields (400, the form again with what to
fix), the hourly limit of accepted requests (429). Then one answer for every
address, whatever the list knows of it, in the same time (`signup.request`).

`GET /confirm/{token}` shows a button and changes nothing (mail scanners fetch every
link); `POST` confirms (from our page only, as every form). A link used already
says that the address is confirmed, and nothing more (not even the address: its
holder may be someone the message was forwarded to); an unknown or expired token
is one neutral 404 page. The library is `newsletter.audience.signup`; every page is `no-store`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from newsletter.audience import signup
from newsletter.config import Config
from newsletter.core import links
from newsletter.store import Store
from newsletter.web.origin import refuse_cross_site
from newsletter.web.pages import render_page
from newsletter.web.state import config_of

FIELDS = ("email", "name", "lang", "csrf", "website")  # `website`: the honeypot
_LOCAL = threading.local()


def routes() -> list[BaseRoute]:
    async def subscribe(request: Request) -> Response:
        return await Signup(config_of(request)).subscribe(request)

    async def confirm(request: Request) -> Response:
        return await Signup(config_of(request)).confirm(request)

    return [
        Route(links.SUBSCRIBE, subscribe, methods=["GET", "POST"]),
        Route(links.CONFIRM, confirm, methods=["GET", "POST"]),
    ]


def store(config: Config) -> Store:
    """This thread's connection to the store (a worker thread serves many requests)."""
    cached: Store | None = getattr(_LOCAL, "store", None)
    if cached is None or cached.path != config.database_path:
        cached = _LOCAL.store = Store.open(config.database_path)
    return cached


@dataclass
class Signup:
    config: Config

    async def subscribe(self, request: Request) -> Response:
        if request.method != "POST":
            return await run_in_threadpool(self.form, {}, None, None)
        refuse_cross_site(self.config, request.headers)
        try:
            form = await request.form(max_files=0, max_fields=len(FIELDS) * 2)
        except HTTPException as error:  # not a form: a malformed or multipart-with-file body
            if error.status_code == 413:
                raise
            return self.page("signup_refused.html.j2", 400, reason="form")
        fields = {key: _text(form.get(key)) for key in FIELDS}
        client = request.client.host if request.client else "unknown"
        return await run_in_threadpool(self.submit, fields, client)

    def submit(self, fields: dict[str, str], client: str) -> Response:
        db = store(self.config)
        try:
            signup.count_client(db, self.config, client)
        except signup.Limited as limited:
            return self.limited(limited)
        if not signup.form_token_valid(db, fields["csrf"]):
            return self.page("signup_refused.html.j2", 400, reason="form")
        if fields["website"]:  # only a bot fills in a field nobody sees
            return self.sent()
        try:
            email, name, lang = signup.clean(fields["email"], fields["name"], fields["lang"])
        except signup.SignupProblem as problem:
            return self.form(fields, problem, 400)
        try:
            signup.request(db, self.config, email, name, lang)
        except signup.Limited as limited:
            return self.limited(limited)
        return self.sent()

    def form(
        self, values: dict[str, str], problem: signup.SignupProblem | None, status: int | None
    ) -> Response:
        shown = {
            "email": values.get("email", ""),
            "name": values.get("name", ""),
            "lang": values.get("lang") or "bilingual",
        }
        return self.page(
            "subscribe.html.j2",
            status or 200,
            csrf=signup.form_token(store(self.config)),
            values=shown,
            problem=str(problem) if problem else None,
            problem_field=problem.field if problem else None,
            email_max=signup.EMAIL_MAX,
        )

    def sent(self) -> Response:
        """The one answer to every accepted request, whatever the address is."""
        return self.page("subscribe_sent.html.j2", 200, days=self.config.web.confirm_days)

    def limited(self, limited: signup.Limited) -> Response:
        minutes = max(1, -(-limited.retry_after // 60))
        response = self.page("signup_refused.html.j2", 429, reason=limited.reason, minutes=minutes)
        response.headers["Retry-After"] = str(limited.retry_after)
        return response

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            refuse_cross_site(self.config, request.headers)
            await request.form()  # read (and size-check) the body
            return await run_in_threadpool(self.confirmed, token)
        return await run_in_threadpool(self.ask, token)

    def ask(self, token: str) -> Response:
        """The button; nothing changes until it is pressed."""
        waiting = signup.confirmation(store(self.config), token)
        if waiting is None:
            return self.unknown()
        if waiting.status == "confirmed":
            return self.already()
        return self.page(
            "confirm.html.j2",
            200,
            pending=waiting,
            confirm_url=links.confirm(self.config.newsletter.base_url, token),
        )

    def confirmed(self, token: str) -> Response:
        try:
            subscriber = signup.confirm(store(self.config), token)
        except signup.AlreadyConfirmed:
            return self.already()
        if subscriber is None:
            return self.unknown()
        preferences = links.preferences(self.config.newsletter.base_url, subscriber.token)
        return self.page(
            "confirmed.html.j2", 200, subscriber=subscriber, preferences_url=preferences
        )

    def already(self) -> Response:
        """A link used already: confirmed, and no more (no address, no preferences link)."""
        return self.page("confirm_used.html.j2", 200)

    def unknown(self) -> Response:
        """The same page for a token never made, or expired."""
        return self.page("confirm_unknown.html.j2", 404, days=self.config.web.confirm_days)

    def page(self, name: str, status: int, **context: object) -> Response:
        html = render_page(self.config, name, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _text(value: object) -> str:
    """A form value as text; anything else (a file) as nothing."""
    return value if isinstance(value, str) else ""
