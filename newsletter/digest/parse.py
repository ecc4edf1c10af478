"""Parse weekly digest files into papers.

The format (see `digests/sample-digest.md`):

    ## English title
    [Chinese title](https://arxiv.org/abs/2407.04051)
    Chinese summary, one or more paragraphs, until the next `## `.

Parsing never writes anything. What a user must fix but that does not stop the
rest of the digest (an entry without a link, a stray paragraph, a duplicate) is a
`DigestWarning` naming the file and line; only a file that cannot be read as text
at all raises `DigestError`. The rules are listed in the README ("Digest format").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.core import text as texts
from newsletter.core.errors import DigestError
from newsletter.core.model import DigestWarning, Paper
from newsletter.digest import strays
from newsletter.digest.arxiv import arxiv_id_from_url, canonical_url

_HEADING = re.compile(r"^ {0,3}##(?:[ \t]+(?P<title>.*?))?(?:[ \t]+#+)?[ \t]*$")
_TITLE_HEADING = re.compile(r"^ {0,3}#(?:[ \t].*)?$")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_MARKS = frozenset("#-*_")  # the first characters of headings and thematic breaks
_LINK = re.compile(r"^\s*\[(?P<text>.*)\]\(\s*<?(?P<url>[^\s<>]*)>?(?:\s+\"[^\"]*\")?\s*\)\s*$")


@dataclass
class ParseResult:
    """The papers of one or more digests, in digest order, and what to fix."""

    papers: list[Paper] = field(default_factory=list)
    warnings: list[DigestWarning] = field(default_factory=list)


@dataclass
class Paragraph:
    line: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Entry:
    """An entry as written, before it is checked and turned into a `Paper`."""

    title: str
    line: int
    link: tuple[str, str, int] | None = None  # (Chinese title, URL, line)
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass(frozen=True)
class DigestSource:
    """A digest file as read: how it is named in sources and warnings, and its bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        """What compose remembers of a digest, to warn about its content only once."""
        return hashlib.sha256(self.data).hexdigest()


def read_sources(
    paths: Iterable[str | Path], name: Callable[[Path], str] = str
) -> list[DigestSource]:
    """Read digest files; `name` says how each is called (e.g. relative to the workspace)."""
    return [DigestSource(name(Path(path)), _read(path)) for path in paths]


def parse_files(paths: Iterable[str | Path], name: Callable[[Path], str] = str) -> ParseResult:
    """Parse digests in the order given; a paper named twice is kept once, first wins.

    `name` says how a file is called in sources and warnings (e.g. relative to the
    workspace); the file itself is read from its path.
    """
    return parse_sources(read_sources(paths, name))


def parse_sources(sources: Iterable[DigestSource]) -> ParseResult:
    """Parse digests already read, in order; a paper named twice is kept once, first wins."""
    result = ParseResult()
    seen: dict[str, str] = {}
    for source in sources:
        one = parse_bytes(source.data, source.name)
        result.warnings.extend(one.warnings)
        result.papers += _first_of_each(one.papers, seen, result.warnings)
    return result


def _first_of_each(
    papers: Iterable[Paper], seen: dict[str, str], warnings: list[DigestWarning]
) -> list[Paper]:
    """Each paper once: the first entry that names it is kept (`seen` maps the ids met
    so far to where), a later one is a warning at its own line."""
    kept = []
    for paper in papers:
        first = seen.setdefault(paper.arxiv_id, paper.source)
        if first == paper.source:
            kept.append(paper)
            continue
        warnings.append(
            DigestWarning(
                paper.source_file,
                paper.source_line,
                f"paper {paper.arxiv_id} is already at {first}; this entry is left out",
            )
        )
    return kept


def parse_bytes(data: bytes, path: str) -> ParseResult:
    """Decode a digest (UTF-8, with or without a BOM) and parse it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        raise DigestError(
            path, f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8", line
        ) from None
    return parse_text(text, path)


def parse_text(text: str, path: str) -> ParseResult:
    """Parse the text of one digest; duplicates within it are kept once."""
    result = ParseResult()
    text = _drop_invalid(_normalise(text), path, result.warnings)
    entries = _split_entries(text, path, result.warnings)
    strays.drop_stray_paragraphs(entries, path, result.warnings)
    papers = [paper for entry in entries if (paper := _to_paper(entry, path, result.warnings))]
    result.papers = _first_of_each(papers, {}, result.warnings)
    result.warnings.sort(key=lambda warning: warning.line)  # in reading order
    return result


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise DigestError(str(path), f"cannot read: {error.strerror or error}") from None


def _normalise(text: str) -> str:
    """One line ending (LF) and no byte-order marks anywhere."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


