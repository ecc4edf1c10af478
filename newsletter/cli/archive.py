"""`archive build`: the public archive and its feed as static files."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app


@cli.group("archive")
def archive() -> None:
    """The public archive of sent issues, as files for any web server."""


@archive.command("build")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def archive_build(app: App, out: Path) -> None:
    """Write the archive index, every sent issue's pages and the Atom feed into OUT.

    The files have the paths `newsletter serve` answers at (index.html, feed.xml,
    issues/<folder>/<edition>.html), so put OUT at base_url on any static host and the
    "View in browser" link of every message works. Run it after each send; only the
    files that changed are rewritten, and other files in OUT are left alone.

    \b
    Example:
        newsletter archive build public/
        rsync -a public/ www.example.org:/var/www/digest/
    """
    from newsletter.web.static import build

    report = build(app.config, out)
    for path in report.written:
        click.echo(path)
    issues = f"{report.issues} issue{'' if report.issues == 1 else 's'}"
    click.echo(
        f"Wrote {len(report.written)} files to {out} ({issues}; {report.unchanged} unchanged).",
        err=True,
    )
