"""The pages in headless Chromium: axe-core finds no WCAG 2 A/AA violation (nor a
best-practice one) and nothing is wider than the screen, at a phone's width (375 px)
and a desktop's (1000 px), in the light and the dark colour scheme.

Two sets: the web pages `newsletter serve` answers (over real HTTP), and the three
editions of a composed issue as a mail client would open them (file:// URLs), where
the rules about a web page as a whole do not apply (`PAGE_RULES`). Needs Debian's
chromium and chromium-driver and npm's axe-core (`.ci/run` installs them); without
them these tests skip, saying what to install.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.core.model import EDITIONS
from newsletter.send import send
from tests.helpers import THREE, ledger, make_site, tokens
from tests.smtpd import free_port
from tests.web.browser import PAGE_RULES, SCHEMES, WIDTHS, Browser
from tests.web.conftest import Web
from tests.web.helpers import confirmation_to, link_in, subscribe

ISSUE = "issues/0001-2024-07-15"

WEB_PAGES = [
    pytest.param("/no/such/page", id="not-found"),
    pytest.param("/", id="archive-index"),
    pytest.param("/issues/0001-2024-07-15/", id="issue-editions"),
    pytest.param("/issues/0001-2024-07-15/bilingual.html", id="issue-page"),  # View in browser
    pytest.param("/subscribe", id="subscribe"),
    pytest.param("{confirm}", id="confirm"),  # the link of a real confirmation message
    pytest.param("/unsubscribe/{token}", id="unsubscribe"),
    pytest.param("/preferences/{token}", id="preferences"),
]
"""Paths under `newsletter serve` once issue 1 went out; `{token}` becomes a
subscriber's token, `{confirm}` a confirmation link. (`/feed.xml` is no page:
feedparser tests it.)"""


def problems(browser: Browser, url: str, shots: Path, disable: tuple[str, ...] = ()) -> list[str]:
    """Every violation and overflow on `url` at each width and scheme, with a screenshot
    of each view that has one."""
    found = []
    for width in WIDTHS:
        for scheme in SCHEMES:
            browser.open(url, width, scheme)
            view = [str(violation) for violation in browser.axe(disable)]
            if wider := browser.overflow():
                view.append(f"the page is {wider} px wider than the {width} px screen")
            if view:
                shot = browser.screenshot(shots / f"{width}-{scheme}.png")
                found.append(f"== {width} px, {scheme} (screenshot {shot}):\n" + "\n".join(view))
    return found


@pytest.mark.parametrize("path", WEB_PAGES)
def test_the_web_pages_have_no_accessibility_violations(
    browser: Browser, web: Web, tmp_path: Path, path: str
) -> None:
    assert send(load_config()).complete  # issue 1 goes out: its pages are public
    confirm = ""
    if "{confirm}" in path:
        with web.client() as client:
            assert subscribe(client, "new.reader@example.org").status_code == 200
        confirm = link_in(confirmation_to(web, "new.reader@example.org")).removeprefix(web.base)
    url = web.base + path.format(token=tokens(web.site)["bob@example.org"], confirm=confirm)
    found = problems(browser, url, tmp_path / "shots")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_email_editions_have_no_accessibility_violations(
    browser: Browser, workspace: Path, edition: str
) -> None:
    site = make_site(workspace, free_port(), THREE)
    html = site / ISSUE / f"{edition}.html"
    found = problems(browser, html.as_uri(), workspace / "shots", disable=PAGE_RULES)
    assert not found, "\n".join(found)


def test_axe_finds_what_is_wrong(browser: Browser, workspace: Path) -> None:
    """The check is not vacuous: a page with faults shows each of them."""
    page = workspace / "bad.html"
    page.write_text(
        "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
        "</head><body><p style='color:#aaa;background:#fff'>faint</p><img src='x.png'>"
        "<div style='width:600px'>wide</div></body></html>",
        encoding="utf-8",
    )
    browser.open(page.as_uri(), 375, "dark")
    rules = {violation.rule for violation in browser.axe()}
    assert {"color-contrast", "image-alt", "html-has-lang", "document-title", "region"} <= rules
    assert "region" not in {violation.rule for violation in browser.axe(PAGE_RULES)}
    assert browser.overflow() > 0
    shot = browser.screenshot(workspace / "bad.png", full_page=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(shot.read_bytes()[16:20], "big") == 375  # the PNG's width


def test_a_browser_on_our_pages_passes_the_check_of_where_a_form_comes_from(
    browser: Browser, web: Web
) -> None:
    """Each form sent from our pages by a real browser (which says where it was:
    Origin, Sec-Fetch-Site) is taken, not refused as another site's."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    def press(button: str) -> str:
        """Press the button and wait for the page it leads to (the old one is gone)."""
        pressed = browser.driver.find_element(By.CSS_SELECTOR, button)
        pressed.click()
        WebDriverWait(browser.driver, 10).until(expected_conditions.staleness_of(pressed))
        return str(browser.driver.page_source)

    browser.open(web.base + "/subscribe")
    browser.driver.find_element(By.ID, "email").send_keys("browser@example.org")
    assert "Check your inbox" in press("form button[type=submit]")
    browser.open(link_in(confirmation_to(web, "browser@example.org")))
    assert "You are subscribed" in press("form button[type=submit]")
    browser.open(web.base + f"/preferences/{tokens(web.site)['bob@example.org']}")
    browser.driver.find_element(By.ID, "name").send_keys("Bob")
    assert "已保存" in press("form button[type=submit]")
    assert "Bob" in str(ledger(web.site, "SELECT name FROM subscribers WHERE email LIKE 'bob@%'"))