def _drop_invalid(text: str, path: str, warnings: list[DigestWarning]) -> str:
    """Remove the characters an email cannot carry (control characters, U+FFFE…),
    one warning per line: they are invisible in an editor, and MJML refuses them."""
    if not texts.has_invalid(text):  # the usual case, at C speed
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        found = texts.INVALID_CHARS.findall(line)
        if found:
            codes = ", ".join(dict.fromkeys(f"U+{ord(char):04X}" for char in found))
            count = f"{len(found)} character{'s' * (len(found) != 1)}"
            warnings.append(
                DigestWarning(path, index + 1, f"removed {count} an email cannot carry ({codes})")
            )
            lines[index] = texts.drop_invalid(line)
    return "\n".join(lines)


def _split_entries(text: str, path: str, warnings: list[DigestWarning]) -> list[Entry]:
    """Group lines under `## ` headings: link line first, then summary paragraphs."""
    entries: list[Entry] = []
    entry: Entry | None = None
    preamble: list[Paragraph] = []
    paragraph: Paragraph | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        content = line.lstrip()
        if not content:
            paragraph = None
            continue
        if content[0] in _MARKS:  # cheap test first: most lines are text
            heading = _HEADING.match(line)
            if heading:
                paragraph = None
                entry = Entry(title=(heading.group("title") or "").strip(), line=number)
                entries.append(entry)
                continue
            if _TITLE_HEADING.match(line):
                paragraph = entry = None  # a `# ` section title ends the entry above it
                continue
            if _RULE.match(line):
                paragraph = None
                continue
        if entry is not None and entry.link is None and not entry.paragraphs:
            link = _LINK.match(line)
            if link:
                entry.link = (link.group("text").strip(), link.group("url"), number)
                continue
        if paragraph is None:
            paragraph = Paragraph(number, [])
            (entry.paragraphs if entry else preamble).append(paragraph)
        paragraph.lines.append(content)
    for stray in preamble:
        warnings.append(DigestWarning(path, stray.line, "text outside any `## ` entry is left out"))
    return entries


def _to_paper(entry: Entry, path: str, warnings: list[DigestWarning]) -> Paper | None:
    """Check an entry; keep what can be kept, warn about the rest."""

    def warn(message: str, line: int = entry.line) -> None:
        warnings.append(DigestWarning(path, line, message))

    if entry.link is None:
        warn(f"{texts.shorten(entry.title)!r} has no `[Chinese title](arXiv link)` line; left out")
        return None
    title_zh, url, link_line = entry.link
    arxiv_id = arxiv_id_from_url(url)
    if arxiv_id is None:
        warn(f"{url!r} is not an arXiv link; {texts.shorten(entry.title)!r} is left out", link_line)
        return None
    if not entry.title:
        warn(f"the heading of {arxiv_id} has no English title")
    if not title_zh:
        warn(f"the link line of {arxiv_id} has no Chinese title", link_line)
    chinese, english = _split_languages(entry.paragraphs)
    if not chinese and not english:
        warn(f"{arxiv_id} has no summary")
    return Paper(
        arxiv_id=arxiv_id,
        title_en=entry.title,
        title_zh=title_zh,
        url=canonical_url(arxiv_id),
        summary_zh="\n\n".join(chinese),
        summary_en="\n\n".join(english) or None,
        source_file=path,
        source_line=entry.line,
    )


def _split_languages(paragraphs: list[Paragraph]) -> tuple[list[str], list[str]]:
    """Chinese paragraphs make `summary_zh`; paragraphs wholly in English, `summary_en`."""
    chinese: list[str] = []
    english: list[str] = []
    for paragraph in paragraphs:
        text = paragraph.text
        is_english = not strays.has_cjk(text) and strays.latin_words(text) >= 3
        (english if is_english else chinese).append(text)
    return chinese, english
