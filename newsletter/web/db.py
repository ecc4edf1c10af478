"""The web side's way to the store: one database thread and connection per worker
process, so the workers compete for SQLite's write lock with one connection each,
not one per request thread. The connection does not wait on a lock by itself;
`in_store` waits one out in pauses of under a millisecond (`store.db.retrying`),
which keeps the slowest requests fast under load (see bench/web_serve.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from newsletter.config import Config
from newsletter.store import Store
from newsletter.store.db import retrying

T = TypeVar("T")
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
_STORES: dict[Path, Store] = {}


async def in_store(config: Config, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on this process's database thread, tried again while another
    writer holds the lock: `work` must be all or nothing (one statement, or one
    transaction)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _EXECUTOR, lambda: retrying(lambda: work(connection(config).db))
    )


def connection(config: Config) -> Store:
    """The database thread's store (opened on first use, kept for the process)."""
    store = _STORES.get(config.database_path)
    if store is None:
        store = _STORES[config.database_path] = Store.open(config.database_path, busy_timeout=0)
    return store
