"""The files that hold secrets: the database (every subscriber's address and token)
and the DKIM private key must be readable by their owner only (mode 600 or
stricter); a failure names the chmod that fixes it."""

from __future__ import annotations

import stat
from pathlib import Path

from newsletter.config import Config
from newsletter.doctor.check import Check, fail, ok, skip


def checks(config: Config) -> list[Check]:
    key = config.dkim.key_file
    return [
        _private("files.database", config.database_path, missing_ok=True),
        _private("files.dkim_key", config.resolve(key), missing_ok=False)
        if key
        else skip("files.dkim_key", "dkim.key_file is not set"),
    ]


def _private(name: str, path: Path, missing_ok: bool) -> Check:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        if missing_ok:
            return skip(name, f"{path} does not exist yet (it is made mode 600)")
        return fail(name, f"{path} does not exist: fix the setting, or make it")
    except OSError as error:
        return fail(name, f"{path}: {error.strerror}")
    if mode & 0o077:
        return fail(name, f"{path} is mode {mode:03o}, open to others: run `chmod 600 {path}`")
    return ok(name, f"{path} is mode {mode:03o}")
