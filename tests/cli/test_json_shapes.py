"""`--json` documents keep one shape: a script reading them never meets a missing key."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from newsletter.audience import signup
from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.store import Store
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer


def run_json(*args: str) -> object:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_json_names_every_subscriber_status_and_edition_with_zeros(
    workspace: Path,
) -> None:
    empty = run_json("status")
    assert isinstance(empty, dict)
    assert empty["subscribers"] == {
        "total": 0,
        "by_status": {"active": 0, "unsubscribed": 0, "bounced": 0},
        "by_language": {"bilingual": 0, "en": 0, "zh": 0},
    }
    CliRunner().invoke(cli, ["subscribers", "add", "ann@example.org", "--lang", "en"])

    one = run_json("status")
    assert isinstance(one, dict)
    assert one["subscribers"] == {
        "total": 1,
        "by_status": {"active": 1, "unsubscribed": 0, "bounced": 0},
        "by_language": {"bilingual": 0, "en": 1, "zh": 0},
    }
    assert set(one) == set(empty)


def test_send_json_has_the_same_keys_for_a_dry_run_and_a_real_one(
    workspace: Path, server: SmtpServer
) -> None:
    make_site(workspace, server.port, THREE)

    rehearsal = run_json("send", "--dry-run")
    real = run_json("send")
    nothing = run_json("send")

    assert isinstance(rehearsal, dict) and isinstance(real, dict) and isinstance(nothing, dict)
    assert (rehearsal["dry_run"], real["dry_run"]) == (True, False)
    assert real["sent"] == 3 and nothing["issue"] is None
    assert set(rehearsal) == set(real) == set(nothing)


def test_every_subscribers_list_row_has_the_same_keys(workspace: Path) -> None:
    runner = CliRunner()
    for address in ("ann@example.org", "bob@example.org"):
        assert runner.invoke(cli, ["subscribers", "add", address]).exit_code == 0
    assert runner.invoke(cli, ["subscribers", "remove", "bob@example.org"]).exit_code == 0
    with Store.open(workspace / "newsletter.db") as store:
        signup.request(store, load_config(), "waiting@example.org", "W", "en")

    rows = run_json("subscribers", "list")

    assert isinstance(rows, list)
    assert sorted(row["status"] for row in rows) == ["active", "pending"]
    assert all(set(row) == set(rows[0]) for row in rows), rows
    assert [row["expires_at"] is None for row in rows] == [True, False]
