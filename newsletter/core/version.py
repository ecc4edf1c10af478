"""The installed version, read from the package's metadata (`pyproject.toml`).

Read on first use: `importlib.metadata` costs some 40 ms to import, which every
command (`--help` too) would pay if it were read at import time."""

import functools


@functools.cache
def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("newsletter")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
