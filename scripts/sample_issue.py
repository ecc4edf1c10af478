"""Compose the bundled sample as an issue with arXiv metadata, without asking arXiv.

    python scripts/sample_issue.py WORKSPACE/ [--papers 20]

Makes WORKSPACE (a new folder) with the sample digest, puts the sample's metadata
(`tests/data/arxiv/sample.xml`, arXiv's Atom for its 13 papers, read by the real
parser) in its store's cache, and composes issue 1 there; with `--papers 20`, 7 of
the papers come again under new ids, with their metadata. Prints the issue's folder,
for `scripts/screenshot.py`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.compose import compose  # noqa: E402
from newsletter.config import load_config  # noqa: E402
from newsletter.digest import parse_files  # noqa: E402
from newsletter.enrich.atom import parse_feed  # noqa: E402
from newsletter.store import Store, metadata  # noqa: E402

SAMPLE = ROOT / "digests" / "sample-digest.md"
FEED = ROOT / "tests" / "data" / "arxiv" / "sample.xml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--papers", type=int, choices=(13, 20), default=13)
    args = parser.parse_args()
    workspace: Path = args.workspace
    (workspace / "digests").mkdir(parents=True)
    digest = SAMPLE.read_text(encoding="utf-8")
    (workspace / "digests" / "sample-digest.md").write_text(digest, encoding="utf-8")
    metas = list(parse_feed(FEED.read_bytes(), dt.datetime.now(dt.UTC)).entries.values())
    if args.papers == 20:
        papers = parse_files([SAMPLE]).papers
        again = {p.arxiv_id: f"2407.9{i:04d}" for i, p in enumerate(papers[:7])}
        second = digest[: digest.index(f"## {papers[7].title_en}")]
        for old, new in again.items():
            second = re.sub(re.escape(old) + r"\b", new, second)
        (workspace / "digests" / "sample-again.md").write_text(second, encoding="utf-8")
        metas += [
            dataclasses.replace(m, arxiv_id=again[m.arxiv_id]) for m in metas if m.arxiv_id in again
        ]
    # Nothing is missing from the cache, so compose asks arXiv for nothing; the URL
    # is this machine's discard port all the same.
    (workspace / "newsletter.toml").write_text(
        '[arxiv]\napi_url = "http://127.0.0.1:9/api/query"\n', encoding="utf-8"
    )
    config = load_config(workspace / "newsletter.toml")
    with Store.open(config.database_path) as store, store.transaction() as db:
        metadata.save(db, metas)
    result = compose(config, date=dt.date(2024, 7, 15))
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    for edition in result.editions.values():
        print(f"{edition.name}: {edition.html_bytes / 1024:.1f} KB", file=sys.stderr)
    print(result.folder)


if __name__ == "__main__":
    main()
