"""The envelope sender (MAIL FROM) names the subscriber when `bounces.address` is a
VERP pattern, so that a bounce says whose mailbox is gone (RFC 5321's reverse path;
the visible From stays as configured)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.send import send
from tests.helpers import THREE, make_site, tokens
from tests.smtpd import SmtpServer


def with_bounces(site: Path, address: str) -> None:
    config = site / "newsletter.toml"
    config.write_text(config.read_text() + f'[bounces]\naddress = "{address}"\n')


def test_each_message_carries_its_subscriber_in_the_envelope(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    with_bounces(site, "bounces+{token}@example.org")
    assert send(load_config()).sent == 3
    token_of = tokens(site)
    expected = {f"bounces+{token_of[address]}@example.org" for address, _, _ in THREE}
    assert set(server.handler.mail_from) == expected
    for received in server.handler.received:
        assert received.message["From"] == "AI Paper Digest <digest@example.org>"


def test_without_a_pattern_bounces_go_to_the_from_address(
    workspace: Path, server: SmtpServer
) -> None:
    make_site(workspace, server.port, THREE)
    assert send(load_config()).sent == 3
    assert server.handler.mail_from == ["digest@example.org"] * 3


@pytest.mark.parametrize(
    "pattern",
    [
        "bounces@example.org",
        "bounces@{token}.example.org",
        "b+{token}+{issue}@x.org",
        "not an address {token}",
    ],
)
def test_a_pattern_without_its_token_or_not_an_address_is_one_line(
    workspace: Path, pattern: str
) -> None:
    (workspace / "newsletter.toml").write_text(f'[bounces]\naddress = "{pattern}"\n')
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {workspace / 'newsletter.toml'}: bounces.address: ")
