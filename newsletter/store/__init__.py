"""Stage 2, store: the SQLite file every other stage reads and writes through.

`db.py` opens it (WAL, mode 600, migrations) and makes transactions; every SQL
statement the tool runs is in this package, one module per table family:
`papers` (and the digests seen), `issues`, `subscribers` (and suppressions),
`deliveries` (the send ledger), `runs` (the weekly job's history), `pending`
(sign-ups waiting for confirmation), `outbox` (mail queued by the web side),
`limits` (hourly counters and the form key), `archive` (the public issues),
`bounces` (the return path's events and the mails the inbox has handled),
`metadata` (what arXiv says about each paper, cached); `message_ids` makes and
reads the tag of each delivery's Message-ID.
"""

from newsletter.store.db import Store

__all__ = ["Store"]
