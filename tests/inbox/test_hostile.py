"""`newsletter inbox` over a mailbox of hostile mails (hostile.py) beside a genuine
DSN, in each of a Maildir, an mbox and an IMAP folder: the DSN takes effect, each
hostile mail is set aside with its reason, and neither this run nor the next fails
or reads a mail twice. A dry run says what it would do, in those words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.helpers import ledger
from tests.inbox.boxes import ImapBox, MaildirBox, MboxBox
from tests.inbox.hostile import HOSTILE
from tests.inbox.mails import fixture_mail, status_of

Box = MaildirBox | MboxBox | ImapBox
REASONS = sorted(reason for _, reason in HOSTILE.values())


def dsn(people: dict[str, str]) -> bytes:
    return fixture_mail("dsn-hard-5.1.1.eml", people["ann@example.org"], "ann@example.org")


def inbox(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["inbox", *args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_hostile_mail_is_set_aside_and_the_rest_handled(
    workspace: Path, people: dict[str, str], box: Box
) -> None:
    hostile = [raw for raw, _ in HOSTILE.values()]
    box.put(*hostile[:3], dsn(people), *hostile[3:])
    # Dovecot stores a NUL as 0x80 (IMAP4rev1 has no NUL in a mail): a mail a person reads
    nul = box.kind == "imap"
    reasons = [reason for reason in REASONS if not (nul and reason == HOSTILE["nul"][1])]
    first = inbox(*box.args())
    left = {"not_understood": 1} if nul else {}
    assert first["counts"] == {"dead": 1, "failed": len(reasons), **left}
    failed: list[dict[str, str]] = first["failed"]  # type: ignore[assignment]
    assert sorted(failure["reason"] for failure in failed) == reasons
    assert all(failure["key"] for failure in failed)
    assert status_of(workspace)["ann@example.org"] == "bounced"
    outcomes = ledger(workspace, "SELECT outcome, count(*) FROM inbox_seen GROUP BY outcome")
    assert sorted(outcomes) == sorted([("failed", len(reasons)), ("dead", 1), *left.items()])
    if box.moves:
        assert len(box.waiting()) == len(left)
        assert box.put_aside() == [dsn(people)]
        assert len(box.failed()) == len(reasons)
        assert b"x" * 1000 in max(box.failed(), key=len)  # moved whole, not cut
    second = inbox(*box.args())  # what the store knows is not parsed again
    handled = {} if box.moves else {"already_handled": len(HOSTILE) + 1}
    assert second["counts"] == {**handled, **left}
    assert second["failed"] == []
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(1,)]


@pytest.mark.parametrize(
    ("name", "effect", "count"),
    [
        (
            "dsn-hard-5.1.1.eml",
            "user_unknown 5.1.1 (dead, by verp): would mark bounced",
            "dead address",
        ),
        (
            "dsn-soft-4.2.2.eml",
            "mailbox_full 4.2.2 (soft, by verp): would count soft bounce 1 of 3 in a row",
            "soft",
        ),
        ("arf-abuse.eml", "feedback (complaint, by verp): would unsubscribe", "complaint"),
        (
            "unsubscribe-reply.eml",
            "unsubscribe (unsubscribe, by token): would unsubscribe",
            "unsubscribe",
        ),
    ],
)
def test_a_dry_run_says_what_it_would_do(
    workspace: Path, people: dict[str, str], name: str, effect: str, count: str
) -> None:
    box = MaildirBox(workspace)
    box.put(fixture_mail(name, people["ann@example.org"], "ann@example.org"), HOSTILE["nul"][0])
    result = CliRunner().invoke(cli, ["inbox", *box.args(), "--dry-run"])
    assert result.exit_code == 0, result.output
    said, aside = result.stdout.splitlines()
    assert said == f"ann@example.org: {effect}"
    assert aside.endswith(": would set aside: NUL bytes in its headers")
    assert "marked" not in result.stdout
    assert result.stderr == f"would handle: 1 {count}, 1 unreadable\n"
    assert ledger(workspace, "SELECT count(*) FROM inbox_seen") == [(0,)]
    assert status_of(workspace)["ann@example.org"] == "active"
    assert len(box.waiting()) == 2
    assert box.failed() == []


def test_a_real_run_says_what_it_did(workspace: Path, people: dict[str, str]) -> None:
    box = MaildirBox(workspace)
    box.put(dsn(people), HOSTILE["no-from"][0])
    result = CliRunner().invoke(cli, ["inbox", *box.args()])
    assert result.exit_code == 0, result.output
    said, aside = result.stdout.splitlines()
    assert said == "ann@example.org: user_unknown 5.1.1 (dead, by verp): marked bounced"
    assert aside.endswith(": set aside: it has no From: header")
    assert result.stderr == "handled: 1 dead address, 1 unreadable\n"
