"""Run every benchmark at full size: `make bench` (or `python bench/run.py`).

Each benchmark is a script in this folder that prints its own numbers; pass
`--tiny` to run each at a size that only proves it still works (the test suite
does this, so the benchmarks cannot rot).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script, full-size arguments, tiny arguments
BENCHMARKS = [
    ("parse_digest.py", [], ["--papers", "40", "--repeat", "1"]),
    ("compose_issue.py", [], ["--papers", "2", "--repeat", "1"]),
    ("send_issue.py", [], ["--messages", "200", "--memory-subscribers", "500"]),
    ("web_serve.py", [], ["--subscribers", "200", "--seconds", "1"]),
    ("signup_timing.py", [], ["--requests", "5"]),
    (
        "inbox_read.py",
        [],
        ["--mails", "300", "--memory-mails", "200", "--big-mb", "1", "--workers", "1"],
    ),
]


def main() -> int:
    tiny = "--tiny" in sys.argv[1:]
    for script, full, small in BENCHMARKS:
        print(f"== {script}", flush=True)
        arguments = small if tiny else full
        code = subprocess.call([sys.executable, str(HERE / script), *arguments])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
