"""The dry run: samples that hold nobody's data, and a check that looks where a reader looks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.core.errors import NewsletterError
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.send.deliver import load_templates
from newsletter.send.preview import SAMPLE_RECIPIENT, check, dry_run
from newsletter.store import Store, issues
from tests.helpers import THREE, make_site, tokens
from tests.helpers import parse_message as parse
from tests.smtpd import free_port

FOLDER = Path("issues") / "0001-2024-07-15"
SAMPLE_LINK = "https://digest.example.org/unsubscribe/SampleToken"
SAMPLE_PREFERENCES = "https://digest.example.org/preferences/SampleToken"


def test_the_samples_are_built_for_a_made_up_reader(workspace: Path) -> None:
    site = make_site(workspace, free_port(), THREE)
    report = dry_run(load_config())
    assert report.warnings == []
    secrets = [address for address, _, _ in THREE] + list(tokens(site).values())
    for edition in ("bilingual", "en", "zh"):
        raw = (site / FOLDER / f"sample-{edition}.eml").read_bytes()
        assert not [secret for secret in secrets if secret.encode() in raw]
        message = parse(raw)
        assert message["To"] == "Sample Reader <reader@example.invalid>"
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and html is not None
        assert SAMPLE_LINK in text.get_content() and SAMPLE_LINK in html.get_content()
        for part in (text, html):
            assert SAMPLE_PREFERENCES in part.get_content() and "%%" not in part.get_content()
        # 8-bit, as most servers get it: it reads as text in an editor and in a diff
        assert text["Content-Transfer-Encoding"] == html["Content-Transfer-Encoding"] == "8bit"
        assert "Unsubscribe" in raw.decode("utf-8")
    assert SAMPLE_RECIPIENT.email.endswith(".invalid")  # RFC 2606: never delivered


def test_the_dry_run_refuses_an_edition_without_the_personal_link(workspace: Path) -> None:
    site = make_site(workspace, free_port(), THREE)
    described = json.loads((site / FOLDER / "issue.json").read_text(encoding="utf-8"))
    text_file = site / FOLDER / described["editions"]["zh"]["text"]
    fixed = "https://digest.example.org/unsubscribe"
    text_file.write_text(text_file.read_text().replace(UNSUBSCRIBE_PLACEHOLDER, fixed))
    with pytest.raises(NewsletterError, match="the zh edition has no unsubscribe link"):
        dry_run(load_config())


def test_the_check_finds_a_body_without_the_personal_link(workspace: Path) -> None:
    make_site(workspace, free_port(), [])
    config = load_config()
    folder = config.issues_path / "0001-2024-07-15"
    fixed = "https://digest.example.org/unsubscribe"
    template = MessageTemplate(
        config.newsletter,
        1,
        "AI Paper Digest #1",
        (folder / "zh.html").read_text(),
        (folder / "zh.txt").read_text().replace(UNSUBSCRIBE_PLACEHOLDER, fixed),
    )
    reader = Recipient("ann@example.org", "Ann", "T0k3n", "1")
    assert check(template, template.build(reader), reader) == [
        "ann@example.org: the text part's unsubscribe link is not personalised"
    ]  # the token is still in List-Unsubscribe: the header alone proves nothing


def test_the_check_finds_a_broken_or_overlong_header_line(workspace: Path) -> None:
    make_site(workspace, free_port(), [])
    config = load_config()
    with Store.open(config.database_path) as store:
        issue = issues.get(store.db, 1)
    assert issue is not None
    template = load_templates(config, issue)["en"]
    reader = Recipient("ann@example.org", "Ann", "T0k3n", "1")
    good = template.build(reader)
    assert check(template, good, reader) == []
    injected = good.replace(b"To: Ann <", b"To: Evil\nBcc: x@evil.example <")
    assert check(template, injected, reader) == [
        "ann@example.org: a header line is broken: b'To: Evil\\nBcc: x@evil.example "
        "<ann@example.org>'"
    ]
    long = good.replace(b"To: Ann <", b"To: " + b"A" * 1000 + b" <")
    [problem] = check(template, long, reader)
    assert problem.startswith("ann@example.org: a header line is 1022 bytes long: ")


def test_a_name_stored_with_cr_lf_by_an_older_release_builds_clean(workspace: Path) -> None:
    site = make_site(workspace, free_port(), THREE)
    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute("UPDATE subscribers SET name = 'Evil' || char(13, 10) || 'Bcc: x@evil.example'")
    assert dry_run(load_config()).warnings == []


@pytest.mark.parametrize("eightbit", [True, False], ids=["8-bit", "base64"])
def test_the_check_finds_a_bare_line_end_or_an_overlong_body_line(
    workspace: Path, eightbit: bool
) -> None:
    make_site(workspace, free_port(), [])
    config = load_config()
    with Store.open(config.database_path) as store:
        issue = issues.get(store.db, 1)
    assert issue
    template = load_templates(config, issue)["zh"]
    reader = Recipient("ann@example.org", "Ann", "T0k3n", "1")
    good = template.build(reader, eightbit=eightbit)
    assert check(template, good, reader) == []
    head, body = good.split(b"\r\n\r\n", 1)
    line = body.index(b"\r\n", len(body) // 2)
    bare = head + b"\r\n\r\n" + body[:line] + b"\n" + body[line + 2 :]
    assert check(template, bare, reader) == ["ann@example.org: the body has a bare CR or LF"]
    long = head + b"\r\n\r\n" + body[:line] + b" " * 1000 + body[line:]
    [problem] = check(template, long, reader)
    assert problem.startswith("ann@example.org: a body line is ")
