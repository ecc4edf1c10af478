"""The archive of composed issues: one folder per issue under `issues_dir`.

A folder is written whole or not at all: it is rendered into a hidden temporary
folder beside its final place and renamed into place in one step, so a crash never
leaves a half-written issue. Replacing a folder (an issue composed again) keeps the
old one aside until the caller commits, so a failure can put it back.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ISSUE_JSON = "issue.json"


def folder_name(number: int, date: str) -> str:
    """`0003-2024-07-15`: sorts by number, and says when."""
    return f"{number:04d}-{date}"


class FolderSwap:
    """Put a new issue folder in place; `commit()` drops what it replaced,
    `rollback()` restores it."""

    def __init__(self, issues_dir: Path, name: str, files: Mapping[str, str]) -> None:
        self.final = issues_dir / name
        self.replaced: list[tuple[Path, Path]] = []  # (aside, original place)
        issues_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=issues_dir))
        try:
            for filename, content in files.items():
                _write_synced(staging / filename, content)
            staging.chmod(0o755)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.staging = staging
        self.placed = False

    def replace(self, *others: Path) -> None:
        """Move the final folder (and any `others`, e.g. the issue's old folder) aside,
        then rename the new one into place."""
        for path in dict.fromkeys((self.final, *others)):
            if path.exists():
                aside = path.with_name(f".{path.name}.{os.getpid()}.old")
                path.rename(aside)
                self.replaced.append((aside, path))
        self.staging.rename(self.final)
        self.placed = True

    def commit(self) -> None:
        for aside, _ in self.replaced:
            shutil.rmtree(aside, ignore_errors=True)

    def rollback(self) -> None:
        shutil.rmtree(self.final if self.placed else self.staging, ignore_errors=True)
        for aside, original in reversed(self.replaced):
            aside.rename(original)


def issue_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _write_synced(path: Path, content: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
