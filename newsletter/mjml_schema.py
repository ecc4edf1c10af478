"""The MJML 4 schema, and a checker for the MJML that our templates render to.

Why: mjml-python (a binding of MRML, the Rust port of MJML) validates nothing. An
unknown tag (`<mj-colum>`), a closing tag that does not match (`</mj-colum>`) or an
unknown attribute (`colr="red"`) goes through silently and shows up, if at all, as a
broken layout in somebody's inbox. `check_mjml` runs on the MJML after Jinja has
rendered it and before mjml2html compiles it, and reports such typos with their line.

Where the tables come from: MJML 4.18.0, the last MJML 4 release (read from its
published packages, which are built from mjmlio/mjml's packages/*/src):

- `ALLOWED_ATTRIBUTES`: each component's `static allowedAttributes`
  (packages/mjml-*/src/index.js and the like), plus `css-class` and `mj-class`, which
  mjml-validator's rule validAttributes.js whitelists for every tag. Tags that are not
  registered components (`mjml`, `mj-all`, `mj-class`, `mj-include`, `mj-selector`,
  `mj-html-attribute`) take the attributes that mjml-core, mjml-parser-xml and
  mjml-head-attributes / mjml-head-html-attributes read from them.
- `CHILDREN`: packages/mjml-preset-core/src/dependencies.js, the table that
  mjml-validator's rule validChildren.js checks; `ALLOWED_PARENTS` is its inverse.
  `mj-attributes` takes any tag (its rule is a match-all regex): a child there, or
  inside its `<mj-class>`, sets defaults for that component, so it takes that
  component's attributes (`mj-all` and `mj-class` take any attribute).
- `ENDING_TAGS`: components with `static endingTag = true`, whose content is raw
  HTML, CSS or text that the parser does not read for tags.

What is not checked: attribute values, text outside tags, and anything that is not an
`mj-*` or `mjml` tag (HTML inside `<mj-text>` and the like is left alone).

mjml-python 1.4.2 does not support all of MJML 4: it rejects `<mj-html-attributes>`,
`<mj-class>` with children, `<mj-raw>` right in `<mjml>` and `<?xml …?>`. The first
three are valid MJML, so they pass here; mjml2html then raises ValueError on them,
which is loud, not silent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PARENTS",
    "ANY_ATTRIBUTE_TAGS",
    "CHILDREN",
    "ENDING_TAGS",
    "GLOBAL_ATTRIBUTES",
    "KNOWN_TAGS",
    "MJML_VERSION",
    "MjmlProblem",
    "check_mjml",
]

MJML_VERSION: Final = "4.18.0"
"""The MJML release whose components the tables below describe."""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


GLOBAL_ATTRIBUTES: Final = _names("css-class mj-class")
"""Attributes that every tag takes (mjml-validator's WHITELIST)."""

ANY_ATTRIBUTE_TAGS: Final = _names("mj-all mj-class")
"""Tags that take any attribute: they set defaults for other components."""

_COMPONENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    "mj-accordion": _names(
        """
        border container-background-color font-family icon-align icon-height icon-position
        icon-unwrapped-alt icon-unwrapped-url icon-width icon-wrapped-alt icon-wrapped-url
        padding padding-bottom padding-left padding-right padding-top
        """
    ),
    "mj-accordion-element": _names(
        """
        background-color border font-family icon-align icon-height icon-position
        icon-unwrapped-alt icon-unwrapped-url icon-width icon-wrapped-alt icon-wrapped-url
        """
    ),
    "mj-accordion-text": _names(
        """
        background-color color font-family font-size font-weight letter-spacing line-height
        padding padding-bottom padding-left padding-right padding-top
        """
    ),
    "mj-accordion-title": _names(
        """
        background-color color font-family font-size font-weight padding padding-bottom
        padding-left padding-right padding-top
        """
    ),
    "mj-attributes": frozenset(),
    "mj-body": _names("background-color width"),
    "mj-breakpoint": _names("width"),
    "mj-button": _names(
        """
        align background-color border border-bottom border-left border-radius border-right
        border-top color container-background-color font-family font-size font-style font-weight
        height href inner-padding letter-spacing line-height name padding padding-bottom
        padding-left padding-right padding-top rel target text-align text-decoration
        text-transform title vertical-align width
        """
    ),
    "mj-carousel": _names(
        """
        align border-radius container-background-color icon-width left-icon padding
        padding-bottom padding-left padding-right padding-top right-icon tb-border
        tb-border-radius tb-hover-border-color tb-selected-border-color tb-width thumbnails
        """
    ),
    "mj-carousel-image": _names(
        """
        alt border-radius href rel src target tb-border tb-border-radius thumbnails-src title
        """
    ),
    "mj-column": _names(
        """
        background-color border border-bottom border-left border-radius border-right border-top
        direction inner-background-color inner-border inner-border-bottom inner-border-left
        inner-border-radius inner-border-right inner-border-top padding padding-bottom
        padding-left padding-right padding-top vertical-align width
        """
    ),
    "mj-divider": _names(
        """
        align border-color border-style border-width container-background-color padding
        padding-bottom padding-left padding-right padding-top width
        """
    ),
    "mj-font": _names("href name"),
    "mj-group": _names("background-color direction vertical-align width"),
    "mj-head": frozenset(),
    "mj-hero": _names(
        """
        background-color background-height background-position background-url background-width
        border-radius container-background-color height inner-background-color inner-padding
        inner-padding-bottom inner-padding-left inner-padding-right inner-padding-top mode
        padding padding-bottom padding-left padding-right padding-top vertical-align
        """
    ),
    "mj-html-attributes": frozenset(),
    "mj-image": _names(
        """
        align alt border border-bottom border-left border-radius border-right border-top
        container-background-color fluid-on-mobile font-size height href max-height name padding
        padding-bottom padding-left padding-right padding-top rel sizes src srcset target title
        usemap width
        """
    ),
    "mj-navbar": _names(
        """
        align base-url hamburger ico-align ico-close ico-color ico-font-family ico-font-size
        ico-line-height ico-open ico-padding ico-padding-bottom ico-padding-left
        ico-padding-right ico-padding-top ico-text-decoration ico-text-transform padding
        padding-bottom padding-left padding-right padding-top
        """
    ),
    "mj-navbar-link": _names(
        """
        color font-family font-size font-style font-weight href letter-spacing line-height name
        padding padding-bottom padding-left padding-right padding-top rel target text-decoration
        text-transform
        """
    ),
    "mj-preview": frozenset(),
    "mj-raw": _names("position"),
    "mj-section": _names(
        """
        background-color background-position background-position-x background-position-y
        background-repeat background-size background-url border border-bottom border-left
        border-radius border-right border-top direction full-width padding padding-bottom
        padding-left padding-right padding-top text-align text-padding
        """
    ),
    "mj-social": _names(
        """
        align border-radius color container-background-color font-family font-size font-style
        font-weight icon-height icon-padding icon-size inner-padding line-height mode padding
        padding-bottom padding-left padding-right padding-top table-layout text-decoration
        text-padding vertical-align
        """
    ),
    "mj-social-element": _names(
        """
        align alt background-color border-radius color font-family font-size font-style
        font-weight href icon-height icon-padding icon-position icon-size line-height name
        padding padding-bottom padding-left padding-right padding-top rel sizes src srcset
        target text-decoration text-padding title vertical-align
        """
    ),
    "mj-spacer": _names(
        """
        border border-bottom border-left border-right border-top container-background-color
        height padding padding-bottom padding-left padding-right padding-top
        """
    ),
    "mj-style": _names("inline"),
    "mj-table": _names(
        """
        align border cellpadding cellspacing color container-background-color font-family
        font-size font-weight line-height padding padding-bottom padding-left padding-right
        padding-top role table-layout vertical-align width
        """
    ),
    "mj-text": _names(
        """
        align background-color color container-background-color font-family font-size font-style
        font-weight height letter-spacing line-height padding padding-bottom padding-left
        padding-right padding-top text-decoration text-transform vertical-align
        """
    ),
    "mj-title": frozenset(),
    "mj-wrapper": _names(
        """
        background-color background-position background-position-x background-position-y
        background-repeat background-size background-url border border-bottom border-left
        border-radius border-right border-top direction full-width gap padding padding-bottom
        padding-left padding-right padding-top text-align text-padding
        """
    ),
}

