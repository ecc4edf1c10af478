"""Every public address of the newsletter, built here, and its token read back here.

One owner: the links a message carries (`List-Unsubscribe`, the footer, "View in
browser", the confirmation link), the links and form actions of the web pages, the
feed's ids, the paths `archive build` writes and the routes `newsletter serve`
mounts all come from this module. When the same address is written twice, the
second copy is the bug waiting to differ: the unsubscribe link was percent-quoted
in the message and not on the web page until both were built here.

An address is `base_url` (with or without its trailing slash, with a path or not)
and a path: `https://example.org/digest/` and `/feed.xml` make
`https://example.org/digest/feed.xml`. The patterns (`UNSUBSCRIBE`, …) are the
paths the web app mounts, in Starlette's syntax, so a route and the link to it
cannot drift apart. A token, or a folder name, is always one path segment,
percent-quoted with nothing left safe (`segment`), whatever it holds; `token_in`
takes a token back out of a path or an address. (A server decodes the path before
it routes, so a token holding `/` would not reach its page: `new_token` makes none.)
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, unquote, urlsplit

HOME = "/"
HOME_PAGE = "/index.html"
SUBSCRIBE = "/subscribe"
FEED = "/feed.xml"
ISSUE_FOLDER = "/issues/{folder}/"
ISSUE_PAGE = "/issues/{folder}/{edition}.html"
UNSUBSCRIBE = "/unsubscribe/{token}"
PREFERENCES = "/preferences/{token}"
CONFIRM = "/confirm/{token}"
UNSUBSCRIBE_HELP = "/#unsubscribe"
"""The index's note on how to unsubscribe: where a public page's "Unsubscribe" leads
(a page that everyone may read carries nobody's own link)."""

Kind = Literal["unsubscribe", "preferences", "confirm"]
_WITH_TOKEN: dict[Kind, str] = {
    "unsubscribe": UNSUBSCRIBE,
    "preferences": PREFERENCES,
    "confirm": CONFIRM,
}
TOKEN_PREFIXES = tuple(pattern.removesuffix("{token}") for pattern in _WITH_TOKEN.values())
"""`/unsubscribe/`, `/preferences/`, `/confirm/`: what follows is a capability (the
access log cuts it)."""


def segment(value: str) -> str:
    """`value` as one path segment: percent-quoted, `/` included (the one rule for tokens)."""
    return quote(value, safe="")


def under(base_url: str, path: str) -> str:
    """`path` (starting with `/`) under `base_url`, where every public link points."""
    return base_url.rstrip("/") + path


def home(base_url: str) -> str:
    return under(base_url, HOME)


def subscribe(base_url: str) -> str:
    return under(base_url, SUBSCRIBE)


def feed(base_url: str) -> str:
    return under(base_url, FEED)


def unsubscribe_help(base_url: str) -> str:
    return under(base_url, UNSUBSCRIBE_HELP)


def prefix(kind: Kind) -> str:
    """The path before a `kind` token: `/unsubscribe/`."""
    return _WITH_TOKEN[kind].removesuffix("{token}")


def token_path(kind: Kind, token: str) -> str:
    """`/unsubscribe/<token>`, the token quoted."""
    return _WITH_TOKEN[kind].format(token=segment(token))


def unsubscribe(base_url: str, token: str) -> str:
    """The page (and the RFC 8058 one-click POST) that unsubscribes the holder of `token`."""
    return under(base_url, token_path("unsubscribe", token))


def preferences(base_url: str, token: str) -> str:
    """The page where the holder of `token` changes their name and edition."""
    return under(base_url, token_path("preferences", token))


def confirm(base_url: str, token: str) -> str:
    """The page that confirms a sign-up, from the link in the confirmation message."""
    return under(base_url, token_path("confirm", token))


def unsubscribe_mailto(address: str, token: str) -> str:
    """The `mailto:` of `List-Unsubscribe`: a message to `address` whose subject names
    the token (`unsubscribe <token>`), quoted by the same rule."""
    return f"mailto:{address}?subject=unsubscribe%20{segment(token)}"


def token_in(address: str, kind: Kind) -> str | None:
    """The token of a `kind` path or address (`…/unsubscribe/<token>`), unquoted; None
    if `address` is not one. A path before the prefix (`base_url`'s own) is allowed."""
    path = urlsplit(address).path
    _, found, token = path.rpartition(prefix(kind))
    if not found or not token or "/" in token:
        return None
    return unquote(token)


def issue_path(folder: str, edition: str) -> str:
    """An edition's page (`edition` is `index` for the issue's own page) under `base_url`."""
    return ISSUE_PAGE.format(folder=segment(folder), edition=segment(edition))


def folder_path(folder: str) -> str:
    """An issue's page, the folder's address (`/issues/<folder>/`)."""
    return ISSUE_FOLDER.format(folder=segment(folder))


def issue_page(base_url: str, folder: str, edition: str) -> str:
    """Where the web archive shows an edition: every message's "View in browser"."""
    return under(base_url, issue_path(folder, edition))
