"""Benchmark: render a 20-paper issue, all three editions (target: well under a second).

Each paper carries arXiv metadata (authors, categories, the abstract), read from
the store's cache as compose reads it: the sample's papers with the sample's
metadata (`tests/data/arxiv/sample.xml`, parsed by the real parser), cycled under
fresh ids. Prints the median time of each stage over the runs (reading the cache,
Jinja, MJML, inlining the CSS with premailer, text, writing the folder), the total
per issue, the sizes of the editions and how many abstracts were cut to fit the
clip, and the wall time of two whole commands run as a user runs them, cold:
`newsletter --help` and `newsletter compose` on the bundled sample.

    python bench/compose_issue.py [--papers 20] [--repeat 30]
"""

from __future__ import annotations

import argparse
import dataclasses
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

from newsletter.compose.enrichment import attach  # noqa: E402
from newsletter.compose.folder import FolderSwap, folder_files  # noqa: E402
from newsletter.compose.render import IssueInfo, Renderer, Timings  # noqa: E402
from newsletter.config import NewsletterSettings  # noqa: E402
from newsletter.core.model import Paper  # noqa: E402
from newsletter.digest import parse_files  # noqa: E402
from newsletter.enrich.atom import parse_feed  # noqa: E402
from newsletter.store import Store, metadata  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"
SAMPLE_METADATA = ROOT / "tests" / "data" / "arxiv" / "sample.xml"


def papers(count: int) -> list[Paper]:
    """`count` papers cut from the sample, each with its own id."""
    sample = parse_files([SAMPLE]).papers
    ids = [f"2407.{9000 + i:05d}" for i in range(count)]
    return [
        Paper(
            arxiv_id,
            p.title_en,
            p.title_zh,
            f"https://arxiv.org/abs/{arxiv_id}",
            p.summary_zh,
            p.summary_en,
            p.source_file,
            p.source_line,
        )
        for arxiv_id, p in zip(ids, (sample * (count // len(sample) + 1))[:count], strict=True)
    ]


def cache_metadata(database: Path, chosen: list[Paper]) -> None:
    """The sample's arXiv metadata, stored for `chosen` (cycled as `papers` cycles)."""
    fetched = dt.datetime.now(dt.UTC)
    sample = list(parse_feed(SAMPLE_METADATA.read_bytes(), fetched).entries.values())
    metas = [
        dataclasses.replace(sample[i % len(sample)], arxiv_id=paper.arxiv_id)
        for i, paper in enumerate(chosen)
    ]
    with Store.open(database) as store, store.transaction() as db:
        metadata.save(db, metas)


def with_metadata(database: Path, info: IssueInfo, timings: Timings) -> IssueInfo:
    """`info` with each paper's metadata read from the cache, as compose attaches it."""
    with Store.open(database) as store:
        return timings.measure("cache", lambda: attach(store.db, info))


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    bare = IssueInfo(7, dt.date(2024, 7, 15), "0007-2024-07-15", papers(args.papers))
    timings = Timings()
    renderer = Renderer(NewsletterSettings(), timings=timings)
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "newsletter.db"
        cache_metadata(database, list(bare.papers))
        renderer.render(with_metadata(database, bare, timings))  # warm: templates compiled
        timings.stages.clear()
        for run in range(args.repeat):
            start = time.perf_counter()
            info = with_metadata(database, bare, timings)
            editions = renderer.render(info)
            write = time.perf_counter()
            files = folder_files(run, "2024-07-15", [p.arxiv_id for p in info.papers], editions)
            swap = FolderSwap(Path(folder), f"{run:04d}-2024-07-15", files)
            swap.replace()
            swap.commit()
            timings.stages.setdefault("write", []).append(time.perf_counter() - write)
            totals.append(time.perf_counter() - start)

    print(
        f"issue: {args.papers} papers with arXiv metadata, 3 editions, "
        f"median of {args.repeat} warm runs"
    )
    print(f"  {'cache':<10} {statistics.median(timings.stages['cache']) * 1000:7.2f} ms")
    for stage in ("jinja", "mjml", "inline", "text"):
        samples = timings.stages[stage]  # one a rendering: three or more an issue
        per_issue = sum(samples) / args.repeat
        print(f"  {stage:<10} {per_issue * 1000:7.2f} ms")
    print(f"  {'write':<10} {statistics.median(timings.stages['write']) * 1000:7.2f} ms")
    print(f"  {'total':<10} {statistics.median(totals) * 1000:7.2f} ms")
    sizes = ", ".join(f"{e.name} {e.html_bytes / 1024:.1f} KB" for e in editions.values())
    print(f"  html sizes: {sizes} (Gmail clips at 102 KB)")
    cut = ", ".join(f"{e.name} {e.english_cut}+{e.chinese_cut}" for e in editions.values())
    print(f"  abstracts cut to fit: {cut}")

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
