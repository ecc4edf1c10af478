"""The weekly job waits for arXiv before composing: an `en` edition without its
abstracts is sent only once `[arxiv] wait` is over, and then says so once.

Real parts: the stand-in arXiv server (`tests/arxivd.py`), aiosmtpd, the real job.
The wait is 3 seconds with pauses from 0.2 s; the tests wait for events (a log
line, a request, a message), never for a bare sleep.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.audience import subscribers
from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.schedule.job import RunResult, duration, run_once
from newsletter.store import Store
from tests.arxivd import ArxivServer, Reply, arxiv_toml
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import THREE
from tests.smtpd import SmtpServer

WAIT = 3
NOTICE = (
    "The English abstracts of this issue's papers could not be included: each title "
    "links to the paper's abstract on arXiv."
)
FUNAUDIO_ABSTRACT = "This report presents FunAudioLLM"


@pytest.fixture
def site(workspace: Path, server: SmtpServer, arxiv: ArxivServer) -> Path:
    """The sample digest, not composed yet; three subscribers (zh, en, bilingual);
    arXiv answering with the sample's metadata; a wait of 3 s, pauses from 0.2 s."""
    arxiv.default = Reply("sample.xml")
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nretry_delay = 0.01\n'
    toml = arxiv_toml(arxiv, retries=0, retry_delay=0.2, wait=WAIT)
    (workspace / "newsletter.toml").write_text(smtp + toml, encoding="utf-8")
    (workspace / "digests").mkdir()
    shutil.copy(SAMPLE_DIGEST, workspace / "digests" / "sample-digest.md")
    with Store.open(load_config().database_path) as store:
        for address, name, lang in THREE:
            subscribers.add(store, address, name, lang)
    return workspace


class Lines(logging.Handler):
    """The job's log lines, and a condition to wait for one."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        with self.changed:
            found = self.changed.wait_for(
                lambda: sum(text in line for line in self.lines) >= count, timeout
            )
            assert found, self.lines


@pytest.fixture
def log() -> Iterator[Lines]:
    logger = logging.getLogger("newsletter")
    handler, level, propagate = Lines(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


def english_copy(server: SmtpServer) -> tuple[str, str]:
    """The `en` subscriber's message as received: its HTML and its text."""
    [received] = [item for item in server.handler.received if item.recipient == "ann@example.org"]
    message = received.message
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert isinstance(html, EmailMessage) and isinstance(text, EmailMessage)
    return html.get_content(), text.get_content()


def test_arxiv_down_then_back_within_the_wait(
    site: Path, server: SmtpServer, arxiv: ArxivServer, log: Lines
) -> None:
    """arXiv refuses connections; the job waits and asks again; arXiv comes back on its
    second pause; the issue goes out with every abstract, nothing having been sent
    before."""
    arxiv.stop()
    done: list[RunResult] = []
    job = threading.Thread(target=lambda: done.append(run_once(load_config())))
    job.start()
    log.wait_for("asking again in", count=2)
    assert server.handler.received == [] and not (site / "issues").exists()
    back = time.monotonic()
    arxiv.start()
    job.join(timeout=30)
    [result] = done
    assert (result.outcome, result.issue, result.papers, result.sent) == ("sent", 1, 13, 3)
    assert result.note is None
    [asked] = arxiv.seen  # the one request after it came back; compose asked nothing more
    assert asked.at >= back and len(asked.ids) == 13
    assert any(line.startswith("arXiv answered after") for line in log.lines)
    assert not any("composed without" in line for line in log.lines)
    first = next(line for line in log.lines if "asking again in" in line)
    assert first.startswith(
        f"arXiv metadata missing for 13 papers (could not reach 127.0.0.1:{arxiv.port} "
        "(connection refused; 1 try)): asking again in 0.2 s, composing without it in "
    )
    assert first.endswith((" 3 s at the latest", " 2 s at the latest"))
    html, text = english_copy(server)
    assert text.count("[Abstract]") == 13 and FUNAUDIO_ABSTRACT in text
    assert html.count(">Abstract</p>") == 13 and FUNAUDIO_ABSTRACT in html
    assert "could not be included" not in html + text


