"""`newsletter subscribers …` and `unsubscribe`, on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.audience.subscribers import NAME_MAX, TOKEN_ALPHABET, new_token
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
    assert result.stdout == (
        "3 added, 1 already on the list, 0 removed earlier and kept off, 2 with errors\n"
    )
    assert rows(workspace) == [
        ("li.wei@example.org", "李伟", "zh", "active"),
        ("ann@example.org", "Ann", "bilingual", "active"),
        ("bob@example.org", "", "en", "active"),
    ]
    again = run("subscribers", "import", str(csv))
    assert again.stdout == (
        "0 added, 4 already on the list, 0 removed earlier and kept off, 2 with errors\n"
    )
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


def token_of(workspace: Path, address: str) -> str:
    with sqlite3.connect(workspace / "newsletter.db") as db:
        [(token,)] = db.execute("SELECT token FROM subscribers WHERE email = ?", (address,))
    return str(token)


def test_a_name_with_a_line_break_is_refused_at_add(workspace: Path) -> None:
    result = run("subscribers", "add", "ann@example.org", "--name", "Evil\r\nBcc: x@evil.example")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: the name 'Evil\\r\\nBcc: x@evil.example' contains a control character "
        "(U+000D); names are one line of text\n"
    )
    assert rows(workspace) == []


def test_import_refuses_control_characters_naming_the_rows_first_line(workspace: Path) -> None:
    csv = workspace / "list.csv"
    csv.write_text(
        "email,name,lang\n"
        "ann@example.org,Ann,en\n"
        '"evil@example.org","Evil\r\nBcc: x@evil.example",en\n'
        "tab@example.org,Tab\tbed,en\n"
        "bob@example.org,Bob,zh\n",
        encoding="utf-8",
        newline="",
    )
    result = run("subscribers", "import", str(csv))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{csv}:3: the name 'Evil\\r\\nBcc: x@evil.example' contains a control character "
        "(U+000D); names are one line of text",
        f"{csv}:5: the name 'Tab\\tbed' contains a control character (U+0009); "
        "names are one line of text",
    ]
    assert result.stdout == (
        "2 added, 0 already on the list, 0 removed earlier and kept off, 2 with errors\n"
    )
    assert rows(workspace) == [
        ("ann@example.org", "Ann", "en", "active"),
        ("bob@example.org", "Bob", "zh", "active"),
    ]


def test_names_longer_than_the_cap_are_refused(workspace: Path) -> None:
    assert NAME_MAX == 100
    assert run("subscribers", "add", "max@example.org", "--name", "李" * NAME_MAX).exit_code == 0
    long = run("subscribers", "add", "ann@example.org", "--name", "A" * 5000)
    assert long.exit_code == 1
    assert long.stderr == (
        f"Error: the name '{'A' * 39}…' is 5000 characters long; at most 100 are allowed\n"
    )
    csv = workspace / "list.csv"
    csv.write_text(f"email,name,lang\nbob@example.org,{'B' * 101},en\n", encoding="utf-8")
    imported = run("subscribers", "import", str(csv))
    assert imported.exit_code == 1
    assert imported.stderr == (
        f"{csv}:2: the name '{'B' * 39}…' is 101 characters long; at most 100 are allowed\n"
    )
    assert [row[0] for row in rows(workspace)] == ["max@example.org"]
    assert "at most 100 characters" in " ".join(run("subscribers", "add", "--help").stdout.split())


def test_a_file_that_is_not_csv_imports_nothing(workspace: Path) -> None:
    csv = workspace / "list.csv"
    csv.write_text(
        'email,name,lang\nann@example.org,Ann,en\nbob@example.org,"Bob', encoding="utf-8"
    )
    result = run("subscribers", "import", str(csv))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {csv}:3: not valid CSV: unexpected end of data\n"
    assert rows(workspace) == []


def test_tokens_never_start_with_a_dash() -> None:
    tokens = {new_token() for _ in range(5000)}  # token_urlsafe: ~78 would start with "-"
    assert len(tokens) == 5000
    assert {len(token) for token in tokens} == {33}  # 62 ** 33 > 2 ** 192
    assert set("".join(tokens)) == set(TOKEN_ALPHABET)


def test_unsubscribe_takes_a_token_after_double_dash(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    result = run("unsubscribe", "--", token_of(workspace, "ann@example.org"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "unsubscribed ann@example.org\n"


def test_a_stored_token_that_starts_with_a_dash_still_works(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    legacy = "-x0Hq2Zb8Yk5TJm1wqvV3nS9pLcA7dFe"  # as secrets.token_urlsafe(24) could make
    with sqlite3.connect(workspace / "newsletter.db") as db:
        db.execute("UPDATE subscribers SET token = ?", (legacy,))
    result = run("unsubscribe", "--", legacy)
    assert result.exit_code == 0, result.output
    assert rows(workspace) == [("ann@example.org", "", "bilingual", "unsubscribed")]
    assert "`--` before a token" in run("unsubscribe", "--help").stdout


def test_someone_removed_stays_gone(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org", "--name", "Ann")
    run("subscribers", "add", "bob@example.org")
    assert run("unsubscribe", token_of(workspace, "ann@example.org")).exit_code == 0
    assert run("subscribers", "remove", "ann@example.org").exit_code == 0
    csv = workspace / "list.csv"
    csv.write_text("email,name,lang\nANN@example.org,Ann,en\nbob@example.org,,\n")
    imported = run("subscribers", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    assert imported.stderr == (
        f"{csv}:2: ANN@example.org was removed from the list earlier; kept off "
        "(--resubscribe adds it back if they asked to come back)\n"
    )
    assert imported.stdout == (
        "0 added, 1 already on the list, 1 removed earlier and kept off, 0 with errors\n"
    )
    added = run("subscribers", "add", "ann@example.org")
    assert added.exit_code == 1
    assert added.stderr == (
        "Error: ann@example.org was removed from the list earlier; add it again only if "
        "they asked to come back: --resubscribe\n"
    )
    assert rows(workspace) == [("bob@example.org", "", "bilingual", "active")]
    assert "--resubscribe" in run("subscribers", "import", "--help").stdout


def test_removal_keeps_no_address_only_a_hash(workspace: Path) -> None:
    run("subscribers", "add", "Ann.Lee@example.org", "--name", "Ann Lee")
    run("subscribers", "remove", "ann.lee@example.org")
    with sqlite3.connect(workspace / "newsletter.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dump = "\n".join(db.iterdump()).lower()
    assert "ann.lee" not in dump and "ann lee" not in dump


def test_resubscribe_brings_back_someone_who_asked(workspace: Path) -> None:
    run("subscribers", "add", "ann@example.org")
    run("subscribers", "add", "bob@example.org")
    run("subscribers", "remove", "ann@example.org")
    run("subscribers", "remove", "bob@example.org")
    back = run("subscribers", "add", "ann@example.org", "--resubscribe")
    assert back.exit_code == 0, back.output
    csv = workspace / "list.csv"
    csv.write_text("email,name,lang\nbob@example.org,Bob,en\n")
    imported = run("subscribers", "import", str(csv), "--resubscribe")
    assert imported.exit_code == 0, imported.output
    assert rows(workspace) == [
        ("ann@example.org", "", "bilingual", "active"),
        ("bob@example.org", "Bob", "en", "active"),
    ]
    run("subscribers", "remove", "ann@example.org")
    assert run("subscribers", "add", "ann@example.org").exit_code == 1  # gone again
