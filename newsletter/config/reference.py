"""What each setting does, in a line, and the commented `newsletter.toml` made from it.

`KEYS` holds one line per key of every section in `settings.SECTIONS` (a test fails
when a key has none, or a line names no key); `render` writes a file with every
section and key, each with its line and its default: `newsletter init` writes it
with the defaults, `newsletter config --toml` with the settings in force. Secrets
are never in it: the comments name the environment variables they come from.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import fields
from typing import Any

from newsletter.config.settings import SECTIONS, Config

SECTION_NOTES: dict[str, str] = {
    "newsletter": "The newsletter: its names, its sender, where its files are.",
    "smtp": (
        "The relay every message goes out through. The password is never in this file: "
        "it is read from the variable password_env names (NEWSLETTER_SMTP_PASSWORD always "
        "wins); NEWSLETTER_SMTP_HOST, _PORT and _USERNAME override host, port and username."
    ),
    "schedule": "The weekly job (`newsletter schedule`, `newsletter run-once`).",
    "web": "`newsletter serve`: unsubscribe, preferences, subscribe and the archive.",
    "dkim": "DKIM signing, on when all three are set (`newsletter dkim keygen` makes a key).",
    "bounces": "The return path: where bounces go, and when an address counts as dead.",
    "inbox": (
        "The IMAP mailbox `newsletter inbox` reads (and the weekly job before each send); "
        "off while host is empty. The password is read from the variable password_env names."
    ),
    "arxiv": "arXiv metadata for each paper (authors, abstract), fetched once and cached.",
}

KEYS: dict[str, dict[str, str]] = {
    "newsletter": {
        "title_en": "the English name, in subjects, headers and the archive",
        "title_zh": "the Chinese name, in subjects, headers and the archive",
        "from": "the From address of every message: set it to yours",
        "base_url": (
            "where `newsletter serve` answers; every link in a message starts with it: "
            "set it before the first send"
        ),
        "unsubscribe_mailto": "the List-Unsubscribe mailto address; empty: the From address",
        "digests": "globs of the digest files compose reads, relative to this file",
        "issues_dir": "where composed issues are written (your archive: commit it)",
        "templates_dir": "your own templates; the packaged ones fill the gaps",
        "database": "the SQLite database: the list and the ledger (never commit it; back it up)",
        "max_papers": "the most papers in one issue",
        "subject_bilingual": "the subject of the bilingual edition",
        "subject_en": "the subject of the English edition",
        "subject_zh": "the subject of the Chinese edition",
        "postal_address": 'shown in every footer (the law may require it); lines split by "\\n"',
    },
    "smtp": {
        "host": "the relay's host name",
        "port": "the relay's port (587 for starttls, 465 for tls)",
        "security": "none | starttls | tls (none: this machine only)",
        "username": "the login; empty: no AUTH",
        "password_env": "the environment variable that holds the password",
        "timeout": "seconds to wait for the relay",
        "connections": "parallel SMTP sessions",
        "rate_per_second": "messages a second, at most; 0: unlimited",
        "retries": "tries again after a temporary failure, this often",
        "retry_delay": "seconds before the first retry",
    },
    "schedule": {
        "cron": "when the weekly job runs (a cron line)",
        "timezone": "the time zone of the cron line",
        "grace_hours": "a run missed by less than this (the machine was off) still happens",
        "log_file": "where the job logs; empty: stderr",
    },
    "web": {
        "host": "the address serve listens on",
        "port": "the port serve listens on",
        "workers": "processes serving requests",
        "trusted_proxies": "proxies whose X-Forwarded-* headers are believed",
        "access_log": "one line per request (tokens cut); off behind a proxy that logs",
        "confirm_days": "an unconfirmed subscription expires after this many days",
        "signups_per_client_per_hour": "sign-ups accepted from one client in an hour",
        "confirmations_per_hour": "sign-up requests accepted in an hour, all clients together",
        "request_seconds": "a request must arrive whole within this, or is cut off",
    },
    "dkim": {
        "domain": "d=: the From address's domain, or a parent of it",
        "selector": "s=: the key is published at <selector>._domainkey.<domain>",
        "key_file": "the PEM private key, readable by its owner only",
    },
    "bounces": {
        "address": 'the VERP pattern, e.g. "bounces+{token}@example.org"; empty: the From address',
        "soft_limit": "soft bounces in a row, across issues, that mark an address bounced",
    },
    "inbox": {
        "host": "the IMAP server; empty: off (or pass --maildir / --mbox)",
        "port": "the IMAP port",
        "security": "tls (IMAPS) | starttls | none (this machine only)",
        "username": "the login",
        "password_env": "the environment variable that holds the password",
        "folder": "where the return path's mail arrives",
        "processed_folder": "where handled mail is moved (created if need be)",
        "failed_folder": "where unreadable mail is set aside (created if need be)",
        "timeout": "seconds to wait for the server",
        "max_size": "bytes of a mail read; a larger one is judged by its start",
    },
    "arxiv": {
        "enrich": "compose fetches what is missing for its papers (NEWSLETTER_ARXIV_ENRICH=0: off)",
        "api_url": "the arXiv API",
        "timeout": "seconds for one request",
        "interval": "seconds between requests (at least 3 to arxiv.org)",
        "retries": "a failed request is tried again this often",
        "retry_delay": "seconds before the first retry; it doubles each time",
        "wait": "seconds the weekly job waits for arXiv before composing without it",
    },
}


def toml_value(value: Any) -> str:
    """A setting's value as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "0.0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def render(config: Config | None = None, header: str = "", comments: bool = True) -> str:
    """`newsletter.toml` with every section and key: the values of `config` (the
    defaults without one), each key with what it does and its default (unless not
    `comments`). Where a password comes from is a comment; the password never."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, cls in SECTIONS.items():
        section = getattr(config, name) if config else cls()
        lines += ["", *_comment(SECTION_NOTES[name])] if comments else []
        lines.append(f"[{name}]")
        for spec in fields(cls):
            key = spec.name.rstrip("_")
            if comments:
                lines += _comment(f"{KEYS[name][key]} (default: {toml_value(spec.default)})")
            lines.append(f"{key} = {toml_value(getattr(section, spec.name))}")
        lines += _secret_notes(name, config)
    return "\n".join(lines).lstrip("\n") + "\n"


def _comment(text: str) -> list[str]:
    return [f"# {line}" for line in textwrap.wrap(text, 86, break_on_hyphens=False)]


def _secret_notes(section: str, config: Config | None) -> list[str]:
    """Whether the password is set, as a comment: the password itself never."""
    if config is None or section not in ("smtp", "inbox"):
        return []
    present = config.smtp_password if section == "smtp" else config.inbox_password
    variable = getattr(config, section).password_env
    if section == "smtp" and variable != "NEWSLETTER_SMTP_PASSWORD":
        variable = f"NEWSLETTER_SMTP_PASSWORD or {variable}"
    state = "(set)" if present else "(not set)"
    return [f"# password: {state}, from the environment ({variable}), never from this file"]
