"""Benchmark: `newsletter inbox --maildir` over large mailboxes, and what it costs others.

  (a) contention: `newsletter serve --workers 4` takes one-click unsubscribes
      (`POST /unsubscribe/{token}`, `List-Unsubscribe=One-Click`) from 4 client
      threads for as long as `newsletter inbox` reads a Maildir of N mails (12,000);
      latency p50/p99/max, errors, and whether each one took effect.
      Target: p99 < 1 s, no errors.
  (b) a Maildir of M mails (10,000): the inbox's time and peak memory (its VmHWM,
      which it writes as it ends).
  (c) one mail of S MB (50): a DSN with an S MB attachment, and S MB of text; time
      and peak memory of each run.

The mails are copies of tests/data/mail/ (bounces, auto-replies, replies; each with
a Message-ID of its own), about no one on the list: each is read, classified and
remembered, and none changes a subscriber, so (a)'s unsubscribes are the only
changes to the list.

    python bench/inbox_read.py [--mails 12000] [--memory-mails 10000] [--big-mb 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import HOST, free_port  # noqa: E402  (bench/, beside this script)

from newsletter.audience.subscribers import new_token  # noqa: E402
from newsletter.store import Store  # noqa: E402

MAIL = ROOT / "tests" / "data" / "mail"
BULK = ("dsn-hard-5.1.1.eml", "vacation.eml", "human-reply.eml", "dsn-soft-4.2.2.eml")
CLIENTS = 4
TARGET_P99_S = 1.0
MESSAGE_ID = re.compile(rb"(?im)^Message-ID:[^\r\n]*")


def fail(message: str) -> None:
    print(f"inbox_read.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def make_site(folder: Path, port: int, subscribers: int) -> list[str]:
    """A workspace whose base_url is our serve, with `subscribers` active readers."""
    folder.mkdir(parents=True)
    (folder / "newsletter.toml").write_text(
        f'[newsletter]\nbase_url = "http://{HOST}:{port}"\n[arxiv]\nenrich = false\n'
    )
    Store.open(folder / "newsletter.db").close()  # created and migrated
    tokens = [new_token() for _ in range(subscribers)]
    rows = [(f"reader{i:07d}@example.net", "en", token) for i, token in enumerate(tokens)]
    with contextlib.closing(sqlite3.connect(folder / "newsletter.db")) as db, db:
        db.executemany("INSERT INTO subscribers (email, lang, token) VALUES (?, ?, ?)", rows)
    return tokens


def mails(count: int) -> Iterator[bytes]:
    """`count` different mails about no one on the list."""
    templates = [(MAIL / name).read_text() for name in BULK]
    for n in range(count):
        text = templates[n % len(templates)].replace("{{token}}", f"N0b0dy{n:08d}")
        text = text.replace("{{address}}", f"nobody{n}@example.net").replace("{{n}}", str(n))
        raw = text.replace("{{issue}}", "1").replace("\n", "\r\n").encode()
        yield MESSAGE_ID.sub(b"Message-ID: <bulk-%d@example.net>" % n, raw, count=1)


def maildir(folder: Path, raws: Iterator[bytes]) -> Path:
    """A Maildir with each mail in new/, written directly (fast for 10,000s)."""
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(raws):
        (folder / "new" / f"{n:08d}.bench.{os.getpid()}").write_bytes(raw)
    return folder


def newsletter(site: Path, *arguments: str) -> subprocess.Popen[bytes]:
    """`python -m newsletter ARGUMENTS` in `site` (or `python -c CODE ARGUMENTS`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["PYTHONPATH"] = str(ROOT)
    log = (site / "newsletter.log").open("ab")
    start = [] if arguments[0] == "-c" else ["-m", "newsletter"]
    return subprocess.Popen(
        [sys.executable, *start, *arguments],
        cwd=site,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


# `newsletter inbox` in a child that writes its own VmHWM last: wait4's ru_maxrss would
# count the memory of this process too, which the child was forked from.
MEASURED = """
import sys
from pathlib import Path
from newsletter.cli import cli
try:
    cli.main(sys.argv[2:], prog_name="newsletter")
finally:
    status = Path("/proc/self/status").read_text()
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    Path(sys.argv[1]).write_text(peak)
"""


def inbox_run(site: Path, box: Path) -> tuple[float, int, int]:
    """Run the inbox to its end: (seconds, peak memory (VmHWM) in KB, exit status)."""
    started = time.monotonic()
    peak = site / "peak-kb"
    process = newsletter(site, "-c", MEASURED, str(peak), "inbox", "--maildir", str(box))
    status = process.wait()
    return time.monotonic() - started, int(peak.read_text()), status


def seen(site: Path) -> int:
    with contextlib.closing(sqlite3.connect(site / "newsletter.db", timeout=30)) as db:
        return int(db.execute("SELECT count(*) FROM inbox_seen").fetchone()[0])


@contextlib.contextmanager
def serve(site: Path, port: int, workers: int) -> Iterator[None]:
    process = newsletter(site, "serve", "--port", str(port), "--workers", str(workers))
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1).close()
            break
        if process.poll() is not None or time.monotonic() > deadline:
            fail(f"serve did not start: {(site / 'newsletter.log').read_text()[-2000:]}")
        time.sleep(0.05)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


class Clients:
    """`CLIENTS` threads posting one-click unsubscribes, each token once, until told."""

    def __init__(self, port: int, tokens: list[str]) -> None:
        self.url = f"http://{HOST}:{port}/unsubscribe/" + "{}"
        self.tokens, self.lock = iter(tokens), threading.Lock()
        self.latencies: list[float] = []
        self.errors, self.posted = 0, 0
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self.post) for _ in range(CLIENTS)]

    def post(self) -> None:
        while not self.halt.is_set():
            with self.lock:
                token = next(self.tokens, None)
            if token is None:
                return
            request = urllib.request.Request(
                self.url.format(token), method="POST", data=b"List-Unsubscribe=One-Click"
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    ok = answer.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            with self.lock:
                self.latencies.append(time.monotonic() - started)
                self.posted += 1
                self.errors += not ok

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        for thread in self.threads:
            thread.join()


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def phase_contention(folder: Path, count: int, workers: int) -> None:
    port = free_port()
    site = folder / "contention"
    tokens = make_site(site, port, 60_000)  # more than (a) can post
    box = maildir(site / "Maildir", mails(count))
    with serve(site, port, workers):
        started = time.monotonic()
        reading = newsletter(site, "inbox", "--maildir", str(box))
        while seen(site) == 0 and reading.poll() is None:  # it has started reading
            time.sleep(0.01)
        with Clients(port, tokens) as clients:
            status = reading.wait()
        took = time.monotonic() - started
    with contextlib.closing(sqlite3.connect(site / "newsletter.db")) as db:
        done = db.execute("SELECT count(*) FROM subscribers WHERE status = 'unsubscribed'")
        unsubscribed = int(done.fetchone()[0])
    p99 = percentile(clients.latencies, 0.99)
    print(
        f"(a) one-click unsubscribes on serve --workers {workers} ({CLIENTS} clients) while "
        f"inbox reads {count} mails ({took:.1f} s, exit {status}):\n"
        f"  {clients.posted} POSTs, {clients.errors} errors, "
        f"p50 {percentile(clients.latencies, 0.5) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(clients.latencies, default=0) * 1000:.1f} ms; "
        f"unsubscribed in the database: {unsubscribed} of {clients.posted}\n"
        f"  p99 < {TARGET_P99_S:g} s: {verdict(p99 < TARGET_P99_S)}; 0 errors, all in effect: "
        f"{verdict(not clients.errors and unsubscribed == clients.posted)}"
    )
    if status:
        fail(f"inbox exited {status}: {(site / 'newsletter.log').read_text()[-2000:]}")


def phase_many(folder: Path, count: int) -> None:
    site = folder / "many"
    make_site(site, free_port(), 0)
    took, peak, status = inbox_run(site, maildir(site / "Maildir", mails(count)))
    print(
        f"(b) inbox over {count} mails: {took:.1f} s ({count / took:.0f} mails/s), "
        f"peak memory (VmHWM) {peak / 1024:.1f} MB, exit {status}"
    )


def big_mails(size: int) -> dict[str, bytes]:
    dsn = next(mails(1))
    boundary = re.search(rb'boundary="([^"]+)"', dsn)
    assert boundary
    closing = b"--" + boundary.group(1) + b"--"
    line = b"QUJD" * 19 + b"\r\n"
    part = (
        b"--" + boundary.group(1) + b"\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + line * (size // len(line))
    )
    head = b"From: someone@example.net\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n"
    text = head + b"All work and no play. " * (size // 22)
    return {
        "DSN with an attachment": dsn.replace(closing, part + closing),
        "text": text.replace(b". ", b".\r\n", size // 100),
    }


def phase_big(folder: Path, megabytes: int) -> None:
    for n, (what, raw) in enumerate(big_mails(megabytes * 1_000_000).items()):
        site = folder / f"big-{n}"
        make_site(site, free_port(), 0)
        took, peak, status = inbox_run(site, maildir(site / "Maildir", iter([raw])))
        print(
            f"(c) inbox over one {len(raw) / 1e6:.0f} MB mail ({what}): {took:.1f} s, "
            f"peak memory (VmHWM) {peak / 1024:.1f} MB, exit {status}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=12_000, help="Mails in (a).")
    parser.add_argument("--memory-mails", type=int, default=10_000, help="Mails in (b).")
    parser.add_argument("--big-mb", type=int, default=50, help="Size of (c)'s mail, MB.")
    parser.add_argument("--workers", type=int, default=4, help="serve's workers in (a).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inbox-read-") as folder:
        phase_contention(Path(folder), args.mails, args.workers)
        phase_many(Path(folder), args.memory_mails)
        phase_big(Path(folder), args.big_mb)


if __name__ == "__main__":
    main()
