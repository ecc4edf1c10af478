"""`compose` and `send`: an issue from the digests, then to the list."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, TextIO

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn
from newsletter.core.model import EDITIONS

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.send import SendReport


@cli.command("compose")
@click.option(
    "--date",
    "issue_date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The issue's date (default: today in the schedule's time zone).",
)
@click.option(
    "--max-papers", type=click.IntRange(1, 1000), help="At most this many papers (1-1000)."
)
@click.option("--dry-run", is_flag=True, help="Render and report; record and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_app
def compose_issue(
    app: App,
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

    config = app.config
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


@cli.command("send")
@click.option("--issue", "issue_number", type=click.IntRange(1, 999_999), help="Send this issue.")
@click.option("--dry-run", is_flag=True, help="Build and check every message; send nothing.")
@click.option("--to", "to_address", metavar="EMAIL", help="Send the issue once to EMAIL only.")
@click.option("--lang", type=click.Choice(EDITIONS), help="The edition for --to.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def send_issue(
    app: App,
    issue_number: int | None,
    dry_run: bool,
    to_address: str | None,
    lang: str | None,
    as_json: bool,
) -> None:
    """Deliver the oldest issue not yet fully sent to every active subscriber.

    Each subscriber gets the issue once: running `send` again after an interruption
    sends only what the server had not accepted. Exit 0 when the run completed (even
    if the server refused some addresses for good); 1 when it did not: stopped by
    SIGTERM or Ctrl-C (after the messages in flight), the server down or refusing
    the sender or the message, or deliveries deferred (`send` again retries them).

    \b
    Example:
        newsletter send --dry-run
        newsletter send --to me@example.org --lang zh
        newsletter send
    """
    config = app.config
    if lang and not to_address:
        raise click.UsageError("--lang goes with --to")
    if to_address:
        if dry_run:
            raise click.UsageError("--to and --dry-run do not go together")
        from newsletter.send.preview import send_test_message

        click.echo(send_test_message(config, to_address, lang, issue_number))
        return
    if dry_run:
        from newsletter.send.preview import dry_run as rehearse

        report = rehearse(config, issue_number)
    else:
        report = _send_with_progress(config, issue_number, as_json)
    _print_send_report(report, as_json)


def _send_with_progress(config: Config, issue_number: int | None, as_json: bool) -> SendReport:
    """`send` with a progress bar on a terminal; SIGTERM and Ctrl-C stop it cleanly
    (the messages in flight are finished and recorded, then it exits 1)."""
    import sys
    from contextlib import ExitStack

    from newsletter.core.stopping import stop_on_signals
    from newsletter.send import IncompleteSend, SendOptions, send

    with ExitStack() as stack:
        stop = stack.enter_context(stop_on_signals())
        options = SendOptions(issue=issue_number, stop=stop)
        if sys.stderr.isatty():  # a progress bar on a terminal only

            def started(total: int) -> None:
                bar = click.progressbar(length=total, label="Sending", file=sys.stderr)
                options.progress = stack.enter_context(bar).update

            options.started = started
        try:
            return send(config, options)
        except IncompleteSend as error:
            stack.close()  # end the progress bar's line before the summary
            _print_send_report(error.report, as_json, to=None if as_json else sys.stderr)
            raise


def _print_send_report(report: SendReport, as_json: bool, to: TextIO | None = None) -> None:
    if as_json:
        print_json(report.to_json())
        return

    def out(line: str) -> None:
        click.echo(line, file=to)

    if report.issue is None:
        out("Nothing to send: no issue is waiting (`newsletter compose` makes the next).")
        return
    if report.dry_run:
        for edition, sizes in report.editions.items():
            count = sizes["recipients"]
            out(
                f"  {edition:<9} {count} recipient{'s' * (count != 1)}, up to "
                f"{sizes['max_bytes'] / 1024:.1f} KB a message"
            )
        total = sum(sizes["recipients"] for sizes in report.editions.values())
        out(f"Dry run of issue {report.issue}: {total} messages built and checked, none sent.")
        for sample in report.samples:
            out(f"  sample: {sample}")
        for warning in report.warnings:
            warn(warning)
        return
    for warning in report.warnings:
        warn(warning)
    for address, reply in report.failures:
        warn(f"refused: {address}: {reply}")
    state = "complete" if report.complete else "not complete"
    out(
        f"Issue {report.issue}: {report.sent} sent, {report.failed} failed, "
        f"{report.skipped} skipped, {report.deferred} deferred ({report.already} sent before); "
        f"{report.seconds:.1f} s, {report.rate:.0f} messages/s; {state}."
    )
