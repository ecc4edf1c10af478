"""The guard on `base_url`: `send` refuses a real relay while base_url is the example
and warns for a local capture server; `serve` warns at start when base_url does not
lead to it. Real sends (aiosmtpd), real `newsletter serve` processes, real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.core.hosts import is_local
from newsletter.core.origin_guard import EXAMPLE_BASE_URL, is_example, serve_warning
from tests.helpers import THREE, ledger, make_site, sent_addresses
from tests.smtpd import SmtpServer, free_port
from tests.web.conftest import start_serve, stop_serve

EXAMPLE_WARNING = (
    f"newsletter.base_url is the example {EXAMPLE_BASE_URL}: the links in these "
    "messages lead nowhere (fine for a local capture server at 127.0.0.1; set base_url "
    "before sending for real)\n"
)


def test_send_through_a_relay_elsewhere_refuses_while_base_url_is_the_example(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE, host="smtp.relay.example.net")
    result = CliRunner().invoke(cli, ["send"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: newsletter.base_url is still the example {EXAMPLE_BASE_URL}: every link "
        "in the issue (unsubscribe included) would lead there; set base_url in "
        "newsletter.toml to where `newsletter serve` answers (behind nginx: "
        "https://your-host) before sending through smtp.relay.example.net\n"
    )
    assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]
    assert ledger(site, "SELECT status FROM issues") == [("composed",)]
    assert server.handler.received == []


def test_the_environment_override_of_the_host_is_guarded_too(
    workspace: Path, server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(workspace, server.port, THREE)
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "203.0.113.7")
    result = CliRunner().invoke(cli, ["send", "--json"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: newsletter.base_url is still the example")
    assert result.stderr.endswith("before sending through 203.0.113.7\n")


def test_send_to_a_local_capture_server_warns_and_sends(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    assert result.stderr == EXAMPLE_WARNING
    assert sent_addresses(site) == {address for address, _, _ in THREE}
    again = CliRunner().invoke(cli, ["send", "--json", "--issue", "1"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["warnings"] == []  # nothing left to send: no warning


def test_send_json_carries_the_warning(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, THREE)
    result = CliRunner().invoke(cli, ["send", "--json"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout)["warnings"] == [EXAMPLE_WARNING.rstrip("\n")]


def test_send_with_a_real_base_url_says_nothing_of_it(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, THREE, base_url="https://digest.our-lab.org")
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    assert "base_url" not in result.stderr


@pytest.mark.parametrize(
    ("base_url", "warned"),
    [
        (EXAMPLE_BASE_URL, "is the example"),
        ("http://127.0.0.1:{other}", "does not lead to this server"),
        ("http://localhost:{port}/digest/", None),
        ("https://digest.our-lab.org", None),  # a proxy in front (nginx)
    ],
)
def test_serve_warns_at_start_when_base_url_does_not_lead_to_it(
    workspace: Path, server: SmtpServer, base_url: str, warned: str | None
) -> None:
    port, other = free_port(), free_port()
    site = make_site(
        workspace, server.port, THREE, base_url=base_url.format(port=port, other=other)
    )
    log = stop_serve(start_serve(site, port, "--workers", "1"), site)
    first = log.splitlines()[0]
    if warned:
        assert first.startswith("warning: newsletter.base_url ") and warned in first, log
        assert sum("base_url" in line for line in log.splitlines()) == 1
    else:
        assert "base_url" not in log, log


def test_the_local_hosts_and_the_warning_for_a_port_that_differs() -> None:
    local = ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "LocalHost.", "a.localhost"]
    assert all(is_local(host) for host in local)
    assert not any(is_local(host) for host in ["smtp.example.net", "10.0.0.1", "::2", ""])
    assert serve_warning("http://127.0.0.1:8081", "127.0.0.1", 8080) == (
        "warning: newsletter.base_url http://127.0.0.1:8081 does not lead to this server "
        "(listening on 127.0.0.1:8080): set base_url, or --port 8081"
    )
    assert serve_warning("http://127.0.0.1", "127.0.0.1", 80) is None
    assert serve_warning("https://[::1]", "::1", 443) is None


def test_every_base_url_on_an_example_domain_is_the_example() -> None:
    """The default, and any host under RFC 2606's example domains, which no site is on:
    the send guard and `doctor` ask the same question here."""
    for url in (EXAMPLE_BASE_URL, "https://news.example.com/digest/", "http://EXAMPLE.NET"):
        assert is_example(url), url
    for url in ("https://digest.example-lab.org", "http://127.0.0.1:8080", "https://ai.dev"):
        assert not is_example(url), url
