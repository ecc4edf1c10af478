"""Every benchmark runs once at a tiny size, so that none of them rots."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SBIN_PATH = ":".join(["/usr/sbin", "/usr/bin", "/sbin"])


def _benchmarks() -> list[tuple[str, list[str]]]:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(script, tiny) for script, _, tiny in module.BENCHMARKS]


EXPECTED = {
    "parse_digest.py": ["parse rate:", "papers/s", "digest: 40 papers"],
    "compose_issue.py": ["total", "ms"],
    "send_issue.py": ["ours, 1 connection:", "smtp-source -s 4:", "peak memory"],
    "web_serve.py": ["(a) one-click unsubscribe", "requests/s", "ours/nginx", "(c) memory"],
    "signup_timing.py": ["median ms", "p95 ms", "pending", "bounced", "answers alike"],
    "inbox_read.py": [
        "(a) one-click unsubscribes",
        "p99 < 1 s: met",
        "(b) inbox over 200 mails",
        "peak memory (VmHWM)",
        "(c) inbox over one 1 MB mail",
    ],
}


BENCHMARKS = _benchmarks()


@pytest.mark.parametrize(("script", "tiny"), BENCHMARKS, ids=[script for script, _ in BENCHMARKS])
def test_each_benchmark_runs_at_a_tiny_size(script: str, tiny: list[str]) -> None:
    if script == "send_issue.py" and not shutil.which("smtp-sink", path=SBIN_PATH):
        pytest.skip(
            "Postfix's smtp-sink is not installed: `apt-get install postfix` (.ci/run does)"
        )
    if script == "web_serve.py" and not all(
        shutil.which(tool, path=SBIN_PATH) for tool in ("wrk", "nginx")
    ):
        pytest.skip("wrk and nginx are not installed: `apt-get install wrk nginx` (.ci/run does)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *tiny],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    for expected in EXPECTED[script]:
        assert expected in run.stdout, run.stdout
