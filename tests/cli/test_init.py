"""`newsletter init`: a workspace a newcomer fills in, that `config` accepts as written."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import fields
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config.settings import SECTIONS
from tests.conftest import SAMPLE_DIGEST


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_init_makes_a_workspace_config_accepts_as_written(tmp_path: Path) -> None:
    result = invoke("init", "site")

    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert "Made site/newsletter.toml" in result.stdout
    assert "Made site/digests/sample-digest.md" in result.stdout
    assert "base_url" in result.stdout and "newsletter doctor" in result.stdout
    assert (site / "digests" / "sample-digest.md").read_bytes() == SAMPLE_DIGEST.read_bytes()
    shown = invoke("--config", str(site / "newsletter.toml"), "config", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["file"] == str(site / "newsletter.toml")


def test_init_writes_every_setting_with_a_comment_and_no_secret(tmp_path: Path) -> None:
    assert invoke("init", "site").exit_code == 0
    text = (tmp_path / "site" / "newsletter.toml").read_text(encoding="utf-8")
    written = tomllib.loads(text)

    assert list(written) == list(SECTIONS)
    for name, cls in SECTIONS.items():
        assert set(written[name]) == {f.name.rstrip("_") for f in fields(cls)}, name
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith(("#", "[")):
            assert lines[number - 1].startswith("# "), f"no comment above {line!r}"
            assert "(default:" in "\n".join(lines[max(0, number - 3) : number]), line
    assert "password =" not in text
    assert "NEWSLETTER_SMTP_PASSWORD" in text and "NEWSLETTER_INBOX_PASSWORD" in text


def test_init_workspace_composes_the_sample(tmp_path: Path) -> None:
    assert invoke("init", "site").exit_code == 0
    os.chdir(tmp_path / "site")

    result = invoke("compose", "--date", "2024-07-15", "--dry-run", "--json")

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["papers"]) == 13


def test_second_init_refuses_and_changes_nothing(tmp_path: Path) -> None:
    assert invoke("init", "site").exit_code == 0
    site = tmp_path / "site"
    (site / "newsletter.toml").write_text('[newsletter]\nbase_url = "https://mine.example"\n')
    before = snapshot(site)

    again = invoke("init", "site")

    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr == (
        f"Error: {Path('site/newsletter.toml')} exists: not overwritten "
        "(this is a workspace already)\n"
    )
    assert snapshot(site) == before


def test_init_defaults_to_the_current_folder_and_keeps_existing_digests(tmp_path: Path) -> None:
    (tmp_path / "here" / "digests").mkdir(parents=True)
    os.chdir(tmp_path / "here")
    (tmp_path / "here" / "digests" / "sample-digest.md").write_text("## mine\n")

    result = invoke("init")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Made newsletter.toml\n\nNext:")
    assert "cd " not in result.stdout
    assert (tmp_path / "here" / "digests" / "sample-digest.md").read_text() == "## mine\n"


def test_init_empty_leaves_a_note_not_the_sample(tmp_path: Path) -> None:
    result = invoke("init", "site", "--empty")

    assert result.exit_code == 0, result.output
    digests = tmp_path / "site" / "digests"
    assert [p.name for p in digests.iterdir()] == ["README.md"]
    assert "## " in (digests / "README.md").read_text(encoding="utf-8")


def test_init_into_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")

    result = invoke("init", "taken")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith("'taken' is a file.")
    assert (tmp_path / "taken").read_text() == "x"
