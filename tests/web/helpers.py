"""What the web tests do as a reader would: fill in the subscribe form, wait for the
confirmation message, follow its link."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

import httpx

from tests.smtpd import wait_until
from tests.web.conftest import Web

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(client: httpx.Client) -> str:
    page = client.get("/subscribe")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return html.unescape(found.group(1))


def subscribe(
    client: httpx.Client,
    email: str,
    name: str = "",
    lang: str = "bilingual",
    headers: dict[str, str] | None = None,
    **extra: str,
) -> httpx.Response:
    """Fill in the form as a browser would: its token, an empty honeypot (`headers`:
    what the browser says of where the form was)."""
    data = {
        "csrf": form_token(client),
        "email": email,
        "name": name,
        "lang": lang,
        "website": "",
        **extra,
    }
    return client.post("/subscribe", data=data, headers=headers)


def confirmation_to(web: Web, email: str) -> EmailMessage:
    """The confirmation message `email` received (waiting for the outbox loop)."""
    wait_until(lambda: email.lower() in web.smtp.handler.count(), timeout=20)
    [message] = [r.message for r in web.smtp.handler.received if r.recipient == email.lower()]
    return message


def link_in(message: EmailMessage) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    found = re.search(r"(http\S+/confirm/\S+)", text.get_content())
    assert found is not None
    return found.group(1)
