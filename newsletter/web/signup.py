"""Placeholder: the signup routes are being built."""

from __future__ import annotations

from starlette.routing import BaseRoute

from newsletter.config import Config


def routes(config: Config) -> list[BaseRoute]:
    return []
