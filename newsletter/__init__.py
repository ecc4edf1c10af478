"""newsletter: a weekly bilingual digest of AI papers, composed and mailed over SMTP.

The public API; the command line (`newsletter.cli`) is a thin layer over it. Only
standard-library modules are imported here, so `newsletter --help` starts fast;
the renderer and the scheduler load their heavier dependencies when used.
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
