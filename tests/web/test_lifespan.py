"""The life of `newsletter serve` as its user sees it: a confirmation queued while it
serves is sent; SIGTERM ends it cleanly, every worker's lifespan closed, and only
once the outbox has sent and recorded the message in hand (a message left half-sent
would go twice, on the next start, after its claim's lease runs out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import THREE, ledger, make_site
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.conftest import Web, start_serve, stop_serve
from tests.web.helpers import confirmation_to, subscribe


def outbox(site: Path) -> list[tuple[object, ...]]:
    return ledger(site, "SELECT recipient, status FROM outbox ORDER BY id")


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_serve_after_the_message_in_hand(
    workspace: Path, server: SmtpServer, workers: int
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(workspace, server.port, THREE, base_url=base)
    web = Web(base, site, server, start_serve(site, port, "--workers", str(workers)))
    with web.client() as client:
        assert subscribe(client, "first@example.org").status_code == 200
        confirmation_to(web, "first@example.org")  # queued while serving, and sent
        server.handler.delay = 1.0  # the next message takes the server a second
        assert subscribe(client, "second@example.org").status_code == 200
    wait_until(lambda: ("second@example.org", "sending") in outbox(site), timeout=20)

    log = stop_serve(web.process, site)

    assert web.process.returncode == 0, log
    assert outbox(site) == [("first@example.org", "sent"), ("second@example.org", "sent")]
    assert server.handler.count() == {"first@example.org": 1, "second@example.org": 1}
    assert log.count("Application shutdown complete.") == workers, log
    assert "Traceback" not in log, log
