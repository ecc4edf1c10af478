"""The services the weekly job reads from: the return path's inbox (IMAP from
`[inbox]`, or a Maildir given to `doctor --maildir`), opened read-only and listed;
and the arXiv API, asked once for one paper (skipped when `arxiv.enrich` is off)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from newsletter.config import Config
from newsletter.core.errors import NewsletterError
from newsletter.doctor.check import Check, fail, ok, skip, warn

PROBE_PAPER = "2407.04051"
"""A paper of the bundled sample digest: any id arXiv knows would do."""


def checks(config: Config, maildir: Path | None) -> list[Check]:
    return [_inbox(config, maildir), _arxiv(config)]


def _inbox(config: Config, maildir: Path | None) -> Check:
    if maildir is not None:
        return _maildir(maildir)
    if not config.inbox.host:
        return warn(
            "inbox",
            "inbox.host is empty: bounces and complaints are not read, so dead addresses "
            "stay on the list: set [inbox] (or run `newsletter inbox --maildir`)",
        )
    from newsletter.inbox.imap import ImapSource

    source = ImapSource(config.inbox, config.inbox_password, readonly=True)
    try:
        with source:
            count = len(source.uids)
    except NewsletterError as error:
        return fail("inbox", f"{error}: check [inbox] and ${config.inbox.password_env}")
    return ok("inbox", f"{source.name} opened read-only: {count} mail(s) waiting")


def _maildir(path: Path) -> Check:
    missing = [sub for sub in ("cur", "new", "tmp") if not (path / sub).is_dir()]
    if missing:
        return fail("inbox", f"{path} is not a Maildir (no {', '.join(missing)}/)")
    if not all(os.access(path / sub, os.R_OK | os.X_OK) for sub in ("cur", "new")):
        return fail("inbox", f"{path}: cannot read its cur/ and new/: check its owner and mode")
    count = sum(1 for sub in ("cur", "new") for _ in (path / sub).iterdir())
    return ok("inbox", f"the Maildir {path} is readable: {count} mail(s) waiting")


def _arxiv(config: Config) -> Check:
    if not config.arxiv.enrich:
        return skip("arxiv", "arxiv.enrich is off")
    from newsletter.enrich.client import ArxivClient
    from newsletter.enrich.fetch import user_agent

    settings = dataclasses.replace(config.arxiv, retries=0, timeout=min(config.arxiv.timeout, 10))
    try:
        ArxivClient(settings, user_agent(config)).fetch([PROBE_PAPER])
    except NewsletterError as error:
        return fail(
            "arxiv", f"{error}: check arxiv.api_url (or set arxiv.enrich = false to go without)"
        )
    return ok("arxiv", f"{settings.api_url} answers")