ALLOWED_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        **_COMPONENT_ATTRIBUTES,
        # Not registered components, so no allowedAttributes: what MJML reads from them.
        "mjml": _names("lang dir owa"),
        "mj-all": frozenset(),  # any attribute: see ANY_ATTRIBUTE_TAGS
        "mj-class": _names("name"),  # and any other attribute
        "mj-include": _names("path type css-inline"),
        "mj-selector": _names("path"),
        "mj-html-attribute": _names("name"),
    }
)
"""Each MJML tag's own attributes; every tag also takes GLOBAL_ATTRIBUTES."""

KNOWN_TAGS: Final = frozenset(ALLOWED_ATTRIBUTES)

CHILDREN: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "mjml": _names("mj-body mj-head mj-raw"),
        "mj-accordion": _names("mj-accordion-element mj-raw"),
        "mj-accordion-element": _names("mj-accordion-title mj-accordion-text mj-raw"),
        "mj-accordion-title": frozenset(),
        "mj-accordion-text": frozenset(),
        # "mj-attributes": any tag (/^.*^/ in dependencies.js): see the module docstring.
        "mj-body": _names("mj-raw mj-section mj-wrapper mj-hero"),
        "mj-button": frozenset(),
        "mj-carousel": _names("mj-carousel-image"),
        "mj-carousel-image": frozenset(),
        "mj-column": _names(
            """
            mj-accordion mj-button mj-carousel mj-divider mj-image mj-raw mj-social mj-spacer
            mj-table mj-text mj-navbar
            """
        ),
        "mj-html-attribute": frozenset(),
        "mj-html-attributes": _names("mj-selector"),
        "mj-divider": frozenset(),
        "mj-group": _names("mj-column mj-raw"),
        "mj-head": _names(
            """
            mj-attributes mj-breakpoint mj-html-attributes mj-font mj-preview mj-style
            mj-title mj-raw
            """
        ),
        "mj-hero": _names(
            """
            mj-accordion mj-button mj-carousel mj-divider mj-image mj-social mj-spacer
            mj-table mj-text mj-navbar mj-raw
            """
        ),
        "mj-image": frozenset(),
        "mj-navbar": _names("mj-navbar-link mj-raw"),
        "mj-raw": frozenset(),
        "mj-section": _names("mj-column mj-group mj-raw"),
        "mj-selector": _names("mj-html-attribute"),
        "mj-social": _names("mj-social-element mj-raw"),
        "mj-social-element": frozenset(),
        "mj-spacer": frozenset(),
        "mj-table": frozenset(),
        "mj-text": frozenset(),
        "mj-wrapper": _names("mj-hero mj-raw mj-section"),
    }
)
"""Which MJML tags each tag may hold (mjml-preset-core's dependencies.js)."""


