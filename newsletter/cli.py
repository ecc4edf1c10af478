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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from newsletter import __version__
from newsletter.errors import NewsletterError

if TYPE_CHECKING:  # imported by the commands that need them, so that --help starts fast
    from newsletter.config import Config
    from newsletter.send import SendReport
    from newsletter.store import Store

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
        except BrokenPipeError:  # the reader went away (`| head`): click ends quietly
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
@click.option(
    "--max-papers", type=click.IntRange(1, 1000), help="At most this many papers (1-1000)."
)
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


@cli.command("send")
@click.option("--issue", "issue_number", type=click.IntRange(1, 999_999), help="Send this issue.")
@click.option("--dry-run", is_flag=True, help="Build and check every message; send nothing.")
@click.option("--to", "to_address", metavar="EMAIL", help="Send the issue once to EMAIL only.")
@click.option("--lang", type=click.Choice(["bilingual", "en", "zh"]), help="The edition for --to.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def send_issue(
    ctx: click.Context,
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
    from newsletter.config import load_config

    config = load_config(ctx.obj["config_path"])
    if lang and not to_address:
        raise click.UsageError("--lang goes with --to")
    if to_address:
        if dry_run:
            raise click.UsageError("--to and --dry-run do not go together")
        from newsletter.preview import test_send

        click.echo(test_send(config, to_address, lang, issue_number))
        return
    if dry_run:
        from newsletter.preview import dry_run as rehearse

        report = rehearse(config, issue_number)
    else:
        report = _send_with_progress(config, issue_number, as_json)
    _print_send_report(report, as_json)


def _send_with_progress(config: Config, issue_number: int | None, as_json: bool) -> SendReport:
    """`send` with a progress bar on a terminal; SIGTERM and Ctrl-C stop it cleanly
    (the messages in flight are finished and recorded, then it exits 1)."""
    import sys
    from contextlib import ExitStack

    from newsletter.send import IncompleteSend, SendOptions, send
    from newsletter.stopping import stop_on_signals

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
            out(f"  {edition:<9} {count} recipient{'s' * (count != 1)}, up to "
                f"{sizes['max_bytes'] / 1024:.1f} KB a message")  # fmt: skip
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


@cli.group()
def subscribers() -> None:
    """Manage the subscriber list (CSV import: email,name,lang)."""


RESUBSCRIBE_HELP = (
    "Add back addresses that were removed from the list (`subscribers remove`); "
    "only for people who asked to come back."
)


@subscribers.command("add")
@click.argument("email")
@click.option(
    "--name", default="", help="The subscriber's name (one line, at most 100 characters)."
)
@click.option("--lang", type=click.Choice(["bilingual", "en", "zh"]), default="bilingual",
              show_default=True, help="The edition they receive.")  # fmt: skip
@click.option("--resubscribe", is_flag=True, help=RESUBSCRIBE_HELP)
@click.pass_context
def subscribers_add(
    ctx: click.Context, email: str, name: str, lang: str, resubscribe: bool
) -> None:
    """Add one subscriber.

    An address removed earlier is refused unless --resubscribe says they asked
    to come back.

    \b
    Example:
        newsletter subscribers add li.wei@example.org --name "Li Wei" --lang zh
    """
    from newsletter import subscribers as subs

    with _store(ctx) as store:
        added = subs.add(store, email, name, lang, resubscribe=resubscribe)
    click.echo(f"added {added.email} ({added.lang})")


@subscribers.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--resubscribe", is_flag=True, help=RESUBSCRIBE_HELP)
@click.pass_context
def subscribers_import(ctx: click.Context, csv_file: Path, resubscribe: bool) -> None:
    """Import subscribers from a CSV file with the header email,name,lang.

    Good rows are imported in one transaction; each bad row is reported with its
    line (and the exit code is 1). Addresses already on the list are left alone;
    addresses removed earlier are kept off it (each named on stderr) unless
    --resubscribe. Names are one line of at most 100 characters.

    \b
    Example:
        newsletter subscribers import examples/subscribers.csv
    """
    from newsletter import subscribers as subs

    with _store(ctx) as store:
        result = subs.import_csv(store, csv_file, resubscribe=resubscribe)
    for line in [*result.kept_off, *result.problems]:
        warn(line)
    click.echo(f"{result.added} added, {result.already} already on the list, "
               f"{len(result.kept_off)} removed earlier and kept off, "
               f"{len(result.problems)} with errors")  # fmt: skip
    if result.problems:
        ctx.exit(1)


@subscribers.command("list")
@click.option("--status", type=click.Choice(["active", "unsubscribed", "bounced"]))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List subscribers.

    \b
    Example:
        newsletter subscribers list --status active --json
    """
    from newsletter import subscribers as subs

    with _store(ctx) as store:
        found = subs.listing(store, status)
    if as_json:
        print_json([subscriber.to_json() for subscriber in found])
        return
    for subscriber in found:
        click.echo(f"{subscriber.email:<40} {subscriber.lang:<9} {subscriber.status:<12} "
                   f"{subscriber.name}".rstrip())  # fmt: skip
    warn(f"{len(found)} subscriber{'s' * (len(found) != 1)}")


@subscribers.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Remove a subscriber: erase their data and keep them off the list.

    Past issues still count the messages they were sent. Only a hash of the
    address is kept, so that `add` and `import` do not bring them back unless
    told to with --resubscribe.

    \b
    Example:
        newsletter subscribers remove li.wei@example.org
    """
    from newsletter import subscribers as subs

    with _store(ctx) as store:
        removed = subs.remove(store, email)
    click.echo(f"removed {removed.email}")


@cli.command("unsubscribe")
@click.argument("token")
@click.pass_context
def unsubscribe(ctx: click.Context, token: str) -> None:
    """Unsubscribe the subscriber whose messages carry TOKEN in their links.

    Put `--` before a token that starts with `-` (some made by older releases do).

    \b
    Example:
        newsletter unsubscribe -- 4kQ8r…
    """
    from newsletter import subscribers as subs

    with _store(ctx) as store:
        gone = subs.unsubscribe(store, token)
    click.echo(f"unsubscribed {gone.email}")


@cli.command("smtp-sink")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=1025, show_default=True, type=click.IntRange(1, 65535))
@click.option("--mbox", default="smtp-sink.mbox", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Where received messages are stored (an mbox file).")  # fmt: skip
def smtp_sink(host: str, port: int, mbox: Path) -> None:
    """Run a local SMTP server that keeps what it receives, for trying `send`.

    Point `send` at it (smtp.host 127.0.0.1, smtp.port 1025, security none) and open
    the mbox file in a mail client. Stop it with Ctrl-C.

    \b
    Example:
        newsletter smtp-sink --port 1025 --mbox sent.mbox
    """
    from newsletter.sink import run_sink

    run_sink(host, port, mbox, announce=warn)


def _store(ctx: click.Context) -> Store:
    from newsletter.config import load_config
    from newsletter.store import Store

    return Store.open(load_config(ctx.obj["config_path"]).database_path)


@cli.command("schedule")
@click.option("--next", "show_next", type=click.IntRange(1, 1000), metavar="N",
              help="Print the next N run times and exit.")  # fmt: skip
@click.option("--print-crontab", is_flag=True, help="Print the crontab lines for system cron.")
@click.pass_context
def schedule_job(ctx: click.Context, show_next: int | None, print_crontab: bool) -> None:
    """Run the weekly job (send what is unfinished, compose, send) on its schedule.

    Runs in the foreground until SIGTERM or Ctrl-C; a send in progress finishes the
    messages in flight first. The schedule is `schedule.cron` (crontab syntax and
    meaning) in `schedule.timezone`.

    \b
    Example:
        newsletter schedule --next 3
        newsletter schedule --print-crontab >> my-crontab
        newsletter schedule
    """
    from newsletter.config import load_config
    from newsletter.schedule import crontab_line, describe_next, run_forever

    config = load_config(ctx.obj["config_path"])
    if show_next:
        for line in describe_next(config, show_next):
            click.echo(line)
        return
    if print_crontab:
        click.echo(crontab_line(config))
        return
    from newsletter.job import setup_logging

    setup_logging(config)
    run_forever(config)


@cli.command("run-once")
@click.pass_context
def run_once_command(ctx: click.Context) -> None:
    """Run the weekly job once, now: for system cron or a systemd timer.

    \b
    Example:
        newsletter --config /srv/digest/newsletter.toml run-once
    """
    from newsletter.config import load_config
    from newsletter.job import run_once, setup_logging

    config = load_config(ctx.obj["config_path"])
    setup_logging(config)
    result = run_once(config)
    if result.outcome == "incomplete":
        ctx.exit(1)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show unsent papers, the last issues with their deliveries, subscribers, next run.

    \b
    Example:
        newsletter status --json
    """
    from newsletter.config import load_config
    from newsletter.status import gather, render

    state = gather(load_config(ctx.obj["config_path"]))
    if as_json:
        print_json(state)
        return
    for line in render(state):
        click.echo(line)


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
