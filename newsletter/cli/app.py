"""The root of the command line: the `newsletter` group, its options and its errors.

Library errors become one `Error: …` line and exit 1; usage errors exit 2.
Anything else is a bug: it is one line too, unless `NEWSLETTER_DEBUG` is set,
when it keeps its traceback. The configuration is read once, when a command
first asks for it (`App.config`), so `--help` and a bad option never read it.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from newsletter.core.errors import NewsletterError

if TYPE_CHECKING:  # imported when first used, so that --help starts fast
    from newsletter.config import Config
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


@dataclass
class App:
    """What every command shares: the configuration, read on first use."""

    config_path: str | None

    @functools.cached_property
    def settings(self) -> Config:
        """The settings in force, the defaults when there is no file (`config` shows them)."""
        from newsletter.config import load_config

        return load_config(self.config_path)

    @property
    def config(self) -> Config:
        """The workspace's settings: a command that needs the list or the issues refuses
        to run (and so to create a database) where there is no `newsletter.toml`."""
        from newsletter.config import CONFIG_NAME
        from newsletter.core.errors import ConfigError

        config = self.settings
        if config.path is None:
            raise ConfigError(
                f"no {CONFIG_NAME} here ({config.root}): make a workspace with "
                "`newsletter init`, or name the file with --config"
            )
        return config

    def store(self) -> Store:
        """The store, opened (and created if need be) for this command."""
        from newsletter.store import Store

        return Store.open(self.config.database_path)


pass_app = click.make_pass_decorator(App)


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
@click.version_option(package_name="newsletter", prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Turn a weekly bilingual digest of AI papers into an email issue and mail it.

    \b
    Example:
        newsletter digest parse digests/sample-digest.md
    """
    ctx.obj = App(config_path)
