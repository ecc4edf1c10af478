"""Configuration: `newsletter.toml`, its defaults, and the environment overrides.

Every key has a default, so a checkout works with no file at all. The workspace is
the config file's folder (or the working directory when there is no file); every
relative path in the file resolves against it. Secrets never live in the file: the
SMTP password is read from the environment variable the file names.
"""

from __future__ import annotations

import email.utils
import glob
import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError
from newsletter.text import shorten

CONFIG_NAME = "newsletter.toml"
CONFIG_ENV = "NEWSLETTER_CONFIG"
SECURITY_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class Bound:
    """The values a number setting may take. Every number has one, so `inf`, `nan`
    or a huge integer is a config error, not an OverflowError or a hang later."""

    low: float
    high: float
    unit: str = ""
    above_low: bool = False  # the low end itself is not allowed (a timeout of 0)

    def allows(self, value: float) -> bool:
        above = value > self.low if self.above_low else value >= self.low
        return above and value <= self.high  # False for nan

    def __str__(self) -> str:
        low = f"more than {self.low:g}" if self.above_low else f"at least {self.low:g}"
        return f"{low} and at most {self.high:g}{self.unit}"


BOUNDS = {
    "newsletter.max_papers": Bound(1, 1000),
    "smtp.port": Bound(1, 65535),
    "smtp.timeout": Bound(0, 600, " seconds", above_low=True),
    "smtp.connections": Bound(1, 100),
    "smtp.rate_per_second": Bound(0, 10000, " (0: unlimited)"),
    "smtp.retries": Bound(0, 10),
    "smtp.retry_delay": Bound(0, 300, " seconds"),
    "schedule.grace_hours": Bound(0, 744, " hours"),
}
"""The bounds of every number setting (the README lists them)."""

# Control characters (and the Unicode line separators) in a value would split a mail
# header (title, From, List-Unsubscribe…) or a path; no setting needs one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


SUBJECT_FIELDS = ("number", "date", "papers", "title_en", "title_zh")
"""What a subject pattern may name, e.g. `{title_en} #{number} ({papers} papers)`."""

_SUBJECT_SAMPLE = {"number": 1, "date": "2024-07-15", "papers": 20, "title_en": "", "title_zh": ""}
# A format spec may align, zero-pad, set a width and a precision (`{number:03d}`,
# `{title_en:.20}`), each under 100: nothing that could grow a subject without bound.
_SUBJECT_SPEC = re.compile(r"(?:[<>^]?0?[0-9]{1,2})?(?:\.[0-9]{1,2})?[ds]?")


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
class Config:
    """The settings in force, and where they came from."""

    root: Path
    path: Path | None = None
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    smtp_password: str = field(default="", repr=False)

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
        }
        settings = {
            name: {f.name.rstrip("_"): _plain(getattr(section, f.name)) for f in fields(section)}
            for name, section in sections.items()
        }
        settings["smtp"]["password"] = "(set)" if self.smtp_password else "(not set)"
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
    unknown = set(data) - {"newsletter", "smtp", "schedule"}
    if unknown:
        raise ConfigError(f"{source}: unknown section [{sorted(unknown)[0]}]")
    smtp_table = {**_table(data, "smtp", source), **_smtp_environment(environ)}
    smtp = _build(SmtpSettings, smtp_table, "smtp", source)
    config = Config(
        root=path.parent if path else (cwd or Path.cwd()).resolve(),
        path=path,
        newsletter=_build(
            NewsletterSettings, _table(data, "newsletter", source), "newsletter", source
        ),
        smtp=smtp,
        schedule=_build(ScheduleSettings, _table(data, "schedule", source), "schedule", source),
        smtp_password=_smtp_password(smtp, environ),
    )
    _validate(config, source)
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
            overrides[key] = _checked_number(int(value), "smtp.port", variable)
        else:
            overrides[key] = _checked_text(value, f"smtp.{key}", variable)
    return overrides


