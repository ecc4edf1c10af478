"""`init`: make a workspace, a commented `newsletter.toml` and `digests/`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from newsletter.cli.app import cli


@cli.command("init")
@click.argument(
    "folder", default=".", type=click.Path(file_okay=False, path_type=Path), required=False
)
@click.option(
    "--empty",
    is_flag=True,
    help="Leave digests/ without the sample digest (a note on the format instead).",
)
def init_command(folder: Path, empty: bool) -> None:
    """Make a workspace in FOLDER (default: here): a newsletter.toml with every
    setting, commented, and digests/ with the sample digest. Nothing is overwritten.

    \b
    Example:
        newsletter init my-digest && cd my-digest && newsletter config
    """
    from newsletter.config.workspace import init_workspace

    written = init_workspace(folder, sample=not empty)
    for path in written:
        click.echo(f"Made {_shown(path)}")
    go = "" if folder.resolve() == Path.cwd().resolve() else f"cd {_shown(folder)}, then "
    click.echo(
        "\nNext: "
        + go
        + "set newsletter.from and newsletter.base_url (and [smtp]) in newsletter.toml,\n"
        "then run `newsletter doctor` to check the setup, and `newsletter compose`."
    )


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to here when it is below."""
    try:
        return os.path.relpath(path) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)
