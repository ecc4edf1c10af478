"""Screenshot an edition's HTML as a phone and a desktop show it (headless Chromium).

    python scripts/screenshot.py issues/0001-2024-07-15/bilingual.html [--out shots/]

Headless Chromium will not make a window narrower than 500 px, so the email is laid
out in an iframe of the phone's width inside a wider window. Needs Debian's
`chromium` package. Prints the PNG paths.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--force-device-scale-factor=1",
]


def screenshot(html: Path, width: int, height: int, out: Path, dark: bool = False) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        frame = Path(profile) / "frame.html"
        frame.write_text(
            "<!doctype html><body style='margin:0;background:#888'>"
            f"<iframe src='{html.resolve().as_uri()}' width='{width}' height='{height}' "
            "style='border:0;display:block'></iframe></body>",
            encoding="utf-8",
        )
        extra = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
        subprocess.run(
            [
                chromium,
                *FLAGS,
                *extra,
                f"--user-data-dir={profile}",
                f"--window-size={max(width, 500)},{height}",
                f"--screenshot={out.resolve()}",
                frame.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--out", type=Path, default=Path("shots"))
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--dark", action="store_true", help="Also shoot with a dark colour scheme.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for width in (375, 320, 800):
        modes = [False, True] if args.dark else [False]
        for dark in modes:
            name = f"{args.html.stem}-{width}{'-dark' if dark else ''}.png"
            print(screenshot(args.html, width, args.height, args.out / name, dark))


if __name__ == "__main__":
    main()
