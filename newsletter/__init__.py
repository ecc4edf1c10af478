"""newsletter: a weekly bilingual digest of AI papers, composed and mailed over SMTP.

The public API; the command line (`newsletter.cli`) is a thin layer over it. Only
standard-library modules are imported here, so `newsletter --help` starts fast.
The steps of the flow, each importing its heavier dependencies itself:
`newsletter.compose.compose` (Jinja2, mjml-python, premailer via `render`),
`newsletter.send.send` and `newsletter.preview` (smtplib), `newsletter.job.run_once`
and `newsletter.schedule.run_forever` (APScheduler), `newsletter.status.gather`.
"""

from newsletter.config import Config, load_config
from newsletter.digest import DigestWarning, Paper, ParseResult, parse_files, parse_text
from newsletter.errors import ConfigError, DigestError, NewsletterError, StoreError
from newsletter.store import Store

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "DigestError",
    "DigestWarning",
    "NewsletterError",
    "Paper",
    "ParseResult",
    "Store",
    "StoreError",
    "load_config",
    "parse_files",
    "parse_text",
]
