"""newsletter: a weekly bilingual digest of AI papers, composed and mailed over SMTP.

The package is the flow, one sub-package per stage, each pointing only down:

- `core`: the shared ground (the vocabulary, errors, text rules, clock, locks);
- `config`: `newsletter.toml`, its defaults and the environment's overrides;
- `store`: SQLite, every SQL statement;
- `digest` (markdown -> papers), `enrich` (papers -> arXiv metadata),
  `compose` (papers -> an issue folder of editions);
- `mail`: the transport every sender uses (SMTP, messages, DKIM, the outbox);
- `audience`: the subscriber list, double opt-in, what a bounce does to a subscriber;
- `send`: an issue -> one message per subscriber, exactly once;
- `inbox`: bounces, complaints and replies read back;
- `schedule`: the weekly job; `web`: the pages and forms `serve` answers;
- `cli`: a thin layer over all of it.

Importing this package imports nothing else, so `newsletter --help` starts fast.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from newsletter.core.version import version

        return version()
    raise AttributeError(f"module 'newsletter' has no attribute {name!r}")
