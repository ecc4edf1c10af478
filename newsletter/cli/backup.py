"""`backup`: a consistent copy of the database, while `serve` and `send` run."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_app
def backup_command(app: App, file: Path, force: bool) -> None:
    """Copy the database (subscribers, issues, the ledger) to FILE, mode 600.

    Safe while `serve`, `send` or the weekly job run: the copy is the database as
    it stood at one instant. To restore, stop them and copy FILE over the
    database (see docs/operations.md, Backups).

    \b
    Example:
        newsletter backup backups/newsletter-$(date +%F).db
    """
    from newsletter.store.backup import backup

    done = backup(app.config.database_path, file, force=force)
    click.echo(
        f"Backed up {app.config.database_path} to {done.path}: {done.size / 1024:.1f} KB, "
        f"{done.subscribers} subscriber{'s' * (done.subscribers != 1)}, "
        f"{done.issues} issue{'s' * (done.issues != 1)}"
    )
