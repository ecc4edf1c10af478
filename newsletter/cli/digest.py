"""`digest parse`: read digest files, write nothing; `digest enrich`: fetch what arXiv
says about every known paper into the store."""

from __future__ import annotations

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn


@cli.group()
def digest() -> None:
    """Read digest files (markdown: `## English title`, `[中文标题](arXiv link)`, summary),
    and fetch their papers' arXiv metadata."""


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


@digest.command("enrich")
@click.option("--refresh", is_flag=True, help="Fetch again what is already cached.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_app
def digest_enrich(app: App, refresh: bool, as_json: bool) -> None:
    """Fetch arXiv metadata (authors, abstract, categories, dates, PDF link) for every
    known paper: those in the store and those the digests name now.

    A paper's metadata is fetched once and cached; `--refresh` fetches it again.
    `compose` fetches what its papers lack by itself: this fills the cache ahead.
    Papers arXiv does not know are warnings on stderr; exit 1 when the API cannot
    be reached.

    \b
    Example:
        newsletter digest enrich
        newsletter digest enrich --refresh --json
    """
    from newsletter.enrich.known import enrich_known

    report = enrich_known(app.config, refresh=refresh)
    for warning in report.warnings():
        warn(warning)
    if as_json:
        print_json(report.to_json())
    elif report.fetched or report.cached or not report.error:  # else the error says it all
        click.echo(report.summary())
    if report.error:
        raise click.ClickException(f"arXiv metadata: {report.error}")
