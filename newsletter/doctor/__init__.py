"""`newsletter doctor`: is a workspace ready to go live?

It checks what a first real send depends on, each part in a module of its own:
the configuration (here), the web side at `base_url` (`web.py`), the SMTP relay
(`relay.py`), the DNS of the From and envelope domains (`domains.py`, with the SPF
evaluation in `spf.py`), the inbox and arXiv (`services.py`), and the modes of the
files that hold secrets (`files.py`). Each check is a `Check`: a stable name, a
result (ok, warn, fail or skip) and one line that says what was found and, on a
failure, what to fix. Nothing is sent and nothing is changed.
"""

from __future__ import annotations

from pathlib import Path

from newsletter.config import Config, find_config_file, load_config
from newsletter.core.errors import ConfigError
from newsletter.doctor.check import NAMES, Check, fail, ok, skip, warn

__all__ = ["NAMES", "Check", "run"]


def run(
    config_path: str | None = None,
    nameserver: str | None = None,
    maildir: Path | None = None,
) -> list[Check]:
    """Every check, in the order of `NAMES`; the rest skipped if the configuration
    does not load."""
    from newsletter.doctor import domains, files, relay, services, web

    config, first = _config(config_path)
    if config is None:
        return [first, *(skip(name, "the configuration did not load") for name in NAMES[1:])]
    return [
        first,
        *web.checks(config),
        *relay.checks(config),
        *domains.checks(config, nameserver),
        *services.checks(config, maildir),
        *files.checks(config),
    ]


def _config(config_path: str | None) -> tuple[Config | None, Check]:
    """The configuration and its check: it must be a file of the user's, and load."""
    try:
        if find_config_file(config_path) is None:
            return None, fail(
                "config",
                "no newsletter.toml here (nor --config, NEWSLETTER_CONFIG): "
                "run `newsletter init` to make one, or run doctor in the workspace",
            )
        config = load_config(config_path)
    except ConfigError as error:
        return None, fail("config", f"{error}: fix it (`newsletter config` shows the settings)")
    if not config.newsletter.postal_address.strip():
        return config, warn(
            "config",
            f"{config.source}: newsletter.postal_address is empty: some laws (the US "
            "CAN-SPAM Act) want a postal address in every bulk message",
        )
    return config, ok("config", f"{config.source} loads")
