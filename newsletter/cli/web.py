"""`serve`: the pages every message links to, and the archive, on the web."""

from __future__ import annotations

import click

from newsletter.cli.app import App, cli, pass_app, warn


@cli.command("serve")
@click.option("--host", help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: web.port, 8080).")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: web.workers).")
@pass_app
def serve_command(app: App, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve unsubscribe, preferences, subscribe and the archive at base_url.

    Runs in the foreground until SIGTERM or Ctrl-C; put it behind nginx or Caddy for
    TLS (see the README). The confirmation mails of new subscribers are sent from
    here too.

    \b
    Example:
        newsletter serve --port 8080 --workers 4
    """
    from newsletter.core.origin_guard import serve_warning
    from newsletter.web.server import check_address, serve

    web = app.config.web
    host, port = host or web.host, port or web.port
    check_address(host, port)  # a busy port is the one line said, not after a warning
    warning = serve_warning(app.config.newsletter.base_url, host, port)
    if warning:
        warn(warning)  # the first line of the log, where it is seen
    serve(app.config, host, port, workers or web.workers)
