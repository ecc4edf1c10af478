"""Every benchmark runs once at a tiny size, so that none of them rots."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_benchmarks_run_at_a_tiny_size() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "parse rate:" in run.stdout and "papers/s" in run.stdout
    assert "digest: 40 papers" in run.stdout
