"""Configuration: `newsletter.toml`, its defaults, and the environment's overrides.

`settings.py` says what the settings are (a dataclass per section, and `Config`);
`load.py` where they come from; `rules.py` what any value may be as it is read
(types, bounds, no control characters); `checks.py` what the values must be
together (addresses, URLs, subject patterns, a cron line, each section's rules).
"""

from newsletter.config.load import (
    ARXIV_ENRICH_ENV,
    CONFIG_ENV,
    CONFIG_NAME,
    find_config_file,
    load_config,
)
from newsletter.config.settings import (
    ArxivSettings,
    BounceSettings,
    Config,
    DkimSettings,
    InboxSettings,
    NewsletterSettings,
    ScheduleSettings,
    SmtpSettings,
    WebSettings,
)

__all__ = [
    "ARXIV_ENRICH_ENV",
    "CONFIG_ENV",
    "CONFIG_NAME",
    "ArxivSettings",
    "BounceSettings",
    "Config",
    "DkimSettings",
    "InboxSettings",
    "NewsletterSettings",
    "ScheduleSettings",
    "SmtpSettings",
    "WebSettings",
    "find_config_file",
    "load_config",
]
