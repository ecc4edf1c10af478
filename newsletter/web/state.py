"""What a request reaches of the worker serving it, all on `app.state`: the
configuration (`config_of`, put there by `create_app`) and the worker's database
thread (`store_of`, made and closed by the app's lifespan). Handlers take both from
the request, never from a module global or a closure.
"""

from __future__ import annotations

from typing import cast

from starlette.requests import Request

from newsletter.config import Config
from newsletter.web.db import StoreThread


def config_of(request: Request) -> Config:
    """The configuration the worker was started with."""
    return cast(Config, request.app.state.config)


def store_of(request: Request) -> StoreThread:
    """The worker's database thread and connection."""
    return cast(StoreThread, request.app.state.store)
