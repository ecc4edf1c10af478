"""The `newsletter` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the
result: a readable listing by default, one JSON document with `--json`. Progress,
warnings and summaries go to stderr. Library errors become one `Error: …` line and
exit 1; usage errors exit 2. Anything else is a bug: it is one line too, unless
`NEWSLETTER_DEBUG` is set, when it keeps its traceback.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import click

from newsletter import __version__
from newsletter.errors import NewsletterError

DEBUG_ENV = "NEWSLETTER_DEBUG"


class ErrorFunnel(click.Group):
    """Turn library errors into click's one-line `Error:` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            raise click.ClickException(str(error)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get(DEBUG_ENV):
                raise
            raise click.ClickException(
                f"unexpected {type(error).__name__}: {error} "
                f"(run again with {DEBUG_ENV}=1 for the traceback, and report it)"
            ) from None


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def warn(message: object) -> None:
    click.echo(str(message), err=True)


@click.group(
    name="newsletter", cls=ErrorFunnel, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--config",
    "config_path",
    envvar="NEWSLETTER_CONFIG",
    type=click.Path(dir_okay=False),
    help="The configuration file (default: ./newsletter.toml, if there is one).",
)
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Turn a weekly bilingual digest of AI papers into an email issue and mail it.

    \b
    Example:
        newsletter digest parse digests/sample-digest.md
    """
    ctx.obj = {"config_path": config_path}


@cli.group()
def digest() -> None:
    """Read digest files (markdown: `## English title`, `[中文标题](arXiv link)`, summary)."""


@digest.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per paper.")
def digest_parse(files: tuple[str, ...], as_json: bool) -> None:
    """Parse digest FILES and print their papers, in digest order; write nothing.

    Warnings (stray paragraphs, entries without a link, duplicates) go to stderr
    as `file:line: message`.

    \b
    Example:
        newsletter digest parse digests/*.md --json
    """
    from newsletter.digest import parse_files

    result = parse_files(files)
    for warning in result.warnings:
        warn(warning)
    if as_json:
        print_json([paper.to_json() for paper in result.papers])
    else:
        for paper in result.papers:
            click.echo(f"{paper.arxiv_id:<12} {paper.title_en}")
            click.echo(f"{'':<12} {paper.title_zh}")
            click.echo(f"{'':<12} {paper.source}")
    warn(
        f"{len(result.papers)} papers from {len(files)} file{'s' * (len(files) != 1)}, "
        f"{len(result.warnings)} warning{'s' * (len(result.warnings) != 1)}"
    )


@cli.command("compose")
@click.option(
    "--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]),
    help="The issue's date (default: today in the schedule's time zone).",
)  # fmt: skip
@click.option("--max-papers", type=click.IntRange(min=1), help="At most this many papers.")
@click.option("--dry-run", is_flag=True, help="Render and report; record and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_context
def compose_issue(
    ctx: click.Context,
    issue_date: datetime.datetime | None,
    max_papers: int | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Ingest the digests, pick the unsent papers and render the issue into issues/.

    Composing again before the issue is sent composes that issue again (same
    number) from what is unsent now.

    \b
    Example:
        newsletter compose --dry-run
        newsletter compose --date 2024-07-15 --max-papers 10
    """
    from newsletter.compose import compose
    from newsletter.config import load_config

    config = load_config(ctx.obj["config_path"])
    result = compose(
        config,
        date=issue_date.date() if issue_date else None,
        max_papers=max_papers,
        dry_run=dry_run,
    )
    for warning in result.warnings:
        warn(warning)
    if as_json:
        print_json(result.to_json())
    elif not result.composed:
        click.echo("No unsent papers: nothing to compose.")
    else:
        verb = "Would compose" if dry_run else "Recomposed" if result.recomposed else "Composed"
        where = "" if dry_run else f" in {result.folder}"
        click.echo(
            f"{verb} issue {result.number} ({result.date}), {len(result.papers)} papers{where}"
        )
        for name, edition in result.editions.items():
            click.echo(f"  {name:<9} {edition.html_bytes / 1024:5.1f} KB  {edition.subject}")


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Check the configuration and print the settings in force (secrets hidden).

    \b
    Example:
        newsletter --config site/newsletter.toml config
    """
    from newsletter.config import load_config

    config = load_config(ctx.obj["config_path"])
    document = config.describe()
    if as_json:
        print_json(document)
        return
    click.echo(f"# {config.source}")
    for section, values in document["settings"].items():
        click.echo(f"[{section}]")
        for key, value in values.items():
            click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


def main() -> None:
    """The console script."""
    cli(prog_name="newsletter")
