"""The editions in headless Chromium with every `<style>` block removed, as mail apps
that drop it show them (Gmail's app reading another provider's account drops the whole
block; Outlook on Windows ignores its `@media` rules): the inline styles alone must
give the layout a reader gets with the blocks.

At a phone's width (375 px) and a desktop's (800 px): nothing is wider than the
screen; the card runs as wide as it does with styles (to the screen's edges on a
phone); the papers stand in one column, each across the card, one under the other;
axe-core finds no violation (colour contrast included); every line of the contents
leads to its paper; every link has an address; the preheader stays hidden. Composed
twice: without arXiv's metadata (the en edition's notice), and with the sample's (the
category badges, authors and abstracts). Needs what the other browser tests need
(`tests/web/browser.py`), and skips without it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from newsletter.compose import compose
from newsletter.config import load_config
from newsletter.core.model import EDITIONS
from tests.arxivd import DATA, ArxivServer, Reply, arxiv_toml
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import write_config
from tests.web.browser import PAGE_RULES, Browser

WIDTHS = (375, 800)
CARD = 600
"""The width of `mj-body`: the card's, on a screen wider than it."""

STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.DOTALL | re.IGNORECASE)

LAYOUT = """
const view = document.documentElement.clientWidth;
const box = element => element.getBoundingClientRect();
const card = box(document.querySelector('.papers').closest('.card'));
const papers = [...document.querySelectorAll('.paper')].map(box);
const preheader = document.querySelector('.preheader');
return {
  view,
  card: [card.left, card.width],
  papers: papers.map(p => [p.left, p.width, p.top, p.bottom]),
  preheader: [box(preheader).width, box(preheader).height, preheader.textContent.trim()],
  text: document.body.innerText,
  contents: [...document.querySelectorAll('.contents a')].map(a => a.getAttribute('href')),
  bare: [...document.querySelectorAll('a:not([href])')]
    .filter(a => !a.id).map(a => a.outerHTML.slice(0, 80)),
};
"""
"""Where the card, the papers and the preheader are, and what the links point at."""

LOOK = """
return [...document.body.querySelectorAll('*')].map(element => {
  const box = element.getBoundingClientRect(), style = getComputedStyle(element);
  return [element.tagName.toLowerCase() + (element.className ? '.' + element.className : ''),
          [box.left, box.top, box.width, box.height].map(Math.round).join(','),
          style.color, style.backgroundColor, style.fontSize, style.fontWeight, style.display];
});
"""
"""Each element's box, colours and font, in document order."""

FOLLOW = """
const target = document.getElementById(arguments[0].slice(1));
if (!target) return null;
document.querySelector(`.contents a[href="${arguments[0]}"]`).click();
const bottom = document.documentElement.scrollHeight - window.innerHeight;
return [Math.round(target.getBoundingClientRect().top), Math.round(window.scrollY),
        Math.round(bottom), target.getClientRects().length];
"""
"""Click a line of the contents: where its paper's anchor is then (0: at the top of the
screen, unless the page cannot scroll that far)."""


@pytest.fixture(params=["without-metadata", "with-metadata"])
def issue(request: pytest.FixtureRequest, workspace: Path) -> Path:
    """The sample composed as issue 1, with arXiv's metadata for its papers or without."""
    (workspace / "digests").mkdir()
    (workspace / "digests" / "sample.md").write_bytes(SAMPLE_DIGEST.read_bytes())
    if request.param == "with-metadata":
        arxiv: ArxivServer = request.getfixturevalue("arxiv")
        arxiv.default = Reply(body=(DATA / "sample.xml").read_bytes())
        write_config(workspace, arxiv_toml(arxiv))
    compose(load_config(), date=dt.date(2024, 7, 15))
    [folder] = (workspace / "issues").iterdir()
    return folder


