"""`digest parse`: read digest files, write nothing."""

from __future__ import annotations

import click

from newsletter.cli.app import cli, print_json, warn


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
