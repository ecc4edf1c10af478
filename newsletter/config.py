"""Configuration: `newsletter.toml`, its defaults, and the environment overrides.

What each value may be (bounds, addresses, URLs, subject patterns) is in
`config_rules.py`; this module says what the settings are and where they come from.

Every key has a default, so a checkout works with no file at all. The workspace is
the config file's folder (or the working directory when there is no file); every
relative path in the file resolves against it. Secrets never live in the file: the
SMTP and IMAP passwords are read from the environment variables the file names.
"""

from __future__ import annotations

import glob
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsletter.config_rules import checked_number, checked_text, coerce, validate
from newsletter.errors import ConfigError

CONFIG_NAME = "newsletter.toml"
CONFIG_ENV = "NEWSLETTER_CONFIG"


@dataclass(frozen=True)
class NewsletterSettings:
    title_en: str = "AI Paper Digest"
    title_zh: str = "AI 论文周报"
    from_: str = "AI Paper Digest <digest@example.org>"
    base_url: str = "https://digest.example.org"
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
    timeout: float = 30.0


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
    confirmations_per_hour: int = 200  # confirmation mails, all clients together


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
        sections: dict[str, Any] = {
            "newsletter": self.newsletter,
            "smtp": self.smtp,
            "schedule": self.schedule,
            "web": self.web,
            "bounces": self.bounces,
            "dkim": self.dkim,
            "inbox": self.inbox,
            "arxiv": self.arxiv,
        }
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


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def find_config_file(
    explicit: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path | None:
    """`--config`, else `$NEWSLETTER_CONFIG`, else `./newsletter.toml` if it exists."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    chosen = explicit or environ.get(CONFIG_ENV) or None
    if chosen:
        path = cwd / Path(chosen).expanduser()
        if not path.is_file():
            raise ConfigError(f"{chosen}: no such configuration file")
        return path.resolve()
    default = cwd / CONFIG_NAME
    return default.resolve() if default.is_file() else None


def load_config(
    explicit: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Read the configuration in force, validated, with the environment applied."""
    environ = os.environ if environ is None else environ
    path = find_config_file(explicit, environ, cwd)
    data = _read_toml(path) if path else {}
    source = str(path) if path else "the default configuration"
    unknown = set(data) - {"newsletter", "smtp", "schedule", "web", "bounces", "dkim", "inbox",
                           "arxiv"}  # fmt: skip
    if unknown:
        raise ConfigError(f"{source}: unknown section [{sorted(unknown)[0]}]")
    smtp_table = {**_table(data, "smtp", source), **_smtp_environment(environ)}
    smtp = _build(SmtpSettings, smtp_table, "smtp", source)
    inbox = _build(InboxSettings, _table(data, "inbox", source), "inbox", source)
    arxiv_table = {**_table(data, "arxiv", source), **_arxiv_environment(environ)}
    config = Config(
        root=path.parent if path else (cwd or Path.cwd()).resolve(),
        path=path,
        newsletter=_build(
            NewsletterSettings, _table(data, "newsletter", source), "newsletter", source
        ),
        smtp=smtp,
        schedule=_build(ScheduleSettings, _table(data, "schedule", source), "schedule", source),
        web=_build(WebSettings, _table(data, "web", source), "web", source),
        bounces=_build(BounceSettings, _table(data, "bounces", source), "bounces", source),
        dkim=_build(DkimSettings, _table(data, "dkim", source), "dkim", source),
        inbox=inbox,
        arxiv=_build(ArxivSettings, arxiv_table, "arxiv", source),
        smtp_password=_smtp_password(smtp, environ),
        inbox_password=environ.get(inbox.password_env, "") if inbox.password_env else "",
    )
    validate(config, source)
    return config


def _smtp_password(smtp: SmtpSettings, environ: Mapping[str, str]) -> str:
    """`NEWSLETTER_SMTP_PASSWORD` wins; else the variable `smtp.password_env` names."""
    return environ.get("NEWSLETTER_SMTP_PASSWORD") or (
        environ.get(smtp.password_env, "") if smtp.password_env else ""
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None


def _table(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {name} must be a table ([{name}])")
    return table


def _smtp_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """`NEWSLETTER_SMTP_HOST`, `_PORT` and `_USERNAME` override the file, checked as
    the file's values are; an error names the variable."""
    overrides: dict[str, Any] = {}
    for key in ("host", "port", "username"):
        variable = f"NEWSLETTER_SMTP_{key.upper()}"
        value = environ.get(variable)
        if not value:
            continue
        if key == "port":
            if not re.fullmatch(r"[0-9]{1,12}", value):
                raise ConfigError(f"{variable}: {value!r} is not a port number")
            overrides[key] = checked_number(int(value), "smtp.port", variable)
        else:
            overrides[key] = checked_text(value, f"smtp.{key}", variable)
    return overrides


ARXIV_ENRICH_ENV = "NEWSLETTER_ARXIV_ENRICH"
_SWITCH = {"1": True, "true": True, "yes": True, "on": True,
           "0": False, "false": False, "no": False, "off": False}  # fmt: skip


def _arxiv_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """`NEWSLETTER_ARXIV_ENRICH=0` turns fetching off for one run (no network; the
    test suite sets it), `=1` on, whatever the file says."""
    value = environ.get(ARXIV_ENRICH_ENV, "").strip().lower()
    if not value:
        return {}
    if value not in _SWITCH:
        raise ConfigError(f"{ARXIV_ENRICH_ENV}: {value!r} is not one of 1, 0, true, false")
    return {"enrich": _SWITCH[value]}


def _build(cls: type[Any], table: dict[str, Any], section: str, source: str) -> Any:
    """Make a settings object from a TOML table, checking each key and its type."""
    known = {f.name.rstrip("_"): f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            hint = (
                f" (secrets come from the environment: set {section}.password_env)"
                if key == "password" and "password_env" in known
                else ""
            )
            raise ConfigError(f"{source}: unknown key {section}.{key}{hint}")
        spec = known[key]
        values[spec.name] = coerce(value, spec.default, f"{section}.{key}", source)
    return cls(**values)
