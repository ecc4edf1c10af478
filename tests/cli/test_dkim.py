"""`newsletter dkim keygen` and `dkim check`, through the command line."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import cli

DOMAIN, SELECTOR = "example.org", "news2026"
KEYGEN = ["dkim", "keygen", "--domain", DOMAIN, "--selector", SELECTOR, "--out", "k.pem"]


def test_keygen_writes_mode_600_prints_the_record_and_never_overwrites(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, KEYGEN)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    assert result.stdout.startswith(f'{SELECTOR}._domainkey.{DOMAIN}. IN TXT ( "v=DKIM1; k=rsa; p=')
    strings = re.findall(r'"([^"]*)"', result.stdout)
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    assert "mode 600" in result.stderr

    before = (tmp_path / "k.pem").read_bytes()
    again = runner.invoke(cli, KEYGEN)
    assert again.exit_code == 1
    assert (
        again.stderr == f"Error: {Path('k.pem')} exists: not overwritten (choose another --out)\n"
    )
    assert (tmp_path / "k.pem").read_bytes() == before

    bad = runner.invoke(cli, ["dkim", "keygen", "--domain", "a b", "--selector", "s"])
    assert bad.exit_code == 2 and "--domain" in bad.stderr


def test_check_passes_with_a_key_keygen_made(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, KEYGEN)
    assert made.exit_code == 0, made.output
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "k.pem"\n'
    )
    result = runner.invoke(cli, ["dkim", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == made.stdout, "the record check compares is the one keygen printed"
    assert "DKIM check passed" in result.stderr


def test_check_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, KEYGEN).exit_code == 0
    (tmp_path / "k.pem").chmod(0o644)
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "k.pem"\n'
    )
    result = runner.invoke(cli, ["dkim", "check"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "mode 644" in result.stderr and "chmod 600" in result.stderr


def test_check_without_a_key_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dkim", "check"])
    assert result.exit_code == 1
    assert "dkim keygen" in result.stderr and result.stderr.count("\n") == 1
