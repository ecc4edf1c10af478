"""Benchmark: parse a generated digest of N papers (default 10,000; target < 1 s).

The digest repeats the bundled sample with fresh arXiv ids, so it has the sample's
quirks at the sample's density: stray paragraphs, a three-paragraph summary, an
entry with no blank line after its link.

    python bench/parse_digest.py [--papers 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.digest import parse_files  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"


def generate(papers: int) -> str:
    """A digest of `papers` entries with unique ids."""
    sample = SAMPLE.read_text(encoding="utf-8")
    blocks, count = [], 0
    while count < papers:
        block = sample
        for arxiv_id in dict.fromkeys(re.findall(r"arxiv\.org/abs/(\d{4}\.\d{5})", sample)):
            count += 1
            block = block.replace(arxiv_id, f"{2001 + count // 90000:04d}.{count % 90000:05d}")
        blocks.append(block)
    text = "\n\n".join(blocks)
    # Trim to exactly `papers` entries.
    headings = [m.start() for m in re.finditer(r"^## ", text, re.MULTILINE)]
    if len(headings) > papers:
        text = text[: headings[papers]]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        digest = Path(folder) / "generated-digest.md"
        text = generate(args.papers)
        digest.write_text(text, encoding="utf-8")
        size_mb = digest.stat().st_size / 1e6

        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = parse_files([digest])
            times.append(time.perf_counter() - start)
        assert len(result.papers) == args.papers, len(result.papers)
        median = statistics.median(times)

        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "newsletter", "digest", "parse", str(digest), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        process = time.perf_counter() - start

    print(f"digest: {args.papers} papers, {size_mb:.1f} MB, {len(result.warnings)} warnings")
    print(
        f"parse (library, median of {args.repeat}): {median * 1000:.0f} ms "
        f"(best {min(times) * 1000:.0f} ms; target < 1000 ms for 10,000 papers)"
    )
    print(f"parse rate: {args.papers / median:,.0f} papers/s")
    print(f"newsletter digest parse --json (whole process): {process * 1000:.0f} ms")


if __name__ == "__main__":
    main()
