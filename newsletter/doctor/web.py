"""The web side at `base_url`: not the example, answering, served by `newsletter
serve` (its `/healthz` says so, with its version), and the one-click unsubscribe
route reaching it (a POST to a token that belongs to nobody gets serve's neutral
404, with serve's own headers, not another server's 404 or 405)."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message

from newsletter.config import Config
from newsletter.core import links
from newsletter.core.origin_guard import is_example
from newsletter.core.version import version
from newsletter.doctor.check import Check, fail, ok, skip, warn

TIMEOUT = 10.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def checks(config: Config) -> list[Check]:
    base_url = config.newsletter.base_url.rstrip("/")
    if is_example(base_url):
        reason = "base_url is the example"
        return [
            fail(
                "base_url",
                f"newsletter.base_url is the example {base_url}: set it to the address "
                "where `newsletter serve` answers (every link in every message leads there)",
            ),
            skip("web.healthz", reason),
            skip("web.unsubscribe", reason),
        ]
    healthz = _healthz(base_url)
    if healthz.result == "fail":
        return [ok("base_url", base_url), healthz, skip("web.unsubscribe", "/healthz failed")]
    return [ok("base_url", base_url), healthz, _unsubscribe(base_url)]


def _healthz(base_url: str) -> Check:
    url = f"{base_url}/healthz"
    try:
        answer = _request(url)
    except OSError as error:
        return fail(
            "web.healthz",
            f"cannot reach {url}: {_reason(error)}: start `newsletter serve` there "
            "(or fix newsletter.base_url)",
        )
    said = answer.body.split()
    if answer.status != 200 or said[:2] != ["ok", "newsletter"] or len(said) != 3:
        return fail(
            "web.healthz",
            f"{url} answered {answer.status} {answer.body[:60]!r}, not `newsletter serve`'s "
            "`ok newsletter VERSION`: point base_url (or the proxy) at `newsletter serve`",
        )
    if said[2] != version():
        return warn(
            "web.healthz",
            f"{url} is newsletter {said[2]}, this is {version()}: restart `newsletter serve`",
        )
    return ok("web.healthz", f"newsletter {said[2]} answers at {url}")


def _unsubscribe(base_url: str) -> Check:
    """A one-click POST (RFC 8058) for a token nobody has: serve's neutral 404."""
    from newsletter.web.app import SECURITY_HEADERS

    url = links.unsubscribe(base_url, secrets.token_urlsafe(24))
    try:
        answer = _request(url, b"List-Unsubscribe=One-Click")
    except OSError as error:
        return fail("web.unsubscribe", f"a one-click POST to {url} failed: {_reason(error)}")
    ours = dict(SECURITY_HEADERS)["content-security-policy"]
    if answer.status == 404 and answer.headers.get("content-security-policy") == ours:
        return ok("web.unsubscribe", f"one-click POST {base_url}/unsubscribe/… reaches serve")
    return fail(
        "web.unsubscribe",
        f"a one-click POST to {base_url}/unsubscribe/… answered {answer.status}, not from "
        "`newsletter serve`: pass POST /unsubscribe/ (and every dynamic route) to serve",
    )


def _request(url: str, data: bytes | None = None) -> Answer:
    """GET (or POST `data` as a form); any status is an answer, OSError is none."""
    request = urllib.request.Request(url, data=data, headers={"User-Agent": "newsletter-doctor"})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return _answer(response.status, response.headers, response.read(65536))
    except urllib.error.HTTPError as error:
        with error:
            return _answer(error.code, error.headers, error.read(65536))


def _answer(status: int, headers: Message, body: bytes) -> Answer:
    named = {name.lower(): value for name, value in headers.items()}
    return Answer(status, named, body.decode("utf-8", "replace"))


def _reason(error: OSError) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error)
