"""Benchmark: `newsletter serve --workers 4` under 100 concurrent clients, beside nginx.

Builds a throw-away site (the sample digest composed as issue 1, N subscribers put
straight into its store), starts `newsletter serve --workers 4` on a free 127.0.0.1
port and loads it with wrk (Debian's, a C load generator: 2 threads, 100 keep-alive
connections), then:

  (a) unsubscribe: N one-click unsubscribes, `POST /unsubscribe/{token}` with
      `List-Unsubscribe=One-Click` (RFC 8058), each token once; errors, requests/s,
      p50/p99 latency; then the database: are all N unsubscribed?
      Targets: >= 1,000 unsubscribes/s, p99 < 100 ms, 0 errors, all N unsubscribed.
  (b) index: `GET /` for some seconds, from our serve and from nginx (Debian's,
      started here as a child with its own config, on a free port) serving the
      static output of `newsletter archive build OUT/`. Target: ours/nginx >= 0.2.
  (c) memory: the sum over serve's processes of their peak RSS (VmHWM), and the
      highest sum of their RSS seen while (a) and (b) ran.

wrk walks the token list with a Lua script (written next to the site): each thread
takes its share, sends each once and stops when all its share is answered. Both
tools come from Debian (`apt-get install wrk nginx`; `.ci/run` installs them);
without them the benchmark says so and exits 1: it installs nothing itself.

Routes that this checkout does not serve yet are measured on a STAND-IN, said so on
every line it affects: a 404 from `/unsubscribe/…` means POSTs to the neutral 404
page and no database check; a 404 from `/` means our 404 page against nginx serving
the same bytes; no `archive build` command means nginx serves that same page.

    python bench/web_serve.py [--subscribers 20000] [--seconds 10] [--connections 100]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import HOST, SEARCH_PATH, free_port  # noqa: E402  (bench/, beside this script)

from newsletter.audience.subscribers import new_token  # noqa: E402
from newsletter.compose import compose  # noqa: E402
from newsletter.config import load_config  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"
DATE = dt.date(2024, 7, 15)
LANGS = ("bilingual", "en", "zh")
WORKERS = 4
THREADS = 2  # wrk's; the machine this is planned for has 2 cores

# The routes measured. At merge, nothing to change: the stand-ins fall away by themselves
# once these answer (see `route_is_served`).
UNSUBSCRIBE = "/unsubscribe/{token}"
ONE_CLICK = "List-Unsubscribe=One-Click"
INDEX = "/"

TARGET_RATE = 1000  # unsubscribes per second
TARGET_P99_MS = 100
TARGET_RATIO = 0.2  # our index over nginx's

# wrk's scripts. `done` runs once at the end, in wrk's main Lua state, and prints one
# JSON line; `setup` runs there once per thread, before that thread's `init`.
DONE_LUA = """
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local ok, unexpected = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok") or 0)
    unexpected = unexpected + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "status_errors": %d, "ok": %d, "unexpected": %d, '
    .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\\n', summary.requests, summary.duration,
    e.connect, e.read, e.write, e.timeout, e.status, ok, unexpected,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""

# args: a file of paths (one a line), the number of threads, the method, the body, the
# Content-Type, the status that counts as success. Thread `id` takes every path whose
# index is `id` modulo the number of threads.
WALK_LUA = """
local paths, sent, answered, expected, checking = {}, 0, 0, 200, false
ok, unexpected = 0, 0
function init(args)
  local id, threads = wrk.thread:get("id"), tonumber(args[2])
  -- wrk calls thread 0's request() once before it starts, to count the requests in what
  -- it returns (script_verify_request), and sends nothing of it: that call takes no path.
  checking = id == 0
  local index = 0
  for line in io.lines(args[1]) do
    if index % threads == id then table.insert(paths, line) end
    index = index + 1
  end
  wrk.method = args[3]
  wrk.body = args[4]
  wrk.headers["Content-Type"] = args[5]
  expected = tonumber(args[6])
end
function request()
  -- Each path once: when this thread's share is all sent, a connection that asks for
  -- more gets an empty request, sends nothing and waits, idle, until wrk stops.
  if checking then
    checking = false
    return wrk.format(nil, paths[1])
  end
  if sent == #paths then return "" end
  sent = sent + 1
  return wrk.format(nil, paths[sent])
end
function response(status, headers, body)
  answered = answered + 1
  if status == expected then ok = ok + 1 else unexpected = unexpected + 1 end
  if answered == #paths then
    io.write("thread-done\\n")
    io.flush()
    wrk.thread:stop()
  end
end
"""


