"""LaTeX in paper titles, summaries and abstracts, shown as a reader reads it.

Authors write `$\\alpha$-divergence`, `$\\mathcal{O}(n \\log n)$` or `\\textbf{…}` in
their titles and abstracts, and the digest copies them. The digest file and the store
keep what was typed; every place that shows such text converts it here, at display
time: `α-divergence`, `𝒪(n log n)`, `10⁻³`, and in HTML `<em>`/`<strong>` for
`\\textit`/`\\emph`/`\\textbf` (plain text loses only the emphasis).

Only LaTeX is converted, never the prose around it (a `%`, `~` or `--` in a summary
means what it says): the spans between two `$` that look like math (Pandoc's rule:
no space just inside either `$`, no digit just after the closing one, so `costs $2
and $3`, `US$3` and `$5-$10` stay money), `\\(…\\)`, and each backslash command.
pylatexenc (`latex2text`) parses each span and names the symbols; this module adds the
emphasis, Unicode super- and subscripts, and the fallback: a span it cannot parse
(unbalanced braces) is shown as typed. An unknown command keeps its name without the
backslash (`\\method` → `method`): abstracts define their own for a model's name.
`\\mathcal{O}` becomes pylatexenc's 𝒪 (MATHEMATICAL SCRIPT CAPITAL O), as the paper
prints it (and `\\mathcal{L}` stays apart from L): the systems mail is read on ship a
font with these letters (Cambria Math, STIX, Noto Sans Math); one without shows a box.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexNode,
    LatexWalker,
    LatexWalkerError,
)

EMPHASIS = {"textit": "em", "emph": "em", "textsl": "em", "textbf": "strong"}
"""Commands shown as HTML emphasis (and as their bare text in plain text)."""

_SUPERSCRIPT = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW⊤′",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵀ′",
        strict=True,
    )
)
_SUBSCRIPT = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)

# A span of math: `$$…$$`, `\(…\)`, or `$…$` by Pandoc's rule (a `$` right after a
# letter or digit, as in `US$3`, opens nothing).
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>[^$]+?)\$\$"
    r"|(?<![\\$A-Za-z0-9])\$(?P<inline>[^\s$](?:[^$]*?[^\s$\\])?)\$(?!\d)"
    r"|\\\((?P<paren>.+?)\\\)",
    re.DOTALL,
)
_PROSE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")
_BACKSLASH = re.compile(r"\\(?=[A-Za-z'\"`^~=.%&$#_{}])")
_SPACES = re.compile(r"[ \t]{2,}")
_UNCLOSED = re.compile(r"(?<!\\)\$(?=[\\A-Za-z{(])")  # `$5` is money, `$\x` math

_TO_TEXT = LatexNodes2Text(math_mode="text")

Run = tuple[str, tuple[str, ...]]  # a piece of text and the emphasis it is shown with


class Shown(str):
    """Converted text: as a `str`, plain text (subject, text edition, feed titles);
    in an autoescaped template, its HTML (`__html__`, with the emphasis)."""

    html: Markup

    def __new__(cls, text: str, html: Markup) -> Shown:
        shown = super().__new__(cls, text)
        shown.html = html
        return shown

    def __html__(self) -> Markup:
        return self.html


@functools.lru_cache(maxsize=4096)
def shown(text: str) -> Shown:
    """`text` with its LaTeX converted, as plain text and as HTML (see `Shown`)."""
    if "$" not in text and "\\" not in text:  # nearly every title: nothing to do
        return Shown(text, escape(text))
    runs = _merged(_runs(text))
    plain = "".join(piece for piece, _ in runs)
    return Shown(plain, Markup("").join(_html(piece, tags) for piece, tags in runs))


def to_text(text: str) -> str:
    """`text` with its LaTeX converted to plain Unicode text."""
    return str(shown(text))


def to_html(text: str) -> Markup:
    """`text` with its LaTeX converted, escaped, with `<em>`/`<strong>` for emphasis."""
    return shown(text).html


def _html(piece: str, tags: tuple[str, ...]) -> Markup:
    html = escape(piece)
    for tag in reversed(tags):
        html = Markup(f"<{tag}>{{}}</{tag}>").format(html)
    return html


def _runs(text: str) -> list[Run]:
    """The text as runs: prose as typed, each math span and command converted (a
    command's argument may hold math, and math commands: the first to start wins).
    All of it as typed when a `$` opens math that never closes (`$\\alpha`)."""
    if _UNCLOSED.search(_MATH.sub("", text)):
        return [(text, ())]
    runs: list[Run] = []
    position = 0
    while True:
        math = _MATH.search(text, position)
        command = _BACKSLASH.search(text, position)
        if command and (math is None or command.start() < math.start()):
            runs.append((text[position : command.start()], ()))
            converted, position = _command(text, command.start())
            runs += converted
        elif math and _looks_like_math(math.group("inline") or "\\"):
            runs += [(text[position : math.start()], ()), *_converted(math.group(0))]
            position = math.end()
        elif math:  # `$5 for a coffee and$`: the first `$` is money; look on from it
            runs.append((text[position : math.start() + 1], ()))
            position = math.start() + 1
        else:
            return [*runs, (text[position:], ())]


def _merged(runs: list[Run]) -> list[Run]:
    """Neighbouring runs with the same emphasis as one (one `<em>` a phrase)."""
    merged: list[Run] = []
    for piece, tags in runs:
        if merged and merged[-1][1] == tags:
            merged[-1] = (merged[-1][0] + piece, tags)
        elif piece:
            merged.append((piece, tags))
    return merged


def _looks_like_math(content: str) -> bool:
    """Whether the text between two `$` is math: a command, a script, or no run of
    words (`$k$`, `$O(n)$`), not `$5 for a coffee and$`."""
    return "\\" in content or bool(re.search(r"[\^_{}=]", content)) or not _PROSE.search(content)


def _command(text: str, start: int) -> tuple[list[Run], int]:
    """The command at `start` (with its arguments) converted, and where it ends; its
    backslash as typed when pylatexenc cannot parse it (`\\textbf{open`)."""
    try:
        walker = LatexWalker(text, tolerant_parsing=False)
        _, start, length = walker.get_latex_nodes(pos=start, read_max_nodes=1)
    except LatexWalkerError:
        return [("\\", ())], start + 1
    return _converted(text[start : start + length]), start + length


def _converted(latex: str) -> list[Run]:
    """One span (math, or one command with its arguments) converted; as typed when
    pylatexenc cannot parse it."""
    try:
        nodes, _, _ = LatexWalker(latex, tolerant_parsing=False).get_latex_nodes()
        runs = _render(nodes, (), math=False)
    except (LatexWalkerError, ValueError, IndexError, TypeError, KeyError):
        return [(latex, ())]
    # a symbol (`\\leq`) loses the space after it and `_macro` puts one back: only one
    return [(_SPACES.sub(" ", piece), tags) for piece, tags in _merged(runs)]


def _render(nodes: Sequence[LatexNode | None], tags: tuple[str, ...], math: bool) -> list[Run]:
    runs: list[Run] = []
    atoms = _atoms(nodes, math)
    index = 0
    while index < len(atoms):
        atom = atoms[index]
        if math and isinstance(atom, str) and atom in "^_" and index + 1 < len(atoms):
            script = "".join(piece for piece, _ in _render([atoms[index + 1]], (), math))
            space = " " if script.endswith(" ") else ""  # `W^\\top x`
            runs.append((_script(script.strip(), atom == "^") + space, tags))
            index += 2
            continue
        runs += _node(atom, tags, math)
        index += 1
    return runs


def _atoms(nodes: Sequence[LatexNode | None], math: bool) -> list[LatexNode | str]:
    """The nodes, with math's characters one by one (a script takes one character)."""
    atoms: list[LatexNode | str] = []
    for node in nodes:
        if node is None:
            continue
        if math and isinstance(node, LatexCharsNode):
            atoms += list(node.chars)
        else:
            atoms.append(node)
    return atoms


def _node(node: LatexNode | str, tags: tuple[str, ...], math: bool) -> list[Run]:
    if isinstance(node, str):
        return [(node, tags)]
    if isinstance(node, LatexMathNode):
        return _render(node.nodelist, tags, math=True)
    if isinstance(node, LatexGroupNode):
        return _render(node.nodelist, tags, math)
    if isinstance(node, LatexMacroNode):
        return _macro(node, tags, math)
    return [(_TO_TEXT.nodelist_to_text([node]), tags)]


def _macro(node: LatexMacroNode, tags: tuple[str, ...], math: bool) -> list[Run]:
    arguments = [arg for arg in node.nodeargd.argnlist if arg is not None] if node.nodeargd else []
    if node.macroname in EMPHASIS:
        return _render(arguments[-1:], (*tags, EMPHASIS[node.macroname]), math)
    if _TO_TEXT.latex_context.get_macro_spec(node.macroname) is None:
        return [(node.macroname + node.macro_post_space, tags)]
    text = _TO_TEXT.nodelist_to_text([node])
    space = " " if math and node.macro_post_space and not text.endswith(" ") else ""
    return [(text + space, tags)]


def _script(text: str, superscript: bool) -> str:
    """`2` → `²`, `-3` → `⁻³`; `^(…)` when a character has no small form."""
    table = _SUPERSCRIPT if superscript else _SUBSCRIPT
    if text and all(char in table for char in text):
        return "".join(table[char] for char in text)
    mark = "^" if superscript else "_"
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


def math_spans(text: str) -> list[tuple[int, int]]:
    """Where the math is (`$…$`, `$$…$$`, `\\(…\\)`; `$5` is money, not math), as (start, end)."""
    return [match.span() for match in _MATH.finditer(text)]
