"""What one check of `doctor` found: its name, its result and one line of detail."""

from __future__ import annotations

from dataclasses import asdict, dataclass

RESULTS = ("ok", "warn", "fail", "skip")

NAMES = (
    "config",
    "base_url",
    "web.healthz",
    "web.unsubscribe",
    "smtp.connect",
    "smtp.tls",
    "smtp.auth",
    "dns.spf.from",
    "dns.spf.envelope",
    "dns.dkim",
    "dns.dmarc",
    "dns.mx.envelope",
    "inbox",
    "arxiv",
    "files.database",
    "files.dkim_key",
)
"""Every check, in the order they run and print: the names `--json` promises."""


@dataclass(frozen=True)
class Check:
    """`result` is one of RESULTS; `detail` says what was found and, on a failure
    or a warning, what to do about it."""

    name: str
    result: str
    detail: str

    def line(self) -> str:
        """The check as `doctor` prints it: result, name, detail."""
        return f"{self.result:<4}  {self.name:<16}  {self.detail}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str) -> Check:
    return Check(name, "warn", detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, "fail", detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)
