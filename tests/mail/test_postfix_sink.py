"""8-bit bodies through Postfix's `smtp-sink`, a server that is not ours: `newsletter
send` to it, and each message it dumps (`-d`) is the bytes we built.

smtp-sink's dump is line by line (its documented format: a few `X-…` records and a
`Received:` field of its own, the message with each line ended by LF, an empty line),
so the dump is compared with our message, every line of which ends in CRLF, with LF
line ends. With `-8` it does not offer 8BITMIME, and the same send goes base64.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import NewsletterSettings, SmtpSettings, load_config
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.mail.smtp import SmtpSession, for_data
from tests.helpers import (
    THREE,
    built_for,
    make_site,
    parse_message,
    personalised,
    same_but_line_breaks,
    tokens,
)
from tests.smtpd import free_port, wait_until

SMTP_SINK = shutil.which("smtp-sink", path="/usr/sbin:/usr/bin:/sbin")
pytestmark = pytest.mark.skipif(
    SMTP_SINK is None,
    reason="Postfix's smtp-sink is not installed: `apt-get install postfix` (.ci/run does)",
)


@dataclass
class Dumped:
    """One transaction as smtp-sink wrote it down."""

    mail_args: str
    rcpt_args: list[str]
    message: bytes  # LF line ends


@dataclass
class PostfixSink:
    port: int
    folder: Path
    eightbit: bool

    def dumps(self) -> list[Dumped]:
        return [_parse(path.read_bytes()) for path in sorted(self.folder.iterdir())]

    def wait_for(self, count: int) -> list[Dumped]:
        """Until `count` transactions are dumped whole (each ends with its empty line)."""
        wait_until(
            lambda: (
                len(list(self.folder.iterdir())) >= count
                and all(path.read_bytes().endswith(b"\n\n") for path in self.folder.iterdir())
            )
        )
        return self.dumps()


def _parse(dump: bytes) -> Dumped:
    head, _, message = dump.partition(b"\nReceived: ")
    message = message.split(b"\n", 1)[1]
    while message.startswith(b"\t"):  # the rest of smtp-sink's own Received: field
        message = message.split(b"\n", 1)[1]
    records = dict(line.split(b": ", 1) for line in head.split(b"\n") if b": " in line)
    rcpts = [
        line[len(b"X-Rcpt-Args: ") :].decode()
        for line in head.split(b"\n")
        if line.startswith(b"X-Rcpt-Args: ")
    ]
    assert message.endswith(b"\n\n")
    return Dumped(records[b"X-Mail-Args"].decode(), rcpts, message[:-1])


@pytest.fixture(params=[True, False], ids=["8BITMIME", "smtp-sink -8"])
def postfix_sink(request: pytest.FixtureRequest) -> Iterator[PostfixSink]:
    """smtp-sink on 127.0.0.1, dumping each transaction into a folder of its own."""
    assert SMTP_SINK
    eightbit: bool = request.param
    # Not under pytest's tmp_path: as root, smtp-sink runs as `postfix`, which must reach it.
    folder = Path(tempfile.mkdtemp(prefix="newsletter-smtp-sink-"))
    user = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postfix")
        user = ["-u", "postfix"]
    port = free_port()
    command = [
        SMTP_SINK,
        *user,
        *([] if eightbit else ["-8"]),
        "-d",
        f"{folder}/m.",
        f"127.0.0.1:{port}",
        "100",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: process.poll() is not None or _answers(port), timeout=10)
        assert process.poll() is None, process.communicate()[0]
        yield PostfixSink(port, folder, eightbit)
    finally:
        process.terminate()
        process.communicate(timeout=10)  # and close its pipe
        shutil.rmtree(folder)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            return connection.recv(3) == b"220"
    except OSError:
        return False


def test_newsletter_send_through_smtp_sink_arrives_as_built(
    workspace: Path, postfix_sink: PostfixSink
) -> None:
    site = make_site(workspace, postfix_sink.port, THREE)
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    dumps = postfix_sink.wait_for(3)
    assert len(dumps) == 3
    langs, links = {a: lang for a, _, lang in THREE}, tokens(site)
    settings = load_config().newsletter
    for dumped in dumps:
        [rcpt] = dumped.rcpt_args
        address = rcpt.strip("<>")
        assert dumped.mail_args == "<digest@example.org>" + " BODY=8BITMIME" * postfix_sink.eightbit
        date = parse_message(dumped.message.replace(b"\n", b"\r\n"))["Date"]
        built = built_for(site, address, date, postfix_sink.eightbit)
        assert built.count(b"\n") == built.count(b"\r") == built.count(b"\r\n")
        assert dumped.message == built.replace(b"\r\n", b"\n")
        assert (b"\n.mj-outlook-group-fix" in dumped.message) is postfix_sink.eightbit  # a dot line

        text, html = parse_message(built).iter_parts()
        folder = site / "issues" / "0001-2024-07-15"
        composed_text = (folder / f"{langs[address]}.txt").read_text(encoding="utf-8")
        composed_html = (folder / f"{langs[address]}.html").read_text(encoding="utf-8")
        composed_text = personalised(composed_text, links[address], settings.base_url)
        composed_html = personalised(composed_html, links[address], settings.base_url)
        assert text.get_content().replace("\r\n", "\n") == composed_text
        assert same_but_line_breaks(html.get_content(), composed_html)


def test_lines_that_start_with_a_dot_arrive_intact(postfix_sink: PostfixSink) -> None:
    html = ".starts with a dot<br>\n..two\n.\n<a href='%%UNSUBSCRIBE_URL%%'>退订</a>\n"
    text = ".NET 论文\n.\n..\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n.\n"
    template = MessageTemplate(NewsletterSettings(), 1, "Dots", html, text)
    reader = Recipient("ann@example.org", "Ann", "T0k3n", "1")
    mail = template.mail(reader)
    session = SmtpSession(SmtpSettings(host="127.0.0.1", port=postfix_sink.port, timeout=5), "")
    assert session.send("digest@example.org", reader.email, mail).status == "sent"
    session.close()
    [dumped] = postfix_sink.wait_for(1)
    date = parse_message(mail.wire)["Date"]  # a session without 8BITMIME builds it again
    expected = template.build(reader, date, eightbit=postfix_sink.eightbit)
    assert for_data(expected) == mail.wire or not postfix_sink.eightbit
    assert dumped.message == expected.replace(b"\r\n", b"\n")
    assert (b"\n.\n..\nUnsubscribe" in dumped.message) is postfix_sink.eightbit
