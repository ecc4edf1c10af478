"""Benchmark: render a 20-paper issue, all three editions (target: under 50 ms, warm).

Prints the median time of each stage over the runs (Jinja, MJML, premailer, text,
writing the folder), the total per issue, and the wall time of two whole commands
run as a user runs them, cold: `newsletter --help` and `newsletter compose` on the
bundled sample.

    python bench/compose_issue.py [--papers 20] [--repeat 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.compose.folder import FolderSwap, folder_files  # noqa: E402
from newsletter.compose.render import IssueInfo, Renderer, Timings  # noqa: E402
from newsletter.config import NewsletterSettings  # noqa: E402
from newsletter.digest import parse_files  # noqa: E402
from newsletter.model import Paper  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"


def papers(count: int) -> list[Paper]:
    """`count` papers cut from the sample, each with its own id."""
    sample = parse_files([SAMPLE]).papers
    ids = [f"2407.{9000 + i:05d}" for i in range(count)]
    return [
        Paper(arxiv_id, p.title_en, p.title_zh, f"https://arxiv.org/abs/{arxiv_id}",
              p.summary_zh, p.summary_en, p.source_file, p.source_line)
        for arxiv_id, p in zip(ids, (sample * (count // len(sample) + 1))[:count], strict=True)
    ]  # fmt: skip


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    info = IssueInfo(7, dt.date(2024, 7, 15), "0007-2024-07-15", papers(args.papers))
    timings = Timings()
    renderer = Renderer(NewsletterSettings(), timings=timings)
    renderer.render(info)  # warm: templates compiled, modules imported
    timings.stages.clear()
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.repeat):
            start = time.perf_counter()
            editions = renderer.render(info)
            write = time.perf_counter()
            files = folder_files(run, "2024-07-15", [p.arxiv_id for p in info.papers], editions)
            swap = FolderSwap(Path(folder), f"{run:04d}-2024-07-15", files)
            swap.replace()
            swap.commit()
            timings.stages.setdefault("write", []).append(time.perf_counter() - write)
            totals.append(time.perf_counter() - start)

    print(f"issue: {args.papers} papers, 3 editions, median of {args.repeat} warm runs")
    for stage in ("jinja", "mjml", "premailer", "text"):
        samples = timings.stages[stage]  # one per edition: three per issue
        per_issue = [sum(samples[i : i + 3]) for i in range(0, len(samples), 3)]
        print(f"  {stage:<10} {statistics.median(per_issue) * 1000:7.2f} ms")
    print(f"  {'write':<10} {statistics.median(timings.stages['write']) * 1000:7.2f} ms")
    print(f"  {'total':<10} {statistics.median(totals) * 1000:7.2f} ms  (target < 50 ms)")
    sizes = ", ".join(f"{e.name} {e.html_bytes / 1024:.1f} KB" for e in editions.values())
    print(f"  html sizes: {sizes} (Gmail clips at 102 KB)")

    newsletter = [sys.executable, "-m", "newsletter"]
    with tempfile.TemporaryDirectory() as workspace:
        (Path(workspace) / "digests").mkdir()
        shutil.copy(SAMPLE, Path(workspace) / "digests")
        # The rendering is measured, not arXiv's answer time.
        (Path(workspace) / "newsletter.toml").write_text("[arxiv]\nenrich = false\n")
        print(f"cold `newsletter --help`: {wall([*newsletter, '--help'], ROOT) * 1000:.0f} ms")
        took = wall([*newsletter, "compose"], Path(workspace))
        print(f"cold `newsletter compose` (sample, 13 papers): {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
