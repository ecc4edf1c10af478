"""Benchmark: send a composed issue over SMTP, beside Postfix's own C client.

Composes the bundled sample digest in a throw-away workspace, adds N subscribers
(bilingual, en and zh in turn) straight into its store, and sends the issue with
`newsletter.send.send` to Postfix's `smtp-sink` on 127.0.0.1, at 1 and at 4
connections, unsigned and DKIM-signed (target: signed/unsigned >= 0.7 at 1), twice: in
base64 (before), to an smtp-sink told not to offer 8BITMIME (`-8`), and in 8-bit
(after), to one that offers it. For each it prints the average bytes per message and
messages per second. Then Postfix's `smtp-source` sends as many messages of each
average size to the same sink over as many sessions, and the rates are set side by
side (targets, signing on: ours/theirs >= 0.6 at 1 connection, >= 0.4 at 4). Last,
the peak memory (VmHWM) of a child process that sends to M subscribers (target:
< 150 MB).

Postfix's test tools come from Debian's `postfix` package (`apt-get install
postfix`; `.ci/run` installs it); no Postfix daemon runs. Without them the
benchmark says so and stops with exit status 1: it installs nothing itself.

    python bench/send_issue.py [--messages 20000] [--memory-subscribers 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import HOST, SEARCH_PATH, free_port  # noqa: E402  (bench/, beside this script)

from newsletter.audience.subscribers import new_token  # noqa: E402
from newsletter.compose import compose  # noqa: E402
from newsletter.config import Config, load_config  # noqa: E402
from newsletter.mail.dkim import keygen  # noqa: E402
from newsletter.mail.message import Recipient  # noqa: E402
from newsletter.send.deliver import SendOptions, SendReport, load_templates, pick_issue, send  # noqa: E402
from newsletter.store import Store  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"
DATE = dt.date(2024, 7, 15)
LANGS = ("bilingual", "en", "zh")
NAMES = ("", "Ada Lovelace", "李雷", "Grace Hopper", "韩梅梅")
TARGET_RATIO = {1: 0.6, 4: 0.4}
TARGET_SIGNED = 0.7  # signed/unsigned
TARGET_MB = 150

# The memory run's child: import, load the configuration, send, report its peak RSS.
CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from newsletter.config import load_config
from newsletter.send import SendOptions, send
config = load_config(sys.argv[2])
sent = send(config, SendOptions()).sent if sys.argv[3] == "send" else 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
print(json.dumps({"sent": sent, "peak_kb": peak}))
"""


