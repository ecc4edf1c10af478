"""Read the return-path corpus (tests/data/bounces/) and print, per provider, how
many fixtures get the reason and the verdict their manifest expects, then every
fixture that does not.

    python scripts/bounce_corpus.py [--corpus DIR]

The tests assert the same fixture by fixture (tests/inbox/test_corpus.py); this is
the table for a person, and for comparing two versions of the classifier.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.inbox.classify import classify  # noqa: E402
from tests.inbox import corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS)
    corpus.CORPUS = parser.parse_args().corpus
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    wrong = []
    for fixture in corpus.fixtures():
        raw = fixture.mail("Zz9Zz9Zz9Zz9Zz9Zz9Zz9Z", "<0f1e2d3c4b5a6978@news.example.org>")
        reading = classify(email.message_from_bytes(raw, policy=email.policy.compat32))
        row = table[fixture.provider]
        row[0] += 1
        row[1] += reading.reason == fixture.reason
        row[2] += reading.verdict == fixture.verdict
        if (reading.reason, reading.verdict) != (fixture.reason, fixture.verdict):
            wrong.append(
                f"{fixture.file}: expected {fixture.reason}/{fixture.verdict}, "
                f"got {reading.reason}/{reading.verdict} {reading.status} "
                f"[{reading.kind}] {reading.diagnostic[:90]!r}"
            )
    print(f"{'provider':<28} fixtures  reason  verdict")
    totals = [0, 0, 0]
    for provider, (n, reason, verdict) in sorted(table.items()):
        print(f"{provider:<28} {n:>8} {reason:>7} {verdict:>8}")
        totals = [totals[0] + n, totals[1] + reason, totals[2] + verdict]
    print(f"{'all':<28} {totals[0]:>8} {totals[1]:>7} {totals[2]:>8}")
    print(*wrong, sep="\n")


if __name__ == "__main__":
    main()
