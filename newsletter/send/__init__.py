"""Stage 4, send: a composed issue and the active list in, one message each out.

`deliver.py` runs the exactly-once ledger and the worker pool, `smtp.py` speaks
to the server, `message.py` builds each subscriber's message (its parts in 8-bit or
base64 by `body.py`, long HTML lines broken where it cannot show by `htmlwrap.py`,
signed by `dkim.py`), `preview.py` is the dry run and the test send, `journal.py`
keeps what the ledger could not record.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.send.deliver import IncompleteSend, SendOptions, SendReport, send

__all__ = ["IncompleteSend", "SendOptions", "SendReport", "send"]
__getattr__ = exports(__name__, dict.fromkeys(__all__, "deliver"))
