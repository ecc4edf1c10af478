"""The public addresses: every built link parses back to its token, whatever the token
holds and wherever `base_url` points; and a token is quoted the same in the message
header, the message's parts, the web page's forms and the route the web app mounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Route

from newsletter.audience import signup
from newsletter.audience.subscribers import new_token
from newsletter.config import NewsletterSettings, load_config
from newsletter.core import links
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER, Subscriber
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.store import Store, pending
from newsletter.web import signup as signup_pages
from newsletter.web import unsubscribe as unsubscribe_pages
from tests.helpers import parse_message

BASES = [
    ("https://example.org", "https://example.org"),
    ("https://example.org/", "https://example.org"),
    ("https://example.org/digest", "https://example.org/digest"),
    ("https://example.org/digest/", "https://example.org/digest"),
]
KINDS: list[links.Kind] = ["unsubscribe", "preferences", "confirm"]
BUILDERS = {"unsubscribe": links.unsubscribe, "preferences": links.preferences}
BUILDERS["confirm"] = links.confirm
ODD = "a b+c=d?e#f%g&h;é中"  # every character here means something in a URL, or is not ASCII
TOKEN_TEXT = st.text(min_size=1, max_size=80)


@pytest.mark.parametrize(("base_url", "root"), BASES)
def test_each_address_is_its_path_under_base_url(base_url: str, root: str) -> None:
    assert links.home(base_url) == root + "/"
    assert links.subscribe(base_url) == root + "/subscribe"
    assert links.feed(base_url) == root + "/feed.xml"
    assert links.unsubscribe_help(base_url) == root + "/#unsubscribe"
    assert links.unsubscribe(base_url, "T0k3n") == root + "/unsubscribe/T0k3n"
    assert links.preferences(base_url, "T0k3n") == root + "/preferences/T0k3n"
    assert links.confirm(base_url, "T0k3n") == root + "/confirm/T0k3n"
    assert links.issue_page(base_url, "0003-2024-07-15", "en") == (
        root + "/issues/0003-2024-07-15/en.html"
    )
    assert links.under(base_url, "/index.html") == root + "/index.html"


@pytest.mark.parametrize(("base_url", "root"), BASES)
@given(token=TOKEN_TEXT)
def test_every_token_link_parses_back_to_its_token(base_url: str, root: str, token: str) -> None:
    for kind in KINDS:
        built = BUILDERS[kind](base_url, token)
        assert built.startswith(root + links.prefix(kind))
        tail = built.removeprefix(root + links.prefix(kind))
        assert re.fullmatch(r"[A-Za-z0-9_.~%-]+", tail), tail  # one segment, all quoted
        assert links.token_in(built, kind) == token
        assert links.token_in(links.token_path(kind, token), kind) == token
        others = [other for other in KINDS if other != kind]
        assert all(links.token_in(built, other) is None for other in others)


@given(token=TOKEN_TEXT)
def test_the_mailto_names_the_same_quoted_token(token: str) -> None:
    mailto = links.unsubscribe_mailto("unsubscribe@example.org", token)
    address, _, query = mailto.partition("?")
    assert address == "mailto:unsubscribe@example.org"
    assert query == "subject=unsubscribe%20" + links.segment(token)
    assert unquote(query.removeprefix("subject=")) == "unsubscribe " + token


@pytest.mark.parametrize(
    "path",
    ["/unsubscribe/", "/unsubscribe", "/unsubscribe/a/b", "/issues/x/en.html", "", "/"],
)
def test_what_is_not_a_token_link_has_no_token(path: str) -> None:
    assert links.token_in(path, "unsubscribe") is None
    assert links.token_in("https://example.org" + path, "unsubscribe") is None


def test_a_query_or_fragment_is_not_part_of_the_token() -> None:
    assert links.token_in("https://example.org/unsubscribe/T0k3n?x=1#y", "unsubscribe") == "T0k3n"


def test_the_secret_prefixes_are_those_of_the_token_links() -> None:
    assert links.TOKEN_PREFIXES == ("/unsubscribe/", "/preferences/", "/confirm/")
    assert tuple(links.prefix(kind) for kind in KINDS) == links.TOKEN_PREFIXES


@pytest.mark.parametrize(("base_url", "root"), BASES)
def test_a_folder_that_needs_quoting_is_one_segment_and_served_back(
    base_url: str, root: str
) -> None:
    page = links.issue_page(base_url, "0003 a?b#c", "zh")
    assert page == root + "/issues/0003%20a%3Fb%23c/zh.html"
    params = _route_params(Route(links.ISSUE_PAGE, _nothing), urlsplit(page).path, root, "GET")
    assert params == {"folder": "0003 a?b#c", "edition": "zh"}
    params = _route_params(Route(links.ISSUE_FOLDER, _nothing), links.folder_path("a b"), "", "GET")
    assert params == {"folder": "a b"}


# One token, quoted the same by everything that writes it


@pytest.fixture
def base_url(workspace: Path) -> str:
    """A workspace whose `base_url` has a path (`/digest/`)."""
    (workspace / "newsletter.toml").write_text(
        '[newsletter]\nbase_url = "https://example.org/digest/"\n'
    )
    return "https://example.org/digest/"


def test_a_token_that_needs_quoting_is_quoted_the_same_in_the_message_and_the_page(
    base_url: str,
) -> None:
    link = links.unsubscribe(base_url, ODD)
    assert link == "https://example.org/digest/unsubscribe/" + links.segment(ODD)
    assert "%20" in link and "%3F" in link and "%23" in link and "%25" in link
    settings = NewsletterSettings(base_url=base_url)
    body = f'<p><a href="{UNSUBSCRIBE_PLACEHOLDER}">Unsubscribe</a></p>'
    text = f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}\n"
    template = MessageTemplate(settings, 1, "AI Paper Digest #1", body, text)
    message = parse_message(
        template.build(
            Recipient("ann@example.org", "Ann", ODD, "7"), "Mon, 15 Jul 2024 08:00 +0000"
        )
    )
    header = str(message["List-Unsubscribe"])
    assert re.findall(r"<(https:[^>]+)>", header) == [link]
    assert re.findall(r"<(mailto:[^>]+)>", header) == [
        links.unsubscribe_mailto("digest@example.org", ODD)
    ]
    rich, plain = message.get_body(("html",)), message.get_body(("plain",))
    assert rich is not None and plain is not None
    assert _hrefs(rich.get_content()) == [link]
    assert re.findall(r"https://\S+", plain.get_content()) == [link]

    config = load_config()
    ann = Subscriber(1, "ann@example.org", "Ann", "en", "active", ODD, "2024-07-15 08:00:00")
    page = unsubscribe_pages.Unsubscribe(config).page("unsubscribe.html.j2", ann, done=False)
    actions = re.findall(r'action="([^"]+)"', bytes(page.body).decode())
    assert [html.unescape(action) for action in actions] == [link]
    preferences = links.preferences(base_url, ODD)
    hrefs = _hrefs(bytes(page.body).decode())
    assert [href for href in hrefs if "/preferences/" in href] == [preferences]


def test_the_confirmation_link_is_quoted_the_same_in_the_mail_and_on_its_page(
    base_url: str,
) -> None:
    """The mail with any token; the page only for a token of the shape `new_token`
    makes (any other is the neutral 404 before anything is built)."""
    config = load_config()
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=3)
    for token in (ODD, new_token()):
        mail = signup._confirmation(config, "ann@example.org", "Ann", "en", token, expires)
        link = links.confirm(base_url, token)
        assert mail.html is not None and _hrefs(mail.html) == [link] and link in mail.text
    with Store.open(config.database_path) as store, store.transaction() as db:
        stamps = [at.strftime("%Y-%m-%dT%H:%M:%SZ") for at in (now, expires)]
        digest = hashlib.sha256(token.encode()).hexdigest()  # what the store keeps of it
        pending.upsert(db, "ann@example.org", "Ann", "en", digest, *stamps)
    page = signup_pages.Signup(config).ask(token)
    assert page.status_code == 200
    actions = re.findall(r'action="([^"]+)"', bytes(page.body).decode())
    assert [html.unescape(action) for action in actions] == [link]


@pytest.mark.parametrize("kind", ["unsubscribe", "preferences"])
def test_the_route_the_web_app_mounts_reads_the_token_back(base_url: str, kind: links.Kind) -> None:
    """What the server routes: the path as the server decodes it (a `/` would be a
    segment of its own: tokens never hold one, `audience.subscribers.new_token`)."""
    [route] = [
        r
        for r in unsubscribe_pages.routes()
        if isinstance(r, Route) and r.path == f"/{kind}/{{token}}"
    ]
    path = urlsplit(BUILDERS[kind](base_url, ODD)).path
    assert _route_params(route, path, "/digest") == {"token": ODD}


def test_the_confirm_route_reads_the_token_back(base_url: str) -> None:
    [route] = [r for r in signup_pages.routes() if isinstance(r, Route) and r.path == links.CONFIRM]
    path = urlsplit(links.confirm(base_url, ODD)).path
    assert _route_params(route, path, "/digest") == {"token": ODD}


def _route_params(
    route: BaseRoute, path: str, mounted_at: str, method: str = "POST"
) -> dict[str, str] | None:
    """The path parameters `route` finds in `path` (quoted, as in a link), or None.
    The server sees the path decoded, and without the prefix a proxy strips."""
    decoded = unquote(urlsplit(path).path).removeprefix(urlsplit(mounted_at).path.rstrip("/"))
    scope = {"type": "http", "method": method, "path": decoded, "root_path": ""}
    match, child = route.matches(scope)
    return dict(child["path_params"]) if match == Match.FULL else None


def _hrefs(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"#]+)"', page)]


async def _nothing() -> None:
    return None
