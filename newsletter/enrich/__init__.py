"""Stage 1b, enrich: papers' arXiv ids in, what arXiv says about each out (`PaperMeta`).

`client.py` asks the arXiv API (batched, throttled to its terms, retried), `atom.py`
reads its Atom answers, `fetch.py` fills the store's cache with what is missing and
says what it did. `compose` calls it for the papers it picks, `newsletter digest
enrich` for every known paper. It is optional: a failure is a report, never an
exception that stops an issue.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.enrich.fetch import EnrichReport, fetch_missing

__all__ = ["EnrichReport", "fetch_missing"]
__getattr__ = exports(__name__, dict.fromkeys(__all__, "fetch"))