def _invert_children() -> dict[str, frozenset[str]]:
    parents: dict[str, set[str]] = {tag: set() for tag in KNOWN_TAGS}
    for parent, children in CHILDREN.items():
        for child in children:
            parents[child].add(parent)
    parents["mj-all"].add("mj-attributes")
    parents["mj-class"].add("mj-attributes")
    # mjml-parser-xml replaces <mj-include> by the file's content before validation,
    # so it may stand wherever MJML tags may.
    parents["mj-include"].update(parent for parent, children in CHILDREN.items() if children)
    return {tag: frozenset(tags) for tag, tags in sorted(parents.items())}


ALLOWED_PARENTS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(_invert_children())
"""Where each tag may stand; `mjml` is the root and stands nowhere. Defaults in
`<mj-attributes>` are not counted here: any tag may stand there."""

ENDING_TAGS: Final = _names(
    """
    mj-text mj-button mj-table mj-raw mj-navbar-link mj-social-element mj-accordion-title
    mj-accordion-text mj-style mj-title mj-preview
    """
)
"""Tags whose content is raw HTML, CSS or text: read only for the tag that closes them.
(MJML also marks mj-breakpoint and mj-carousel-image as ending tags, but they hold
nothing; here they are read as other tags, which reports a missing `/>` better.)"""


