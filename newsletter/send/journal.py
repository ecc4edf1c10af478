"""Deliveries the server accepted that the ledger could not record.

A locked or full database after the server said yes must not mean a second copy
next week: such deliveries go into a journal beside the database, one JSON line
each, fsynced. The next `send` records them before it sends anything, and refuses
to send while it cannot.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from newsletter.core.errors import NewsletterError
from newsletter.store import Store, deliveries


@dataclass(frozen=True)
class Recorded:
    """One accepted delivery, as the journal keeps it."""

    issue: int
    subscriber: int
    attempts: int


class Journal:
    """`newsletter.db.unrecorded`, beside the database."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(f"{database.name}.unrecorded")

    def write(self, accepted: list[Recorded]) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            for entry in accepted:
                file.write(json.dumps(asdict(entry)) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def replay(self, store: Store) -> int:
        """Record the journal's deliveries as sent, then remove it; how many."""
        if not self.path.exists():
            return 0
        try:
            lines = self.path.read_text("utf-8").splitlines()
            entries = [Recorded(**json.loads(line)) for line in lines]
            with store.transaction() as db:
                for entry in entries:
                    deliveries.mark(db, entry.issue, entry.subscriber, "sent", entry.attempts, None)
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as error:
            raise NewsletterError(
                f"{self.path}: cannot record the deliveries an earlier send could not "
                f"({error}); nothing is sent until they are recorded"
            ) from None
        self.path.unlink()
        return len(entries)
