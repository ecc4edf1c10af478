"""Where the settings come from: `newsletter.toml` (`--config`,
`$NEWSLETTER_CONFIG`, or the working directory's), the environment's overrides,
and the checks each value goes through (`rules.py` as it is read, `checks.py`
once all are).

The workspace is the config file's folder (or the working directory when there is
no file); every relative path in the file resolves against it. Secrets never live
in the file: the SMTP and IMAP passwords are read from the environment variables
the file names.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from newsletter.config.checks import validate
from newsletter.config.rules import checked_number, checked_text, coerce
from newsletter.config.settings import SECTIONS, Config, SmtpSettings
from newsletter.core.errors import ConfigError

CONFIG_NAME = "newsletter.toml"
CONFIG_ENV = "NEWSLETTER_CONFIG"


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
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"{source}: unknown section [{sorted(unknown)[0]}]")
    tables = {name: dict(_table(data, name, source)) for name in SECTIONS}
    tables["smtp"].update(_smtp_environment(environ))  # the environment wins
    tables["arxiv"].update(_arxiv_environment(environ))
    sections = {name: _build(cls, tables[name], name, source) for name, cls in SECTIONS.items()}
    smtp, inbox = sections["smtp"], sections["inbox"]
    config = Config(
        root=path.parent if path else (cwd or Path.cwd()).resolve(),
        path=path,
        **sections,
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
_SWITCH = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


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