def fail(message: str) -> None:
    print(f"web_serve.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def tools() -> tuple[str, str]:
    """The paths of `wrk` and `nginx` (Debian's `wrk` and `nginx` packages)."""
    wrk, nginx = (shutil.which(name, path=SEARCH_PATH) for name in ("wrk", "nginx"))
    missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if not path]
    if missing:
        verb = "are" if len(missing) > 1 else "is"
        fail(
            f"{' and '.join(missing)} {verb} not installed: `apt-get install {' '.join(missing)}` "
            "(no daemon needs to run; .ci/run installs them)"
        )
    assert wrk and nginx
    return wrk, nginx


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            fail(f"{what} exited at start: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
            return
        if time.monotonic() > deadline:
            fail(f"{what} is not listening on {HOST}:{port} after 60 s")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The site ----------------------------------------------------------------------------


def make_site(folder: Path, port: int, subscribers: int) -> list[str]:
    """A workspace in `folder` whose base_url is our serve, with the sample composed into
    issue 1 and `subscribers` active subscribers; returns their tokens."""
    (folder / "digests").mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "digests")
    path = folder / "newsletter.toml"
    path.write_text(
        f'[newsletter]\nbase_url = "http://{HOST}:{port}"\n[arxiv]\nenrich = false\n',
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    if not compose(config, date=DATE).composed:
        fail("composing the sample digest made no issue")
    tokens = [new_token() for _ in range(subscribers)]  # 192 random bits: none twice
    rows = [(f"reader{i:07d}@example.net", LANGS[i % 3], token) for i, token in enumerate(tokens)]
    with contextlib.closing(sqlite3.connect(config.database_path)) as db, db:
        db.executemany("INSERT INTO subscribers (email, lang, token) VALUES (?, ?, ?)", rows)
    return tokens


def count_unsubscribed(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM subscribers WHERE status = 'unsubscribed'"
        ).fetchone()
    return int(count)


def newsletter(site: Path, *arguments: str, **popen: object) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "newsletter", *arguments]
    return subprocess.Popen(command, cwd=site, env=env, **popen)  # type: ignore


@contextlib.contextmanager
def serve(site: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`newsletter serve --workers 4` in `site`, its log (the access log too) in a file."""
    log = site / "serve.log"
    with log.open("wb") as out:
        process = newsletter(
            site,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process, "newsletter serve", log)
            deadline = time.monotonic() + 60
            while fetch(port, "/healthz")[0] != 200:
                if time.monotonic() > deadline:
                    fail(f"/healthz does not answer: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
            yield process
        finally:
            stop(process)


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def fetch(port: int, path: str) -> tuple[int, bytes]:
    """GET `path`: its status and body (an error status too)."""
    try:
        with DIRECT.open(f"http://{HOST}:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


# nginx and the static archive --------------------------------------------------------


def static_archive(site: Path, out: Path, our_port: int) -> bool:
    """`newsletter archive build OUT/`; True if it ran. Without that command (a STAND-IN),
    OUT/index.html is what our serve answers for the index."""
    done = newsletter(
        site, "archive", "build", str(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, stderr = done.communicate(timeout=300)
    if done.returncode == 0:
        return True
    if b"No such command" not in stderr:
        fail(f"newsletter archive build exited {done.returncode}: {stderr.decode()[-2000:]}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_bytes(fetch(our_port, INDEX)[1])
    return False


def readable(folder: Path) -> None:
    """Let nginx's workers, which drop to `nobody` when it starts as root, read `folder`."""
    for entry in (folder, *folder.rglob("*")):
        entry.chmod(entry.stat().st_mode | (0o005 if entry.is_dir() else 0o004))


NGINX_CONF = """
daemon off;
master_process on;
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  access_log {access_log};
  keepalive_requests 1000000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen {host}:{port};
    root {root};
    index index.html;
  }}
}}
"""


@contextlib.contextmanager
def nginx(binary: str, root: Path, port: int, tmp: Path, logs: bool = True) -> Iterator[None]:
    """nginx serving `root` on 127.0.0.1:`port`, a child of this process (no daemon)."""
    tmp.mkdir()
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    access_log = f"{tmp}/access.log" if logs else "off"  # like ours: a line per request
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp, user=user, host=HOST, port=port, root=root, access_log=access_log
        )
    )
    log = tmp / "error.log"
    with (tmp / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(tmp), "-e", str(log)],
            stdout=err,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process, "nginx", tmp / "stderr.log")
            yield
        finally:
            stop(process)


# wrk ---------------------------------------------------------------------------------


