"""`newsletter archive build OUT/`: the archive as static files, for any web server.

The same pages at the same paths as `newsletter serve` answers (`archive.pages_of`),
so every message's "View in browser" link works in both: `OUT/index.html`,
`OUT/feed.xml` and `OUT/issues/<folder>/{bilingual,en,zh,index}.html`. Every page is
rendered before anything is written, so an unreadable issue folder stops the build
with OUT as it was. Each file is then written beside its place and renamed over it,
so a server reading OUT meanwhile sees the old page or the new one, never half of
one; a file whose content did not change is left alone (its time too). Other files
in OUT are not touched.

A symbolic link on the way to any page inside OUT (`OUT/issues` pointing at the
workspace's own `issues/`, a folder or a page deeper in) stops the build before it
writes anything: following it would write outside OUT, over the composed editions or
any file the link names. OUT itself may be a link (e.g. to /var/www/digest).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from newsletter.config import Config
from newsletter.core.errors import NewsletterError
from newsletter.store import archive as store
from newsletter.web.archive import is_plain_name, pages_of


@dataclass
class BuildReport:
    """What a build wrote: the files it changed, and how many it found up to date."""

    out: Path
    issues: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0


def build(config: Config, out: Path) -> BuildReport:
    """Write the archive into `out` (created if need be)."""
    _check_out(config, out)
    issues = _public_issues(config)
    for issue in issues:
        if not is_plain_name(issue.folder):
            raise NewsletterError(
                f"issue {issue.number}: its folder name {issue.folder!r} is not one plain "
                "name; `newsletter compose` names them"
            )
    pages = [(unquote(path), page) for path, page in pages_of(config, issues)]  # as files
    for path, _ in pages:
        _refuse_links(out, path.lstrip("/"))
    report = BuildReport(out, issues=len(issues))
    for path, page in pages:
        target = out / path.lstrip("/")
        try:
            changed = _write(target, page.body)
        except OSError as error:
            raise NewsletterError(f"{target}: cannot write: {error.strerror or error}") from None
        if changed:
            report.written.append(target)
        else:
            report.unchanged += 1
    return report


def _public_issues(config: Config) -> list[store.ArchivedIssue]:
    db = store.connect(config.database_path)
    if db is None:  # nothing composed yet, or not here: an empty archive
        return []
    try:
        return store.public_issues(db)
    finally:
        db.close()


def _check_out(config: Config, out: Path) -> None:
    """OUT may hold other files, but it must not be where the issue folders are: its
    `issues/<folder>/bilingual.html` would replace the composed edition."""
    where, issues = out.resolve(), config.issues_path
    if where / "issues" == issues or where == issues or issues in where.parents:
        raise NewsletterError(
            f"{out}: the archive would be written over the issue folders "
            f"in {issues}; build it somewhere else (e.g. public/)"
        )
    if out.exists() and not out.is_dir():
        raise NewsletterError(f"{out}: not a folder")


def _refuse_links(out: Path, path: str) -> None:
    """Stop if any part of `path` under `out` that exists is a symbolic link."""
    at = out
    for part in Path(path).parts:
        at = at / part
        if at.is_symlink():
            raise NewsletterError(
                f"{at}: is a symbolic link, and the archive is never written through one "
                f"inside {out}: remove it, or build elsewhere"
            )
        if not at.exists():
            return


def _write(target: Path, body: bytes) -> bool:
    """Put `body` at `target` in one rename; False if it was there already. The old
    file is read without following a link (`_refuse_links` has refused them already)."""
    try:
        handle = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        handle = -1
    if handle >= 0:
        with os.fdopen(handle, "rb") as file:
            if file.read() == body:
                return False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        os.chmod(temporary, 0o644)  # a web server reads it as another user
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
