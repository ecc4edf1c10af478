"""The outbox, against a real SMTP server (aiosmtpd) with faults in its handler:
each message is sent at most once and marked at once, retried while the server is
down, failed on a 5xx, and never sent twice by two loops at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.mail import outbox
from newsletter.mail.outbox import QueuedMail, Sender
from newsletter.store import Store
from newsletter.store import outbox as rows
from tests.helpers import parse_message, write_config
from tests.smtpd import SmtpServer, free_port, wait_until


def site(workspace: Path, port: int) -> Config:
    write_config(
        workspace,
        f"""
        [newsletter]
        from = "论文周报 Digest <digest@example.org>"
        [smtp]
        host = "127.0.0.1"
        port = {port}
        timeout = 5
        retry_delay = 0.01
    """,
    )
    return load_config()


@pytest.fixture
def config(workspace: Path, server: SmtpServer) -> Config:
    return site(workspace, server.port)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.database_path) as opened:
        yield opened


def put(store: Store, config: Config, to: str = "reader@example.org", **extra: object) -> int:
    mail = QueuedMail(
        to=to,
        subject="Hello · 你好",
        text="Text · 文字\n",
        html="<p>HTML · 网页</p>",
        to_name="李伟",
        kind="test",
    )
    with store.transaction() as db:
        return outbox.queue(db, config.newsletter, mail, **extra)  # type: ignore[arg-type]


def state(store: Store, message: int) -> tuple[str, int, str | None, bool]:
    found = rows.status_of(store.db, message)
    assert found is not None
    return found["status"], found["attempts"], found["error"], bool(found["has_body"])


class Clock:
    """A loop's time, moved on by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def next_retry(store: Store) -> float | None:
    """When the first message put back for another try is due; None if there is none."""
    sql = "SELECT min(next_attempt_at) FROM outbox WHERE status = 'queued' AND attempts > 0"
    due: float | None = store.db.execute(sql).fetchone()[0]
    return due


def drain(config: Config, store: Store, steps: int = 50) -> None:
    """Step a loop until no message is due and none waits for a retry, its clock moved
    on to each retry's time instead of waiting for it; fail if `steps` are not enough."""
    clock = Clock()
    sender = Sender(config, threading.Event(), clock=clock)
    try:
        for _ in range(steps):
            if sender.step(store):
                continue
            retry = next_retry(store)
            if retry is None:
                return
            clock.now = max(clock.now, retry)
        raise AssertionError(f"the outbox still has work after {steps} steps")
    finally:
        sender.close()