@dataclass(frozen=True, slots=True)
class MjmlProblem:
    """One problem in an MJML document: `line` counts from 1; `message` is one line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


# An MJML tag name: `mjml` or `mj-…`, and not the start of a longer name (`<mjmlx>`).
_NAME = r"(?:mjml|mj-[\w.:-]*)(?![\w.:-])"
# The attributes of a tag, up to its `>`: quoted values may hold `>` and span lines.
_ATTRIBUTES = r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+"""
_ENDING_NAME = "|".join(re.escape(name) for name in sorted(ENDING_TAGS))

# Everything the checker looks at, in one pass. Other tags and text are not matched.
_TOKEN: Final = re.compile(
    rf"""
    <(?:
        # 1 a comment, 2 its end: skipped whole
        (!--)(?:.*?(-->)|.*)
        # 3 an ending tag, 4 its attributes; then `/>`, or `>`, 5 its content, and 6 its
        # closing tag. The content is raw (HTML, CSS, text, even `<mj-x>`), but cannot
        # hold an ending tag: MJML counts those as nested, so one there means that this
        # tag is not closed (5 then tells where to read on).
      | ({_ENDING_NAME})(?![\w.:-])({_ATTRIBUTES})
        (?: (?<=/)>
          | >() (?:[^<]++|<!--.*?-->|<(?!/?(?:{_ENDING_NAME})(?![\w.:-])))*+ (</\3\s*>)?
        )
        # 7 `/`, 8 any other MJML tag, 9 its attributes
      | (/)?({_NAME})({_ATTRIBUTES})>
        # 10 `/`, 11 an MJML tag with no `>`
      | (/?)({_NAME})
    )
    """,
    re.DOTALL | re.VERBOSE,
)

# An attribute's name, then its value if it has one.
_ATTRIBUTE: Final = re.compile(r"""([^\s"'=/>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]*))?""")

# What may come before <mjml>: a byte-order mark, white space, comments. (Not <?xml?>:
# mjml-python rejects it.)
_PROLOGUE: Final = re.compile(r"\ufeff?(?:\s+|<!--.*?-->)*", re.DOTALL)

_START = "the document must start with <mjml>"


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _read_attributes(name: str, attributes: str) -> tuple[bool, tuple[str, ...]]:
    """Whether an opening tag closes itself (`/>`), and what is wrong with its attributes.

    What is wrong does not depend on where the tag stands: inside <mj-attributes> a
    tag sets that component's defaults, so it takes that component's attributes too.
    """
    names: list[str] = _ATTRIBUTE.findall(attributes)
    messages: list[str] = []
    allowed = ALLOWED_ATTRIBUTES.get(name)
    if allowed is not None and name not in ANY_ATTRIBUTE_TAGS:
        messages.extend(
            f"<{name}> does not take the attribute {attribute}"
            for attribute in names
            if attribute not in allowed and attribute not in GLOBAL_ATTRIBUTES
        )
    seen: set[str] = set()
    for attribute in names:
        if attribute in seen:
            messages.append(f"<{name}> has the attribute {attribute} twice")
        seen.add(attribute)
    return attributes.endswith("/"), tuple(messages)


def _close(
    source: str, start: int, name: str, stack: list[tuple[str, int, bool]]
) -> list[tuple[int, str]]:
    """Close `name` when it is not the innermost open tag: what that tells."""
    found: list[tuple[int, str]] = []
    if any(entry[0] == name for entry in stack):  # the tags opened since are never closed
        while stack[-1][0] != name:
            unclosed, offset, _ = stack.pop()
            found.append((offset, f"<{unclosed}> is never closed"))
        stack.pop()
    elif stack and name not in KNOWN_TAGS:  # a typo for the tag that is open
        opened, offset, _ = stack.pop()
        found.append((start, f"</{name}> closes <{opened}> opened at line {_line(source, offset)}"))
    else:  # one closing tag too many: leave the open tags alone
        found.append((start, f"</{name}> has no opening tag"))
    return found


