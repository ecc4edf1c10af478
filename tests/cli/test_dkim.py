"""`newsletter dkim keygen` and `dkim check`, through the command line."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.mail.dkim import dns_text, load_signer
from tests.dnsd import DnsServer

DOMAIN, SELECTOR = "example.org", "news2026"
KEYGEN = ["dkim", "keygen", "--domain", DOMAIN, "--selector", SELECTOR, "--out", "k.pem"]


def test_keygen_writes_mode_600_prints_the_record_and_never_overwrites(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, KEYGEN)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    record = result.stdout.splitlines()[1]
    assert record.startswith(f'# {SELECTOR}._domainkey.{DOMAIN}. IN TXT ( "v=DKIM1; k=rsa; p=')
    strings = re.findall(r'"([^"]*)"', record)
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
    result = runner.invoke(cli, ["dkim", "check", "--no-dns"])
    assert result.exit_code == 0, result.output
    assert f"# {result.stdout}" in made.stdout, (
        "the record check compares is the one keygen printed"
    )
    assert result.stderr.startswith("DKIM check passed")
    assert "Warning: the published record was not looked up (--no-dns)." in result.stderr


def test_keygen_prints_toml_that_pastes_into_newsletter_toml_as_is(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "keys").mkdir()
    made = runner.invoke(cli, [*KEYGEN[:-1], "keys/k.pem"])
    assert made.exit_code == 0, made.output
    (tmp_path / "newsletter.toml").write_text(made.stdout, encoding="utf-8")

    shown = runner.invoke(cli, ["config", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["settings"]["dkim"] == {
        "domain": DOMAIN,
        "selector": SELECTOR,
        "key_file": str(tmp_path / "keys" / "k.pem"),
    }
    checked = runner.invoke(cli, ["dkim", "check", "--no-dns"])
    assert checked.exit_code == 0, checked.output


def test_check_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, KEYGEN).exit_code == 0
    (tmp_path / "k.pem").chmod(0o644)
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "k.pem"\n'
    )
    result = runner.invoke(cli, ["dkim", "check", "--no-dns"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "mode 644" in result.stderr and "chmod 600" in result.stderr


def test_check_without_a_key_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dkim", "check", "--no-dns"])
    assert result.exit_code == 1
    assert "dkim keygen" in result.stderr and result.stderr.count("\n") == 1


# The record published in DNS, from a real DNS server on 127.0.0.1 (tests/dnsd.py).
NAME = f"{SELECTOR}._domainkey.{DOMAIN}"


@pytest.fixture
def key_made(tmp_path: Path) -> bytes:
    """A key from `keygen`, configured in [dkim]; the record it needs published."""
    assert CliRunner().invoke(cli, KEYGEN).exit_code == 0
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "k.pem"\n'
    )
    signer = load_signer(load_config())
    assert signer is not None
    return dns_text(signer.key).encode()


def check_against(dns: DnsServer) -> Result:
    return CliRunner().invoke(cli, ["dkim", "check", "--nameserver", dns.address])


def test_check_verifies_against_the_published_record(key_made: bytes) -> None:
    spf = b"v=spf1 -all"  # another TXT record at the same name is passed over
    with DnsServer({NAME: [spf, key_made]}) as dns:
        result = check_against(dns)
    assert result.exit_code == 0, result.output
    assert dns.queries == [NAME]
    assert result.stderr == (
        f"DKIM check passed: a sample message signed for d={DOMAIN} s={SELECTOR} verifies "
        "against the record above and against the one published in DNS.\n"
    )


def test_a_published_record_with_another_key_fails_the_check(
    tmp_path: Path, key_made: bytes
) -> None:
    assert CliRunner().invoke(cli, [*KEYGEN[:-1], "other.pem"]).exit_code == 0
    (tmp_path / "newsletter.toml").write_text(
        f'[dkim]\ndomain = "{DOMAIN}"\nselector = "{SELECTOR}"\nkey_file = "other.pem"\n'
    )
    with DnsServer({NAME: [key_made]}) as dns:  # still k.pem's record
        result = check_against(dns)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"the TXT record published at {NAME} does not verify mail signed with" in result.stderr


def test_nothing_published_fails_the_check(key_made: bytes) -> None:
    with DnsServer({}) as dns:
        result = check_against(dns)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: nothing is published at {NAME} (TXT): publish the record `newsletter dkim "
        "check --no-dns` prints, or receivers cannot verify our mail\n"
    )


def test_a_lookup_that_cannot_be_made_is_a_warning(key_made: bytes) -> None:
    with DnsServer({NAME: [key_made]}) as dns:
        dns.failing = True  # SERVFAIL: the resolver gives up at once
        result = check_against(dns)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1] == (
        "Warning: could not look up the published record: "
        f"no name server answered for {NAME} (TXT)."
    )


@pytest.mark.parametrize("value", ["dns.example.org", "127.0.0.1:0", "127.0.0.1:99999", "::1:x"])
def test_a_nameserver_that_is_not_an_address_is_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(cli, ["dkim", "check", "--nameserver", value])
    assert result.exit_code == 2
    assert "--nameserver" in result.stderr
