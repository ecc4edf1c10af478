"""Compare two inlined editions element by element, to see what a change of inliner did.

    python scripts/compare_inlining.py OLD.html NEW.html

Walks both documents in document order, pairing elements by tag and first class (so
that one added or dropped shows as that, not as a shift of all that follow), and
compares each pair's `style` declarations (as property → value: names and values
lowercased, white space collapsed, nothing else: `0px` and `0` differ here), its other
attributes, and its own text (a `<style>` block's CSS included). Prints how many
elements there are, how many differ, and each distinct difference with how many times
it occurs. Exits 1 when something differs, as diff does.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

# A `;` inside quotes or parentheses does not end a declaration.
DECLARATIONS = re.compile(r";(?=(?:[^'\"()]|'[^']*'|\"[^\"]*\"|\([^)]*\))*$)")


def elements(path: Path) -> list[Any]:
    parser = etree.HTMLParser(huge_tree=True)
    root = etree.fromstring(path.read_bytes(), parser)
    return [element for element in root.iter() if isinstance(element.tag, str)]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def style(element: Any) -> dict[str, str]:
    declared = {}
    for part in DECLARATIONS.split(element.get("style") or ""):
        name, colon, value = part.partition(":")
        if colon and name.strip():
            value = re.sub(r"\s*!\s*important", " !important", value.lower())
            declared[squeeze(name.lower())] = squeeze(value)
    return declared


def label(element: Any) -> str:
    classes = (element.get("class") or "").split()
    return element.tag + "".join(f".{name}" for name in classes[:1])


def differences(old: Any, new: Any) -> list[str]:
    found = []
    for kind, before, after in (
        ("style", style(old), style(new)),
        ("attribute", dict(old.attrib), dict(new.attrib)),
    ):
        before.pop("style", None)
        after.pop("style", None)
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                was, now = (
                    repr(side[name]) if name in side else "(none)" for side in (before, after)
                )
                found.append(f"{label(old)}: {kind} {name}: {was} -> {now}")
    if squeeze(old.text or "") != squeeze(new.text or ""):
        found.append(f"{label(old)}: its text differs")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    old, new = elements(args.old), elements(args.new)
    counted: Counter[str] = Counter()
    differing = 0
    # Paired by tag and class, so that one element added or dropped (a <style> block)
    # does not shift every element after it onto another.
    matcher = SequenceMatcher(None, [label(e) for e in old], [label(e) for e in new], False)
    for kind, i1, i2, j1, j2 in matcher.get_opcodes():
        if kind == "equal":
            for before, after in zip(old[i1:i2], new[j1:j2], strict=True):
                found = differences(before, after)
                differing += bool(found)
                counted.update(found)
            continue
        differing += max(i2 - i1, j2 - j1)
        counted.update(f"{label(element)} dropped" for element in old[i1:i2])
        counted.update(f"{label(element)} added" for element in new[j1:j2])
    print(f"{args.old} -> {args.new}: {len(old)} elements (new: {len(new)}), {differing} differ")
    for difference, times in counted.most_common():
        print(f"  {times:4d} x  {difference}")
    return 1 if counted else 0


if __name__ == "__main__":
    raise SystemExit(main())
