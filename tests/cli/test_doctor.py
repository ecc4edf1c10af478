"""`newsletter doctor` against real local servers: `newsletter serve`, aiosmtpd (plain,
STARTTLS, implicit TLS, AUTH), a DNS server on 127.0.0.1, Dovecot (or a Maildir), the
stand-in arXiv. A good setup passes; each fault, one at a time, fails its own line."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.core.version import version
from newsletter.doctor import NAMES
from newsletter.mail.dkim import dns_text, keygen
from newsletter.store import Store
from tests.arxivd import ArxivServer
from tests.dnsd import DnsServer
from tests.imapd import PASSWORD, Imapd, _self_signed, missing
from tests.smtpd import SmtpServer, free_port
from tests.web.conftest import start_serve, stop_serve

LOGIN = ("digest", "smtp-Pa55w0rd")
SELECTOR = "s2026"
DOMAIN = "example.org"
ENVELOPE = "mail.example.org"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    folder = tmp_path_factory.mktemp("cert")
    _self_signed(folder / "cert.pem", folder / "key.pem")
    return folder / "cert.pem", folder / "key.pem"


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    return context


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newsletter serve` on a free port: its base URL."""
    site, port = tmp_path_factory.mktemp("serve"), free_port()
    base = f"http://127.0.0.1:{port}"
    (site / "newsletter.toml").write_text(f'[newsletter]\nbase_url = "{base}"\n')
    process = start_serve(site, port, "--workers", "1")
    yield base
    stop_serve(process, site)


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imapd | None]:
    """Dovecot, or None where it cannot run (the inbox is then a Maildir)."""
    if missing():
        yield None
        return
    with Imapd(tmp_path_factory.mktemp("imapd")) as server:
        yield server