def fail(message: str) -> None:
    print(f"send_issue.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def postfix_tools() -> tuple[str, str]:
    """The paths of `smtp-sink` and `smtp-source` (Debian's `postfix` package)."""
    sink, source = (shutil.which(n, path=SEARCH_PATH) for n in ("smtp-sink", "smtp-source"))
    if not (sink and source):
        fail(
            "Postfix's smtp-sink and smtp-source are not installed: "
            "`apt-get install postfix` (no daemon needs to run; .ci/run installs it)"
        )
    assert sink and source
    return sink, source


@contextlib.contextmanager
def smtp_sink(binary: str, port: int, eightbit: bool = True) -> Iterator[None]:
    """`smtp-sink` on 127.0.0.1:`port`, accepting and discarding mail, until the block ends;
    offering 8BITMIME or not (`-8`)."""
    user = ["-u", "postfix"] if os.geteuid() == 0 else []
    no_8bitmime = [] if eightbit else ["-8"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [binary, *user, *no_8bitmime, f"{HOST}:{port}", "1000"], stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    fail(f"smtp-sink exited at start: {log.read().decode(errors='replace')}")
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                    break
                if time.monotonic() > deadline:
                    fail(f"smtp-sink is not listening on {HOST}:{port} after 10 s")
                time.sleep(0.05)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


NO_ARXIV = "[arxiv]\nenrich = false\n"  # the benchmark measures sending, not arXiv


def workspace(
    folder: Path, port: int, connections: int, subscribers: int, key: Path | None = None
) -> Config:
    """A workspace with the sample composed into issue 1 and `subscribers` subscribers;
    messages are DKIM-signed with `key` when there is one."""
    (folder / "digests").mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "digests")
    path = folder / "newsletter.toml"
    dkim = f'[dkim]\ndomain = "example.org"\nselector = "bench"\nkey_file = "{key}"\n'
    path.write_text(
        f'[smtp]\nhost = "{HOST}"\nport = {port}\nconnections = {connections}\n'
        + (dkim if key else "")
        + NO_ARXIV,
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    if not compose(config, date=DATE).composed:
        fail("composing the sample digest made no issue")
    add_subscribers(config.database_path, subscribers)
    return config


def add_subscribers(database: Path, count: int) -> None:
    """`count` active subscribers, the three editions in turn, each with its own token."""
    tokens: set[str] = set()
    while len(tokens) < count:
        tokens.add(new_token())
    rows = [
        (f"reader{i:07d}@example.net", NAMES[i % len(NAMES)], LANGS[i % len(LANGS)], token)
        for i, token in enumerate(tokens)
    ]
    db = sqlite3.connect(database)
    try:
        with db:
            db.executemany(
                "INSERT INTO subscribers (email, name, lang, token) VALUES (?, ?, ?, ?)", rows
            )
    finally:
        db.close()


def average_size(config: Config, eightbit: bool, sample: int = 999) -> int:
    """The mean size in bytes of the messages `send` builds, over the first subscribers."""
    with Store.open(config.database_path) as store:
        issue = pick_issue(store, None)
        assert issue is not None
        templates = load_templates(config, issue)
        rows = store.db.execute(
            "SELECT id, email, name, token, lang FROM subscribers ORDER BY id LIMIT ?", (sample,)
        ).fetchall()
    sizes = [
        len(templates[lang].build(Recipient(email, name, token, str(key)), eightbit=eightbit))
        for key, email, name, token, lang in rows
    ]
    return round(sum(sizes) / len(sizes))


def our_send(config: Config, expected: int) -> tuple[SendReport, float]:
    start = time.perf_counter()
    report = send(config, SendOptions())
    took = time.perf_counter() - start
    if report.sent != expected or not report.complete:
        fail(
            f"send delivered {report.sent} of {expected} ({report.failed} failed, "
            f"{report.deferred} deferred): {report.failures[:1]}"
        )
    return report, took


def their_send(binary: str, port: int, count: int, size: int, sessions: int) -> float:
    """Wall time of `smtp-source` sending `count` messages of `size` bytes."""
    command = [
        binary,
        "-s",
        str(sessions),
        "-m",
        str(count),
        "-l",
        str(size),
        "-d",
        "-f",
        "digest@example.org",
        "-t",
        "reader@example.net",
        f"{HOST}:{port}",
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode:
        fail(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return took


def peak_memory(config: Config, what: str) -> tuple[int, float]:
    """Peak RSS (KB) of a child process that imports, loads the config and, if `what` is
    "send", sends; and its wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(config.path), what],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode:
        fail(f"the memory run's child failed: {done.stderr.strip()}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["peak_kb"]), took


ENCODINGS = {
    False: "base64 (before; smtp-sink -8: no 8BITMIME)",
    True: "8-bit (after; BODY=8BITMIME)",
}


def our_runs(
    folder: Path, port: int, key: Path, messages: int, eightbit: bool
) -> tuple[dict[tuple[int, bool], float], dict[bool, int]]:
    """Our rates (messages/s) by (connections, signed), and the average sizes by signed."""
    rates: dict[tuple[int, bool], float] = {}
    sizes: dict[bool, int] = {}
    for connections in (1, 4):
        for signed in (False, True):
            config = workspace(
                folder / f"c{connections}{'s' * signed}",
                port,
                connections,
                messages,
                key if signed else None,
            )
            sizes[signed] = sizes.get(signed) or average_size(config, eightbit)
            if len(rates) == 0:
                print(f"{ENCODINGS[eightbit]}: average {sizes[False]} bytes a message unsigned")
            elif len(rates) == 1:
                print(f"  (signed: average {sizes[True]} bytes a message)")
            report, took = our_send(config, messages)
            rates[connections, signed] = messages / took
            print(
                f"  ours, {connections} connection{'s' * (connections > 1)}: "
                f"{'signed  ' if signed else 'unsigned'} {rates[connections, signed]:8.0f} "
                f"messages/s  ({took:.2f} s wall for send(); "
                f"{report.rate:.0f}/s in its delivery loop)"
            )
        ratio = rates[connections, True] / rates[connections, False]
        verdict = "met" if ratio >= TARGET_SIGNED else "MISSED"
        print(
            f"  signed/unsigned at {connections}: {ratio:.2f} "
            + (
                f"(target >= {TARGET_SIGNED}: {verdict})"
                if connections == 1
                else "(no target: one feeding thread signs for all the sessions)"
            )
        )
    return rates, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--memory-subscribers", type=int, default=100_000)
    args = parser.parse_args()

    sink, source = postfix_tools()
    port, port_7bit = free_port(), free_port()
    with (
        smtp_sink(sink, port),
        smtp_sink(sink, port_7bit, eightbit=False),
        tempfile.TemporaryDirectory() as folder,
    ):
        temporary = Path(folder)
        key = temporary / "dkim.pem"
        keygen(key)
        print(
            f"issue: sample digest (13 papers), {args.messages} messages, bilingual/en/zh in "
            f"turn, to smtp-sink on {HOST}:{port} (and :{port_7bit} with -8)"
        )
        ours, sizes = {}, {}
        for eightbit in (False, True):
            ours[eightbit], sizes[eightbit] = our_runs(
                temporary / ("8bit" if eightbit else "base64"),
                port if eightbit else port_7bit,
                key,
                args.messages,
                eightbit,
            )

        print(
            f"smtp-source (Postfix's C client): -m {args.messages} -l SIZE -d, "
            "SIZE each encoding's unsigned average, same sink"
        )
        for sessions in (1, 4):
            for eightbit in (False, True):
                size = sizes[eightbit][False]
                took = their_send(source, port, args.messages, size, sessions)
                theirs = args.messages / took
                rates = ours[eightbit]
                signed, unsigned = rates[sessions, True] / theirs, rates[sessions, False] / theirs
                target = TARGET_RATIO[sessions]
                verdict = "met" if signed >= target else "MISSED"
                print(
                    f"  smtp-source -s {sessions}: -l {size:6d} {theirs:8.0f} messages/s  "
                    f"({took:.2f} s)  ours/theirs, {'8-bit ' if eightbit else 'base64'}: "
                    f"signed {signed:.2f} (target >= {target}: {verdict}), "
                    f"unsigned {unsigned:.2f}"
                )
        before, after = sizes[False][False], sizes[True][False]
        print(
            f"bytes per message, unsigned: {before} base64 -> {after} 8-bit "
            f"({after / before - 1:+.0%}); signed, 1 connection: "
            f"{ours[False][1, True]:.0f} -> {ours[True][1, True]:.0f} messages/s"
        )

        count = args.memory_subscribers
        config = workspace(temporary / "memory", port, 4, count)
        base, _ = peak_memory(config, "imports")
        peak, took = peak_memory(config, "send")
        verdict = "met" if peak / 1024 < TARGET_MB else "MISSED"
        print(f"peak memory (VmHWM of a child process), 4 connections, {count} subscribers, 8-bit:")
        print(
            f"  send:    {peak / 1024:6.1f} MB  (target < {TARGET_MB} MB: {verdict}; "
            f"{count / took:.0f} messages/s incl. start-up)"
        )
        print(f"  imports and config only: {base / 1024:6.1f} MB")


if __name__ == "__main__":
    main()
