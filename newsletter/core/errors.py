"""The one exception family of the library.

Every error a user can cause (a malformed digest, a wrong config key, a broken
template, a refusing SMTP server) is a `NewsletterError` whose message is one line
that names what and where. The command line turns these into `Error: …` and exit 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base class: a failure the user can understand and act on."""


class ConfigError(NewsletterError):
    """A configuration file or environment variable that cannot be used."""


class DigestError(NewsletterError):
    """A digest file that cannot be read at all (as opposed to a warning)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class StoreError(NewsletterError):
    """The SQLite store cannot be opened or upgraded."""


class TemplateError(NewsletterError):
    """A template that does not render, or renders MJML that is broken."""


class ArxivError(NewsletterError):
    """The arXiv API could not be reached, or gave an answer that cannot be used.

    The message says what happened and to whom (`could not reach export.arxiv.org
    (timed out; 3 tries)`): compose goes on without the metadata and says so.
    """
