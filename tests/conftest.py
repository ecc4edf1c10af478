"""Shared fixtures: every test runs in its own empty workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.arxivd import ArxivServer
from tests.smtpd import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIGEST = ROOT / "digests" / "sample-digest.md"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a workspace of its own (an empty folder with a newsletter.toml that sets
    nothing), with none of the user's newsletter settings.

    Unexpected errors keep their traceback (NEWSLETTER_DEBUG), so a bug is never
    hidden behind the CLI's one-line error. Compose fetches no arXiv metadata
    (NEWSLETTER_ARXIV_ENRICH=0: tests talk to 127.0.0.1 only); the `arxiv` fixture
    turns it back on, against a server of its own.
    """
    for variable in (
        "NEWSLETTER_CONFIG",
        "NEWSLETTER_SMTP_HOST",
        "NEWSLETTER_SMTP_PORT",
        "NEWSLETTER_SMTP_USERNAME",
        "NEWSLETTER_SMTP_PASSWORD",
        "NEWSLETTER_INBOX_PASSWORD",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NEWSLETTER_DEBUG", "1")
    monkeypatch.setenv("NEWSLETTER_ARXIV_ENRICH", "0")
    monkeypatch.chdir(tmp_path)
    # A workspace, as `newsletter init` makes: the commands that need one refuse without.
    (tmp_path / "newsletter.toml").write_text("# a test's workspace: every default\n")
    return tmp_path


def newsletter_process(cwd: Path, *arguments: str, **popen: object) -> subprocess.Popen[str]:
    """`python -m newsletter …` in `cwd`, with none of the user's NEWSLETTER_* settings
    (but the test's NEWSLETTER_ARXIV_ENRICH)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEWSLETTER_") or k == "NEWSLETTER_ARXIV_ENRICH"
    }
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", *arguments], cwd=cwd, text=True, env=env, **popen
    )  # type: ignore[call-overload]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, with faults on demand."""
    with SmtpServer() as running:
        yield running


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivServer]:
    """A real HTTP server on 127.0.0.1 answering as the arXiv API does, and compose
    fetching again (from where `arxivd.arxiv_toml` points it)."""
    monkeypatch.delenv("NEWSLETTER_ARXIV_ENRICH")
    with ArxivServer() as running:
        yield running


@pytest.fixture
def nowhere(workspace: Path) -> Path:
    """The working folder without its newsletter.toml: outside any workspace."""
    (workspace / "newsletter.toml").unlink()
    return workspace
