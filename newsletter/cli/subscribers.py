"""`subscribers add/import/list/remove` and `unsubscribe`: the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn
from newsletter.core.model import EDITIONS, SUBSCRIBER_STATUSES


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
@click.option(
    "--lang",
    type=click.Choice(EDITIONS),
    default="bilingual",
    show_default=True,
    help="The edition they receive.",
)
@click.option("--resubscribe", is_flag=True, help=RESUBSCRIBE_HELP)
@pass_app
def subscribers_add(app: App, email: str, name: str, lang: str, resubscribe: bool) -> None:
    """Add one subscriber.

    An address removed earlier is refused unless --resubscribe says they asked
    to come back.

    \b
    Example:
        newsletter subscribers add li.wei@example.org --name "Li Wei" --lang zh
    """
    from newsletter.audience import subscribers as subs

    with app.store() as store:
        added = subs.add(store, email, name, lang, resubscribe=resubscribe)
    click.echo(f"added {added.email} ({added.lang})")


@subscribers.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--resubscribe", is_flag=True, help=RESUBSCRIBE_HELP)
@pass_app
def subscribers_import(app: App, csv_file: Path, resubscribe: bool) -> None:
    """Import subscribers from a CSV file with the header email,name,lang.

    Good rows are imported in one transaction; each bad row is reported with its
    line (and the exit code is 1). Addresses already on the list are left alone;
    addresses removed earlier are kept off it (each named on stderr) unless
    --resubscribe. Names are one line of at most 100 characters.

    \b
    Example:
        newsletter subscribers import examples/subscribers.csv
    """
    from newsletter.audience import subscribers as subs

    with app.store() as store:
        result = subs.import_csv(store, csv_file, resubscribe=resubscribe)
    for line in [*result.kept_off, *result.problems]:
        warn(line)
    click.echo(
        f"{result.added} added, {result.already} already on the list, "
        f"{len(result.kept_off)} removed earlier and kept off, "
        f"{len(result.problems)} with errors"
    )
    if result.problems:
        raise SystemExit(1)


@subscribers.command("list")
@click.option(
    "--status",
    type=click.Choice([*SUBSCRIBER_STATUSES, "pending"]),
    help="Only these; `pending`: signed up on the web, not confirmed yet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def subscribers_list(app: App, status: str | None, as_json: bool) -> None:
    """List subscribers, then the sign-ups waiting for their confirmation (`pending`:
    they receive nothing until they confirm, and expire after web.confirm_days).

    \b
    Example:
        newsletter subscribers list --status active --json
    """
    from newsletter.audience import signup
    from newsletter.audience import subscribers as subs

    with app.store() as store:
        found: list[Any] = [] if status == "pending" else subs.listing(store, status)
        if status in (None, "pending"):
            found += signup.pending_listing(store)
    if as_json:
        print_json([subscriber.to_json() for subscriber in found])
        return
    for subscriber in found:
        click.echo(
            f"{subscriber.email:<40} {subscriber.lang:<9} {subscriber.status:<12} "
            f"{subscriber.name}".rstrip()
        )
    warn(f"{len(found)} subscriber{'s' * (len(found) != 1)}")


@subscribers.command("remove")
@click.argument("email")
@pass_app
def subscribers_remove(app: App, email: str) -> None:
    """Remove a subscriber: erase their data and keep them off the list.

    Past issues still count the messages they were sent. Only a hash of the
    address is kept, so that `add` and `import` do not bring them back unless
    told to with --resubscribe.

    \b
    Example:
        newsletter subscribers remove li.wei@example.org
    """
    from newsletter.audience import subscribers as subs

    with app.store() as store:
        removed = subs.remove(store, email)
    click.echo(f"removed {removed}")


@cli.command("unsubscribe")
@click.argument("token")
@pass_app
def unsubscribe(app: App, token: str) -> None:
    """Unsubscribe the subscriber whose messages carry TOKEN in their links.

    Put `--` before a token that starts with `-` (some made by older releases do).

    \b
    Example:
        newsletter unsubscribe -- 4kQ8r…
    """
    from newsletter.audience import subscribers as subs

    with app.store() as store:
        gone = subs.unsubscribe(store, token)
    click.echo(f"unsubscribed {gone.email}")