# What a reader sees: computed styles and layout, in the light and the dark scheme.


def computed(browser: Browser, selector: str, prop: str) -> list[str]:
    """The computed `prop` of every element `selector` matches on the open page."""
    found: list[str] = browser.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(e => getComputedStyle(e).getPropertyValue(arguments[1]));",
        selector,
        prop,
    )
    return found


def test_the_confirmation_mail_has_a_dark_mode_without_accessibility_violations(
    browser: Browser, web: Web, tmp_path: Path
) -> None:
    with web.client() as client:
        assert subscribe(client, "dark.reader@example.org").status_code == 200
    part = confirmation_to(web, "dark.reader@example.org").get_body(("html",))
    assert part is not None
    mail = tmp_path / "confirm.html"
    mail.write_text(part.get_content(), encoding="utf-8")
    found = problems(browser, mail.as_uri(), tmp_path / "shots", disable=PAGE_RULES)
    assert not found, "\n".join(found)
    browser.open(mail.as_uri(), 375, "light")
    assert computed(browser, "body", "background-color") == ["rgb(242, 244, 247)"]
    assert computed(browser, "h1", "color") == ["rgb(31, 41, 55)"]
    browser.open(mail.as_uri(), 375, "dark")
    assert computed(browser, "body", "background-color") == ["rgb(11, 15, 23)"]
    assert computed(browser, "h1", "color") == ["rgb(229, 231, 235)"]  # light on dark
    assert "rgb(17, 24, 39)" in computed(browser, "div", "background-color")  # the card


def test_a_wrapped_title_in_the_contents_hangs_beside_its_number(
    browser: Browser, workspace: Path
) -> None:
    """The second line of a long title starts under its first word, not under the
    number; so does the Chinese title under it (bilingual edition, on a phone)."""
    site = make_site(workspace, free_port(), THREE)
    for edition in EDITIONS:
        browser.open((site / ISSUE / f"{edition}.html").as_uri(), 375, "light")
        lines = browser.driver.execute_script(
            "return [...document.querySelectorAll('.contents-item')].map(item => ({"
            " number: item.querySelector('b').getBoundingClientRect().left,"
            " title: [...item.querySelector('a').getClientRects()].map(r => Math.round(r.left)),"
            " sub: [...item.querySelectorAll('.contents-sub')]"
            "   .flatMap(s => [...s.getClientRects()].map(r => Math.round(r.left)))}));"
        )
        wrapped = [line for line in lines if len(line["title"]) > 1]
        assert wrapped, edition  # the sample has titles longer than a phone's line
        for line in lines:
            first = line["title"][0]
            assert first > line["number"] + 10, (edition, line)
            assert all(abs(left - first) <= 1 for left in line["title"] + line["sub"]), (
                edition,
                line,
            )


def test_the_archive_index_lists_each_issue_papers_as_a_plain_list(
    browser: Browser, web: Web
) -> None:
    """Each issue has its rule above it; the paper lines under it have no rule, no
    padding of their own and no bullet."""
    assert send(load_config()).complete
    browser.open(web.base + "/", 375, "dark")
    assert set(computed(browser, "ol.issues > li", "border-top-style")) == {"solid"}
    papers = "ol.issues > li li"
    assert len(computed(browser, papers, "border-top-style")) > 1
    assert set(computed(browser, papers, "border-top-style")) == {"none"}
    assert set(computed(browser, papers, "padding-top")) == {"0px"}
    assert set(computed(browser, papers, "list-style-type")) == {"none"}
    assert set(computed(browser, "ol.issues ul", "padding-left")) == {"0px"}


def test_the_web_copy_of_an_issue_is_dark_from_top_to_bottom_in_dark_mode(
    browser: Browser, web: Web
) -> None:
    assert send(load_config()).complete
    url = web.base + f"/{ISSUE}/bilingual.html"
    browser.open(url, 375, "light")
    assert computed(browser, "body", "background-color") == ["rgb(242, 244, 247)"]
    assert set(computed(browser, "nav a", "color")) == {"rgb(29, 78, 216)"}
    browser.open(url, 375, "dark")
    assert computed(browser, "body", "background-color") == ["rgb(11, 15, 23)"]
    assert set(computed(browser, "nav a", "color")) == {"rgb(147, 197, 253)"}  # as the links
    assert set(computed(browser, "nav", "background-color")) <= {"rgba(0, 0, 0, 0)"}
