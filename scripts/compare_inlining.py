"""Compare two inlined editions element by element, to see what a change of inliner did.

    python scripts/compare_inlining.py OLD.html NEW.html

Walks both documents in document order and compares, for each element, its tag, its
`style` declarations (as property → value: names and values lowercased, white space
collapsed, nothing else: `0px` and `0` differ here), its other attributes, and its
own text (a `<style>` block's CSS included). Prints how many elements there are, how
many differ, and each distinct difference with how many times it occurs. Exits 1 when
something differs, as diff does.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
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
    if old.tag != new.tag:
        return [f"{label(old)} became {label(new)}"]
    found = []
    for kind, before, after in (
        ("style", style(old), style(new)),
        ("attribute", dict(old.attrib), dict(new.attrib)),
    ):
        before.pop("style", None)
        after.pop("style", None)
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                was, now = before.get(name, "(none)"), after.get(name, "(none)")
                found.append(f"{label(old)}: {kind} {name}: {was!r} -> {now!r}")
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
    for before, after in zip(old, new, strict=False):
        found = differences(before, after)
        differing += bool(found)
        counted.update(found)
    if len(old) != len(new):
        shorter = min(len(old), len(new))
        counted[f"element count: {len(old)} -> {len(new)} (the first {shorter} compared)"] += 1
    print(f"{args.old} -> {args.new}: {len(old)} elements, {differing} differ")
    for difference, times in counted.most_common():
        print(f"  {times:4d} x  {difference}")
    return 1 if counted else 0


if __name__ == "__main__":
    raise SystemExit(main())
