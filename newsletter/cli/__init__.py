"""The `newsletter` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the
result: a readable listing by default, one JSON document with `--json`. Progress,
warnings and summaries go to stderr. `app.py` is the root group; each module
beside it adds one family of commands. Heavy imports happen inside the commands,
so that `newsletter --help` starts fast.
"""

# Each module adds its commands to `cli` when imported.
from newsletter.cli import (  # noqa: F401
    archive,
    backup,
    digest,
    dkim,
    doctor,
    inbox,
    issues,
    schedule,
    subscribers,
    tools,
    web,
    workspace,
)
from newsletter.cli.app import cli

__all__ = ["cli", "main"]


def main() -> None:
    """The console script."""
    cli(prog_name="newsletter")
