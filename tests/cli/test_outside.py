"""Outside a workspace (no newsletter.toml, no --config): every command that needs the
list or the issues is one line naming `newsletter init`, exit 1, and creates nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import SAMPLE_DIGEST, newsletter_process

NEEDS_A_WORKSPACE = [
    ["compose"],
    ["compose", "--dry-run"],
    ["send"],
    ["send", "--dry-run"],
    ["subscribers", "add", "ann@example.org"],
    ["subscribers", "list"],
    ["subscribers", "remove", "ann@example.org"],
    ["unsubscribe", "abc"],
    ["inbox", "--dry-run"],
    ["inbox", "--maildir", "."],
    ["status"],
    ["status", "--json"],
    ["serve"],
    ["schedule", "--next", "2"],
    ["run-once"],
    ["archive", "build", "out"],
    ["digest", "enrich"],
    ["dkim", "check", "--no-dns"],
]


@pytest.mark.parametrize("arguments", NEEDS_A_WORKSPACE, ids=" ".join)
def test_command_outside_a_workspace_is_one_line_and_creates_nothing(
    nowhere: Path, arguments: list[str]
) -> None:
    result = CliRunner().invoke(cli, arguments)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: no newsletter.toml here ({nowhere}): make a workspace with "
        "`newsletter init`, or name the file with --config\n"
    )
    assert list(nowhere.iterdir()) == []


def test_status_in_an_empty_folder_through_the_console(nowhere: Path) -> None:
    process = newsletter_process(nowhere, "status", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 1
    assert out == ""
    assert err.count("\n") == 1 and "newsletter init" in err
    assert list(nowhere.iterdir()) == []


def test_config_names_a_workspace_elsewhere(nowhere: Path) -> None:
    site = nowhere / "site"
    assert CliRunner().invoke(cli, ["init", "site"]).exit_code == 0

    result = CliRunner().invoke(cli, ["--config", str(site / "newsletter.toml"), "status"])
    assert result.exit_code == 0, result.output
    env = CliRunner().invoke(
        cli, ["subscribers", "list"], env={"NEWSLETTER_CONFIG": str(site / "newsletter.toml")}
    )
    assert env.exit_code == 0, env.output
    assert sorted(p.name for p in nowhere.iterdir()) == ["site"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["digest", "parse", str(SAMPLE_DIGEST)],
        ["--help"],
        ["--version"],
        ["config"],
        ["send", "--help"],
    ],
    ids=" ".join,
)
def test_what_needs_no_workspace_works_anywhere(nowhere: Path, arguments: list[str]) -> None:
    result = CliRunner().invoke(cli, arguments)

    assert result.exit_code == 0, result.output
    assert list(nowhere.iterdir()) == []
