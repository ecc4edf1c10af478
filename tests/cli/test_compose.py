"""`newsletter compose` through click's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import ROOT, SAMPLE_DIGEST
from tests.helpers import SAMPLE_IDS


@pytest.fixture
def site(workspace: Path) -> Path:
    (workspace / "digests").mkdir()
    shutil.copy(SAMPLE_DIGEST, workspace / "digests" / "sample-digest.md")
    return workspace


def test_compose_json_says_what_was_done(site: Path) -> None:
    result = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["composed"] is True and document["dry_run"] is False
    assert (document["issue"], document["date"]) == (1, "2024-07-15")
    assert document["folder"] == str(site / "issues" / "0001-2024-07-15")
    assert document["papers"] == SAMPLE_IDS
    assert set(document["editions"]) == {"bilingual", "en", "zh"}
    assert document["editions"]["en"]["subject"] == "AI Paper Digest #1"
    assert len(document["warnings"]) == 2
    assert result.stderr.count("stray paragraph left out") == 2


def test_compose_prints_a_readable_summary(site: Path) -> None:
    result = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"Composed issue 1 (2024-07-15), 13 papers in {site / 'issues' / '0001-2024-07-15'}"
    )
    assert lines[1].split()[0] == "bilingual" and lines[1].endswith(
        "AI Paper Digest #1 · AI 论文周报 第1期"
    )
    again = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15"])
    assert again.stdout.startswith("Recomposed issue 1 (2024-07-15), 13 papers")


def test_compose_dry_run(site: Path) -> None:
    result = CliRunner().invoke(cli, ["compose", "--dry-run", "--max-papers", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Would compose issue 1 (")
    assert "2 papers" in result.stdout.splitlines()[0]
    assert sorted(p.name for p in site.iterdir()) == ["digests", "newsletter.toml"]


def test_nothing_to_compose_is_one_line_and_exit_0(site: Path) -> None:
    (site / "digests" / "sample-digest.md").write_text("# Nothing this week\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["compose"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "No unsent papers: nothing to compose.\n"
    assert not (site / "issues").exists()


def test_a_broken_template_is_one_error_line_and_exit_1(site: Path) -> None:
    (site / "templates").mkdir()
    (site / "templates" / "issue.txt.j2").write_text("line one\n{{ issue.subjet }}\n")
    result = CliRunner().invoke(cli, ["compose"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: {site / 'templates' / 'issue.txt.j2'}:2: 'dict object' has no attribute 'subjet'"
    )
    assert not (site / "issues").exists() or not any((site / "issues").iterdir())


def test_no_digest_files_is_one_error_naming_the_key(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["compose"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {workspace / 'newsletter.toml'}: newsletter.digests: 'digests/*.md' matches "
        f"no file (looked in {workspace})\n"
    )


@pytest.mark.parametrize(
    "arguments", [["--date", "15/07/2024"], ["--max-papers", "0"], ["--max-papers", "x"]]
)
def test_bad_options_are_usage_errors(site: Path, arguments: list[str]) -> None:
    result = CliRunner().invoke(cli, ["compose", *arguments])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_stray_paragraph_warnings_are_shown_once_not_every_week(site: Path) -> None:
    first = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15"])
    assert first.exit_code == 0, first.output
    assert first.stderr.count("stray paragraph left out") == 2
    again = CliRunner().invoke(cli, ["compose", "--date", "2024-07-22", "--json"])
    assert again.exit_code == 0, again.output
    assert again.stderr == ""
    assert json.loads(again.stdout)["warnings"] == []
    parse = CliRunner().invoke(cli, ["digest", "parse", "digests/sample-digest.md"])
    assert parse.stderr.count("stray paragraph left out") == 2  # an explicit look shows all


def test_an_issue_without_its_unsubscribe_link_is_not_written(site: Path) -> None:
    partials = site / "templates" / "partials"
    partials.mkdir(parents=True)
    footer = (ROOT / "templates" / "partials" / "footer.mjml.j2").read_text(encoding="utf-8")
    (partials / "footer.mjml.j2").write_text(footer.replace("{{ unsubscribe_url }}", "#"))
    result = CliRunner().invoke(cli, ["compose"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: the bilingual edition's HTML has no unsubscribe link (%%UNSUBSCRIBE_URL%%, "
        "from {{ unsubscribe_url }} in the templates); no issue is written"
    )
    assert "Traceback" not in result.output
    assert not (site / "issues").exists() or not any((site / "issues").iterdir())
