"""`doctor`: check a workspace before it goes live (the checks: `newsletter.doctor`)."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn
from newsletter.cli.dkim import check_nameserver
from newsletter.mail.resolver import NAMESERVER_ENV


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as a JSON list.")
@click.option(
    "--nameserver",
    metavar="IP[:PORT]",
    envvar=NAMESERVER_ENV,
    callback=check_nameserver,
    help=f"Ask this name server, not the system's (or ${NAMESERVER_ENV}).",
)
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Check this Maildir as the inbox, instead of the IMAP server of [inbox].",
)
@pass_app
def doctor(app: App, as_json: bool, nameserver: str | None, maildir: Path | None) -> None:
    """Check a workspace before it goes live: the configuration, base_url and the web
    side, the SMTP relay (TLS, login; nothing is sent), SPF, DKIM, DMARC and MX, the
    inbox, arXiv, and the modes of the database and the DKIM key.

    One line per check: ok, warn, fail or skip, and what to fix. Exits 1 if any fails.

    \b
    Example:
        newsletter doctor
        newsletter doctor --json --nameserver 9.9.9.9
    """
    from newsletter.doctor import run

    checks = run(app.config_path, nameserver=nameserver, maildir=maildir)
    if as_json:
        print_json([check.to_json() for check in checks])
    else:
        for check in checks:
            click.echo(check.line())
    counts = {
        result: sum(c.result == result for c in checks) for result in ("ok", "warn", "fail", "skip")
    }
    warn("doctor: " + ", ".join(f"{n} {result}" for result, n in counts.items()))
    if counts["fail"]:
        click.get_current_context().exit(1)
