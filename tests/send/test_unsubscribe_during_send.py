"""Who unsubscribes while an issue is being sent gets nothing more of it.

A hostile test found the send reading pending deliveries 500 at a time and never
looking at the subscriber again: the last 200 of 2,000, unsubscribed by one click once
1,520 had gone, all got the issue. Here the real send goes to aiosmtpd with a slow
handler; when message N arrives the handler (in the server's thread, before it answers)
unsubscribes the last subscribers through the store's one-click function, each in its
own committed statement as the web side does. From then on only the messages already
on the wire may arrive: at most one per connection.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.send import send
from newsletter.store import Store
from newsletter.store import subscribers as rows
from tests.helpers import import_many, ledger, make_site
from tests.smtpd import SmtpServer

CONNECTIONS = 2


@pytest.mark.parametrize(
    ("total", "when", "first_gone"),
    [
        # the hostile test's 2,000 / 1,520 / the last 200, scaled down: the last 70 are
        # on the second page of 500, read before message 532 arrives
        (700, 532, 630),
        # right behind the messages in flight: those already built and queued (up to 4
        # a connection) must be checked again too, not only each page as it is read
        (150, 40, 40 + CONNECTIONS + 3),
    ],
)
def test_an_unsubscribe_during_a_send_stops_later_messages(
    workspace: Path, server: SmtpServer, total: int, when: int, first_gone: int
) -> None:
    site = make_site(workspace, server.port, [], connections=CONNECTIONS)
    import_many(site, total)
    in_order = [
        (str(a), str(t))
        for a, t in ledger(site, "SELECT email, token FROM subscribers ORDER BY id")
    ]
    gone = in_order[first_gone:]
    arrived_by_then: list[int] = []

    def unsubscribe_the_last(count: int) -> None:
        if count != when:
            return
        with Store.open(site / "newsletter.db") as store:
            for _, token in gone:
                assert rows.unsubscribe_token(store.db, token)  # one-click: committed at once
        arrived_by_then.append(count)

    server.handler.delay = 0.001
    server.handler.on_message = unsubscribe_the_last
    report = send(load_config())

    assert arrived_by_then == [when]
    gone_addresses = {address for address, _ in gone}
    received = [item.recipient for item in server.handler.received]
    assert not gone_addresses & set(received[when:]), "mailed after they unsubscribed"
    assert not gone_addresses & set(received)  # none was reached before, either
    assert len(received) <= first_gone  # only what was in flight went on
    statuses = dict(
        ledger(
            site,
            "SELECT s.email, d.status FROM deliveries d JOIN subscribers s ON s.id = d.subscriber",
        )
    )
    assert {statuses[address] for address in gone_addresses} == {"skipped"}
    assert {statuses[address] for address in received} == {"sent"}
    assert (report.sent, report.skipped, report.complete) == (len(received), len(gone), True)
    assert report.sent + report.skipped == total
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]