def _build(cls: type[Any], table: dict[str, Any], section: str, source: str) -> Any:
    """Make a settings object from a TOML table, checking each key and its type."""
    known = {f.name.rstrip("_"): f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            hint = (
                " (secrets come from the environment: set smtp.password_env)"
                if (key == "password")
                else ""
            )
            raise ConfigError(f"{source}: unknown key {section}.{key}{hint}")
        spec = known[key]
        values[spec.name] = _coerce(value, spec.default, f"{section}.{key}", source)
    return cls(**values)


def _coerce(value: Any, default: Any, key: str, source: str) -> Any:
    """Check `value` has the type of the key's default, and return it in that type:
    numbers within their bounds, strings without control characters."""
    wanted = type(default)
    if wanted is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{source}: {key} must be a list of strings, not {value!r}")
        return tuple(_checked_text(item, key, source) for item in value)
    if wanted is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(_checked_number(value, key, source))  # bounded first: no OverflowError
    if not isinstance(value, wanted) or isinstance(value, bool) != isinstance(default, bool):
        kind = {int: "a whole number", float: "a number", str: "a string"}.get(wanted, "")
        raise ConfigError(f"{source}: {key} must be {kind}, not {_short(value)}")
    if wanted is int:
        return _checked_number(value, key, source)
    return _checked_text(value, key, source) if wanted is str else value


Number = TypeVar("Number", int, float)


def _checked_number(value: Number, key: str, where: str) -> Number:
    bound = BOUNDS.get(key)
    if bound and not bound.allows(value):
        raise ConfigError(f"{where}: {key}: {_short(value)} is out of range: it must be {bound}")
    return value


def _checked_text(value: str, key: str, where: str) -> str:
    control = _CONTROL.search(value)
    if control:
        raise ConfigError(
            f"{where}: {key}: {_short(value)} has a control character "
            f"(U+{ord(control.group()):04X}); it would break a mail header or a path"
        )
    return value


def _short(value: Any) -> str:
    """A value as an error message quotes it: repr, cut to one readable length."""
    return shorten(repr(value), 60)


def _validate(config: Config, source: str) -> None:
    """The checks a type alone cannot make (numbers were bounded as they were read)."""
    smtp, letter = config.smtp, config.newsletter
    checks = [
        (
            smtp.security in SECURITY_MODES,
            "smtp.security",
            f"{smtp.security!r} is not one of {', '.join(SECURITY_MODES)}",
        ),
        (bool(letter.digests), "newsletter.digests", "must name at least one file or glob"),
    ]
    for ok, key, message in checks:
        if not ok:
            raise ConfigError(f"{source}: {key}: {message}")
    _check_links(letter, source)
    for edition in ("bilingual", "en", "zh"):
        _check_subject(
            getattr(letter, f"subject_{edition}"), f"newsletter.subject_{edition}", source
        )
    try:
        from newsletter.schedule.cron import CronError, parse

        parse(config.schedule.cron)
    except CronError as error:
        raise ConfigError(f"{source}: schedule.cron: {error}") from None
    try:
        ZoneInfo(config.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{source}: schedule.timezone: {config.schedule.timezone!r} is not an IANA "
            "time zone (e.g. Asia/Shanghai)"
        ) from None


def _check_links(letter: NewsletterSettings, source: str) -> None:
    """The sender and the unsubscribe targets: a wrong one sends `From: not` or
    relative unsubscribe links to every subscriber."""
    if not _is_address(letter.from_):
        raise ConfigError(
            f"{source}: newsletter.from: {_short(letter.from_)} is not an email address "
            '(e.g. "AI Paper Digest <digest@example.org>")'
        )
    if letter.unsubscribe_mailto and not _is_address(letter.unsubscribe_mailto, bare=True):
        raise ConfigError(
            f"{source}: newsletter.unsubscribe_mailto: {_short(letter.unsubscribe_mailto)} "
            "is not an email address (e.g. unsubscribe@example.org; empty: the From address)"
        )
    if not _is_web_url(letter.base_url):
        raise ConfigError(
            f"{source}: newsletter.base_url: {_short(letter.base_url)} is not an absolute "
            "http(s) URL without query or fragment (e.g. https://digest.example.org)"
        )


def _is_address(value: str, bare: bool = False) -> bool:
    """One address, `Name <addr>` or (always, or with `bare` only) `addr`, whose
    address part is valid for SMTP without SMTPUTF8 (as subscribers' are)."""
    from email_validator import EmailNotValidError, validate_email

    pairs = email.utils.getaddresses([value])
    if len(pairs) != 1 or (bare and pairs[0][1] != value.strip()):
        return False
    try:
        validate_email(pairs[0][1], check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


def _is_web_url(value: str) -> bool:
    """An absolute http(s) URL that links can be appended to (`/unsubscribe/…`)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port_ok
        and not (parts.username or parts.password)
        and not re.search(r"[\s?#]", value)  # `/unsubscribe/…` is appended to it
    )


def _check_subject(pattern: str, key: str, source: str) -> None:
    """A subject pattern may only name the fields in SUBJECT_FIELDS, plainly: no
    attribute or index access (`{title_en.__doc__}`), no conversions, and only short
    format specs (`{number:03d}`)."""
    problem = _subject_problem(pattern)
    if problem:
        raise ConfigError(
            f"{source}: {key}: {_short(pattern)} is not a subject pattern ({problem}); it may "
            "name " + ", ".join("{" + name + "}" for name in SUBJECT_FIELDS)
        )


def _subject_problem(pattern: str) -> str | None:
    try:
        fields_ = list(string.Formatter().parse(pattern))
    except ValueError as error:  # a lone `{` or `}`
        return str(error)
    for _, name, spec, conversion in fields_:
        if name is None:
            continue
        if name not in SUBJECT_FIELDS:
            return f"{{{name}}} is not a field" if name else "{} names no field"
        if conversion:
            return f"!{conversion} is not allowed"
        if spec and not _SUBJECT_SPEC.fullmatch(spec):
            return f"the format {spec!r} is not allowed"
    try:
        pattern.format(**_SUBJECT_SAMPLE)
    except ValueError as error:  # a spec that does not suit the field, e.g. {date:d}
        return str(error)
    return None
