"""A new user's walk from `newsletter init` to a first real send, on 127.0.0.1 only:
`doctor` fails, each thing is fixed in turn until it passes, then compose, a send to
the capture server, `serve`, a backup and a restore. Prints every command and what it
printed; exits 1 if a step does not end as it should.

    python scripts/new_user_walk.py [--keep DIR]

Stand-ins for the world, all local: `newsletter smtp-sink` (the relay), a DNS server
(tests/dnsd.py, its records read from a file each query), arXiv (tests/arxivd.py),
a Maildir (the inbox). Run it from a checkout with its .venv (`make test` makes it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arxivd import DATA, ArxivServer, Reply  # noqa: E402
from tests.dnsd import DnsServer  # noqa: E402

NEWSLETTER = [sys.executable, "-m", "newsletter"]


class FileDns(DnsServer):
    """The DNS server, its records read from `zone.json` at each query: edit, then ask."""

    def __init__(self, zone: Path) -> None:
        super().__init__()
        self.zone = zone

    def _answer(self, query):  # type: ignore[no-untyped-def]
        found = json.loads(self.zone.read_text()) if self.zone.exists() else {}
        self.records = {
            name: [text.encode() for text in texts] for name, texts in found.get("TXT", {}).items()
        }
        self.typed = {(name, "MX"): texts for name, texts in found.get("MX", {}).items()}
        return super()._answer(query)


def run(site: Path, *arguments: str, expect: int | None = 0) -> str:
    """Run `newsletter ARGUMENTS` in `site`, print the command and its output."""
    shown = " ".join(["newsletter", *arguments])
    done = subprocess.run(
        [*NEWSLETTER, *arguments], cwd=site, capture_output=True, text=True, timeout=120
    )
    print(f"\n$ {shown}    # exit {done.returncode}")
    for line in (done.stdout + done.stderr).rstrip().splitlines():
        print(f"  {line}")
    if expect is not None and done.returncode != expect:
        raise SystemExit(f"walk: `{shown}` exited {done.returncode}, not {expect}")
    return done.stdout


def set_key(site: Path, section: str, key: str, value: str) -> None:
    """Set `key` in `[section]` of newsletter.toml, as a user does with an editor."""
    path = site / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"[{section}]\n")
    line = re.compile(rf"^{key} = .*$", re.MULTILINE).search(text, start)
    assert line is not None, (section, key)
    path.write_text(text[: line.start()] + f"{key} = {value}" + text[line.end() :])
    print(f"\n# edit newsletter.toml: [{section}] {key} = {value}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(300):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"walk: nothing answers on port {port}")


def background(site: Path, *arguments: str) -> subprocess.Popen[bytes]:
    print(f"\n$ newsletter {' '.join(arguments)} &")
    return subprocess.Popen(
        [*NEWSLETTER, *arguments],
        cwd=site,
        stdout=(site / f"{arguments[0]}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def doctor(site: Path, nameserver: str, maildir: Path, expect: int) -> None:
    run(site, "doctor", "--nameserver", nameserver, "--maildir", str(maildir), expect=expect)


def walk(home: Path) -> None:
    processes: list[subprocess.Popen[bytes]] = []
    zone = home / "zone.json"
    with FileDns(zone) as dns, ArxivServer() as arxiv:
        arxiv.default = Reply(body=(DATA / "sample.xml").read_bytes())
        try:
            site = home / "digest"
            run(home, "init", "digest")
            run(home, "status", expect=1)  # outside the workspace: one line, nothing made
            maildir = home / "bounces"
            for part in ("cur", "new", "tmp"):
                (maildir / part).mkdir(parents=True)
            print("\n# 1. as init left it")
            doctor(site, dns.address, maildir, expect=1)

            print("\n# 2. the web side: base_url, and serve there")
            web = free_port()
            set_key(site, "newsletter", "base_url", f'"http://127.0.0.1:{web}"')
            processes.append(background(site, "serve", "--port", str(web), "--workers", "1"))
            wait_for_port(web)
            print("\n# 3. the relay: a capture server on this machine")
            relay = free_port()
            set_key(site, "smtp", "port", str(relay))
            processes.append(background(site, "smtp-sink", "--port", str(relay)))
            wait_for_port(relay)
            print("\n# 4. arXiv (a stand-in here)")
            set_key(site, "arxiv", "api_url", json.dumps(arxiv.url))
            set_key(site, "arxiv", "interval", "0.05")
            doctor(site, dns.address, maildir, expect=1)

            print(
                "\n# 5. DKIM: a key, its settings pasted, its record published with SPF, DMARC, MX"
            )
            keygen = run(
                site,
                "dkim",
                "keygen",
                "--domain",
                "example.org",
                "--selector",
                "s2026",
                "--out",
                "dkim.pem",
            )
            record = "".join(re.findall(r'"([^"]*)"', keygen.split("[dkim]")[0]))
            dkim_table = keygen[keygen.index("[dkim]") :]
            config = (site / "newsletter.toml").read_text(encoding="utf-8")
            start = config.index("[dkim]\n")
            end = config.index("\n[", start + 1)
            (site / "newsletter.toml").write_text(
                config[:start] + dkim_table.rstrip() + "\n" + config[end:]
            )
            print(
                "# edit newsletter.toml: the [dkim] table keygen printed, pasted over the empty one"
            )
            zone.write_text(
                json.dumps(
                    {
                        "TXT": {
                            "example.org": ["v=spf1 ip4:127.0.0.1 -all"],
                            "s2026._domainkey.example.org": [record],
                            "_dmarc.example.org": [
                                "v=DMARC1; p=none; rua=mailto:dmarc@example.org"
                            ],
                        },
                        "MX": {"example.org": ["10 mx.example.org."]},
                    }
                )
            )
            print("# publish: SPF, the DKIM record, DMARC, MX (the DNS stand-in's zone)")
            set_key(site, "newsletter", "postal_address", '"AI Paper Digest\\n1 Main St\\nBeijing"')
            doctor(site, dns.address, maildir, expect=0)

            print(
                "\n# 6. the database's mode: serve made it (600); made 644 by hand, doctor says so"
            )
            run(site, "compose", "--date", "2024-07-15")
            os.chmod(site / "newsletter.db", 0o644)
            doctor(site, dns.address, maildir, expect=1)
            run(
                site,
                "doctor",
                "--json",
                "--nameserver",
                dns.address,
                "--maildir",
                str(maildir),
                expect=1,
            )
            os.chmod(site / "newsletter.db", 0o600)
            print("\n$ chmod 600 newsletter.db")
            doctor(site, dns.address, maildir, expect=0)

            print("\n# 7. the first real send, to the capture server")
            shutil.copy(ROOT / "examples" / "subscribers.csv", site / "subscribers.csv")
            run(site, "subscribers", "import", "subscribers.csv")
            run(site, "send", "--dry-run")
            run(site, "send")
            run(site, "send")  # again: nobody gets it twice
            run(site, "status")
            print(f"\n$ curl http://127.0.0.1:{web}/  (the archive lists issue 1)")
            with urllib.request.urlopen(f"http://127.0.0.1:{web}/", timeout=10) as page:
                body = page.read().decode()
            print(f"  {page.status}, {'lists issue 1' if 'Issue 1' in body else 'no issue 1!'}")

            print("\n# 8. a backup while serve runs, and a restore")
            run(site, "backup", "backups/newsletter-1.db", expect=1)  # no such folder: one line
            (site / "backups").mkdir()
            print("\n$ mkdir backups")
            run(site, "backup", "backups/newsletter-1.db")
            run(site, "backup", "backups/newsletter-1.db", expect=1)  # never overwritten
            run(site, "subscribers", "remove", "ann.lee@example.org")  # a mistake to undo
            run(site, "subscribers", "list")
            for process in processes[:1]:  # serve stops for the restore
                process.terminate()
                process.wait(timeout=30)
            shutil.copy(site / "backups" / "newsletter-1.db", site / "newsletter.db")
            os.chmod(site / "newsletter.db", 0o600)
            print("\n$ cp backups/newsletter-1.db newsletter.db   # serve stopped first")
            run(site, "status")
            run(site, "subscribers", "list")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="walk in DIR and keep it")
    arguments = parser.parse_args()
    os.environ.pop("NEWSLETTER_CONFIG", None)
    if arguments.keep:
        arguments.keep.mkdir(parents=True, exist_ok=True)
        walk(arguments.keep)
    else:
        with tempfile.TemporaryDirectory() as home:
            walk(Path(home))
    print("\nwalk: every step ended as it should")
    return 0


if __name__ == "__main__":
    sys.exit(main())