def check_mjml(source: str) -> list[MjmlProblem]:
    """The problems in an MJML document, in document order; [] when it is valid.

    Reports MJML tags that do not exist, closing tags that do not match, tags that are
    never closed or that stand where MJML does not allow them, attributes that the tag
    does not take or that are given twice, and a document that is not one <mjml>.
    """
    found: list[tuple[int, str]] = []  # (offset, message)
    report = found.append
    # The open tags: (name, offset, in_defaults); in_defaults from <mj-attributes> in.
    stack: list[tuple[str, int, bool]] = []
    # Opening tags repeat (a template's loops): read each distinct one once.
    read: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = {}
    closes_itself: bool
    messages: tuple[str, ...]
    root_seen = start_reported = False
    parents_of = ALLOWED_PARENTS.get
    search = _TOKEN.search
    position = 0
    while (match := search(source, position)) is not None:
        start = match.start()
        position = match.end()
        kind = match.lastindex
        slash: str | None
        if kind == 9:  # an MJML tag
            slash, name, attributes = match.group(7, 8, 9)
        elif kind == 6 or kind == 4:  # an ending tag: closed, or closing itself
            name, attributes = match.group(3, 4)
            slash = None
        elif kind == 5:  # an ending tag that is not closed: read on after its `>`
            name, attributes = match.group(3, 4)
            slash = None
            position = match.start(5)
        elif kind == 11:  # an MJML tag with no `>`
            slash, name = match.group(10, 11)
            attributes = "<"
        else:  # a comment
            if kind == 1:
                report((start, "<!-- is never closed"))
            continue

        if "<" in attributes:  # a quote that never ends: read the tag up to its first `>`
            tag = f"{slash or ''}{name}"
            close = source.find(">", start + 1 + len(tag))
            if close < 0:
                report((start, f"<{tag}> has no closing >"))
                break
            report((start, f"<{tag}> has an unbalanced quote or a < in an attribute"))
            attributes = source[start + 1 + len(tag) : close]
            position = close + 1
            closes_itself, messages = attributes.endswith("/"), ()
            kind = 0  # read on after the tag, its content too
        elif not slash:
            known = read.get((name, attributes))
            if known is None:
                known = read[name, attributes] = _read_attributes(name, attributes)
            closes_itself, messages = known

        if slash:  # a closing tag
            if stack and stack[-1][0] == name:
                stack.pop()
            else:
                found.extend(_close(source, start, name, stack))
            continue

        # Where the tag stands.
        places = parents_of(name)
        if places is None:
            report((start, f"unknown MJML tag <{name}>"))
        if stack:
            parent, _, in_defaults = stack[-1]
            if (
                places is not None
                and parent not in places
                and not in_defaults
                and parent in KNOWN_TAGS
            ):
                report((start, f"<{name}> cannot be inside <{parent}>"))
        else:
            in_defaults = False
            if name == "mjml":
                if root_seen:
                    report((start, "<mjml> comes after </mjml>"))
                elif not _PROLOGUE.fullmatch(source, 0, start):
                    prefix = source[:start]
                    report((len(prefix) - len(prefix.lstrip()), _START))
                root_seen = start_reported = True
            elif not start_reported:
                report((start, _START))
                start_reported = True
            elif root_seen:
                report((start, f"<{name}> comes after </mjml>"))
        for message in messages:
            report((start, message))
        if not closes_itself and kind != 6:
            stack.append((name, start, in_defaults or name == "mj-attributes"))

    for name, offset, _ in stack:
        report((offset, f"<{name}> is never closed"))
    if not start_reported:
        report((0, _START))

    found.sort(key=lambda problem: problem[0])
    problems: list[MjmlProblem] = []
    line = 1
    previous = 0
    for offset, message in found:
        line += source.count("\n", previous, offset)
        previous = offset
        problems.append(MjmlProblem(line, message))
    return problems
