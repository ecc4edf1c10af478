"""Helpers the send, job and end-to-end tests share: a composed site, its ledger."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import sqlite3
import textwrap
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.audience import subscribers
from newsletter.compose import compose
from newsletter.config import load_config
from newsletter.core.errors import ConfigError
from newsletter.core.model import Paper
from newsletter.store import Store
from tests.conftest import SAMPLE_DIGEST

SAMPLE_IDS = [
    "2406.11832",
    "2407.04051",
    "2407.04363",
    "2407.04842",
    "2407.05975",
    "2407.06581",
    "2407.03502",
    "2407.07726",
    "2407.07304",
    "2407.07895",
    "2407.08348",
    "2407.08737",
    "2407.07053",
]
"""The papers of the bundled sample digest, in digest order."""

THREE = [
    ("li.wei@example.org", "Li Wei", "zh"),
    ("ann@example.org", "Ann", "en"),
    ("bob@example.org", "", "bilingual"),
]
SUBJECTS = {
    "zh": "AI 论文周报 第1期",
    "en": "AI Paper Digest #1",
    "bilingual": "AI Paper Digest #1 · AI 论文周报 第1期",
}


def make_site(
    workspace: Path,
    port: int,
    people: list[tuple[str, str, str]],
    base_url: str | None = None,
    **smtp: object,
) -> Path:
    """A workspace with the sample digest composed as issue 1 (2024-07-15) and `people`
    subscribed; `port` is the SMTP server's, `base_url` where the web side answers."""
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "connections": 2,
        "retry_delay": 0.01,
        "timeout": 5,
        **smtp,
    }
    lines = ["[smtp]"] + [
        f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}"
        for key, value in settings.items()
    ]
    if base_url:
        lines += ["[newsletter]", f"base_url = {base_url!r}"]
    (workspace / "newsletter.toml").write_text("\n".join(lines).replace("'", '"') + "\n")
    (workspace / "digests").mkdir(exist_ok=True)
    shutil.copy(SAMPLE_DIGEST, workspace / "digests" / "sample-digest.md")
    config = load_config()
    compose(config, date=dt.date(2024, 7, 15))
    with Store.open(config.database_path) as store:
        for address, name, lang in people:
            subscribers.add(store, address, name, lang)
    return workspace


def many(count: int) -> list[tuple[str, str, str]]:
    langs = ["bilingual", "en", "zh"]
    return [(f"reader{i:03d}@example.org", f"Reader {i}", langs[i % 3]) for i in range(count)]


def ledger(site: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(site / "newsletter.db") as db:
        return db.execute(sql, args).fetchall()


def sent_addresses(site: Path) -> set[str]:
    """Whom the ledger records as sent to."""
    rows = ledger(
        site,
        "SELECT s.email FROM deliveries d JOIN subscribers s "
        "ON s.id = d.subscriber WHERE d.status = 'sent'",
    )
    return {str(address) for (address,) in rows}


def tokens(site: Path) -> dict[str, str]:
    return dict(ledger(site, "SELECT email, token FROM subscribers"))  # type: ignore[arg-type]


def import_many(site: Path, count: int) -> list[tuple[str, str, str]]:
    """`count` subscribers through a CSV import (one transaction: fast)."""
    people = many(count)
    csv = site / "people.csv"
    csv.write_text("email,name,lang\n" + "".join(f"{a},{n},{lang}\n" for a, n, lang in people))
    with Store.open(site / "newsletter.db") as store:
        result = subscribers.import_csv(store, csv)
    assert result.added == count, result.problems
    return people


def make_paper(arxiv_id: str, source: str, summary: str = "摘要。") -> Paper:
    """A paper as a digest at `source` (`file:line`) would give it."""
    file, _, line = source.rpartition(":")
    return Paper(
        arxiv_id,
        f"Title {arxiv_id}",
        f"标题 {arxiv_id}",
        f"https://arxiv.org/abs/{arxiv_id}",
        summary,
        None,
        file,
        int(line),
    )


def parse_message(raw: bytes) -> EmailMessage:
    """A message as a mail client reads it, with no defect."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def built_for(site: Path, address: str, date: str, eightbit: bool) -> bytes:
    """The message issue 1's builder makes for the subscriber `address` on `date`, as a
    send does: to compare with what a server received."""
    from newsletter.mail.message import Recipient
    from newsletter.send.deliver import load_templates
    from newsletter.store import issues

    config = load_config()
    with Store.open(config.database_path) as store:
        issue = issues.get(store.db, 1)
    assert issue
    [(email, name, token, lang, tag)] = ledger(
        site,
        "SELECT s.email, s.name, s.token, s.lang, d.message_tag FROM subscribers s "
        "JOIN deliveries d ON d.subscriber = s.id AND d.issue = 1 WHERE s.email = ?",
        address,
    )
    recipient = Recipient(str(email), str(name), str(token), str(tag))
    return load_templates(config, issue)[str(lang)].build(recipient, date, eightbit)


def message_id_for(site: Path, issue: int, address: str) -> str:
    """The Message-ID the ledger gives issue `issue`'s message to `address` (a send has
    started): what a genuine bounce quotes."""
    from newsletter.mail.message import sender_domain

    [(tag,)] = ledger(
        site,
        "SELECT d.message_tag FROM deliveries d JOIN subscribers s ON s.id = d.subscriber "
        "WHERE d.issue = ? AND s.email = ?",
        issue,
        address,
    )
    return f"<{tag}@{sender_domain(load_config().newsletter)}>"


def personalised(composed: str, token: str, base_url: str = "https://digest.example.org") -> str:
    """`composed` with the holder of `token`'s own links where compose left placeholders:
    what their message's parts decode to (the HTML's lines aside)."""
    from newsletter.core import links
    from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER

    return composed.replace(UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe(base_url, token)).replace(
        PREFERENCES_PLACEHOLDER, links.preferences(base_url, token)
    )


def same_but_line_breaks(decoded: str, composed: str) -> bool:
    """Whether `decoded` (CRLF line ends) is `composed`, but for spaces made line breaks
    and `<wbr>`s put in to break lines: the only changes send/htmlwrap.py makes."""
    assert "<wbr" not in composed
    ours = decoded.replace("<wbr\r\n>", "").replace("\r\n", "\n")
    return len(ours) == len(composed) and all(
        a == b or (a, b) == (" ", "\n") for a, b in zip(composed, ours, strict=True)
    )


SECRET = "s3cret-Pa55w0rd-never-print-me"
"""A password that must never be printed."""


def write_config(folder: Path, text: str = "", name: str = "newsletter.toml") -> Path:
    """Write a config file (dedented) into `folder` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def touch(path: Path) -> Path:
    """Create a small digest file (and its folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("## A paper\n", encoding="utf-8")
    return path


def config_error(*args: object, **kwargs: object) -> str:
    """Call `load_config` expecting a ConfigError; return its (one-line) message."""
    with pytest.raises(ConfigError) as caught:
        load_config(*args, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message, "a config error is one line"
    return message


def add_digest(site: Path, name: str, *ids: str) -> None:
    """A digest that names papers `ids`, each with a title, a link and a summary."""
    entries = [f"## Paper {i}\n[论文 {i}](https://arxiv.org/abs/{i})\n摘要 {i}。\n" for i in ids]
    (site / "digests" / name).write_text("\n".join(entries), encoding="utf-8")
