"""A checker for the MJML that our templates render to, against the MJML 4 schema.

Why: mjml-python (a binding of MRML, the Rust port of MJML) validates nothing. An
unknown tag (`<mj-colum>`), a closing tag that does not match (`</mj-colum>`) or an
unknown attribute (`colr="red"`, `COLOR="red"`) goes through silently and shows up, if
at all, as a broken layout in somebody's inbox. `Renderer.mjml` runs `check_mjml` on
the MJML after Jinja has rendered it and before mjml2html compiles it.

How: the standard library's `html.parser` reads the tags; what MJML allows (each tag's
attributes and children, and which tags hold HTML, CSS or text rather than MJML) is
data, in `mjml4_schema.json`, which says where each table comes from. Only `mjml` and
`mj-*` tags are checked, not attribute values, text, or the HTML in `<mj-text>` and the
like. mjml-python 1.4.2 rejects some valid MJML (`<mj-html-attributes>`, `<mj-class>`
with children, `<mj-raw>` right in `<mjml>`): that passes here and fails loudly there.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from operator import itemgetter
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["SCHEMA_FILE", "MjmlProblem", "Schema", "check_mjml", "schema"]

SCHEMA_FILE = Path(__file__).resolve().with_name("mjml4_schema.json")
_DEFAULTS = "mj-attributes"  # a tag in here sets that tag's defaults: it may stand here
_START = "the document must start with <mjml>"
# What may come before <mjml>: a byte-order mark, white space, comments (not <?xml?>,
# which mjml-python rejects).
_PROLOGUE = re.compile(r"\ufeff?(?:\s+|<!--.*?-->)*", re.DOTALL)
# A start tag's attribute names, read from its text when it has capitals: html.parser
# lowercases them, and would hide a `COLOR=` that MJML ignores.
_NAMES = re.compile(r"""([^\s"'=/>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]*))?""")

Position = tuple[int, int]  # line (from 1), column (from 0)
Attributes = list[tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class MjmlProblem:
    """One problem in an MJML document: `line` counts from 1; `message` is one line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Schema:
    """The MJML 4 tables, as the checker uses them."""

    attributes: Mapping[str, frozenset[str]]  # each tag's, the global ones included
    any_attribute: frozenset[str]  # tags that set defaults for other tags
    parents: Mapping[str, frozenset[str]]  # where each tag may stand; `mjml` nowhere
    ending: frozenset[str]  # tags whose content is HTML, CSS or text
    nested: re.Pattern[str]  # group 1: an ending tag inside such content (not a comment)


@functools.cache
def schema() -> Schema:
    """The tables of `mjml4_schema.json`, read once."""
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    tags: dict[str, dict[str, Any]] = data["tags"]
    parents: dict[str, set[str]] = {tag: set() for tag in tags}
    for tag, entry in tags.items():
        for child in entry.get("children", ()):
            parents[child].add(tag)
        if entry.get("children"):  # mj-include stands for the file it includes
            parents["mj-include"].add(tag)
    ending = sorted(tag for tag, entry in tags.items() if entry.get("ending"))
    return Schema(
        {tag: frozenset(e["attributes"] + data["global_attributes"]) for tag, e in tags.items()},
        frozenset(tag for tag, entry in tags.items() if entry.get("any_attribute")),
        {tag: frozenset(places) for tag, places in parents.items()},
        frozenset(ending),
        re.compile(rf"<(?:!--.*?-->|(/?(?:{'|'.join(ending)}))(?![\w.:-]))", re.DOTALL),
    )


def check_mjml(source: str) -> list[MjmlProblem]:
    """The problems in an MJML document, in document order; [] when it is valid.

    Reports MJML tags that do not exist, closing tags that do not match, tags that are
    never closed or that stand where MJML does not allow them, attributes that the tag
    does not take or that are given twice, and a document that is not one <mjml>.
    """
    checker = _Checker(source)
    offset: int | None = 0
    while offset is not None:
        offset = checker.read(offset)
    return checker.problems()


class _ReadOn(Exception):
    """html.parser read the text otherwise than MJML does: read on from `offset` (or stop)."""

    def __init__(self, offset: int | None) -> None:
        self.offset = offset


class _Checker(HTMLParser):
    """Reads one document, keeping the open MJML tags and the problems found so far."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)  # text as it is: its newlines are the source's
        self.source, self.schema = source, schema()
        self.found: list[tuple[int, int, str]] = []  # line, column, message
        self.stack: list[tuple[str, int, int, bool]] = []  # name, line, column, in defaults
        self.read_tags: dict[str, tuple[str, ...]] = {}  # start tags repeat: read each once
        self.first: Position = (1, 0)  # where the text given to html.parser starts
        self.content: Position | None = None  # where the open ending tag's content starts
        self.started = self.rooted = False  # an MJML tag, <mjml>, seen at the top

    def read(self, offset: int) -> int | None:
        """Read the source from `offset`: where to read it again from, or None when done."""
        self.reset()
        self.content = None
        self.first = (
            self.source.count("\n", 0, offset) + 1,
            offset - self.source.rfind("\n", 0, offset) - 1,
        )
        try:
            self.feed(self.source[offset:])
            self.close()
        except _ReadOn as read_on:
            return read_on.offset
        except AssertionError:  # html.parser's answer to `<![` that opens no known section
            self.give_up(self.where(), "<![ opens no section that MJML knows")
            return None
        # An ending tag that is never closed holds MJML after all: read that as MJML.
        return None if self.content is None else self.index(self.content)

    def where(self) -> Position:
        line, column = self.getpos()  # in the text given to html.parser
        return (line + self.first[0] - 1, column + self.first[1] if line == 1 else column)

    def index(self, where: Position) -> int:
        start = 0
        for _ in range(where[0] - 1):
            start = self.source.index("\n", start) + 1
        return start + where[1]

    def report(self, where: Position, message: str) -> None:
        self.found.append((*where, message))

    def give_up(self, where: Position, message: str) -> None:
        """Report what stops the reading: the tags still open then are no news."""
        self.report(where, message)
        self.stack.clear()
        self.started = True

    def handle_starttag(self, tag: str, attrs: Attributes) -> None:
        self.open_tag(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: Attributes) -> None:
        self.open_tag(tag, attrs, closed=True)

    def open_tag(self, tag: str, attrs: Attributes, closed: bool) -> None:
        if tag != "mjml" and not tag.startswith("mj-"):
            return
        text, where = self.get_starttag_text() or "", self.where()
        name = text[1 : len(tag) + 1]  # as written: MRML takes <mj-Text> for HTML
        if "<" in text[1:]:  # a quote that never ends took in the tags that follow
            self.report(where, f"<{name}> has an unbalanced quote or a < in an attribute")
            end = text.index(">")
            self.push(name, where, closed=text[:end].endswith("/"))
            raise _ReadOn(self.index(where) + end + 1)  # read its content as MJML
        problems = self.read_tags.get(text)
        if problems is None:
            problems = self.read_tags[text] = self.attribute_problems(name, text, attrs)
        self.push(name, where, closed)
        for message in problems:
            self.report(where, message)
        if not closed and name in self.schema.ending:
            self.set_cdata_mode(name)
            self.content = _after(where, text)

    def attribute_problems(self, name: str, text: str, attrs: Attributes) -> tuple[str, ...]:
        """What is wrong with a tag's attributes: the same wherever it stands (in
        <mj-attributes>, a tag sets that tag's defaults, so takes its attributes)."""
        names = [a for a, _ in attrs] if text.islower() else _NAMES.findall(text, len(name) + 1)
        allowed = self.schema.attributes.get(name)
        if allowed is None or name in self.schema.any_attribute:  # an unknown tag says enough
            allowed = frozenset(names)
        problems = [f"<{name}> does not take the attribute {a}" for a in names if a not in allowed]
        problems += [
            f"<{name}> has the attribute {a} twice" for i, a in enumerate(names) if a in names[:i]
        ]
        return tuple(problems)

    def push(self, name: str, where: Position, closed: bool) -> None:
        """Check where a tag stands, then open it unless it closes itself."""
        places = self.schema.parents.get(name)
        if places is None:
            self.report(where, f"unknown MJML tag <{name}>")
        in_defaults = False
        if not self.stack:
            self.top_level(name, where)
        else:
            parent, _, _, in_defaults = self.stack[-1]
            misplaced = places is not None and parent not in places
            if misplaced and not in_defaults and parent in self.schema.parents:
                self.report(where, f"<{name}> cannot be inside <{parent}>")
        if not closed:
            self.stack.append((name, *where, in_defaults or name == _DEFAULTS))

    def top_level(self, name: str, where: Position) -> None:
        if self.rooted:
            self.report(where, f"<{name}> comes after </mjml>")
        elif not self.started:
            prologue = _PROLOGUE.match(self.source)
            end = prologue.end() if prologue else 0
            if name != "mjml" or end < self.index(where):
                self.report(_after((1, 0), self.source[:end]), _START)
        self.started = True
        self.rooted = self.rooted or name == "mjml"

    def handle_data(self, data: str) -> None:
        if self.content is not None:  # an ending tag's content: HTML, CSS or text
            if "<" in data and any(match[1] for match in self.schema.nested.finditer(data)):
                raise _ReadOn(self.index(self.content))  # MJML nests ending tags: not closed
        elif data.startswith(("<!--", "<mj", "</mj")):
            self.unreadable(data)

    def unreadable(self, data: str) -> NoReturn:
        """What html.parser hands over as text when the document ends in it."""
        if data.startswith("<!--"):
            message = "<!-- is never closed"
        else:
            name = data.split(maxsplit=1)[0].rstrip(">")
            message = f"{name}> has an unbalanced quote or no closing >"
        self.give_up(self.where(), message)
        raise _ReadOn(None)

    def handle_endtag(self, tag: str) -> None:  # lowercased: MRML closes <mj-text> by </MJ-TEXT>
        self.content = None  # html.parser ends an ending tag's content only at its end tag
        if tag != "mjml" and not tag.startswith("mj-"):
            return
        stack = self.stack
        if stack and stack[-1][0].lower() == tag:
            stack.pop()
        elif any(entry[0].lower() == tag for entry in stack):  # those opened since are not closed
            while (entry := stack.pop())[0].lower() != tag:
                self.report((entry[1], entry[2]), f"<{entry[0]}> is never closed")
        elif stack and tag not in self.schema.parents:  # a typo for the tag that is open
            opened, line, _, _ = stack.pop()
            self.report(self.where(), f"</{tag}> closes <{opened}> opened at line {line}")
        else:  # one closing tag too many: leave the open tags alone
            self.report(self.where(), f"</{tag}> has no opening tag")

    def problems(self) -> list[MjmlProblem]:
        for name, line, column, _ in self.stack:
            self.report((line, column), f"<{name}> is never closed")
        if not self.started:
            self.report((1, 0), _START)
        self.found.sort(key=itemgetter(0, 1))
        return [MjmlProblem(line, message) for line, _, message in self.found]


def _after(where: Position, text: str) -> Position:
    """Where `text`, which starts at `where`, ends."""
    newlines = text.count("\n")
    if not newlines:
        return where[0], where[1] + len(text)
    return where[0] + newlines, len(text) - text.rfind("\n") - 1
