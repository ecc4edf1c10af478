"""The weekly job through an arXiv outage, on 127.0.0.1 only: prints a timeline.

    python scripts/arxiv_outage.py [--wait 20] [--retry-delay 1] [--back 10]

Each scenario gets a new workspace (the bundled sample digest, three subscribers:
zh, en, bilingual), a capture SMTP server (`newsletter smtp-sink`, a process of its
own) and the tests' stand-in arXiv (`tests/arxivd.py`, in this process, answering
with the sample's metadata), and runs `newsletter run-once` as a subprocess:

1. up: arXiv answers all along (the baseline).
2. back: arXiv refuses connections when the job starts and answers again `--back`
   seconds later, within `[arxiv] wait`: the job waits, then composes with every
   abstract and sends.
3. down: arXiv refuses connections for longer than the wait: the job composes with
   what it has once the wait is over, says so in its log and in `newsletter status`,
   the `en` edition carries one notice at the top, and it sends.

The timeline is every line the job logged, every request the stand-in arXiv
answered, when it started and stopped listening, and every message the capture
server received, in the order they happened (seconds since the job started, and
the wall clock); then `newsletter status`, and what the `en` reader got. Exits 1
when a scenario did not do what it should.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import mailbox
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arxivd import ArxivServer, Reply, Seen  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"
SUBSCRIBERS = [
    ("li.wei@example.org", "Li Wei", "zh"),
    ("ann@example.org", "Ann", "en"),
    ("bob@example.org", "Bob", "bilingual"),
]
NOTICE = "The English abstracts of this issue's papers could not be included"
ABSTRACT = "This report presents FunAudioLLM"  # the first paper's, from arXiv


@dataclass
class Timeline:
    """Events as they happen, from several threads, stamped on the monotonic clock."""

    start: float = field(default_factory=time.monotonic)
    events: list[tuple[float, float, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, source: str, text: str, at: float | None = None) -> None:
        now = time.monotonic() if at is None else at
        wall = time.time() - (time.monotonic() - now)
        with self.lock:
            self.events.append((now, wall, source, text))

    def print(self) -> None:
        for at, wall, source, text in sorted(self.events):
            clock = dt.datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]
            print(f"  {at - self.start:+7.2f} s  {clock}  {source:<6} {text}")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["PYTHONPATH"] = str(ROOT)
    env["NEWSLETTER_ARXIV_ENRICH"] = "1"
    return env


def newsletter(cwd: Path, *arguments: str, **popen: object) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "newsletter", *arguments]
    return subprocess.Popen(command, cwd=cwd, text=True, env=environment(), **popen)  # type: ignore[call-overload,no-any-return]


def output(cwd: Path, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", *arguments],
        cwd=cwd,
        text=True,
        env=environment(),
        capture_output=True,
        check=True,
    )
    return done.stdout


def follow(stream: IO[str] | None, each: Callable[[str], None]) -> threading.Thread:
    """Call `each` with every line of `stream` as it comes, in a thread."""
    assert stream is not None

    def read() -> None:
        for line in stream:
            each(line.rstrip("\n"))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workspace(folder: Path, smtp_port: int, arxiv: ArxivServer, args: argparse.Namespace) -> None:
    (folder / "digests").mkdir(parents=True)
    (folder / "digests" / "sample-digest.md").write_bytes(SAMPLE.read_bytes())
    (folder / "newsletter.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n\n'
        f'[arxiv]\napi_url = "{arxiv.url}"\ninterval = 0.05\ntimeout = 5\nretries = 0\n'
        f"retry_delay = {args.retry_delay}\nwait = {args.wait}\n",
        encoding="utf-8",
    )
    for address, name, lang in SUBSCRIBERS:
        output(folder, "subscribers", "add", address, "--name", name, "--lang", lang)


def scenario(name: str, args: argparse.Namespace) -> bool:
    """Run one scenario; print its timeline and checks; whether it went as it should."""
    timeline = Timeline()
    folder = Path(tempfile.mkdtemp(prefix=f"outage-{name}-"))
    arxiv = ArxivServer()
    arxiv.default = Reply("sample.xml")
    arxiv.on_request = lambda seen: timeline.add("arxiv", describe(seen), seen.at)
    arxiv.start()
    if name != "up":
        arxiv.stop()  # the port stays ours to start on again; meanwhile, refused
    smtp_port = free_port()
    workspace(folder, smtp_port, arxiv, args)

    listening = threading.Event()

    def sink_line(line: str) -> None:
        if "listening" in line:
            listening.set()
        timeline.add("smtp", line)

    sink = newsletter(
        folder, "smtp-sink", "--port", str(smtp_port), "--mbox", "sent.mbox", stderr=subprocess.PIPE
    )
    follow(sink.stderr, sink_line)
    if not listening.wait(20):
        raise SystemExit("the capture server did not start")

    timeline.start = time.monotonic()
    timeline.add("script", f"arXiv stand-in {'answering' if name == 'up' else 'down (refusing)'}")
    job = newsletter(folder, "run-once", stderr=subprocess.PIPE)
    reader = follow(job.stderr, lambda line: timeline.add("job", line))
    if name == "back":
        time.sleep(args.back)
        arxiv.start()
        timeline.add("script", f"arXiv stand-in answering again on port {arxiv.port}")
    code = job.wait(timeout=args.wait + 120)
    reader.join(5)
    timeline.add("script", f"run-once exited {code}")
    time.sleep(0.3)  # the capture server's last line
    arxiv.stop()

    state = json.loads(output(folder, "status", "--json"))["last_run"]
    shown = output(folder, "status")
    sink.send_signal(signal.SIGTERM)
    sink.wait(10)

    print(f"== scenario {name}: {DESCRIPTIONS[name]}")
    print(f"   wait = {args.wait} s, retry_delay = {args.retry_delay} s, retries = 0")
    print("-- timeline (seconds since run-once started, wall clock, source, line)")
    timeline.print()
    print("-- newsletter status")
    print("\n".join("  " + line for line in shown.splitlines()))
    print(f"-- status --json: last_run = {json.dumps(state, ensure_ascii=False)}")
    received = messages(folder / "sent.mbox")
    en_html, en_text = english(received)
    abstracts = en_text.count("[Abstract]")
    flat = " ".join(en_html.split())
    notices = flat.count(NOTICE)
    on_top = notices == 1 and flat.index(NOTICE) < flat.index("In this issue")
    print(
        f"-- received {len(received)} messages; the en edition: {abstracts} abstracts, "
        f"{notices} notice{'s' * (notices != 1)}{' (at the top)' * on_top}"
    )
    ok = code == 0 and state["outcome"] == "sent" and len(received) == 3
    if name == "down":
        ok = ok and abstracts == 0 and on_top and bool(state["note"])
        ok = ok and "after waiting" in state["note"]
        ok = ok and " ".join(en_text.split()).count(NOTICE) == 1
        ok = ok and not arxiv.seen  # it never answered
    else:
        ok = ok and abstracts == 13 and ABSTRACT in en_html and notices == 0
        ok = ok and state["note"] is None
    print(f"-- {'as expected' if ok else 'NOT AS EXPECTED'}\n", flush=True)
    return ok


DESCRIPTIONS = {
    "up": "arXiv answers all along",
    "back": "arXiv down when the job starts, answering again within the wait",
    "down": "arXiv down for longer than the wait",
}


def describe(seen: Seen) -> str:
    return f"GET {seen.path} id_list={len(seen.ids)} ids: answered 200 (sample.xml)"


def messages(path: Path) -> list[EmailMessage]:
    box = mailbox.mbox(path)
    found = []
    for item in box:
        message = message_from_bytes(item.as_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    box.close()
    return found


def english(received: list[EmailMessage]) -> tuple[str, str]:
    """The `en` reader's HTML and text."""
    for message in received:
        if message["To"] and "ann@example.org" in str(message["To"]):
            html, text = message.get_body(("html",)), message.get_body(("plain",))
            assert isinstance(html, EmailMessage) and isinstance(text, EmailMessage)
            return html.get_content(), text.get_content()
    return "", ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=20, help="[arxiv] wait (seconds)")
    parser.add_argument("--retry-delay", type=float, default=1, help="[arxiv] retry_delay")
    parser.add_argument("--back", type=float, default=10, help="when arXiv answers again")
    parser.add_argument("scenarios", nargs="*", default=list(DESCRIPTIONS))
    args = parser.parse_args()
    if not 0 < args.back < args.wait:
        parser.error("--back must be within the wait")
    results = [scenario(name, args) for name in args.scenarios]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
