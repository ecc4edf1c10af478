"""The web side's way to the store: one database thread and connection per worker
process, so the workers compete for SQLite's write lock with one connection each,
not one per request thread. The connection does not wait on a lock by itself;
`StoreThread.run` waits one out in pauses of under a millisecond (`store.db.retrying`),
which keeps the slowest requests fast under load (see bench/web_serve.py).

The app's lifespan (`app.py`) makes a worker's `StoreThread` before its first request
and closes it after its last; a request reaches it with `state.store_of(request)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from newsletter.store import Store
from newsletter.store.db import retrying

T = TypeVar("T")


class StoreThread:
    """A thread that holds this worker's connection, and runs every query on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._store: Store | None = None  # opened on the thread, on first use

    async def run(self, work: Callable[[Store], T]) -> T:
        """Run `work` on the database thread, tried again while another writer holds
        the lock: `work` must be all or nothing (one statement, or one transaction)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor, lambda: retrying(lambda: work(self.open()))
        )

    def open(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.path, busy_timeout=0)
        return self._store

    def close(self) -> None:
        """Close the connection on its own thread, then end the thread."""
        self.executor.submit(self._close).result()
        self.executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
