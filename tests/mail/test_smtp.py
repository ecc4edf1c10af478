"""SMTP sessions: what goes over the wire arrives as it was, and replies are sorted."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.config import SmtpSettings
from newsletter.mail.smtp import SmtpSession, SmtpUnavailable
from tests.smtpd import SmtpServer, free_port


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


def session(port: int) -> SmtpSession:
    return SmtpSession(SmtpSettings(host="127.0.0.1", port=port, timeout=5), "")


def test_lines_that_start_with_a_dot_arrive_intact(server: SmtpServer) -> None:
    message = b"Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n"
    smtp = session(server.port)
    assert smtp.send("a@example.org", "b@example.org", message).status == "sent"
    assert (
        smtp.send("a@example.org", "c@example.org", message + b"no final newline").status == "sent"
    )
    smtp.close()
    first, second = server.handler.received
    assert first.raw == message
    assert second.raw == message + b"no final newline\r\n"


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one by one"])
def test_replies_are_sorted_into_sent_failed_and_retry(
    server: SmtpServer, pipelining: bool
) -> None:
    server.handler.pipelining = pipelining
    server.handler.replies = {
        "gone@example.org": ["550 5.1.1 unknown"],
        "busy@example.org": ["452 4.2.2 mailbox full"],
    }
    smtp = session(server.port)
    gone = smtp.send("a@example.org", "gone@example.org", b"Subject: x\r\n\r\nx\r\n")
    busy = smtp.send("a@example.org", "busy@example.org", b"Subject: x\r\n\r\nx\r\n")
    fine = smtp.send("a@example.org", "fine@example.org", b"Subject: x\r\n\r\nx\r\n")
    smtp.close()
    assert (gone.status, gone.reply) == ("failed", "550 5.1.1 unknown")
    assert (busy.status, busy.reply) == ("retry", "452 4.2.2 mailbox full")
    assert fine.status == "sent"
    assert [item.recipient for item in server.handler.received] == ["fine@example.org"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one by one"])
def test_a_dropped_connection_is_retry_and_the_next_message_reconnects(
    server: SmtpServer, pipelining: bool
) -> None:
    server.handler.pipelining = pipelining
    server.handler.drop_after = 1
    smtp = session(server.port)
    assert smtp.send("a@example.org", "one@example.org", b"\r\none\r\n").status == "sent"
    dropped = smtp.send("a@example.org", "two@example.org", b"\r\ntwo\r\n")
    assert dropped.status == "retry"
    assert smtp.send("a@example.org", "two@example.org", b"\r\ntwo\r\n").status == "sent"
    smtp.close()
    assert [item.recipient for item in server.handler.received] == [
        "one@example.org",
        "two@example.org",
    ]


def test_nothing_listening_is_unavailable() -> None:
    port = free_port()
    with pytest.raises(SmtpUnavailable, match=f"cannot reach the SMTP server 127.0.0.1:{port}"):
        session(port).open()


def test_starttls_checks_the_servers_certificate(tmp_path: Path) -> None:
    """A self-signed certificate is refused: the default SSL context verifies it."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpServer(tls_context=context) as server:
        settings = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", timeout=5)
        with pytest.raises(SmtpUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpSession(settings, "").open()
        assert server.handler.count() == {}
