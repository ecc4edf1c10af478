"""`inbox`: read the mail that came back (bounces, complaints, unsubscribe replies)."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn


@cli.command("inbox")
@click.option("--maildir", type=click.Path(path_type=Path), help="A Maildir to read.")
@click.option("--mbox", type=click.Path(path_type=Path), help="An mbox file to read.")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_app
def inbox(app: App, maildir: Path | None, mbox: Path | None, dry_run: bool,
          as_json: bool) -> None:  # fmt: skip
    """Act on the mail that came back to the return path.

    A hard bounce marks the address bounced, bounces.soft_limit soft bounces in
    a row do too; a complaint (ARF) or a reply to the mailto: unsubscribe link
    unsubscribes. Handled mail is moved to the Maildir's `processed` folder (an
    mbox is left as it is) and never handled twice; mail it does not understand
    stays where it is and is counted.

    \b
    Example:
        newsletter inbox --maildir ~/Maildir/.bounces --dry-run
    """
    from newsletter.inbox import open_source, process

    if (maildir is None) == (mbox is None):
        raise click.UsageError("give one of --maildir PATH or --mbox PATH")
    source = open_source(maildir, mbox)
    with app.store() as store:
        summary = process(store, source, app.config.bounces.soft_limit, dry_run=dry_run)
    if as_json:
        print_json(summary.to_json())
    else:
        for action in summary.actions:
            status = f" {action.status}" if action.status else ""
            click.echo(f"{action.subscriber}: {action.kind}{status}: {action.effect}")
    warn(summary.line())