@pytest.fixture
def relay(cert: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """A relay with STARTTLS and AUTH."""
    with SmtpServer(login=LOGIN, tls_context=server_context(cert)) as running:
        yield running


@pytest.fixture
def dkim_record(workspace: Path) -> bytes:
    """A key made as `dkim keygen` makes one (mode 600): the record it needs."""
    return dns_text(keygen(workspace / "dkim.pem")).encode()


@pytest.fixture
def dns(dkim_record: bytes) -> Iterator[DnsServer]:
    """Good records for the From domain and the envelope domain."""
    records = {
        DOMAIN: [b"v=spf1 ip4:127.0.0.1 -all"],
        ENVELOPE: [b"v=spf1 include:example.org -all"],
        f"{SELECTOR}._domainkey.{DOMAIN}": [dkim_record],
        f"_dmarc.{DOMAIN}": [b"v=DMARC1; p=reject; rua=mailto:dmarc@example.org"],
    }
    typed = {
        (ENVELOPE, "MX"): ["10 mx.example.org."],
        ("mx.example.org", "A"): ["127.0.0.1"],
    }
    with DnsServer(records, typed) as running:
        yield running


Setup = Callable[..., dict[str, dict[str, Any]]]


@pytest.fixture
def setup(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    cert: tuple[Path, Path],
    serve: str,
    relay: SmtpServer,
    dns: DnsServer,
    dovecot: Imapd | None,
    arxiv: ArxivServer,
) -> Setup:
    """Write a good newsletter.toml (sections updated by the keyword arguments) and
    the environment it needs; returns the settings written."""
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    monkeypatch.setenv("NEWSLETTER_NAMESERVER", dns.address)
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", LOGIN[1])
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", PASSWORD)
    Store.open(workspace / "newsletter.db").close()
    inbox: dict[str, Any] = {}
    if dovecot is not None:
        inbox = {"host": "127.0.0.1", "port": dovecot.port, "security": "none"}
        inbox["username"] = "bounces@example.org"

    def write(**changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
        settings: dict[str, dict[str, Any]] = {
            "newsletter": {
                "from": f"Digest <digest@{DOMAIN}>",
                "base_url": serve,
                "postal_address": "1 Example Road",
            },
            "smtp": {
                "host": "127.0.0.1",
                "port": relay.port,
                "security": "starttls",
                "username": LOGIN[0],
                "timeout": 5,
            },
            "dkim": {"domain": DOMAIN, "selector": SELECTOR, "key_file": "dkim.pem"},
            "bounces": {"address": f"bounces+{{token}}@{ENVELOPE}"},
            "inbox": inbox,
            "arxiv": {"enrich": True, "api_url": arxiv.url, "interval": 0},
        }
        for section, values in changes.items():
            settings.setdefault(section, {}).update(values)
        (workspace / "newsletter.toml").write_text(toml(settings))
        return settings

    return write


def toml(settings: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"[{section}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        for section, values in settings.items()
    )


def doctor(*arguments: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", *arguments])


def lines(result: Result) -> dict[str, tuple[str, str]]:
    """Each printed check: its name -> (result, detail)."""
    found = {}
    for line in result.stdout.splitlines():
        outcome, name, detail = line.split(maxsplit=2)
        found[name] = (outcome, detail)
    return found


def test_a_good_setup_passes(setup: Setup, workspace: Path, dovecot: Imapd | None) -> None:
    setup()
    arguments = () if dovecot else ("--maildir", str(maildir(workspace)))
    result = doctor(*arguments)
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert list(found) == list(NAMES)
    assert {name: outcome for name, (outcome, _) in found.items()} == dict.fromkeys(NAMES, "ok")
    assert f"newsletter {version()} answers" in found["web.healthz"][1]
    assert "STARTTLS (TLSv1.3)" in found["smtp.tls"][1]
    assert "logged in as 'digest' (nothing sent)" in found["smtp.auth"][1]
    assert "+include:example.org in mail.example.org" in found["dns.spf.envelope"][1]
    assert "p=reject; aligned by DKIM d=example.org and SPF" in found["dns.dmarc"][1]
    assert "mode 600" in found["files.dkim_key"][1]
    assert result.stderr == "doctor: 16 ok, 0 warn, 0 fail, 0 skip\n"


def test_json_lists_every_check_with_a_name_a_result_and_a_detail(setup: Setup) -> None:
    setup(smtp={"username": "", "security": "none"}, arxiv={"enrich": False})
    result = doctor("--json")
    checks = json.loads(result.stdout)
    assert [check["name"] for check in checks] == list(NAMES)
    assert all(set(check) == {"name", "result", "detail"} for check in checks)
    by_name = {check["name"]: check for check in checks}
    assert by_name["smtp.auth"]["result"] == "skip"
    assert by_name["arxiv"] == {"name": "arxiv", "result": "skip", "detail": "arxiv.enrich is off"}
    assert by_name["smtp.tls"]["detail"] == "security = none: the relay is on this machine"


def test_implicit_tls_with_its_certificate_checked(
    setup: Setup, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer(implicit_tls=server_context(cert)) as tls:
        setup(smtp={"port": tls.port, "security": "tls", "username": ""})
        found = lines(doctor())
        assert found["smtp.tls"][0] == "ok" and "implicit TLS" in found["smtp.tls"][1]
        monkeypatch.delenv("SSL_CERT_FILE")  # the self-signed certificate is not trusted
        found = lines(doctor())
    assert found["smtp.connect"][0] == "ok"
    assert found["smtp.tls"][0] == "fail" and "certificate" in found["smtp.tls"][1]
    assert tls.handler.received == []


class Impostor:
    """Another web server at base_url: /healthz says `healthz`, every other path 404."""

    def __init__(self, healthz: str) -> None:
        said = healthz.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(200 if self.path == "/healthz" else 404)

            def do_POST(self) -> None:
                self._answer(404)

            def _answer(self, status: int) -> None:
                body = said if status == 200 else b"Not Found"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> Impostor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def maildir(workspace: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (workspace / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    return workspace / "Maildir"


def break_config(setup: Setup, workspace: Path) -> None:
    setup(smtp={"password": "in the file"})


def break_base_url(setup: Setup, workspace: Path) -> None:
    setup(newsletter={"base_url": "https://digest.example.org"})


def break_smtp_port(setup: Setup, workspace: Path) -> None:
    setup(smtp={"port": free_port()})


def break_smtp_password(setup: Setup, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "wrong")
    setup()


def break_files(setup: Setup, workspace: Path) -> None:
    setup()
    (workspace / "newsletter.db").chmod(0o644)


def break_key(setup: Setup, workspace: Path) -> None:
    setup()
    (workspace / "dkim.pem").chmod(0o640)


def break_arxiv(setup: Setup, workspace: Path) -> None:
    setup(arxiv={"api_url": f"http://127.0.0.1:{free_port()}/api/query"})


FAULTS: dict[str, tuple[Callable[..., None], str]] = {
    "config": (break_config, "unknown key smtp.password"),
    "base_url": (break_base_url, "is the example https://digest.example.org"),
    "smtp.connect": (break_smtp_port, "connection refused"),
    "smtp.auth": (break_smtp_password, "refused the login of 'digest': 535"),
    "files.database": (break_files, "is mode 644, open to others: run `chmod 600 "),
    "files.dkim_key": (break_key, "is mode 640, open to others: run `chmod 600 "),
    "arxiv": (break_arxiv, "could not reach 127.0.0.1"),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_fails_its_own_line(
    name: str, setup: Setup, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault, said = FAULTS[name]
    arguments = (fault, setup, workspace) + ((monkeypatch,) if name == "smtp.auth" else ())
    arguments[0](*arguments[1:])
    result = doctor("--maildir", str(maildir(workspace)))
    assert result.exit_code == 1, result.output
    failed = {n: detail for n, (outcome, detail) in lines(result).items() if outcome == "fail"}
    assert list(failed) == [name], result.stdout
    assert said in failed[name]


def test_a_server_that_is_not_serve_fails_healthz_or_unsubscribe(setup: Setup) -> None:
    with Impostor("OK") as other:
        setup(newsletter={"base_url": other.base})
        found = lines(doctor())
    assert found["web.healthz"][0] == "fail" and "not `newsletter serve`" in found["web.healthz"][1]
    assert found["web.unsubscribe"][0] == "skip"
    with Impostor(f"ok newsletter {version()}\n") as proxy:  # a proxy that passes /healthz only
        setup(newsletter={"base_url": proxy.base})
        result = doctor()
    found = lines(result)
    assert (found["web.healthz"][0], found["web.unsubscribe"][0]) == ("ok", "fail")
    assert "answered 404, not from `newsletter serve`" in found["web.unsubscribe"][1]
    assert result.exit_code == 1


def test_a_relay_without_starttls_or_with_an_untrusted_certificate_fails_tls(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer(login=LOGIN) as plain:
        setup(smtp={"port": plain.port})
        found = lines(doctor())
    assert found["smtp.tls"][0] == "fail" and "does not offer STARTTLS" in found["smtp.tls"][1]
    assert found["smtp.auth"][0] == "skip"
    setup()
    monkeypatch.delenv("SSL_CERT_FILE")
    found = lines(doctor())
    assert found["smtp.tls"][0] == "fail"
    assert (
        "certificate verify failed" in found["smtp.tls"][1] or "self-signed" in found["smtp.tls"][1]
    )


def test_dns_faults_fail_their_own_lines(setup: Setup, dns: DnsServer) -> None:
    setup()
    del dns.records[DOMAIN]
    found = lines(doctor())
    assert (
        found["dns.spf.from"][0] == "fail"
        and "example.org has no SPF record" in (found["dns.spf.from"][1])
    )
    assert found["dns.spf.envelope"][0] == "warn", "its include: has no record: cannot tell"
    dns.records[DOMAIN] = [b"v=spf1 ip4:127.0.0.1 -all"]
    dns.records[f"{SELECTOR}._domainkey.{DOMAIN}"] = [dns_text(keygen(Path("other.pem"))).encode()]
    del dns.records[f"_dmarc.{DOMAIN}"]
    del dns.typed[ENVELOPE, "MX"]
    result = doctor()
    failed = {n: d for n, (outcome, d) in lines(result).items() if outcome == "fail"}
    assert list(failed) == ["dns.dkim", "dns.dmarc", "dns.mx.envelope"], result.stdout
    assert "does not verify mail signed with" in failed["dns.dkim"]
    assert "no DMARC record at _dmarc.example.org" in failed["dns.dmarc"]
    assert "mail.example.org has no MX record" in failed["dns.mx.envelope"]
    assert result.exit_code == 1


def test_dmarc_that_does_not_align_fails(setup: Setup, dns: DnsServer) -> None:
    setup(
        bounces={"address": "bounces+{token}@elsewhere.net"},
        dkim=dict.fromkeys(["domain", "selector", "key_file"], ""),
    )
    dns.records["elsewhere.net"] = [b"v=spf1 ip4:127.0.0.1 -all"]
    found = lines(doctor())
    assert found["dns.dmarc"][0] == "fail" and "neither the DKIM domain" in found["dns.dmarc"][1]


def test_an_spf_that_leaves_out_a_public_relay_fails(dns: DnsServer) -> None:
    """The relay here is on 127.0.0.1 (doctor says "cannot tell"); one elsewhere that
    the record leaves out is not covered."""
    import ipaddress
    from functools import partial

    from newsletter.doctor import spf
    from newsletter.mail.resolver import lookup

    ask = partial(lookup, nameserver=dns.address)
    dns.records["other.org"] = [b"v=spf1 mx a:relay.other.org/24 redirect=example.org"]
    dns.typed["other.org", "MX"] = ["5 mx.other.org."]
    dns.typed["mx.other.org", "A"] = ["198.51.100.7"]
    dns.typed["relay.other.org", "A"] = ["203.0.113.9"]
    assert spf.covers("other.org", ipaddress.ip_address("198.51.100.7"), ask)[0]
    assert spf.covers("other.org", ipaddress.ip_address("203.0.113.200"), ask)[0]
    assert spf.covers("other.org", ipaddress.ip_address("127.0.0.1"), ask)[0], "redirect="
    assert not spf.covers("other.org", ipaddress.ip_address("192.0.2.1"), ask)[0]
    dns.records["other.org"] = [b"v=spf1 exists:%{i}.spf.other.org -all"]
    with pytest.raises(spf.CannotTell):
        spf.covers("other.org", ipaddress.ip_address("192.0.2.1"), ask)


def test_the_inbox_with_a_wrong_password_fails(
    setup: Setup, dovecot: Imapd | None, monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    if dovecot is None:
        setup()
        found = lines(doctor("--maildir", str(workspace / "nowhere")))
        assert found["inbox"][0] == "fail" and "is not a Maildir" in found["inbox"][1]
        return
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", "wrong")
    setup()
    found = lines(doctor())
    assert found["inbox"][0] == "fail" and "refused the login" in found["inbox"][1]


def test_outside_a_workspace_only_config_fails_and_the_rest_is_skipped(nowhere: Path) -> None:
    result = doctor()
    assert result.exit_code == 1
    found = lines(result)
    assert found["config"][0] == "fail" and "newsletter init" in found["config"][1]
    assert {outcome for name, (outcome, _) in found.items() if name != "config"} == {"skip"}