def test_arxiv_down_past_the_wait(site: Path, server: SmtpServer, arxiv: ArxivServer) -> None:
    """arXiv answers 503 all along: the job asks with doubling pauses for 3 s, then
    composes with what it has and sends; the log and `status` say so, and the `en`
    edition carries one notice at the top instead of a line under each paper."""
    arxiv.default = Reply(None, status=503)
    arrived: list[float] = []
    server.handler.on_message = lambda _: arrived.append(time.monotonic())
    result = CliRunner().invoke(cli, ["run-once"])
    assert result.exit_code == 0, result.output
    [note] = re.findall(
        r"composed without arXiv abstracts for 13 papers after waiting \d s", result.stderr
    )
    assert note.endswith(("3 s", "4 s"))  # the wait, and the last ask's round trip
    assert result.stderr.count("asking again in") == 4  # 0.2, 0.4, 0.8, then the 1.6 s left
    assert "run finished: sent; issue 1, 13 papers, 3 sent, 0 failed" in result.stderr
    assert len(arxiv.seen) == 4 + 1  # four asks in the wait, then compose's own last one
    for gap, pause in zip(arxiv.gaps(), [0.2, 0.4, 0.8], strict=False):  # then what is left
        assert pause - 0.02 <= gap < pause + 1.0, arxiv.gaps()
    assert arxiv.seen[-1].at - arxiv.seen[0].at >= WAIT - 0.05
    assert len(arrived) == 3 and min(arrived) > arxiv.seen[-1].at  # sent after the wait

    html, text = english_copy(server)
    assert html.count(NOTICE) == 1 and html.index(NOTICE) < html.index("In this issue")
    assert " ".join(text.split()).count(NOTICE) == 1
    assert "No English summary" not in html + text and "[Abstract]" not in text

    state = CliRunner().invoke(cli, ["status", "--json"])
    assert state.exit_code == 0, state.output
    last = json.loads(state.stdout)["last_run"]
    assert (last["outcome"], last["issue"], last["note"]) == ("sent", 1, note)
    shown = CliRunner().invoke(cli, ["status"]).stdout.splitlines()
    assert shown[shown.index(next(s for s in shown if s.startswith("Last run:"))) + 1] == (
        f"  {note}"
    )


def test_a_stop_during_the_wait_leaves_composing_to_the_next_run(
    site: Path, server: SmtpServer, arxiv: ArxivServer, log: Lines
) -> None:
    arxiv.default = Reply(None, status=503)
    stop = threading.Event()
    done: list[RunResult] = []
    job = threading.Thread(target=lambda: done.append(run_once(load_config(), stop)))
    job.start()
    log.wait_for("asking again in")
    stop.set()
    job.join(timeout=30)
    assert done[0].outcome == "incomplete"
    assert server.handler.received == [] and not (site / "issues").exists()


def test_a_wait_of_zero_composes_at_once(
    site: Path, server: SmtpServer, arxiv: ArxivServer
) -> None:
    (site / "newsletter.toml").write_text(
        (site / "newsletter.toml").read_text().replace(f"wait = {WAIT}", "wait = 0")
    )
    arxiv.default = Reply(None, status=503)
    result = run_once(load_config())
    assert (result.outcome, result.sent) == ("sent", 3)
    assert result.note == "composed without arXiv abstracts for 13 papers"
    assert len(arxiv.seen) == 1  # compose's one ask


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.2, "0.2 s"),
        (0.96, "1 s"),
        (3.4, "3 s"),
        (89, "89 s"),
        (600, "10 min"),
        (7200, "2 h"),
        (5400, "1.5 h"),
    ],
)
def test_a_wait_is_said_as_a_person_says_it(seconds: float, said: str) -> None:
    assert duration(seconds) == said
