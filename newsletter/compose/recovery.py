"""Mend what a compose killed mid-way left in `issues_dir`.

`FolderSwap` writes a hidden `.NNNN-DATE.PID.….tmp` folder and sets a replaced
folder aside as `.NNNN-DATE.PID.old`; a kill can leave either behind. `recover`
runs before the next compose or send (under the issue lock), and lets the store
judge which folder is the issue: each is compared with what the store records.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsletter.compose.folder import ISSUE_JSON
from newsletter.core.errors import NewsletterError
from newsletter.core.model import Issue

_FOLDER = r"(?P<name>[0-9]{4,}-[0-9]{4}-[0-9]{2}-[0-9]{2})"
_STAGING = re.compile(rf"\.{_FOLDER}\.(?:(?P<pid>[0-9]+)\.)?[a-z0-9_]+\.tmp")
_ASIDE = re.compile(rf"\.{_FOLDER}\.(?P<pid>[0-9]+)\.old")


def recover(issues_dir: Path, issue_of: Callable[[int], Issue | None]) -> list[str]:
    """Clean up after a killed compose (see `_recover`); one line if it cannot."""
    try:
        return _recover(issues_dir, issue_of)
    except OSError as error:
        raise NewsletterError(
            f"cannot clean up after an interrupted compose in {issues_dir}: "
            f"{error.strerror or error}: {error.filename}"
        ) from None


def _recover(issues_dir: Path, issue_of: Callable[[int], Issue | None]) -> list[str]:
    """Clean up after a compose that was killed (by a process that is gone); return a
    note for each issue folder put back.

    What a kill leaves, by when it came, and what is right (the store, committed or
    not, says which folder is the issue; `issue_of` looks an issue up in it):

    - writing the new folder, or before the commit: a `.tmp` folder the store does
      not record: deleted.
    - after the commit, before the new folder is in place: a `.tmp` folder that is
      just what the store records: put in place (an `.old` one is then stale).
    - after moving the old folder aside, before the new one is in place: an `.old`
      folder and no issue folder: put back (if the store has moved on, `send`
      refuses it until `compose` writes the issue again).
    - after the new folder is in place, before the clean-up: the new folder is what
      the store records, and the `.old` one is stale: deleted.

    Compose commits before it renames (see `compose.py`), but each folder is judged
    by what it holds against the store, not by when it was left.

    Only our own hidden names are touched, and only those of processes that are gone.
    """
    if not issues_dir.is_dir():
        return []
    notes = []
    for entry in sorted(issues_dir.iterdir()):
        staging = _STAGING.fullmatch(entry.name)
        if staging and entry.is_dir() and not _running(staging["pid"]):
            original = issues_dir / staging["name"]
            issue = issue_of(int(staging["name"].split("-")[0]))
            if _is_recorded(entry, original.name, issue) and not _is_recorded(
                original, original.name, issue
            ):  # killed after the commit, before the rename
                if original.exists():
                    shutil.rmtree(original)
                entry.rename(original)
                notes.append(
                    f"{original}: put in place, as recorded before a compose was interrupted"
                )
            else:
                shutil.rmtree(entry, ignore_errors=True)
    entries = sorted(issues_dir.iterdir())
    for entry in entries:
        aside = _ASIDE.fullmatch(entry.name)
        if not (aside and entry.is_dir()) or _running(aside["pid"]):
            continue
        original = issues_dir / aside["name"]
        if _recover_aside(entry, original, issue_of(int(aside["name"].split("-")[0]))):
            notes.append(f"{original}: put back as it was before an interrupted compose")
    return notes


def _recover_aside(aside: Path, original: Path, issue: Issue | None) -> bool:
    """Put a folder set aside back in its place, or delete it; True if put back."""
    if original.exists() and _is_recorded(original, original.name, issue):
        shutil.rmtree(aside, ignore_errors=True)  # killed after the commit
        return False
    if _is_recorded(aside, original.name, issue):  # killed before the commit
        if original.exists():
            shutil.rmtree(original)  # new content the store never recorded
        aside.rename(original)
        return True
    if (
        issue is not None
        and issue.folder != original.name
        and (original.parent / issue.folder).exists()
    ):
        shutil.rmtree(aside, ignore_errors=True)  # the store moved on to another folder
        return False
    if not original.exists():  # the store cannot tell: lose nothing
        aside.rename(original)
        return True
    shutil.rmtree(aside, ignore_errors=True)
    return False


def _is_recorded(folder: Path, name: str, issue: Issue | None) -> bool:
    """Is `folder`, under `name`, the issue the store records?"""
    described = _described(folder)
    return (
        issue is not None
        and described is not None
        and issue.folder == name
        and (issue.number, issue.date, issue.subject, list(issue.papers))
        == (
            described["number"],
            described.get("date"),
            described.get("subject"),
            described.get("papers"),
        )
    )


def _described(folder: Path) -> dict[str, Any] | None:
    """A folder's `issue.json`, if it has a readable one with an issue number."""
    try:
        document = json.loads((folder / ISSUE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    number = document.get("number") if isinstance(document, dict) else None
    return document if isinstance(number, int) and not isinstance(number, bool) else None


def _running(pid: str | None) -> bool:
    """Is the process that made a hidden folder still at work (not us, not gone)?"""
    if pid is None or int(pid) == os.getpid() or int(pid) > 2**22:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
