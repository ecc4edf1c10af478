"""newsletter: a weekly bilingual digest of AI papers, composed and mailed over SMTP.

The package is the flow, one sub-package per stage (each `__init__` says what it
takes in and gives out): `digest` (markdown -> papers), `enrich` (papers -> their
arXiv metadata), `store` (SQLite: every SQL statement), `compose` (papers -> an
issue folder), `send` (an issue -> one message per subscriber), `schedule` (the
weekly job). Beside them: `model` (the shared
vocabulary), `config`, `subscribers` (the list), `status`, `cli` (a thin layer
over all of it). Stages import their heavy dependencies (Jinja2, mjml-python,
APScheduler) only when used, so `newsletter --help` starts fast.
"""

from newsletter.config import Config, load_config
from newsletter.errors import ConfigError, DigestError, NewsletterError, StoreError
from newsletter.model import DigestWarning, Issue, Paper, PaperMeta, Subscriber
from newsletter.store import Store

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "DigestError",
    "DigestWarning",
    "Issue",
    "NewsletterError",
    "Paper",
    "PaperMeta",
    "Store",
    "StoreError",
    "Subscriber",
    "load_config",
]