def test_a_message_is_sent_once_marked_and_its_bodies_erased(
    config: Config, store: Store, server: SmtpServer
) -> None:
    first, _ = put(store, config), put(store, config, "ann@example.org")
    drain(config, store)
    assert server.handler.count() == {"reader@example.org": 1, "ann@example.org": 1}
    assert state(store, first) == ("sent", 1, None, False)
    assert rows.counts(store.db) == {"queued": 0, "sending": 0, "sent": 2, "failed": 0}
    raw = next(r.raw for r in server.handler.received if r.recipient == "reader@example.org")
    message = parse_message(raw)
    assert str(message["Subject"]) == "Hello · 你好"
    assert str(message["To"]) == "李伟 <reader@example.org>"
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    assert message["Message-ID"].startswith("<test.") and message["Date"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text == "Text · 文字\r\n"  # canonical text: CRLF line ends (RFC 2046)
    assert "网页" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert server.handler.mail_from == ["digest@example.org"] * 2
    ids = {parse_message(r.raw)["Message-ID"] for r in server.handler.received}
    assert len(ids) == 2


def test_a_connection_dropped_at_data_is_retried_and_the_message_arrives_once(
    config: Config, store: Store, server: SmtpServer
) -> None:
    server.handler.drop_after = 0  # the first message: the connection closes, nothing kept
    message = put(store, config)
    drain(config, store)
    assert server.handler.count() == {"reader@example.org": 1}
    status, attempts, _, _ = state(store, message)
    assert (status, attempts) == ("sent", 2)


def test_a_4xx_is_retried_with_the_same_message_id(
    config: Config, store: Store, server: SmtpServer
) -> None:
    server.handler.replies["reader@example.org"] = ["451 4.7.1 greylisted", "250 OK"]
    message = put(store, config)
    drain(config, store)
    assert state(store, message)[:2] == ("sent", 2)
    assert server.handler.count() == {"reader@example.org": 1}


@pytest.mark.parametrize(
    ("fault", "reply"),
    [
        ("recipient", "550 5.1.1 no such user"),
        ("data", "554 5.7.1 looks like spam"),
        ("sender", "553 5.7.1 sender not allowed"),
    ],
)
def test_a_permanent_5xx_marks_it_failed_with_the_reply(
    config: Config, store: Store, server: SmtpServer, fault: str, reply: str
) -> None:
    if fault == "recipient":
        server.handler.replies["reader@example.org"] = [reply]
    elif fault == "data":
        server.handler.data_reply = reply
    else:
        server.handler.mail_reply = reply
    message = put(store, config)
    drain(config, store)
    status, attempts, error, has_body = state(store, message)
    assert (status, attempts, has_body) == ("failed", 1, False)
    assert error is not None and reply in error
    assert not server.handler.received


def test_while_the_server_is_down_it_retries_with_back_off_then_sends_once(
    workspace: Path,
) -> None:
    later = SmtpServer()  # its port is chosen, nothing listens there yet
    config = site(workspace, later.port)
    stop = threading.Event()
    with Store.open(config.database_path) as store:
        message = put(store, config)
        loop = threading.Thread(target=outbox.run_forever, args=(config, stop))
        loop.start()
        try:
            wait_until(lambda: state(store, message)[1] >= 4, timeout=20)
            status, _, error, has_body = state(store, message)
            assert status in ("queued", "sending") and has_body
            with later:
                if status == "queued":
                    assert error is not None and "cannot reach" in error
                wait_until(lambda: state(store, message)[0] == "sent", timeout=20)
                stop.set()
                loop.join(timeout=10)  # the loop has ended: nothing more is in flight
                assert later.handler.count() == {"reader@example.org": 1}
        finally:
            stop.set()
            loop.join(timeout=10)
        assert not loop.is_alive()


def test_a_message_the_server_cannot_take_before_it_expires_fails(
    workspace: Path,
) -> None:
    config = site(workspace, free_port())  # nothing listens there
    with Store.open(config.database_path) as store:
        message = put(store, config, give_up_at=time.time() + 0.05)
        drain(config, store)
        status, _, error, _ = state(store, message)
    assert status == "failed" and error is not None and error.startswith("gave up after")


def test_two_loops_at_once_never_send_a_message_twice(
    config: Config, store: Store, server: SmtpServer
) -> None:
    server.handler.delay = 0.01
    people = [f"reader{i:02d}@example.org" for i in range(30)]
    for person in people:
        put(store, config, person)
    stop = threading.Event()
    loops = [threading.Thread(target=outbox.run_forever, args=(config, stop)) for _ in range(2)]
    for loop in loops:
        loop.start()
    try:
        server.handler.wait_for(len(people), timeout=60)
        wait_until(lambda: rows.counts(store.db)["sent"] == len(people), timeout=20)
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=10)
    assert not any(loop.is_alive() for loop in loops)  # nothing more in flight
    assert server.handler.count() == dict.fromkeys(people, 1)
    attempts = store.db.execute("SELECT sum(attempts) FROM outbox").fetchone()[0]
    assert attempts == len(people)  # every row claimed once


def test_a_claim_held_by_a_live_loop_is_left_alone_and_a_dead_ones_is_taken_over(
    config: Config, store: Store, server: SmtpServer
) -> None:
    held, orphan = put(store, config, "held@example.org"), put(store, config, "orphan@example.org")
    now = time.time()  # "dead": a loop killed mid-message, whose lease has run out
    with store.transaction() as db:
        assert rows.claim(db, "alive", now, lease=600).id == held  # type: ignore[union-attr]
        assert rows.claim(db, "dead", now, lease=-1).id == orphan  # type: ignore[union-attr]
    drain(config, store)
    assert server.handler.count() == {"orphan@example.org": 1}
    assert state(store, held)[0] == "sending"
    with store.transaction() as db:  # the dead loop's late mark changes nothing now
        assert not rows.mark_failed(db, orphan, "dead", "late")
    assert state(store, orphan)[0] == "sent"


def test_housekeeping_forgets_old_done_messages_only(
    config: Config, store: Store, server: SmtpServer
) -> None:
    old, recent = put(store, config), put(store, config, "ann@example.org")
    waiting = put(store, config, "later@example.org", now=time.time() + 3600)
    drain(config, store)
    store.db.execute("UPDATE outbox SET done_at = '2020-01-01T00:00:00Z' WHERE id = ?", (old,))
    outbox.forget_done(store)
    remaining = [row[0] for row in store.db.execute("SELECT id FROM outbox ORDER BY id")]
    assert remaining == [recent, waiting]


def test_stop_ends_run_forever_promptly(config: Config) -> None:
    stop, running = threading.Event(), threading.Event()
    chores = (lambda store: running.set(),)  # run as the loop starts, then each minute
    loop = threading.Thread(target=outbox.run_forever, args=(config, stop, chores))
    loop.start()
    assert running.wait(timeout=10)
    started = time.monotonic()
    stop.set()
    loop.join(timeout=5)
    assert not loop.is_alive() and time.monotonic() - started < 2
