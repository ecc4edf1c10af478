"""Every edition and every web page is clean in the Nu Html Checker (vnu.jar, the W3C's
validator): no error, and no warning but those HTML email cannot help.

The editions are checked as a subscriber receives them (their links filled in), with
arXiv's abstracts and without them (the notice); the confirmation message too. The
pages are those `newsletter serve` answers once issue 1 went out, fetched over real
HTTP, including the pages a form's answer shows. Needs Java and npm's vnu-jar
(`make test` installs it into `.cache/npm/`, or set `VNU_JAR`); without them these
tests skip, saying what to install.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.compose import compose
from newsletter.config import load_config
from newsletter.core.model import EDITIONS, PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from newsletter.enrich.atom import parse_feed
from newsletter.send import send
from newsletter.store import Store, metadata
from tests.conftest import DATA, ROOT, SAMPLE_DIGEST
from tests.helpers import tokens
from tests.web.conftest import Web
from tests.web.helpers import confirmation_to, link_in, subscribe

VNU_JAR = Path(
    os.environ.get("VNU_JAR") or ROOT / ".cache/npm/node_modules/vnu-jar/build/dist/vnu.jar"
)
ISSUE = "/issues/0001-2024-07-15/"

EMAIL_WARNINGS = {
    # Outlook on Windows lays out with Word, which ignores CSS widths, alignment and
    # spacing on tables: MJML writes them as attributes too, on purpose.
    r"The “(align|width|border|cellpadding|cellspacing|bgcolor|valign)” attribute on the "
    r"“(table|td)” element is obsolete": "Outlook (Word) reads table layout from attributes",
    # MJML writes `<style type="text/css">`; some clients (Lotus Notes, old Outlook)
    # drop a `<style>` without it.
    r"The “type” attribute for the “style” element is not needed": "older clients need type",
}
"""Warnings and infos inherent to HTML email, each with its reason; allowed in the
editions only (a web page gets none of them)."""

OUTLOOK_ERRORS = {
    # MJML's `<html>` declares the VML and Office namespaces: Outlook on Windows reads
    # the `<o:OfficeDocumentSettings>` (96 DPI, so images keep their size) in MJML's
    # conditional comment with them. HTML has no namespaces; the attributes are harmless.
    r"Attribute “xmlns:[ov]” not allowed here": "Outlook's VML/Office namespaces (MJML)",
    # MJML's head style `table, td { mso-table-lspace: 0pt; mso-table-rspace: 0pt }`:
    # no gap Outlook would add beside each table.
    r"CSS: “mso-table-[lr]space”: Property “[^”]+” doesn't exist": "Outlook's CSS (MJML)",
    # Ours (templates/issue.mjml.j2, the preheader): `mso-hide:all` is how Outlook on
    # Windows, which ignores `display:none` there, hides the preview text; moving it
    # into a conditional comment's `<style>` is unproven in Outlook, so it stays.
    r"CSS: “mso-hide”: Property “mso-hide” doesn't exist": "Outlook hides the preheader",
}
"""Outlook's own markup and CSS, which the validator calls errors: in MJML's output
(which we cannot change without patching its HTML) and in the preheader; the editions
only."""


@dataclass
class Message:
    """One thing the checker said."""

    file: str
    line: int
    kind: str  # "error", "warning", "info"
    text: str
    extract: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.text}\n    {self.extract!r}"


def unavailable() -> str | None:
    if not shutil.which("java"):
        return "Java is not installed: apt-get install default-jre-headless (.ci/run does)"
    if not VNU_JAR.is_file():
        return (
            f"vnu.jar is not installed ({VNU_JAR}): `make test` installs it (npm, into .cache/npm)"
        )
    return None


@pytest.fixture(autouse=True)
def checker() -> None:
    reason = unavailable()
    if reason:
        pytest.skip(reason)


def check(files: list[Path]) -> list[Message]:
    """Everything vnu.jar says of `files` (HTML), warnings and infos included."""
    done = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--also-check-css", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = json.loads(done.stderr)["messages"]
    assert done.returncode in (0, 1), done.stderr
    return [
        Message(
            Path(item.get("url", "?")).name,
            item.get("lastLine", 0),
            item.get("subType", item["type"]) if item["type"] == "info" else item["type"],
            item["message"],
            item.get("extract", ""),
        )
        for item in said
    ]


def unexplained(messages: list[Message], email: bool) -> list[Message]:
    allowed = [*EMAIL_WARNINGS, *OUTLOOK_ERRORS] if email else []
    return [
        m for m in messages if not any(re.search(rule, f"{m.text} {m.extract}") for rule in allowed)
    ]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def test_the_editions_validate(web: Web, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As subscribers receive them: the site's issue 1 (composed without arXiv's
    abstracts, so with the notice) and the confirmation message; and the sample
    composed with every abstract (from the cache, asking nobody)."""
    assert send(load_config()).complete
    with web.client() as client:
        assert subscribe(client, "new.reader@example.org").status_code == 200
    confirmation_to(web, "new.reader@example.org")  # the outbox sends it in a moment
    out = workspace / "checked"
    out.mkdir()
    files = []
    for received in web.smtp.handler.received:
        files.append(out / f"received-{received.recipient.split('@')[0]}.html")
        files[-1].write_text(html_of(received.message), encoding="utf-8")
    assert len(files) == 4  # three editions, one confirmation

    with_metadata = workspace / "abstracts"
    (with_metadata / "digests").mkdir(parents=True)
    shutil.copy(SAMPLE_DIGEST, with_metadata / "digests")
    (with_metadata / "newsletter.toml").write_text(
        '[arxiv]\napi_url = "http://127.0.0.1:9/api/query"\n', encoding="utf-8"
    )
    monkeypatch.delenv("NEWSLETTER_ARXIV_ENRICH")
    config = load_config(with_metadata / "newsletter.toml")
    feed = parse_feed((DATA / "arxiv" / "sample.xml").read_bytes(), dt.datetime.now(dt.UTC))
    with Store.open(config.database_path) as store, store.transaction() as db:
        metadata.save(db, list(feed.entries.values()))
    composed = compose(config, date=dt.date(2024, 7, 15))
    assert composed.folder is not None and not composed.unreached
    for edition in EDITIONS:
        page = (composed.folder / f"{edition}.html").read_text(encoding="utf-8")
        page = page.replace(UNSUBSCRIBE_PLACEHOLDER, "https://example.org/unsubscribe/t")
        page = page.replace(PREFERENCES_PLACEHOLDER, "https://example.org/preferences/t")
        files.append(out / f"abstracts-{edition}.html")
        files[-1].write_text(page, encoding="utf-8")

    found = unexplained(check(files), email=True)
    assert not found, "\n".join(map(str, found))


