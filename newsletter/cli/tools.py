"""`config` and `smtp-sink`: check the settings, try a send locally."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.app import App, cli, pass_app, print_json, warn


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.option(
    "--toml",
    "as_toml",
    is_flag=True,
    help="Print the settings as a newsletter.toml, each key with what it does and its default.",
)
@pass_app
def config_show(app: App, as_json: bool, as_toml: bool) -> None:
    """Check the configuration and print the settings in force (secrets never: where
    each password comes from is a comment). The listing is TOML that `config` reads.

    \b
    Example:
        newsletter --config site/newsletter.toml config
        newsletter config --toml > new.toml
    """
    from newsletter.config.reference import render

    if as_json and as_toml:
        raise click.UsageError("--json and --toml do not go together")
    config = app.settings
    if as_json:
        print_json(config.describe())
    elif as_toml:
        header = f"newsletter.toml: the settings in force, from {config.source}."
        click.echo(render(config, header=header), nl=False)
    else:
        click.echo(render(config, header=config.source, comments=False), nl=False)
    # After the listing, where it is read last (and not written once stdout is gone).
    if not config.newsletter.postal_address.strip():
        warn(
            "warning: newsletter.postal_address is empty; some laws (the US CAN-SPAM Act, "
            "for one) require a postal address in bulk mail: every footer shows it when set"
        )


@cli.command("smtp-sink")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=1025, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--mbox",
    default="smtp-sink.mbox",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where received messages are stored (an mbox file).",
)
def smtp_sink(host: str, port: int, mbox: Path) -> None:
    """Run a local SMTP server that keeps what it receives, for trying `send`.

    Point `send` at it (smtp.host 127.0.0.1, smtp.port 1025, security none) and open
    the mbox file in a mail client. Stop it with Ctrl-C.

    \b
    Example:
        newsletter smtp-sink --port 1025 --mbox sent.mbox
    """
    from newsletter.mail.sink import run_sink

    run_sink(host, port, mbox, announce=warn)
