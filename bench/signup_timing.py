"""Benchmark: does the subscribe form take the same time whatever the address is?

A form that answers faster for an address it does not mail tells a stranger who is
on the list. This starts `newsletter serve --workers 1` on a free 127.0.0.1 port
over a throw-away site whose confirmation messages go to an SMTP sink in this
process (aiosmtpd, discarding them: the outbox loop really sends), puts N addresses
of each kind straight into its store (active, pending, unsubscribed, bounced; new
ones are simply not there), and POSTs the form once per address, one request at a
time over one keep-alive connection, the kinds interleaved in a shuffled order each
round (so that a confirmation sent in the background falls on every kind alike).

It prints, per kind, the median and p95 time from sending the request to having
read the whole answer; the largest median over the smallest (the target: within
10 %); and whether every answer was the same (status, headers but Date, body).

    python bench/signup_timing.py [--requests 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import HOST, free_port  # noqa: E402  (bench/, beside this script)

from newsletter.audience.subscribers import new_token  # noqa: E402
from newsletter.config import load_config  # noqa: E402
from newsletter.store import Store  # noqa: E402

KINDS = ("new", "active", "pending", "unsubscribed", "bounced")
WARM_UP = 50  # requests (new addresses) before the measured ones
TARGET = 1.10  # the largest median over the smallest


class Discard:
    """aiosmtpd handler: accept every message and keep nothing."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def address(kind: str, number: int) -> str:
    return f"{kind}{number:05d}@example.net"


def make_site(folder: Path, port: int, smtp_port: int, count: int) -> None:
    """A workspace whose base_url is our serve, limits out of the way, and `count`
    addresses of each kind but `new` in its store."""
    (folder / "newsletter.toml").write_text(
        f'[newsletter]\nbase_url = "http://{HOST}:{port}"\n'
        f'[smtp]\nhost = "{HOST}"\nport = {smtp_port}\nretry_delay = 0.1\n'
        "[web]\nsignups_per_client_per_hour = 10000\nconfirmations_per_hour = 1000000\n",
        encoding="utf-8",
    )
    config = load_config(folder / "newsletter.toml", environ={})
    Store.open(config.database_path).close()  # made, migrated
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
    people = [
        (address(kind, n), status, new_token())
        for n in range(count)
        for kind, status in (
            ("active", "active"),
            ("unsubscribed", "unsubscribed"),
            ("bounced", "bounced"),
        )
    ]
    waiting = [(address("pending", n), new_token(), now, now, later) for n in range(count)]
    with contextlib.closing(sqlite3.connect(config.database_path)) as db, db:
        db.executemany("INSERT INTO subscribers (email, status, token) VALUES (?, ?, ?)", people)
        db.executemany(
            "INSERT INTO pending_subscriptions (email, token_sha256, created_at, mailed_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?)",
            waiting,
        )


@contextlib.contextmanager
def serve(site: Path, port: int) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "newsletter", "serve", "--port", str(port), "--workers", "1"]
    with (site / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (site / "serve.log").read_text()
                sys.exit(f"signup_timing.py: serve did not start: {log}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def healthy(port: int) -> bool:
    with contextlib.suppress(OSError):
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    return False


class Client:
    """One keep-alive connection; `post` times one request to the end of its answer."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.connection.request("GET", "/subscribe")
        page = self.connection.getresponse().read().decode()
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if not found:
            sys.exit("signup_timing.py: no form token on /subscribe")
        self.csrf = found.group(1)

    def post(self, email: str) -> tuple[float, tuple[int, tuple[tuple[str, str], ...], bytes]]:
        body = urllib.parse.urlencode(
            {"csrf": self.csrf, "email": email, "name": "Reader", "lang": "en", "website": ""}
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        start = time.perf_counter()
        self.connection.request("POST", "/subscribe", body, headers)
        answer = self.connection.getresponse()
        content = answer.read()
        seconds = time.perf_counter() - start
        kept = tuple((k.lower(), v) for k, v in answer.getheaders() if k.lower() != "date")
        return seconds, (answer.status, kept, content)


def measure(port: int, count: int, seed: int) -> tuple[dict[str, list[float]], int]:
    """Times per kind (ms), and how many different answers there were."""
    client = Client(port)
    for n in range(WARM_UP):
        client.post(f"warm{n:05d}@example.net")
    order = random.Random(seed)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    answers = set()
    for n in range(count):
        kinds = list(KINDS)
        order.shuffle(kinds)
        for kind in kinds:
            seconds, answer = client.post(address(kind, n))
            times[kind].append(seconds * 1000)
            answers.add(answer)
    return times, len(answers)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="per kind of address")
    parser.add_argument("--seed", type=int, default=1, help="of the shuffled order")
    options = parser.parse_args()
    from aiosmtpd.controller import Controller

    sink = Controller(Discard(), hostname=HOST, port=free_port())
    sink.start()
    try:
        with tempfile.TemporaryDirectory(prefix="signup-timing-") as folder:
            site, port = Path(folder), free_port()
            make_site(site, port, sink.port, options.requests)
            with serve(site, port):
                times, different = measure(port, options.requests, options.seed)
    finally:
        sink.stop()
    print(f"POST /subscribe, {options.requests} requests per kind, interleaved, 1 worker")
    print(f"{'kind':<14}{'median ms':>10}{'p95 ms':>10}")
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, values in times.items():
        print(f"{kind:<14}{medians[kind]:>10.3f}{p95(values):>10.3f}")
    spread = max(medians.values()) / min(medians.values())
    verdict = "met" if spread <= TARGET else "NOT met"
    print(f"largest median / smallest: {spread:.3f} (target <= {TARGET:.2f}: {verdict})")
    print(f"answers alike (status, headers but Date, body): {'yes' if different == 1 else 'NO'}")
    return 0 if different == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
