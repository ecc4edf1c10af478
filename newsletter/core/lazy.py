"""Lazy package exports (PEP 562): a stage's public names, imported on first use.

`newsletter --help` and the light commands must not pay for Jinja2, mjml-python
or APScheduler, so a stage's `__init__` names its public surface without
importing the modules behind it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each public name, from its module."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