def without_styles(html: Path, out: Path) -> Path:
    """A copy of the edition with every `<style>` block removed (its `style=` kept)."""
    text = STYLE_BLOCK.sub("", html.read_text(encoding="utf-8"))
    assert "<style" not in text.lower() and ' style="' in text
    out.write_text(text, encoding="utf-8")
    return out


def layout_problems(found: dict[str, Any], width: int) -> list[str]:
    """What is wrong with the card, the papers and the preheader at `width`."""
    problems = []
    left, card = found["card"]
    if abs(card - min(width, CARD)) > 1 or abs(left - max(0, (width - CARD) / 2)) > 1:
        problems.append(f"the card is {card:.0f} px wide at {left:.0f} px, not as with styles")
    column, above = min(width, CARD), float("-inf")
    for number, (x, wide, top, bottom) in enumerate(found["papers"], 1):
        if wide < 0.8 * column or abs(x - found["papers"][0][0]) > 1:
            problems.append(f"paper {number} is {wide:.0f} px wide at {x:.0f} px")
        if top < above:
            problems.append(f"paper {number} is beside paper {number - 1}, not under it")
        above = bottom
    wide, high, preheader = found["preheader"]
    if wide or high or (preheader and preheader in found["text"]):
        problems.append(f"the preheader shows ({wide}x{high} px)")
    problems += [f"a link without an address: {link}" for link in found["bare"]]
    return problems


def contents_problems(browser: Browser, found: dict[str, Any]) -> list[str]:
    """Each line of the contents that leads nowhere, or not to its paper's place."""
    problems = []
    if len(found["contents"]) != len(found["papers"]) or not found["papers"]:
        problems.append(f"{len(found['contents'])} lines of contents for {len(found['papers'])}")
    for href in found["contents"]:
        followed = browser.driver.execute_script(FOLLOW, href)
        if followed is None or not href.startswith("#paper-"):
            problems.append(f"the contents link to {href}, which is not a paper")
            continue
        top, scrolled, bottom, shown = followed
        if not shown or (abs(top) > 1 and scrolled < bottom - 1):
            problems.append(f"following {href} leaves its paper {top} px down the screen")
    return problems


@pytest.mark.parametrize("edition", EDITIONS)
def test_an_edition_without_its_style_blocks_still_reads_well(
    browser: Browser, issue: Path, workspace: Path, edition: str
) -> None:
    page = without_styles(issue / f"{edition}.html", workspace / f"{edition}-no-style.html")
    found = []
    for width in WIDTHS:
        browser.open(page.as_uri(), width, "light")
        layout = browser.driver.execute_script(LAYOUT)
        view = layout_problems(layout, width)
        view += [str(violation) for violation in browser.axe(PAGE_RULES)]
        if wider := browser.overflow():
            view.append(f"the page is {wider} px wider than the {width} px screen")
        view += contents_problems(browser, layout)
        if view:
            shot = browser.screenshot(workspace / "shots" / f"{edition}-{width}.png")
            found.append(f"== {width} px (screenshot {shot}):\n" + "\n".join(view))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("edition", EDITIONS)
def test_an_edition_without_its_style_blocks_looks_as_it_does_with_them(
    browser: Browser, issue: Path, workspace: Path, edition: str
) -> None:
    """In light mode the blocks add nothing a reader sees (their `@media` rules are for
    the dark mode and MJML's desktop columns, which the inline styles already give):
    every element has the same box, colours and font either way."""
    styled = issue / f"{edition}.html"
    bare = without_styles(styled, workspace / f"{edition}-no-style.html")
    for width in WIDTHS:
        looks = []
        for page in (styled, bare):
            browser.open(page.as_uri(), width, "light")
            looks.append(browser.driver.execute_script(LOOK))
        differ = [f"{a}\n  without: {b}" for a, b in zip(*looks, strict=True) if a != b]
        assert not differ, f"{width} px, {len(differ)} elements differ:\n" + "\n".join(differ[:5])
