"""What the settings are: one frozen dataclass per section of `newsletter.toml`,
every key with its default (so a checkout works with no file at all), and `Config`,
the settings in force with the workspace they resolve against."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsletter.core.errors import ConfigError
from newsletter.core.origin_guard import EXAMPLE_BASE_URL


@dataclass(frozen=True)
class NewsletterSettings:
    title_en: str = "AI Paper Digest"
    title_zh: str = "AI 论文周报"
    from_: str = "AI Paper Digest <digest@example.org>"
    base_url: str = EXAMPLE_BASE_URL
    unsubscribe_mailto: str = ""
    digests: tuple[str, ...] = ("digests/*.md",)
    issues_dir: str = "issues"
    templates_dir: str = "templates"
    database: str = "newsletter.db"
    max_papers: int = 20
    subject_bilingual: str = "{title_en} #{number} · {title_zh} 第{number}期"
    subject_en: str = "{title_en} #{number}"
    subject_zh: str = "{title_zh} 第{number}期"
    postal_address: str = ""  # shown in every footer; lines split by "\n"


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 1025
    security: str = "none"
    username: str = ""
    password_env: str = "NEWSLETTER_SMTP_PASSWORD"
    timeout: float = 30.0
    connections: int = 4
    rate_per_second: float = 0.0
    retries: int = 3
    retry_delay: float = 2.0


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = "0 8 * * mon"
    timezone: str = "Asia/Shanghai"
    grace_hours: float = 24.0
    log_file: str = ""


@dataclass(frozen=True)
class BounceSettings:
    """The return path: where bounces go, and when an address counts as dead."""

    address: str = ""  # VERP pattern, e.g. "bounces+{token}@example.org"; empty: the From address
    soft_limit: int = 3  # soft bounces in a row, across issues, that mark an address bounced


@dataclass(frozen=True)
class InboxSettings:
    """The IMAP mailbox `newsletter inbox` reads, and the weekly job before each send;
    off while `host` is empty."""

    host: str = ""
    port: int = 993
    security: str = "tls"  # tls (IMAPS) | starttls | none (this machine only)
    username: str = ""
    password_env: str = "NEWSLETTER_INBOX_PASSWORD"
    folder: str = "INBOX"  # where the return path's mail arrives
    processed_folder: str = "Processed"  # where handled mail is moved (created if need be)
    failed_folder: str = "Failed"  # where unreadable mail is set aside (created if need be)
    timeout: float = 30.0
    max_size: int = 10_000_000  # bytes of a mail read; a larger one is judged by its start


@dataclass(frozen=True)
class WebSettings:
    """`newsletter serve`: where it listens, and the limits of its public forms."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    trusted_proxies: tuple[str, ...] = ()  # X-Forwarded-* is believed from these only
    access_log: bool = True  # one line per request (tokens cut); off behind a proxy that logs
    confirm_days: int = 7  # an unconfirmed subscription expires after this
    signups_per_client_per_hour: int = 5
    confirmations_per_hour: int = 200  # sign-up requests accepted, all clients together
    request_seconds: float = 10.0  # a request must arrive whole within this, or is cut off


@dataclass(frozen=True)
class DkimSettings:
    """DKIM signing, on when all three are set (`newsletter dkim keygen` makes a key)."""

    domain: str = ""  # d=: the From address's domain, or a parent of it
    selector: str = ""  # s=: the key is published at <selector>._domainkey.<domain>
    key_file: str = ""  # PEM private key, readable by its owner only


@dataclass(frozen=True)
class ArxivSettings:
    """arXiv metadata for each paper (authors, abstract, categories), fetched once and
    cached; the API's terms ask for at most one request every 3 seconds."""

    enrich: bool = True  # compose fetches what is missing for its papers
    api_url: str = "https://export.arxiv.org/api/query"
    timeout: float = 20.0  # seconds for one request
    interval: float = 3.0  # seconds between requests (at least 3 to arxiv.org)
    retries: int = 2  # a timeout, a dropped connection, a 5xx or a 429 is tried again this often
    retry_delay: float = 3.0  # seconds before the first retry; it doubles each time
    wait: float = 7200.0  # seconds the weekly job waits for arXiv before composing without it


@dataclass(frozen=True)
class Config:
    """The settings in force, and where they came from."""

    root: Path
    path: Path | None = None
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    web: WebSettings = field(default_factory=WebSettings)
    bounces: BounceSettings = field(default_factory=BounceSettings)
    dkim: DkimSettings = field(default_factory=DkimSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    arxiv: ArxivSettings = field(default_factory=ArxivSettings)
    smtp_password: str = field(default="", repr=False)
    inbox_password: str = field(default="", repr=False)

    @property
    def source(self) -> str:
        """How error messages name the configuration."""
        return str(self.path) if self.path else "the default configuration"

    def resolve(self, relative: str) -> Path:
        """A path from the file, resolved against the workspace."""
        return (self.root / Path(relative).expanduser()).resolve()

    @property
    def database_path(self) -> Path:
        return self.resolve(self.newsletter.database)

    @property
    def issues_path(self) -> Path:
        return self.resolve(self.newsletter.issues_dir)

    @property
    def log_path(self) -> Path | None:
        return self.resolve(self.schedule.log_file) if self.schedule.log_file else None

    @property
    def templates_path(self) -> Path:
        return self.resolve(self.newsletter.templates_dir)

    def describe(self) -> dict[str, Any]:
        """The settings as plain data, for `newsletter config`; the password is masked."""
        sections = {name: getattr(self, name) for name in SECTIONS}
        settings = {
            name: {f.name.rstrip("_"): _plain(getattr(section, f.name)) for f in fields(section)}
            for name, section in sections.items()
        }
        settings["smtp"]["password"] = "(set)" if self.smtp_password else "(not set)"
        settings["inbox"]["password"] = "(set)" if self.inbox_password else "(not set)"
        return {
            "file": str(self.path) if self.path else None,
            "root": str(self.root),
            "settings": settings,
        }

    def digest_files(self) -> list[Path]:
        """The digest files the `digests` globs match, sorted by name, each once."""
        files: dict[Path, None] = {}
        for pattern in self.newsletter.digests:
            # Globbing inside root_dir: a workspace path with `[` or `*` in it is not a pattern.
            found = glob.glob(os.path.expanduser(pattern), root_dir=self.root, recursive=True)
            matches = [self.resolve(match) for match in found if self.resolve(match).is_file()]
            if not matches:
                raise ConfigError(
                    f"{self.source}: newsletter.digests: {pattern!r} matches no file "
                    f"(looked in {self.root})"
                )
            files.update(dict.fromkeys(matches))
        return sorted(files, key=lambda path: (path.name, str(path)))


SECTIONS: dict[str, type[Any]] = {
    "newsletter": NewsletterSettings,
    "smtp": SmtpSettings,
    "schedule": ScheduleSettings,
    "web": WebSettings,
    "bounces": BounceSettings,
    "dkim": DkimSettings,
    "inbox": InboxSettings,
    "arxiv": ArxivSettings,
}
"""Each table `newsletter.toml` may have, and its settings: `Config` has a field of each name."""


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
