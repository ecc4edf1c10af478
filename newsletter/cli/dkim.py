"""`dkim keygen` and `dkim check`: a signing key, its DNS record, and a trial signature."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app, warn


@cli.group("dkim")
def dkim() -> None:
    """DKIM signing: make a key, print its DNS record, check the configured one."""


@dkim.command("keygen")
@click.option("--domain", required=True, help="d=: your From address's domain.")
@click.option("--selector", required=True, help="s=: the key's name, e.g. 2026a.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the key (default: <selector>.<domain>.pem); "
    "an existing file is never overwritten.",
)
def dkim_keygen(domain: str, selector: str, out: Path | None) -> None:
    """Write a new 2048-bit RSA key (mode 600) and print the DNS TXT record to publish.

    \b
    Example:
        newsletter dkim keygen --domain example.org --selector 2026a --out dkim.pem
    """
    from newsletter.config.checks import checked_dkim_name
    from newsletter.config.reference import toml_value
    from newsletter.mail.dkim import dns_record, keygen

    for option, value in (("--domain", domain), ("--selector", selector)):
        if not checked_dkim_name(value):
            raise click.BadParameter(f"{value!r} is not a domain name", param_hint=option)
    path = out or Path(f"{selector}.{domain}.pem")
    key = keygen(path)
    warn(
        f"Wrote {path} (mode 600). Publish the TXT record below in DNS, and paste the "
        "lines below into newsletter.toml (in place of its [dkim] table):"
    )
    click.echo("# Publish this TXT record in DNS:")
    click.echo(f"# {selector}._domainkey.{domain}. IN TXT ( {dns_record(key)} )")
    settings = {"domain": domain, "selector": selector, "key_file": str(path.resolve())}
    click.echo("[dkim]")
    for name, value in settings.items():
        click.echo(f"{name} = {toml_value(value)}")


def check_nameserver(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from newsletter.mail.resolver import parse_nameserver

    if value is not None:
        try:
            parse_nameserver(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not IP or IP:PORT") from None
    return value


@dkim.command("check")
@click.option(
    "--dns/--no-dns",
    "lookup",
    default=True,
    help="Also verify against the record published in DNS (default: yes).",
)
@click.option(
    "--nameserver",
    metavar="IP[:PORT]",
    callback=check_nameserver,
    help="Ask this name server for the published record, not the system's.",
)
@pass_app
def dkim_check(app: App, lookup: bool, nameserver: str | None) -> None:
    """Sign a sample message with the [dkim] key, verify it against the DNS record
    that key needs (printed), then against the record published in DNS.

    A published record that is missing or holds another key fails the check; a
    lookup that cannot be made (no network) is a warning.

    \b
    Example:
        newsletter dkim check
        newsletter dkim check --nameserver 9.9.9.9
    """
    from newsletter.mail.dkim_check import check

    result = check(app.config, lookup=lookup, nameserver=nameserver)
    signer = result.signer
    click.echo(f"{signer.dns_name()}. IN TXT ( {signer.dns_record()} )")
    also = " and against the one published in DNS" if result.published else ""
    warn(
        f"DKIM check passed: a sample message signed for d={signer.domain} "
        f"s={signer.selector} verifies against the record above{also}."
    )
    if not result.published:
        warn(f"Warning: {result.note}.")