def test_the_web_pages_validate(web: Web, workspace: Path) -> None:
    assert send(load_config()).complete  # issue 1 goes out: its pages are public
    token = tokens(web.site)["bob@example.org"]
    same_site = {"Origin": web.base}
    pages: dict[str, str] = {}
    with web.client() as client:

        def get(name: str, path: str, status: int = 200) -> None:
            answer = client.get(path)
            assert answer.status_code == status, (path, answer.status_code)
            pages[name] = answer.text

        def post(name: str, path: str, data: dict[str, str], status: int = 200) -> None:
            answer = client.post(path, data=data, headers=same_site)
            assert answer.status_code == status, (path, answer.status_code)
            pages[name] = answer.text

        get("index", "/")
        get("issue-folder", ISSUE)
        for edition in EDITIONS:
            get(f"issue-{edition}", f"{ISSUE}{edition}.html")
        get("not-found", "/no/such/page", 404)
        get("subscribe", "/subscribe")
        answer = subscribe(client, "new.reader@example.org")
        assert answer.status_code == 200
        pages["subscribe-sent"] = answer.text
        refused = subscribe(client, "not an address")
        pages["subscribe-refused"] = refused.text
        confirm = link_in(confirmation_to(web, "new.reader@example.org")).removeprefix(web.base)
        get("confirm", confirm)
        post("confirmed", confirm, {})
        get("confirm-unknown", "/confirm/" + "x" * 43, 404)
        get("preferences", f"/preferences/{token}")
        post("preferences-saved", f"/preferences/{token}", {"action": "save", "name": "Bob"})
        post("preferences-problem", f"/preferences/{token}", {"name": "x" * 200}, 400)
        get("unsubscribe", f"/unsubscribe/{token}")
        post("unsubscribed", f"/unsubscribe/{token}", {})
    out = workspace / "pages"
    out.mkdir()
    files = []
    for name, text in pages.items():
        files.append(out / f"{name}.html")
        files[-1].write_text(text, encoding="utf-8")
    said = check(files)  # the web copies of the editions are the editions
    copies = [m for m in said if m.file.startswith("issue-") and m.file != "issue-folder.html"]
    found = unexplained(copies, email=True)
    found += unexplained([m for m in said if m not in copies], email=False)
    assert not found, "\n".join(map(str, found))


def test_the_checker_finds_what_is_wrong(workspace: Path) -> None:
    """Not vacuous: the inliner's old fault (`bgcolor` on a `<span>`) is an error."""
    page = workspace / "bad.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head>'
        '<body><p><span bgcolor="#fff">x</span></p></body></html>',
        encoding="utf-8",
    )
    [found] = unexplained(check([page]), email=True)
    assert (found.kind, found.text) == (
        "error",
        "Attribute “bgcolor” not allowed on element “span” at this point.",
    )
