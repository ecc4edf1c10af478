"""Headless Chromium for the web tests: open a page at a phone's or a desktop's width,
in a light or a dark colour scheme, run axe-core in it, take a PNG screenshot.

Nothing is downloaded. The browser and its driver are Debian's `chromium` and
`chromium-driver`, driven by Selenium (the `test` extra) with both paths given, so
Selenium Manager never runs. axe-core is npm's `axe-core`, which `.ci/run` installs
into `.cache/npm/` (or set `AXE_CORE_JS` to an `axe.min.js`): its file is read from
disk and executed in the page. `unavailable()` says what is missing, for a skip.

The width and the colour scheme are emulated over the DevTools protocol
(`Emulation.setDeviceMetricsOverride`, `Emulation.setEmulatedMedia`): a headless
window will not shrink below 500 px, and `prefers-color-scheme` is what the pages'
and the emails' dark styles answer to.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_NAMES = ("chromium", "chromium-browser")
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or ROOT / ".cache/npm/node_modules/axe-core/axe.min.js")
WIDTHS = (375, 1000)
SCHEMES = ("light", "dark")
HEIGHT = 900

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
"""The rules run: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices."""

PAGE_RULES = ("landmark-one-main", "region", "page-has-heading-one")
"""Rules about a web page as a whole (landmarks, one h1) that an email cannot follow:
a mail client shows the message inside its own page."""

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    f"--window-size=1000,{HEIGHT}",
]
"""As root Chromium needs --no-sandbox; the rest keep it off a network it cannot reach."""


def _binary(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    if not _binary(*CHROMIUM_NAMES):
        return "Chromium is not installed: apt-get install chromium (.ci/run does)"
    if not _binary("chromedriver"):
        return "ChromeDriver is not installed: apt-get install chromium-driver (.ci/run does)"
    if not AXE_JS.is_file():
        return (
            f"axe-core is not installed ({AXE_JS}): `make test` installs it (npm, into .cache/npm)"
        )
    return None


@dataclass
class Violation:
    """One axe rule broken, with every element that breaks it."""

    rule: str
    impact: str
    help: str
    tags: list[str]
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        wcag = ", ".join(tag for tag in self.tags if tag.startswith("wcag")) or "best practice"
        lines = [f"{self.rule} ({self.impact}; {wcag}): {self.help}"]
        for node in self.nodes:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"  {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"    {summary}")
        return "\n".join(lines)


class Browser:
    """One headless Chromium; `open` a page, then `axe` it or take a `screenshot`."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = _binary(*CHROMIUM_NAMES) or "chromium"
        for flag in FLAGS:
            options.add_argument(flag)
        service = Service(executable_path=_binary("chromedriver"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_script_timeout(60)
        self.driver.set_page_load_timeout(30)
        # The pages' Content-Security-Policy forbids scripts; axe is ours, not theirs.
        self.cdp("Page.setBypassCSP", enabled=True)
        self.axe_source = AXE_JS.read_text(encoding="utf-8")

    def cdp(self, command: str, **parameters: Any) -> Any:
        return self.driver.execute_cdp_cmd(command, parameters)

    def open(self, url: str, width: int = 1000, scheme: str = "light") -> None:
        """Load `url` in a viewport `width` px wide, preferring the `scheme` colours."""
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        self.cdp(
            "Emulation.setEmulatedMedia",
            features=[{"name": "prefers-color-scheme", "value": scheme}],
        )
        self.driver.get(url)

    def axe(self, disable: tuple[str, ...] = ()) -> list[Violation]:
        """Run axe-core on the open page: the violations of `AXE_TAGS`' rules."""
        self.driver.execute_script(self.axe_source)
        options = {
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "rules": {rule: {"enabled": False} for rule in disable},
            "resultTypes": ["violations"],
        }
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, arguments[0]).then(done, e => done({error: String(e)}));",
            options,
        )
        if "error" in result:
            raise RuntimeError(f"axe-core failed: {result['error']}")
        return [
            Violation(v["id"], v.get("impact") or "", v["help"], v["tags"], v["nodes"])
            for v in result["violations"]
        ]

    def overflow(self) -> int:
        """How many CSS pixels the open page is wider than the viewport (0: it fits)."""
        width = self.driver.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth;"
        )
        return max(0, int(width))

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """A PNG of the viewport, or of the whole page's height."""
        parameters: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.cdp("Page.getLayoutMetrics")["cssContentSize"]
            parameters["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        shot = self.cdp("Page.captureScreenshot", **parameters)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.driver.quit()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
