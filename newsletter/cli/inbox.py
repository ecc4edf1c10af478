"""`inbox`: read the mail that came back (bounces, complaints, unsubscribe replies)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn

if TYPE_CHECKING:
    from newsletter.inbox import MailSource


@cli.command("inbox")
@click.option("--maildir", type=click.Path(path_type=Path), help="A Maildir to read.")
@click.option("--mbox", type=click.Path(path_type=Path), help="An mbox file to read.")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_app
def inbox(app: App, maildir: Path | None, mbox: Path | None, dry_run: bool, as_json: bool) -> None:
    """Act on the mail that came back to the return path.

    Reads the IMAP folder set in [inbox] (host, port, security, username, folder;
    the password from the variable inbox.password_env names), or the Maildir or
    mbox given. A hard bounce marks the address bounced, bounces.soft_limit soft
    bounces in a row do too; a complaint (ARF) or a reply to the mailto:
    unsubscribe link unsubscribes. Handled mail is moved to inbox.processed_folder
    (IMAP) or the Maildir's `processed` folder (an mbox is left as it is) and
    never handled twice; mail it does not understand stays where it is, unread,
    and is counted. `run-once` and `schedule` run this (IMAP) before each send.

    \b
    Example:
        newsletter inbox --dry-run
        newsletter inbox --maildir ~/Maildir/.bounces
    """
    from newsletter.inbox import process

    with _source(app, maildir, mbox, dry_run) as source, app.store() as store:
        summary = process(store, source, app.config.bounces.soft_limit, dry_run=dry_run)
    from newsletter.inbox.report import refusal_line, refusals

    refused = refusals(summary.actions)
    if as_json:
        print_json({**summary.to_json(), "refusals": [vars(r) for r in refused]})
    else:
        for line in summary.lines():
            click.echo(line)
        for refusal in refused:
            click.echo(refusal_line(refusal))
    warn(summary.line())


def _source(
    app: App, maildir: Path | None, mbox: Path | None, dry_run: bool
) -> AbstractContextManager[MailSource]:
    """The mailbox asked for: a path given, else the configured IMAP folder."""
    if maildir is not None and mbox is not None:
        raise click.UsageError("give one of --maildir PATH or --mbox PATH, not both")
    if maildir is not None or mbox is not None:
        from newsletter.inbox import open_source

        return nullcontext(open_source(maildir, mbox, app.config.inbox.max_size))
    config = app.config
    if not config.inbox.host:
        raise click.UsageError(
            "give --maildir PATH or --mbox PATH, or set inbox.host (with inbox.username) "
            f"in {config.path or 'newsletter.toml'} to read an IMAP folder"
        )
    from newsletter.inbox.imap import ImapSource

    return ImapSource(config.inbox, config.inbox_password, readonly=dry_run)
