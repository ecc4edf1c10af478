"""Screenshot pages as a phone (375 px) and a desktop (1000 px) show them, light and dark,
in headless Chromium, and optionally list what axe-core finds on each.

    python scripts/screenshot_web.py http://127.0.0.1:8080/subscribe [--out shots/] [--axe]
    python scripts/screenshot_web.py issues/0001-2024-07-15/bilingual.html --email --axe

A path that is not a URL is opened as a file. `--email` leaves out axe's rules about a
web page as a whole (landmarks, one h1), as the tests do for the email editions. Uses
the tests' browser helper (tests/web/browser.py): Debian's chromium and
chromium-driver, selenium from the `test` extra, axe-core in .cache/npm (for --axe).
Prints each PNG's path (whole page) and, with --axe, each violation.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.browser import PAGE_RULES, SCHEMES, WIDTHS, Browser, unavailable  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+", help="URLs or HTML files")
    parser.add_argument("--out", type=Path, default=Path("shots"))
    parser.add_argument("--axe", action="store_true", help="Also run axe-core on each view.")
    parser.add_argument("--email", action="store_true", help="Skip the page-level axe rules.")
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        raise SystemExit(reason)
    found = 0
    with Browser() as browser:
        for page in args.pages:
            url = page if re.match(r"^[a-z]+://", page) else Path(page).resolve().as_uri()
            name = re.sub(r"[^A-Za-z0-9]+", "-", url.split("://", 1)[1]).strip("-")[-60:]
            for width in WIDTHS:
                for scheme in SCHEMES:
                    browser.open(url, width, scheme)
                    print(browser.screenshot(args.out / f"{name}-{width}-{scheme}.png"))
                    if args.axe:
                        for violation in browser.axe(PAGE_RULES if args.email else ()):
                            found += 1
                            print(f"  {width} px, {scheme}: {violation}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
