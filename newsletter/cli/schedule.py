"""`schedule`, `run-once` and `status`: the weekly job and how it stands."""

from __future__ import annotations

import click

from newsletter.cli.app import App, cli, pass_app, print_json


@cli.command("schedule")
@click.option(
    "--next",
    "show_next",
    type=click.IntRange(1, 1000),
    metavar="N",
    help="Print the next N run times and exit.",
)
@click.option("--print-crontab", is_flag=True, help="Print the crontab lines for system cron.")
@pass_app
def schedule_job(app: App, show_next: int | None, print_crontab: bool) -> None:
    """Run the weekly job (read the inbox, send what is unfinished, compose, send).

    The inbox is read first when [inbox] sets an IMAP host; a mailbox that cannot
    be read is a warning in the log, and the issue is sent all the same.

    Runs in the foreground until SIGTERM or Ctrl-C; a send in progress finishes the
    messages in flight first. The schedule is `schedule.cron` (crontab syntax and
    meaning) in `schedule.timezone`.

    \b
    Example:
        newsletter schedule --next 3
        newsletter schedule --print-crontab >> my-crontab
        newsletter schedule
    """
    from newsletter.schedule.runner import crontab_line, describe_next, run_forever

    config = app.config
    if show_next:
        for line in describe_next(config, show_next):
            click.echo(line)
        return
    if print_crontab:
        click.echo(crontab_line(config))
        return
    from newsletter.schedule.job import setup_logging

    setup_logging(config)
    run_forever(config)


@cli.command("run-once")
@pass_app
def run_once_command(app: App) -> None:
    """Run the weekly job once, now: for system cron or a systemd timer.

    Reads the [inbox] IMAP folder first when one is set, then sends what is
    unfinished, composes the next issue and sends it.

    \b
    Example:
        newsletter --config /srv/digest/newsletter.toml run-once
    """
    from newsletter.schedule.job import run_once, setup_logging

    config = app.config
    setup_logging(config)
    result = run_once(config)
    if result.outcome == "incomplete":
        raise SystemExit(1)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Show unsent papers, the last issues with their deliveries, subscribers, next run.

    \b
    Example:
        newsletter status --json
    """
    from newsletter.cli.status import describe, gather

    state = gather(app.config)
    if as_json:
        print_json(state)
        return
    for line in describe(state):
        click.echo(line)