@dataclass
class Load:
    """What wrk measured."""

    requests: int
    seconds: float
    errors: int  # socket errors and answers with an unexpected status
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # wrk's own CPU time: is the load generator the bottleneck?

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    binary: str,
    port: int,
    path: str,
    seconds: int,
    connections: int,
    script: Path,
    not_found: bool = False,
) -> Load:
    """GET `path` for `seconds` (wrk's static request: no Lua per request). An answer of
    400 or more is an error, unless `not_found` (a STAND-IN: 404 is expected)."""
    command = [
        binary,
        "-t",
        str(THREADS),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode:
        fail(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    return load_from(done.stdout, before, "status_errors" if not not_found else "")


def walk_wrk(
    binary: str,
    port: int,
    paths: list[str],
    connections: int,
    folder: Path,
    body: str,
    expected: int,
) -> Load:
    """POST each of `paths` once; stops when every one is answered (or after a limit)."""
    listing = folder / "paths.txt"
    listing.write_text("".join(f"{path}\n" for path in paths))
    script = folder / "walk.lua"
    script.write_text(WALK_LUA + DONE_LUA)
    limit = max(60, len(paths) // 100)  # seconds: the target is 1,000/s
    command = [
        binary,
        "-t",
        str(THREADS),
        "-c",
        str(connections),
        "-d",
        f"{limit + 30}s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}/",
        str(listing),
        str(THREADS),
        "POST",
        body,
        "application/x-www-form-urlencoded",
        str(expected),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(limit, process.send_signal, (signal.SIGINT,))
    timer.start()
    try:
        assert process.stdout is not None
        finished = 0
        output = []
        for line in process.stdout:  # wrk's thread lines come as each thread finishes
            output.append(line)
            finished += line.strip() == "thread-done"
            if finished == THREADS:
                process.send_signal(signal.SIGINT)  # wrk then stops waiting and reports
                break
        rest, err = process.communicate(timeout=60)
    finally:
        timer.cancel()
    if process.returncode:
        fail(f"wrk exited {process.returncode}: {err.strip()}")
    if finished < THREADS:
        print(f"  wrk: not every request was answered within {limit} s", file=sys.stderr)
    return load_from("".join(output) + rest, before, "unexpected")


def load_from(stdout: str, before: resource.struct_rusage, status_errors: str) -> Load:
    """wrk's summary; `status_errors` names its count of wrong answers (none if empty)."""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        fail(f"wrk printed no summary: {stdout[-2000:]}")
    result = json.loads(lines[-1])
    sockets = sum(result[key] for key in ("connect", "read", "write", "timeout"))
    errors = sockets + (result[status_errors] if status_errors else 0)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Load(
        result["requests"],
        result["duration_us"] / 1e6,
        errors,
        result["p50_us"] / 1000,
        result["p99_us"] / 1000,
        cpu,
    )


# Memory ------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (serve's supervisor and its worker processes)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(child) for child in (task / "children").read_text().split()]
    return found


def status_kb(pid: int, field: str) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class MemoryWatch:
    """Samples the sum of RSS over serve's processes every 50 ms, in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self.halt = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.halt.wait(0.05):
            total = sum(status_kb(pid, "VmRSS") for pid in process_tree(self.pid))
            self.peak_kb = max(self.peak_kb, total)

    def __enter__(self) -> MemoryWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.thread.join()

    def hwm(self) -> tuple[int, int]:
        """The sum of VmHWM over serve's processes (KB), and how many there are."""
        pids = process_tree(self.pid)
        return sum(status_kb(pid, "VmHWM") for pid in pids), len(pids)


# The phases --------------------------------------------------------------------------


def verdict(met: bool, stand_in: bool) -> str:
    if stand_in:
        return "n/a, STAND-IN"
    return "met" if met else "MISSED"


def route_is_served(port: int, path: str) -> bool:
    """False while this checkout has no such route (the neutral 404): then a STAND-IN."""
    return fetch(port, path)[0] != 404


def phase_unsubscribe(wrk: str, port: int, site: Path, tokens: list[str], connections: int) -> None:
    """(a) Every token unsubscribed once by a one-click POST."""
    stand_in = not route_is_served(port, UNSUBSCRIBE.format(token=tokens[0]))
    note = (
        "  STAND-IN: /unsubscribe/ is not served by this checkout (404): these are "
        "POSTs to the neutral 404 page, and the database check is skipped\n"
        if stand_in
        else ""
    )
    paths = [UNSUBSCRIBE.format(token=token) for token in tokens]
    load = walk_wrk(wrk, port, paths, connections, site, ONE_CLICK, 404 if stand_in else 200)
    print(
        f"(a) one-click unsubscribe: POST {UNSUBSCRIBE} ({ONE_CLICK}), {len(tokens)} "
        f"distinct tokens, {connections} connections\n{note}"
        f"  {load.requests} requests, {load.errors} errors, {load.rate:8.0f} requests/s, "
        f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms  "
        f"(wrk's CPU: {load.cpu_seconds / load.seconds:.0%} of one core)"
    )
    unsubscribed = 0 if stand_in else count_unsubscribed(site / "newsletter.db")
    print(
        f"  rate >= {TARGET_RATE}/s: {verdict(load.rate >= TARGET_RATE, stand_in)}; "
        f"p99 < {TARGET_P99_MS} ms: {verdict(load.p99_ms < TARGET_P99_MS, stand_in)}; "
        f"0 errors: {verdict(load.errors == 0 and load.requests == len(tokens), stand_in)}; "
        f"unsubscribed in the database: {unsubscribed} of {len(tokens)} "
        f"({verdict(unsubscribed == len(tokens), stand_in)})"
    )


def phase_index(
    wrk: str,
    nginx_binary: str,
    port: int,
    site: Path,
    seconds: int,
    connections: int,
    logs: bool = True,
) -> None:
    """(b) The archive index, ours and nginx's static copy; both with their access log
    (the default of each), or both without (`web.access_log = false`, `access_log off`)."""
    stand_in = not route_is_served(port, INDEX)
    script = site / "done.lua"
    with tempfile.TemporaryDirectory(prefix="web-serve-static-") as static:
        out = Path(static) / "out"
        built = static_archive(site, out, port)
        readable(Path(static))
        run_wrk(wrk, port, INDEX, 1, connections, script)  # warm every worker up
        ours = run_wrk(wrk, port, INDEX, seconds, connections, script, not_found=stand_in)
        nginx_port = free_port()
        with nginx(nginx_binary, out, nginx_port, site / f"nginx-{logs}", logs):
            run_wrk(wrk, nginx_port, "/", 1, connections, script)
            theirs = run_wrk(wrk, nginx_port, "/", seconds, connections, script)
    which = "both with their access log" if logs else "both without an access log"
    print(f"(b) archive index: GET {INDEX}, {connections} connections, {seconds} s each, {which}")
    if stand_in:
        print(f"  STAND-IN: {INDEX} is not served by this checkout (404): ours is the 404 page")
    if not built:
        print("  STAND-IN: no `newsletter archive build` here: nginx serves what ours answers")
    for name, load in (("ours ", ours), ("nginx", theirs)):
        print(
            f"  {name}: {load.rate:8.0f} requests/s, {load.errors} errors, "
            f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms  "
            f"(wrk's CPU: {load.cpu_seconds / load.seconds:.0%} of one core)"
        )
    ratio = ours.rate / theirs.rate
    print(
        f"  ours/nginx {ratio:.2f} (target >= {TARGET_RATIO}: "
        f"{verdict(ratio >= TARGET_RATIO, stand_in or not built)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--subscribers",
        type=int,
        default=20_000,
        help="Subscribers, each unsubscribed once in (a).",
    )
    parser.add_argument("--seconds", type=int, default=10, help="Length of each run in (b).")
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    if args.subscribers < THREADS or args.connections < THREADS:
        parser.error(f"--subscribers and --connections must be at least {THREADS}")

    wrk, nginx_binary = tools()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        tokens = make_site(site, port, args.subscribers)
        with serve(site, port) as process, MemoryWatch(process.pid) as memory:
            print(
                f"newsletter serve --workers {WORKERS} on {HOST}:{port}; wrk -t {THREADS} "
                f"-c {args.connections}; {args.subscribers} subscribers"
            )
            script = site / "done.lua"
            script.write_text(DONE_LUA)  # the static runs' script: only the summary
            warm = UNSUBSCRIBE.format(token=tokens[0])
            run_wrk(wrk, port, warm, 1, args.connections, script)  # GET: shows the button
            phase_unsubscribe(wrk, port, site, tokens, args.connections)
            phase_index(wrk, nginx_binary, port, site, args.seconds, args.connections)
            hwm, count = memory.hwm()
        print(
            f"(c) memory of serve's {count} processes ({WORKERS} workers, the supervisor, "
            "multiprocessing's resource tracker): "
            f"peak RSS sum {memory.peak_kb / 1024:.1f} MB while loaded; "
            f"sum of each one's peak (VmHWM) {hwm / 1024:.1f} MB"
        )
        config = site / "newsletter.toml"  # again without access logs (behind a proxy that logs)
        config.write_text(config.read_text() + "[web]\naccess_log = false\n", encoding="utf-8")
        port = free_port()
        with serve(site, port):
            phase_index(wrk, nginx_binary, port, site, args.seconds, args.connections, logs=False)


if __name__ == "__main__":
    main()
