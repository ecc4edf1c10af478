"""`newsletter serve` started for real on 127.0.0.1 and a free port, over a site whose
`base_url` points at it (so every link in a message resolves there)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import newsletter_process
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.browser import Browser, unavailable


@dataclass
class Web:
    """A running `newsletter serve`: its address, its workspace, its mail server."""

    base: str
    site: Path
    smtp: SmtpServer
    process: subprocess.Popen[str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10, follow_redirects=False)


def start_serve(site: Path, port: int, *arguments: str) -> subprocess.Popen[str]:
    """`newsletter serve` in `site`, its output in `site/serve.log` (a file, not a pipe
    that could fill); returns once /healthz answers."""
    log = (site / "serve.log").open("w", encoding="utf-8")
    process = newsletter_process(
        site, "serve", "--port", str(port), *arguments, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()  # the child has its own copy

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {(site / 'serve.log').read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(answers, timeout=30)
    return process


def stop_serve(process: subprocess.Popen[str], site: Path) -> str:
    """SIGTERM, wait for a clean exit; the server's log."""
    process.terminate()
    process.wait(timeout=30)
    return (site / "serve.log").read_text(encoding="utf-8")


@pytest.fixture
def web(workspace: Path, server: SmtpServer) -> Iterator[Web]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(workspace, server.port, THREE, base_url=base)
    process = start_serve(site, port, "--workers", "1")
    try:
        yield Web(base, site, server, process)
    finally:
        if process.poll() is None:
            stop_serve(process, site)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one a test module (skipped, saying what to install, without it)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with Browser() as running:
        yield running
