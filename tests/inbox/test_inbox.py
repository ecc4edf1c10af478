"""`newsletter inbox` over each of its mailboxes (a Maildir, an mbox file and an IMAP
folder on a real Dovecot: the `box` fixture), with the mails of tests/data/mail/ in
them: what each mail does to its subscriber and to the next issue, and that a
second run or a dry run changes nothing."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.helpers import THREE, ledger, make_site, sent_addresses
from tests.inbox.boxes import ImapBox, MaildirBox, MboxBox
from tests.inbox.mails import fixture_mail, status_of
from tests.smtpd import SmtpServer

Box = MaildirBox | MboxBox | ImapBox


def maildir(path: Path, *mails: bytes) -> Path:
    box = mailbox.Maildir(path)
    for raw in mails:
        box.add(raw)
    return path


def hard_bounce_and_complaint(tokens: Mapping[Any, object]) -> list[bytes]:
    """A hard bounce for ann and a complaint from bob."""
    ann = fixture_mail("dsn-hard-5.1.1.eml", str(tokens["ann@example.org"]), "ann@example.org")
    bob = fixture_mail("arf-abuse.eml", str(tokens["bob@example.org"]), "bob@example.org")
    return [ann, bob]


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["inbox", *args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize(
    ("name", "reason", "verdict", "event", "status", "effect"),
    [
        ("dsn-hard-5.1.1.eml", "user_unknown", "dead", "hard", "bounced", "marked bounced"),
        (
            "dsn-soft-4.2.2.eml",
            "mailbox_full",
            "soft",
            "soft",
            "active",
            "soft bounce 1 of 3 in a row",
        ),
        ("arf-abuse.eml", "feedback", "complaint", "complaint", "unsubscribed", "unsubscribed"),
        (
            "unsubscribe-reply.eml",
            "unsubscribe",
            "unsubscribe",
            "unsubscribe",
            "unsubscribed",
            "unsubscribed",
        ),
    ],
)
def test_each_kind_of_mail_and_what_it_does(
    workspace: Path,
    people: dict[str, str],
    box: Box,
    name: str,
    reason: str,
    verdict: str,
    event: str,
    status: str,
    effect: str,
) -> None:
    box.put(fixture_mail(name, people["ann@example.org"], "ann@example.org"))
    document = run(*box.args())
    assert document["counts"] == {verdict: 1}
    [action] = document["actions"]  # type: ignore[misc]
    assert (action["reason"], action["verdict"], action["subscriber"], action["effect"]) == (
        reason,
        verdict,
        "ann@example.org",
        effect,
    )
    assert status_of(workspace) == {"ann@example.org": status, "bob@example.org": "active"}
    assert ledger(workspace, "SELECT kind, reason FROM bounce_events") == [(event, reason)]
    assert len(box.waiting()) == (0 if box.moves else 1)  # moved aside; an mbox is left as it is
    assert len(box.put_aside()) == (1 if box.moves else 0)


def test_the_dsn_status_and_diagnostic_are_stored(workspace: Path, people: dict[str, str]) -> None:
    ann = fixture_mail("dsn-hard-5.1.1.eml", people["ann@example.org"], "ann@example.org")
    box = maildir(workspace / "Maildir", ann)
    run("--maildir", str(box))
    [(status, diagnostic)] = ledger(workspace, "SELECT status, diagnostic FROM bounce_events")
    assert status == "5.1.1"
    assert "User unknown" in str(diagnostic)


def test_auto_replies_do_nothing_and_other_mail_stays_counted(
    workspace: Path, people: dict[str, str], box: Box
) -> None:
    token = people["ann@example.org"]
    box.put(
        fixture_mail("vacation.eml", token, "ann@example.org"),
        fixture_mail("human-reply.eml", token, "ann@example.org"),
    )
    result = CliRunner().invoke(cli, ["inbox", *box.args()])
    assert result.exit_code == 0, result.output
    assert result.stderr == "handled: 1 no action, 1 not understood\n"
    assert status_of(workspace)["ann@example.org"] == "active"
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(0,)]
    left = box.waiting()
    assert len(left) == (1 if box.moves else 2)  # the auto-reply is put aside, the reply is not
    assert any(b"Could you add the code links" in raw for raw in left)


def test_a_bounce_for_no_known_subscriber_is_left_unverified(
    workspace: Path, people: dict[str, str], box: Box
) -> None:
    box.put(fixture_mail("dsn-hard-5.1.1.eml", "Unkn0wnTokenXyzAbCdEfGh", "eve@example.org"))
    assert run(*box.args())["counts"] == {"unverified": 1}
    assert len(box.waiting()) == 1
    assert box.put_aside() == []


def test_the_store_remembers_handled_mail_across_runs_and_mailboxes(
    workspace: Path, people: dict[str, str]
) -> None:
    token = people["ann@example.org"]
    mails = [
        fixture_mail("dsn-soft-4.2.2.eml", token, "ann@example.org"),
        fixture_mail("human-reply.eml", token, "ann@example.org"),
    ]
    mbox_path = workspace / "bounces.mbox"
    box = mailbox.mbox(mbox_path)
    for raw in mails:
        box.add(raw)
    box.close()
    assert run("--mbox", str(mbox_path))["counts"] == {"soft": 1, "not_understood": 1}
    before = mbox_path.read_bytes()
    second = run("--mbox", str(mbox_path))
    assert second["counts"] == {"already_handled": 1, "not_understood": 1}
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(1,)]
    assert mbox_path.read_bytes() == before
    box_dir = maildir(workspace / "Maildir", *mails)
    run("--maildir", str(box_dir))  # same mails: the store knows the bounce already
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(1,)]
    assert run("--maildir", str(box_dir))["counts"] == {"not_understood": 1}


def test_a_second_run_changes_nothing_in_the_store_or_the_mailbox(
    workspace: Path, people: dict[str, str], box: Box
) -> None:
    reply = fixture_mail("human-reply.eml", people["ann@example.org"], "ann@example.org")
    box.put(*hard_bounce_and_complaint(people), reply)
    first = run(*box.args())
    assert first["counts"] == {"dead": 1, "complaint": 1, "not_understood": 1}
    store = ledger(workspace, "SELECT * FROM bounce_events"), status_of(workspace)
    mailbox_before = box.waiting(), box.put_aside()
    second = run(*box.args())
    handled = {} if box.moves else {"already_handled": 2}  # moved mail is not read again
    assert second["counts"] == {**handled, "not_understood": 1}
    assert second["actions"] == []
    assert (ledger(workspace, "SELECT * FROM bounce_events"), status_of(workspace)) == store
    assert (box.waiting(), box.put_aside()) == mailbox_before


def test_a_dry_run_changes_nothing(workspace: Path, people: dict[str, str], box: Box) -> None:
    box.put(fixture_mail("dsn-hard-5.1.1.eml", people["ann@example.org"], "ann@example.org"))
    result = CliRunner().invoke(cli, ["inbox", *box.args(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == "ann@example.org: user_unknown 5.1.1 (dead, by verp): would mark bounced\n"
    )
    assert result.stderr == "would handle: 1 dead address\n"
    assert status_of(workspace)["ann@example.org"] == "active"
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert len(box.waiting()) == 1
    assert box.put_aside() == []


def test_soft_limit_soft_bounces_in_a_row_mark_bounced(
    workspace: Path, people: dict[str, str]
) -> None:
    (workspace / "newsletter.toml").write_text("[bounces]\nsoft_limit = 2\n")
    token = people["ann@example.org"]
    box = maildir(
        workspace / "Maildir", fixture_mail("dsn-soft-4.2.2.eml", token, "ann@example.org", n=1)
    )
    run("--maildir", str(box))
    assert status_of(workspace)["ann@example.org"] == "active"
    maildir(box, fixture_mail("dsn-soft-4.2.2.eml", token, "ann@example.org", n=2))
    [action] = run("--maildir", str(box))["actions"]  # type: ignore[misc]
    assert action["effect"] == "soft bounce 2 of 2 in a row: marked bounced"
    assert status_of(workspace)["ann@example.org"] == "bounced"


def test_the_next_send_skips_bounced_and_complaining_subscribers(
    workspace: Path, server: SmtpServer, box: Box
) -> None:
    site = make_site(workspace, server.port, THREE)
    box.put(*hard_bounce_and_complaint(dict(ledger(site, "SELECT email, token FROM subscribers"))))
    assert run(*box.args())["counts"] == {"dead": 1, "complaint": 1}
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    assert sent_addresses(site) == {"li.wei@example.org"}


def test_status_counts_what_came_back_for_an_issue(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, THREE)
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    tokens = dict(ledger(site, "SELECT email, token FROM subscribers"))
    box = maildir(workspace / "Maildir", *hard_bounce_and_complaint(tokens))
    run("--maildir", str(box))
    result = CliRunner().invoke(cli, ["status", "--json"])
    [issue] = json.loads(result.stdout)["issues"]
    assert issue["returns"] == {
        "hard": 1,
        "soft": 0,
        "complaint": 1,
        "refused": 0,
        "bounce_rate": 0.3333,
        "complaint_rate": 0.3333,
        "reasons": {"feedback": 1, "user_unknown": 1},
    }
    text = CliRunner().invoke(cli, ["status"]).stdout
    assert "bounced 1 hard, 0 soft (33.3%), complaints 1 (33.3%)" in text
    assert "by reason: feedback 1, user_unknown 1" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--maildir", "nowhere"], "Error: nowhere: no such Maildir\n"),
        (["--mbox", "nowhere.mbox"], "Error: nowhere.mbox: no such mbox file\n"),
    ],
)
def test_a_missing_path_is_one_line(workspace: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["inbox", *args])
    assert result.exit_code == 1
    assert result.stderr == message


def test_one_source_is_needed(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["inbox"])
    assert result.exit_code == 2
    assert "Error: give --maildir PATH or --mbox PATH, or set inbox.host" in result.stderr


def test_two_sources_are_a_usage_error(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["inbox", "--maildir", "a", "--mbox", "b"])
    assert result.exit_code == 2
    assert "Error: give one of --maildir PATH or --mbox PATH, not both" in result.stderr
