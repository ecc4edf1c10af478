"""`newsletter subscribers …` and `unsubscribe`, on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.cli import cli


def run(*arguments: str) -> Result:
    return CliRunner().invoke(cli, list(arguments))


def rows(workspace: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(workspace / "newsletter.db") as db:
        return db.execute(
            "SELECT email, name, lang, status FROM subscribers ORDER BY id"
        ).fetchall()


def test_add_list_and_remove(workspace: Path) -> None:
    assert run(
        "subscribers", "add", "Li.Wei@Example.ORG", "--name", "李伟", "--lang", "zh"
    ).stdout == ("added Li.Wei@example.org (zh)\n")
    assert run("subscribers", "add", "ann@example.org").exit_code == 0
    listed = json.loads(run("subscribers", "list", "--json").stdout)
    assert [(s["email"], s["name"], s["lang"], s["status"]) for s in listed] == [
        ("Li.Wei@example.org", "李伟", "zh", "active"),
        ("ann@example.org", "", "bilingual", "active"),
    ]
    assert "token" not in listed[0]  # the list never shows the secret tokens
    assert (
        run("subscribers", "remove", "li.wei@example.org").stdout == "removed Li.Wei@example.org\n"
    )
    assert rows(workspace) == [("ann@example.org", "", "bilingual", "active")]
    assert stat.S_IMODE((workspace / "newsletter.db").stat().st_mode) == 0o600


def test_the_same_address_in_another_case_is_the_same_subscriber(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    again = run("subscribers", "add", "ANN@example.org")
    assert again.exit_code == 1
    assert again.stderr == "Error: ann@example.org is already on the list (active)\n"


def test_a_bad_address_is_one_line_and_exit_1(workspace: Path) -> None:
    result = run("subscribers", "add", "not-an-address")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 'not-an-address' is not a valid address: ")
    assert len(result.stderr.splitlines()) == 1
    assert rows(workspace) == []


def test_import_reports_bad_rows_by_line_and_keeps_the_good_ones(workspace: Path) -> None:
    csv = workspace / "list.csv"
    csv.write_text(
        "\ufeffemail,name,lang\n"
        "li.wei@example.org,李伟,zh\n"
        "ann@example.org,Ann,\n"
        "broken@@example.org,Bad,en\n"
        "bob@example.org,,EN\n"
        "ANN@example.org,Ann again,en\n"
        "zed@example.org,Zed,fr\n",
        encoding="utf-8",
    )
    result = run("subscribers", "import", str(csv))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{csv}:4: 'broken@@example.org' is not a valid address: "
        "The part after the @-sign contains invalid characters: '@'.",
        f"{csv}:7: 'fr' is not a language: use bilingual, en, zh",
    ]
    assert result.stdout == "3 added, 1 already on the list, 2 with errors\n"
    assert rows(workspace) == [
        ("li.wei@example.org", "李伟", "zh", "active"),
        ("ann@example.org", "Ann", "bilingual", "active"),
        ("bob@example.org", "", "en", "active"),
    ]
    again = run("subscribers", "import", str(csv))
    assert again.stdout == "0 added, 4 already on the list, 2 with errors\n"
    assert len(rows(workspace)) == 3


def test_import_needs_the_header(workspace: Path) -> None:
    csv = workspace / "list.csv"
    csv.write_text("ann@example.org,Ann,en\n", encoding="utf-8")
    result = run("subscribers", "import", str(csv))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {csv}:1: the first line must be the header email,name,lang\n"


def test_importing_never_resubscribes_someone_who_left(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    with sqlite3.connect(workspace / "newsletter.db") as db:
        [(token,)] = db.execute("SELECT token FROM subscribers").fetchall()
    assert len(token) >= 22  # at least 128 random bits, URL-safe
    assert run("unsubscribe", token).exit_code == 0
    csv = workspace / "list.csv"
    csv.write_text("email,name,lang\nann@example.org,Ann,en\n", encoding="utf-8")
    run("subscribers", "import", str(csv))
    assert rows(workspace) == [("ann@example.org", "", "bilingual", "unsubscribed")]
    assert json.loads(run("subscribers", "list", "--status", "active", "--json").stdout) == []


def test_an_unknown_unsubscribe_token_is_an_error(workspace: Path) -> None:
    result = run("unsubscribe", "no-such-token")
    assert result.exit_code == 1
    assert result.stderr == "Error: no subscriber has that unsubscribe token\n"


def test_unsubscribing_twice_is_harmless(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    with sqlite3.connect(workspace / "newsletter.db") as db:
        [(token,)] = db.execute("SELECT token FROM subscribers").fetchall()
    assert run("unsubscribe", token).exit_code == 0
    assert run("unsubscribe", token).stdout == "unsubscribed ann@example.org\n"


def test_removing_someone_not_on_the_list_is_an_error(workspace: Path) -> None:
    result = run("subscribers", "remove", "nobody@example.org")
    assert result.exit_code == 1
    assert result.stderr == "Error: nobody@example.org is not on the list\n"
